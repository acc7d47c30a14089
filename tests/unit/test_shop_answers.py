"""The shop's FAQ answers and policy numbers (knowledge_graph/shop_answers.py, policy.py): the
sentences take the shop's numbers, edits name their revision, every change is audited and
reaches a process's copy through the version row, and the bot says the new text at once."""

from __future__ import annotations

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import runtime
from actions.faq import ActionAnswerFaq
from daogou.db import migrate
from daogou.settings import REPO_ROOT
from knowledge_graph import policy
from knowledge_graph.policy import ShopPolicy
from knowledge_graph.shop_answers import (
    ANSWER_ACTION,
    POLICY_ACTION,
    RESET_ACTION,
    InvalidEdit,
    ShopAnswers,
    domain_answers,
    fill,
)
from knowledge_graph.store import CatalogStore, Conflict, NotFound
from tests.unit import test_store_postgres

FAQ_FILE = REPO_ROOT / "bot/domain/faq.yml"
pg_url = test_store_postgres.pg_url  # the fixture: a new database on this machine's PostgreSQL
FIFTEEN_DAYS = ShopPolicy(return_days=15)
SHIPPING = "全场满59元包邮，不满59元收运费6元。"


@pytest.fixture()
def answers(mini_store) -> ShopAnswers:
    return ShopAnswers(mini_store, FAQ_FILE, check_interval=0.0)


# -- the policy's sentences ---------------------------------------------------------------------
def test_fifteen_day_returns_are_said_as_fifteen_days(mini_view):
    phone = mini_view.graph.products["PH-XM-14-256"]
    shoes = mini_view.graph.products["SH-NK-PEG40-42"]

    plain = policy.opened_return(None, FIFTEEN_DAYS)
    assert "不支持15天无理由退货" in plain and "签收15天内可以退" in plain
    assert "7天" not in plain

    opened_phone = policy.opened_return(phone, FIFTEEN_DAYS)
    assert opened_phone.startswith(
        "小米14 12GB+256GB 白色 徕卡光学 拆封激活后就不支持15天无理由退货了"
    )
    assert "7天" not in opened_phone
    assert "签收15天内可以无理由退货" in policy.opened_return(shoes, FIFTEEN_DAYS)
    assert "拆封后不支持15天无理由退货" in policy.opened_return_in("零食饮料", "薯片", FIFTEEN_DAYS)


def test_default_policy_says_what_faq_yml_says(mini_view):
    phone = mini_view.graph.products["PH-XM-14-256"]
    assert "拆封激活后就不支持7天无理由退货了" in policy.opened_return(phone)
    assert "签收15天内可以直接换货" in policy.opened_return(phone)
    assert "一年内还可以享受全国联保" in policy.opened_return(phone)
    assert "享受一年全国联保" in policy.warranty(phone)


def test_warranty_and_exchange_numbers_follow_the_policy(mini_view):
    phone = mini_view.graph.products["PH-XM-14-256"]
    terms = ShopPolicy(exchange_days=30, digital_warranty_months=24)
    said = policy.warranty(phone, terms)
    assert said.startswith("小米14 12GB+256GB 白色 徕卡光学 享受两年全国联保")
    assert "签收30天内有质量问题也可以直接申请换货" in said
    assert "两年内还可以享受全国联保" in policy.opened_return(phone, terms)
    defect = policy.defect(phone, ShopPolicy(exchange_days=30, digital_warranty_months=18))
    assert (
        "签收30天内的质量问题" in defect and "超过30天的" in defect and "享受18个月保修" in defect
    )
    assert (
        "保修"
        not in policy.defect(mini_view.graph.products["SH-NK-PEG40-42"], terms)
        .split("。")[0]
        .split("；")[-1]
    )


def test_policy_numbers_out_of_range_are_named():
    assert ShopPolicy().problems() == {}
    assert ShopPolicy(return_days=3).problems() == {
        "return_days": "无理由退货天数应在 7 到 90 天之间"
    }
    assert set(ShopPolicy(shipping_fee=-1, digital_warranty_months=0).problems()) == {
        "shipping_fee",
        "digital_warranty_months",
    }


# -- the store ----------------------------------------------------------------------------------
def test_topics_come_from_the_domain_with_chinese_names(answers):
    listed = answers.list()
    domain = domain_answers(FAQ_FILE)
    assert [a.topic for a in listed] == list(domain)
    shipping = next(a for a in listed if a.topic == "faq/shipping")
    assert shipping.name == "配送与运费"
    assert shipping.variants == domain["faq/shipping"] and shipping.variants[0].startswith(
        "全场实付满99元包邮"
    )
    assert (shipping.revision, shipping.edited, shipping.updated_by) == (0, False, None)


def test_update_stores_the_text_audits_it_and_bumps_the_version(answers, mini_store):
    assert answers.version() == 0
    saved = answers.update("faq/shipping", [f"  {SHIPPING} ", "", SHIPPING], 0, "staff1")
    assert saved.variants == (SHIPPING,) and saved.revision == 1 and saved.updated_by == "staff1"
    assert answers.get("faq/shipping").variants == (SHIPPING,)
    assert answers.version() == 1

    again = answers.update("faq/shipping", ["满59元包邮。", "59元起包邮哦。"], 1, "boss")
    assert again.variants == ("满59元包邮。", "59元起包邮哦。") and again.revision == 2
    assert answers.version() == 2

    history = answers.history()
    assert [(c.action, c.target, c.actor, c.name) for c in history] == [
        (ANSWER_ACTION, "faq/shipping", "boss", "配送与运费"),
        (ANSWER_ACTION, "faq/shipping", "staff1", "配送与运费"),
    ]
    first = history[-1]
    assert first.before["variants"] == list(domain_answers(FAQ_FILE)["faq/shipping"])
    assert first.after["variants"] == [SHIPPING]
    # the catalog's own log, as the admin reads it, carries the entry too
    records, _ = mini_store.audit_log(target="faq/shipping")
    assert [r.actor for r in records] == ["boss", "staff1"]


def test_a_stale_revision_is_a_conflict_and_changes_nothing(answers):
    answers.update("faq/invoice", ["可以开电子发票。"], 0, "staff1")
    with pytest.raises(Conflict):
        answers.update("faq/invoice", ["别人的版本"], 0, "staff2")  # started before the first save
    with pytest.raises(Conflict):
        answers.update("faq/invoice", ["别人的版本"], 5, "staff2")
    assert answers.get("faq/invoice").variants == ("可以开电子发票。",)
    assert answers.version() == 1 and len(answers.history()) == 1


def test_reset_goes_back_to_the_trained_text_and_keeps_counting(answers):
    trained = domain_answers(FAQ_FILE)["faq/shipping"]
    answers.update("faq/shipping", [SHIPPING], 0, "staff1")
    reset = answers.reset("faq/shipping", 1, "staff2")
    assert (reset.variants, reset.edited, reset.revision) == (trained, False, 2)
    assert answers.current().answer("faq/shipping") is None  # the domain response answers
    with pytest.raises(Conflict):
        answers.update("faq/shipping", ["旧页面上的修改"], 1, "staff1")
    assert [c.action for c in answers.history()] == [RESET_ACTION, ANSWER_ACTION]
    assert answers.history()[0].after["variants"] == list(trained)
    # resetting a topic nobody edited changes nothing
    assert answers.reset("faq/invoice", 0, "staff1").revision == 0
    assert answers.version() == 2


def test_refused_edits(answers):
    with pytest.raises(NotFound):
        answers.update("faq/no_such_topic", ["你好"], 0, "staff1")
    with pytest.raises(InvalidEdit, match="至少"):
        answers.update("faq/shipping", ["  ", ""], 0, "staff1")
    with pytest.raises(InvalidEdit, match="最多 5 种"):
        answers.update("faq/shipping", [f"说法{i}" for i in range(6)], 0, "staff1")
    with pytest.raises(InvalidEdit, match=r"没有这个占位符：\{赠品\}"):
        answers.update("faq/shipping", ["满{包邮门槛}元包邮，送{赠品}"], 0, "staff1")
    assert answers.version() == 0 and answers.history() == []


def test_policy_update_with_revision_and_audit(answers):
    record = answers.policy()
    assert (record.terms, record.revision) == (ShopPolicy(), 0)
    saved = answers.update_policy(FIFTEEN_DAYS, 0, "boss")
    assert saved.terms.return_days == 15 and saved.revision == 1 and saved.updated_by == "boss"
    with pytest.raises(Conflict):
        answers.update_policy(ShopPolicy(return_days=30), 0, "other")
    with pytest.raises(InvalidEdit, match="无理由退货天数应在 7 到 90 天之间"):
        answers.update_policy(ShopPolicy(return_days=5), 1, "boss")
    assert answers.policy().terms == FIFTEEN_DAYS
    change = answers.history()[0]
    assert (change.action, change.name) == (POLICY_ACTION, "店铺政策")
    assert (change.before["terms"]["return_days"], change.after["terms"]["return_days"]) == (7, 15)


def test_a_process_copy_follows_the_version_row(mini_store):
    writer = ShopAnswers(mini_store, FAQ_FILE, check_interval=0.0)
    reader = ShopAnswers(mini_store, None, check_interval=0.0)  # another process: no faq.yml
    assert reader.current().answer("faq/shipping") is None  # the domain response answers
    writer.update("faq/shipping", [SHIPPING], 0, "staff1")
    assert reader.current().answer("faq/shipping") == SHIPPING
    writer.update_policy(ShopPolicy(free_shipping_threshold=59, shipping_fee=6), 0, "boss")
    writer.update("faq/shipping", ["满{包邮门槛}元包邮，不满收{运费}元。"], 1, "staff1")
    assert reader.current().answer("faq/shipping") == "满59元包邮，不满收6元。"


def test_a_copy_checks_the_version_at_most_each_interval(mini_store):
    reader = ShopAnswers(mini_store, None, check_interval=3600)
    before = reader.current()
    ShopAnswers(mini_store, FAQ_FILE).update("faq/shipping", [SHIPPING], 0, "staff1")
    assert reader.current() is before  # no query within the interval
    assert reader.refresh().answer("faq/shipping") == SHIPPING


def test_a_missing_table_falls_back_to_the_trained_texts(tmp_path):
    store = CatalogStore.from_url(f"sqlite:///{tmp_path / 'unmigrated.db'}")  # no tables at all
    texts = ShopAnswers(store, None, check_interval=0.0).current()
    assert texts.answer("faq/shipping") is None and texts.policy == ShopPolicy()


def test_fill_leaves_unknown_braces_alone():
    terms = ShopPolicy(free_shipping_threshold=0)
    assert fill("满{包邮门槛}元包邮 {其他}", terms) == "满0元包邮 {其他}"


# -- the bot says it at once --------------------------------------------------------------------
@pytest.fixture()
def bot_runtime(monkeypatch, mini_services):
    monkeypatch.setattr(runtime, "_services", None)  # restored after each test
    runtime.install(mini_services)
    return mini_services


def faq_turn(text: str, key: str, **slots) -> Tracker:
    message = {
        "text": text,
        "intent": {"name": "faq"},
        "entities": [],
        "intent_ranking": [],
        "response_selector": {"default": {"response": {"intent_response_key": key}}},
    }
    return Tracker("tester", slots, message, [], False, None, {}, "action_listen")


def answer(t: Tracker) -> list[dict]:
    dispatcher = CollectingDispatcher()
    ActionAnswerFaq().run(dispatcher, t, {})
    return dispatcher.messages


def test_the_bot_says_the_new_shipping_text_without_a_restart(bot_runtime):
    before = answer(faq_turn("多少钱包邮", "faq/shipping"))
    assert [(m["response"], m["text"]) for m in before] == [("utter_faq/shipping", None)]

    # an edit through another ShopAnswers (the web app's), the action server's copy follows
    editor = ShopAnswers(bot_runtime.store, FAQ_FILE)  # the web app's, over the same database
    editor.update("faq/shipping", [SHIPPING], 0, "staff1")
    after = answer(faq_turn("多少钱包邮", "faq/shipping"))
    assert [(m["text"], m["response"], m["skill"]) for m in after] == [
        (SHIPPING, None, "action_answer_faq")
    ]


def test_the_bot_picks_one_of_the_variants(bot_runtime):
    variants = ["发票在订单详情页申请。", "电子发票在订单页点「申请发票」。"]
    bot_runtime.answers.update("faq/invoice", variants, 0, "staff1")
    said = {answer(faq_turn("能开发票吗", "faq/invoice"))[0]["text"] for _ in range(40)}
    assert said == set(variants)


def test_product_answers_take_the_shops_policy(bot_runtime):
    bot_runtime.answers.update_policy(FIFTEEN_DAYS, 0, "boss")
    messages = answer(faq_turn("拆封了还能退吗", "faq/return_policy", product_focus="PH-XM-14-256"))
    text = messages[0]["text"]
    assert text.startswith("小米14 12GB+256GB 白色 徕卡光学 拆封激活后就不支持15天无理由退货了")
    assert messages[0]["custom"]["items"][0]["sku"] == "PH-XM-14-256"


def test_a_defect_without_product_uses_the_shops_own_text(bot_runtime):
    default = answer(faq_turn("收到的东西是坏的", "faq/defect"))[0]["text"]
    assert default.startswith("非常抱歉，出现这样的问题") and "签收15天内" in default
    own = "很抱歉给您添麻烦了，请在订单页申请售后，我们24小时内处理。"
    bot_runtime.answers.update("faq/defect", [own], 0, "staff1")
    messages = answer(faq_turn("收到的东西是坏的", "faq/defect"))
    assert messages[0]["text"] == own
    assert [b["title"] for b in messages[0]["buttons"]] == ["转人工", "怎么申请售后"]


# -- PostgreSQL (the production database) -------------------------------------------------------
@pytest.mark.postgres
def test_answers_and_policy_on_postgres(pg_url):
    migrate(pg_url)
    store = CatalogStore.from_url(pg_url)
    writer, reader = ShopAnswers(store, FAQ_FILE), ShopAnswers(store, None, check_interval=0.0)
    writer.update("faq/shipping", [SHIPPING], 0, "staff1")
    with pytest.raises(Conflict):  # a second first edit: the primary key refuses it
        writer.update("faq/shipping", ["满9元包邮"], 0, "staff2")
    with pytest.raises(Conflict):
        writer.update("faq/shipping", ["满9元包邮"], 7, "staff2")
    writer.update_policy(ShopPolicy(free_shipping_threshold=59), 0, "boss")
    writer.update("faq/shipping", ["满{包邮门槛}元包邮。"], 1, "staff1")
    assert reader.current().answer("faq/shipping") == "满59元包邮。"
    assert writer.reset("faq/shipping", 2, "staff1").revision == 3
    assert reader.current().answer("faq/shipping") is None
    assert [c.action for c in writer.history()] == [
        RESET_ACTION, ANSWER_ACTION, POLICY_ACTION, ANSWER_ACTION
    ]  # fmt: skip
    store.engine.dispose()


def test_policy_followups_take_the_shops_policy(bot_runtime):
    from actions.context import answer_followup
    from actions.turn import Reply

    bot_runtime.answers.update_policy(ShopPolicy(digital_warranty_months=24), 0, "boss")
    t = faq_turn("那它保修多久", "", product_focus="PH-XM-14-256")
    t.latest_message.pop("response_selector")
    dispatcher = CollectingDispatcher()
    events = answer_followup(Reply(dispatcher, "test"), t, runtime.view())
    assert events is not None
    [message] = dispatcher.messages
    assert "两年" in message["text"] and "一年" not in message["text"], message["text"]
    assert message["custom"]["items"][0]["sku"] == "PH-XM-14-256"
