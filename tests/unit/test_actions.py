"""Every action's logic against the mini catalog, with a stand-in encoder for search."""

from __future__ import annotations

import asyncio

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import runtime
from actions.after_sales import ActionOrderStatus, ActionRecordFeedback, ActionRequestHuman
from actions.fallback import ActionDefaultAskAffirmation
from actions.needs import ANY, ActionNeedsResults, ActionRecommend, ValidateNeedsForm
from actions.product_qa import (
    ActionAnswerAttribute,
    ActionCheckCompatibility,
    ActionCompareProducts,
)
from actions.search import ActionRefineSearch, ActionSearchProducts, ActionShowSimilar
from knowledge_graph.conversations import flags_of
from recommender.events import EventStore


@pytest.fixture(autouse=True)
def mini_runtime(monkeypatch, mini_services):
    monkeypatch.setattr(runtime, "_services", None)  # restored after each test
    runtime.install(mini_services)


def tracker(text: str, intent: str = "", entities=(), sender: str = "tester", **slots) -> Tracker:
    return Tracker(
        sender,
        slots,
        {
            "text": text,
            "intent": {"name": intent},
            "entities": list(entities),
            "intent_ranking": [],
        },
        [],
        False,
        None,
        {},
        "action_listen",
    )


def run(action, t: Tracker):
    dispatcher = CollectingDispatcher()
    events = action.run(dispatcher, t, {})
    text = "\n".join(m.get("text") or "" for m in dispatcher.messages)
    products = next((m["custom"]["items"] for m in dispatcher.messages if m.get("custom")), None)
    slots = {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
    return dispatcher.messages, text, products, slots, events


def test_price_question_answers_from_the_graph():
    _, text, products, slots, _ = run(ActionAnswerAttribute(), tracker("华为Mate60 Pro多少钱"))
    assert "6499元 起" in text and "6999元" in text
    assert products[0]["sku"] == "PH-HW-M60P-256"
    assert set(products[0]) >= {
        "sku",
        "title",
        "brand",
        "category",
        "price",
        "rating",
        "stock",
        "image",
    }
    assert slots["product_focus"] == "PH-HW-M60P-256"


def test_attribute_question_on_the_product_in_focus():
    _, text, *_ = run(ActionAnswerAttribute(), tracker("这款多重", product_focus="PH-XM-14-256"))
    assert "193g" in text


def test_ordinal_mention_uses_shown_products():
    shown = ["PH-HW-M60-256", "PH-XM-14-256"]
    _, text, products, *_ = run(
        ActionAnswerAttribute(), tracker("第二个多少钱", shown_products=shown)
    )
    assert "3999元" in text and products[0]["sku"] == "PH-XM-14-256"


def test_unknown_product_suggests_close_names():
    messages, text, products, *_ = run(
        ActionAnswerAttribute(),
        tracker("mate70 pro多少钱", entities=[{"entity": "product", "value": "mate70 pro"}]),
    )
    assert "抱歉" in text and products is None
    assert any("Mate 60 Pro" in b["title"] for b in messages[0]["buttons"])


def test_stock_question_reports_out_of_stock():
    _, text, *_ = run(ActionAnswerAttribute(), tracker("iPhone15还有货吗", intent="ask_stock"))
    assert "缺货" in text


def test_comparison_gives_values_and_verdict():
    _, text, products, *_ = run(ActionCompareProducts(), tracker("Mate60 Pro和小米14哪个续航好"))
    assert "5000mAh" in text and "4610mAh" in text
    assert "结论：续航方面 Mate 60 Pro 更好（电池容量领先）" in text
    assert len(products) == 2


def test_compare_first_two_shown():
    shown = ["PH-HW-M60-256", "PH-XM-14-256", "PH-HW-M60P-256"]
    _, text, products, *_ = run(
        ActionCompareProducts(), tracker("对比一下前两个", shown_products=shown)
    )
    assert [p["sku"] for p in products] == shown[:2] and "结论" in text


def test_one_product_read_as_a_comparison_gets_its_answer():
    _, text, products, *_ = run(ActionCompareProducts(), tracker("华为Mate60 Pro 白沙银有吗"))
    assert products and products[0]["sku"] == "PH-HW-M60P-256"
    assert "白沙银" in text and "对比哪两款" not in text
    _, text, *_ = run(ActionCompareProducts(), tracker("华为Mate60 Pro和哪个比比较好"))
    assert "对比哪两款" in text  # a comparison with one side missing is still asked for


def test_compatibility_yes_and_no():
    _, text, *_ = run(
        ActionCheckCompatibility(), tracker("这个壳iPhone 15能用吗", product_focus="AC-CASE-IP15")
    )
    assert text.startswith("可以的")
    _, text, *_ = run(
        ActionCheckCompatibility(), tracker("这个壳小米14能用吗", product_focus="AC-CASE-IP15")
    )
    assert "不适配" in text


def test_search_applies_hard_filters_and_remembers_them():
    entities = [{"entity": "price", "role": "max", "value": "6000"}]
    messages, _, products, slots, _ = run(
        ActionSearchProducts(), tracker("六千以内的华为手机", entities=entities)
    )
    assert products and all(p["brand"] == "华为" and p["price"] <= 6000 for p in products)
    assert slots["last_filters"]["category"] == "手机" and slots["shown_products"]
    assert 2 <= len(messages[0]["buttons"]) <= 4


def test_search_for_accessories_of_a_named_phone():
    _, _, products, *_ = run(ActionSearchProducts(), tracker("iPhone 15的手机壳有吗"))
    assert [p["sku"] for p in products] == ["AC-CASE-IP15"]


def test_refine_cheaper_and_other_brand():
    last = {"category": "手机", "brands": ["华为"], "min_price": None, "max_price": None}
    shown = ["PH-HW-M60P-256"]
    _, _, products, *_ = run(
        ActionRefineSearch(), tracker("有没有便宜点的", shown_products=shown, last_filters=last)
    )
    assert products and all(p["price"] < 6499 for p in products)
    _, _, products, *_ = run(
        ActionRefineSearch(), tracker("换个牌子", shown_products=shown, last_filters=last)
    )
    assert products and all(p["brand"] != "华为" for p in products)


def test_bare_answer_after_a_list_refines_it_instead_of_starting_over():
    last = {"category": "手机", "brands": [], "min_price": None, "max_price": None}
    shown = ["PH-HW-M60P-256", "PH-XM-14-256"]
    _, _, products, slots, _ = run(
        ActionSearchProducts(),
        tracker("小米的", intent="inform", shown_products=shown, last_filters=last),
    )
    assert products and all(p["brand"] == "小米" and p["category"] == "手机" for p in products)
    assert slots["last_filters"]["category"] == "手机"


def test_bare_answer_without_a_list_is_a_new_search():
    _, text, products, *_ = run(ActionSearchProducts(), tracker("小米的", intent="inform"))
    assert products and all(p["brand"] == "小米" for p in products)


def test_similar_products_exclude_the_anchor_model():
    _, text, products, *_ = run(
        ActionShowSimilar(), tracker("有没有类似的", product_focus="PH-HW-M60-256")
    )
    assert products and all(
        p.get("title") and "Mate 60 " not in p["title"] + " "
        for p in products
        if p["sku"].startswith("PH-HW-M60-")
    )
    assert all(p["category"] == "手机" for p in products)
    assert runtime.search().encoder.queries_encoded == 0  # neighbours of the product's own vector


def test_needs_results_use_budget_and_clear_the_form():
    t = tracker("随便", need_category="手机", need_budget="-5000", need_scene="拍照")
    _, text, products, slots, _ = run(ActionNeedsResults(), t)
    assert products and all(p["price"] <= 5000 and p["category"] == "手机" for p in products)
    assert "预算5000元以内" in text
    assert slots["need_category"] is None and slots["need_budget"] is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [("查订单DG20261105001234", "已发货"), ("订单 dg 2026 1105 0012 34 到哪了", "顺丰速运"),
     ("查一下订单DG123", "格式好像不对"), ("我的快递呢", "请发一下订单号"), ("DG20990101000001", "没有查到")],
)  # fmt: skip
def test_order_status(text, expected):
    _, reply, *_ = run(ActionOrderStatus(), tracker(text, sender="u0001"))  # the order's owner
    assert expected in reply


def test_another_shoppers_order_is_not_described():
    messages, reply, *_ = run(
        ActionOrderStatus(), tracker("DG20261105001234", sender="someone-else")
    )
    assert "不是您账号下的订单" in reply
    assert "SF1234" not in reply and "已发货" not in reply and "顺丰" not in reply
    assert [b["title"] for b in messages[0]["buttons"]] == ["转人工"]
    _, reply, *_ = run(ActionOrderStatus(), tracker("DG20261105001234", sender="u0001"))
    assert "顺丰速运 运单号 SF1234567890123" in reply


def test_handoff_pauses_and_flags(mini_store):
    _, text, _, _, events = run(ActionRequestHuman(), tracker("转人工", sender="s-handoff"))
    assert "人工" in text and any(e["event"] == "pause" for e in events)
    assert [f["kind"] for f in flags_of(mini_store, "s-handoff")] == ["handoff"]


def test_feedback_is_recorded(mini_store):
    run(ActionRecordFeedback(), tracker("你答得不对", sender="s-fb"))
    run(ActionRecordFeedback(), tracker("👍", sender="s-fb"))
    assert [f["kind"] for f in flags_of(mini_store, "s-fb")] == ["feedback_down", "feedback_up"]


def test_affirmation_offers_top_intents_in_chinese():
    t = tracker("嗯那个", intent="nlu_fallback")
    t.latest_message["intent_ranking"] = [
        {"name": "nlu_fallback"},
        {"name": "ask_attribute"},
        {"name": "greet"},
        {"name": "search_product"},
    ]
    messages, text, *_ = run(ActionDefaultAskAffirmation(), t)
    titles = [b["title"] for b in messages[0]["buttons"]]
    assert titles == ["问商品的价格或参数", "找商品", "都不是"]


def test_chat_records_impressions_and_views(mini_store, mini_services):
    mini_services.consent.decide("s-events", True)  # agreed to personal recommendations
    run(ActionAnswerAttribute(), tracker("小米14多少钱", sender="s-events"))
    history = EventStore(mini_store).history("s-events")
    assert [(e.sku, e.type) for e in history] == [("PH-XM-14-256", "view")]
    # Without consent the view is counted for the shop but is nobody's history.
    run(ActionAnswerAttribute(), tracker("小米14多少钱", sender="s-not-asked"))
    assert EventStore(mini_store).history("s-not-asked") == []
    assert EventStore(mini_store).count() == 2


def test_recommend_with_enough_constraints_shows_products():
    entities = [{"entity": "price", "role": "around", "value": "6000"}]
    _, text, products, *_ = run(
        ActionRecommend(), tracker("推荐几款华为手机 六千左右", entities=entities)
    )
    assert products and all(p["brand"] == "华为" for p in products)


def test_a_hobby_answers_the_category_question_even_when_the_nlu_was_unsure():
    form = ValidateNeedsForm()

    def extract(text: str) -> dict:
        asked = tracker(text, intent="nlu_fallback", requested_slot="need_category")
        return asyncio.run(form.extract_need_category(CollectingDispatcher(), asked, {}))

    found = extract("他喜欢拍照")
    assert found["need_category"] == "手机" and found["need_budget"] == ANY
    assert extract("嗯嗯") == {}  # an unsure reading without a hobby still answers nothing


def test_recommend_without_category_starts_the_needs_dialogue():
    *_, events = run(ActionRecommend(), tracker("帮我推荐个东西吧"))
    assert events == [{"event": "followup", "name": "needs_form", "timestamp": None}]


def test_gift_search_without_budget_starts_the_needs_dialogue():
    *_, events = run(ActionSearchProducts(), tracker("想买个手机送我妈"))
    assert events[0]["name"] == "needs_form"
    _, _, products, *_ = run(ActionSearchProducts(), tracker("拍照好的手机"))
    assert products  # a wish about the product itself is a search


def test_white_matches_shades_of_white():
    _, _, products, *_ = run(ActionSearchProducts(), tracker("要白色的手机"))
    # 白沙银 counts as a white: shoppers name the hue, not the shade.
    assert {p["sku"] for p in products} == {"PH-XM-14-256", "PH-HW-M60P-256"}


def test_product_question_without_product_but_with_category_searches():
    _, _, products, *_ = run(ActionAnswerAttribute(), tracker("华为的手机怎么样"))
    assert products and all(p["brand"] == "华为" for p in products)


def test_compatibility_question_naming_only_the_phone_lists_fitting_accessories():
    _, text, products, *_ = run(ActionCheckCompatibility(), tracker("iPhone 15的手机壳能用哪个"))
    assert "适配 iPhone 15" in text and [p["sku"] for p in products] == ["AC-CASE-IP15"]


def test_search_naming_one_product_answers_about_it():
    _, text, products, *_ = run(ActionSearchProducts(), tracker("華為Mate60 Pro多少錢"))
    assert "6499元" in text and products[0]["sku"] == "PH-HW-M60P-256"


def test_search_reuses_the_vector_rasa_computed_for_the_message():
    from bot.components.e5_encoder import pack

    searcher = runtime.search()
    text = "拍照好的手机"
    _, _, plain, _, _ = run(ActionSearchProducts(), tracker(text, "search_product"))
    embedded = searcher.encoder.queries_encoded
    message = tracker(text, "search_product")
    message.latest_message["text_embedding"] = pack(searcher.encoder.encode_queries([text])[0])
    embedded += 1
    _, _, reused, _, _ = run(ActionSearchProducts(), message)
    assert searcher.encoder.queries_encoded == embedded  # the action embedded nothing
    assert [p["sku"] for p in reused] == [p["sku"] for p in plain]


def test_variant_named_gets_its_own_price_and_stock():
    _, text, products, *_ = run(ActionAnswerAttribute(), tracker("华为mate60pro 512 有货吗"))
    assert [p["sku"] for p in products] == ["PH-HW-M60P-512"]
    assert "库存 8 件" in text or "库存" in text and str(products[0]["stock"]) in text
    _, text, products, *_ = run(ActionAnswerAttribute(), tracker("mate60pro 512G多少钱"))
    assert [p["sku"] for p in products] == ["PH-HW-M60P-512"] and "6999元" in text
    assert "6499" not in text


def test_model_stock_is_told_per_variant_with_variant_quick_replies(mini_view):
    messages, text, *_ = run(ActionAnswerAttribute(), tracker("mate60pro还有货吗"))
    for sku in ("PH-HW-M60P-256", "PH-HW-M60P-512"):
        product = mini_view.graph.products[sku]
        assert f"{product.title.split()[4]} 有货 {product.stock} 件" in text
    assert [b["title"] for b in messages[0]["buttons"]] == ["12GB+256GB", "12GB+512GB"]


def test_variant_words_about_the_product_in_focus():
    _, text, products, *_ = run(
        ActionAnswerAttribute(), tracker("512的多少", product_focus="PH-HW-M60P-256")
    )
    assert [p["sku"] for p in products] == ["PH-HW-M60P-512"] and "6999元" in text


@pytest.mark.parametrize(("size", "has"), [("42", True), ("45", False)])
def test_size_is_answered_from_the_product_sizes(size, has):
    _, text, products, *_ = run(
        ActionSearchProducts(), tracker(f"{size}码有吗", product_focus="SH-NK-PEG40-42")
    )
    assert [p["sku"] for p in products] == ["SH-NK-PEG40-42"]
    assert (f"没有 {size} 码" in text) is not has and f"{size} 码" in text
    assert "40、41、42、43" in text


@pytest.mark.parametrize(("colour", "has"), [("白色", True), ("粉色", False)])
def test_colour_question_about_the_focus_is_yes_or_no(colour, has):
    _, text, products, *_ = run(
        ActionSearchProducts(),
        tracker(f"有{colour}吗", product_focus="PH-XM-14-256", shown_products=["PH-XM-14-256"]),
    )
    assert [p["sku"] for p in products] == ["PH-XM-14-256"]  # never a list of other products
    assert text.startswith("有的") is has and (f"没有{colour}" in text) is not has


def test_attribute_words_map_to_the_category_own_names():
    # 「续航」 is 电池容量 on these phones; a key the category lacks lists what it has.
    _, text, *_ = run(ActionAnswerAttribute(), tracker("小米14续航多少"))
    assert "电池容量是 4610mAh" in text
    _, text, *_ = run(ActionAnswerAttribute(), tracker("小米14缓震怎么样"))
    assert "没有「缓震」这项参数" in text and "屏幕尺寸" in text


def test_empty_search_names_the_constraint_and_shows_the_nearest():
    _, text, products, *_ = run(ActionSearchProducts(), tracker("有没有3000以内的华为手机"))
    assert "3000元以内" in text and "华为" in text and "5499元" in text
    assert products and products[0]["sku"] == "PH-HW-M60-256"  # the cheapest Huawei in stock


def test_direct_category_request_shows_products_with_budget_quick_replies():
    messages, _, products, *_ = run(ActionRecommend(), tracker("推荐几款手机"))
    assert len(products) >= 3 and all(p["category"] == "手机" for p in products)
    assert all("元" in b["title"] for b in messages[0]["buttons"])


def test_pasted_accessory_title_with_shiyong_is_a_price_question():
    _, text, products, *_ = run(
        ActionCheckCompatibility(), tracker("iPhone 15 透明硅胶手机壳多少钱")
    )
    assert [p["sku"] for p in products] == ["AC-CASE-IP15"] and "39元" in text


def test_unsure_nlu_still_answers_a_named_product_question():
    t = tracker("mate60pro 512G还有货吗", intent="nlu_fallback")
    t.latest_message["intent_ranking"] = [{"name": "nlu_fallback"}, {"name": "greet"}]
    _, text, products, _, events = run(ActionDefaultAskAffirmation(), t)
    assert [p["sku"] for p in products] == ["PH-HW-M60P-512"] and "库存" in text
    # the turn's slots are returned as they are: the fallback is no loop that reverts them
    assert {
        "event": "slot",
        "timestamp": None,
        "name": "shown_products",
        "value": ["PH-HW-M60P-512"],
    } in events


def test_size_written_in_a_search_is_a_hard_filter():
    _, text, products, *_ = run(ActionSearchProducts(), tracker("有42码的跑步鞋吗"))
    assert [p["sku"] for p in products] == ["SH-NK-PEG40-42"] and "42码" in text
    _, text, products, *_ = run(ActionSearchProducts(), tracker("有46码的跑步鞋吗"))
    assert "没有 46 码" in text and [p["sku"] for p in products] == ["SH-NK-PEG40-42"]


def test_pasted_title_then_a_size_or_a_bare_hue():
    _, text, products, *_ = run(
        ActionAnswerAttribute(), tracker("耐克 Pegasus 40 男子跑步鞋 42码有吗")
    )
    assert [p["sku"] for p in products] == ["SH-NK-PEG40-42"] and "有 42 码" in text
    _, text, products, *_ = run(ActionAnswerAttribute(), tracker("小米14 有黑的吗"))
    assert [p["sku"] for p in products] == ["PH-XM-14-256"] and text.startswith("有的")


def test_accessory_request_after_a_phone_shows_its_own_accessories():
    t = tracker("推荐个配件", product_focus="PH-AP-15-128", shown_products=["PH-AP-15-128"])
    _, _, products, *_ = run(ActionRecommend(), t)
    assert [p["sku"] for p in products] == ["AC-CASE-IP15"]


def test_accessory_quick_reply_only_where_accessories_exist():
    messages, *_ = run(ActionAnswerAttribute(), tracker("iPhone 15多少钱"))
    assert "推荐个配件" in [b["title"] for b in messages[0]["buttons"]]
    messages, *_ = run(ActionAnswerAttribute(), tracker("飞马40多少钱"))
    assert "推荐个配件" not in [b["title"] for b in messages[0]["buttons"]]


def test_refinement_keeps_budget_and_gender_and_reads_better_attribute_as_quality():
    last = {"category": "跑步鞋", "gender": "男", "max_price": 1000}
    shown = ["SH-NK-PEG40-42"]
    _, text, products, _, events = run(
        ActionRefineSearch(), tracker("要缓震好一点的", shown_products=shown, last_filters=last)
    )
    kept = next(e["value"] for e in events if e.get("name") == "last_filters")
    assert (kept["max_price"], kept["gender"], kept["min_price"]) == (1000, "男", None)
    assert products and all(p["price"] <= 1000 for p in products)
    assert "男款" in text and "1000元以内" in text


def test_cheaper_after_one_product_stays_with_its_kind(mini_view):
    case = mini_view.graph.products["AC-CASE-IP15"]
    shown = [case.sku]
    *_, events = run(ActionRefineSearch(), tracker("有没有便宜点的", shown_products=shown))
    kept = next(e["value"] for e in events if e.get("name") == "last_filters")
    assert kept["kind"] == "手机壳" and kept["max_price"] == round(case.price * 0.9)


def test_colour_question_stays_with_the_line_named():
    # The Mate 60 Pro comes in 白沙银; the Mate 60 does not come in white.
    _, text, products, *_ = run(ActionAnswerAttribute(), tracker("mate60有白色的吗"))
    assert [p["sku"] for p in products] == ["PH-HW-M60-256"] and "没有白色" in text


def test_a_version_the_shop_lacks_is_said_before_the_nearest():
    _, text, products, *_ = run(ActionAnswerAttribute(), tracker("mate60 ultra多少钱"))
    assert text.startswith("抱歉，暂时没有找到「mate60 ultra」") and "Mate 60" in text
    assert [p["sku"] for p in products] == ["PH-HW-M60-256"]
    _, text, *_ = run(ActionAnswerAttribute(), tracker("mate60 pro多少钱"))
    assert "没有找到" not in text


PHONES = {"category": "手机", "brands": [], "min_price": None, "max_price": None}


def test_a_brand_alone_after_a_list_keeps_its_category_whatever_the_intent():
    shown = ["PH-HW-M60P-256", "PH-XM-14-256"]
    for action, intent in ((ActionSearchProducts(), "search_product"), (ActionRecommend(), "")):
        _, _, products, slots, _ = run(
            action, tracker("小米的有吗", intent=intent, shown_products=shown, last_filters=PHONES)
        )
        assert [p["sku"] for p in products] == ["PH-XM-14-256"]
        assert slots["last_filters"]["category"] == "手机"


def test_undecided_shopper_sees_top_picks_and_the_price_band():
    _, text, products, *_ = run(
        ActionSearchProducts(), tracker("不知道", intent="inform", last_filters=PHONES)
    )
    assert products and {p["category"] for p in products} == {"手机"}
    assert "热门手机" in text and "3999元到6999元" in text


def test_price_guidance_gives_the_categorys_band_and_budget_buttons():
    messages, text, products, *_ = run(
        ActionSearchProducts(), tracker("不知道多少钱合适", intent="inform", last_filters=PHONES)
    )
    assert products is None
    assert "3999元" in text and "6999元" in text  # the cheapest and dearest phone in stock
    assert messages[0]["buttons"]


def test_small_talk_and_greetings_mid_choice_lead_back_to_it():
    from actions.fallback import ActionGreet, ActionWhereWeAre

    _, text, *_ = run(ActionGreet(), tracker("哈哈哈哈", intent="greet", last_filters=PHONES))
    assert "手机" in text and "预算" in text
    _, text, *_ = run(ActionGreet(), tracker("你好", intent="greet"))
    assert "手机" not in text  # the opening greeting, from the domain
    _, text, *_ = run(ActionWhereWeAre(), tracker("今天天气怎么样", product_focus="PH-XM-14-256"))
    assert "小米14" in text
    _, text, *_ = run(ActionWhereWeAre(), tracker("讲个笑话"))
    assert text == ""


def test_original_accessories_are_the_devices_own_brand_or_said_missing():
    # the only iPhone 15 case is 倍思's: asked for an original one, say there is none
    _, text, products, *_ = run(ActionSearchProducts(), tracker("iPhone 15的原装手机壳"))
    assert products is None and "苹果原装" in text and "iPhone 15" in text
    _, text, products, *_ = run(
        ActionSearchProducts(), tracker("要原装的", product_focus="AC-CASE-IP15")
    )
    assert products is None and "原装" in text and "第三方" in text


def test_a_device_named_after_accessories_were_shown_means_its_accessories():
    last = {"category": "手机配件", "kind": "手机壳", "brands": []}
    _, _, products, *_ = run(
        ActionSearchProducts(),
        tracker("iPhone 15的", intent="inform", last_filters=last, shown_products=["AC-CASE-IP15"]),
    )
    assert [p["sku"] for p in products] == ["AC-CASE-IP15"]
