"""Follow-ups against the conversation state (slots): pure logic and the actions, mini catalog."""

from __future__ import annotations

from dataclasses import replace

import pytest

from actions.faq import ActionAnswerFaq
from actions.product_qa import ActionAnswerAttribute, ActionCompareProducts
from actions.search import ActionRefineSearch, ActionSearchProducts
from knowledge_graph import context, policy
from knowledge_graph.product import Product
from tests.unit.test_actions import mini_runtime, run, tracker  # noqa: F401  (autouse fixture)


@pytest.fixture
def view(mini_service):
    return mini_service.current()


def test_accessory_words_name_kinds_in_order_and_skip_face_masks():
    assert context.accessory_kinds_in("顺便配个壳和膜") == ["手机壳", "贴膜"]
    assert context.accessory_kinds_in("钢化膜") == ["贴膜"]
    assert context.accessory_kinds_in("补水面膜推荐") == []
    assert set(context.accessory_kinds_in("AirPods保护套")) == {"手机壳", "耳机保护套"}


def test_superlative_over_a_list(view):
    phones = [view.graph.products[s] for s in ("PH-HW-M60P-256", "PH-XM-14-256", "PH-HW-M60-256")]
    cheapest = context.superlative(view, "哪个便宜", phones)
    assert cheapest.winner.sku == "PH-XM-14-256" and cheapest.direction == "lower"
    longest = context.superlative(view, "哪个续航最长", phones)
    assert longest.label == "电池容量" and longest.winner.sku == "PH-HW-M60P-256"
    lightest = context.superlative(view, "哪个更轻", phones)
    assert lightest.label == "重量" and lightest.winner.sku == "PH-XM-14-256"
    assert context.superlative(view, "哪个好看", phones) is None


def test_swapped_model_name_keeps_the_line():
    iphone = Product("IP15P", "iPhone 15 Pro", "苹果", "手机", 7999, model="iPhone 15 Pro")
    assert context.swapped_model_name("那13呢", iphone) == "iPhone 13"
    assert context.swapped_model_name("pro呢", replace(iphone, model="小米14")) == "小米14 pro"
    assert context.swapped_model_name("13多少钱", iphone) is None  # not elliptical
    shoe = replace(iphone, model="Pegasus 40", attributes={"尺码": [42]})
    assert context.swapped_model_name("42呢", shoe) is None  # a size, not a model number


def test_bundle_total_is_the_sum_of_the_items(view):
    phone = view.graph.products["PH-AP-15-128"]
    found = context.bundle(view, phone, ["手机壳", "贴膜"])
    assert [p.sku for p in found.items] == ["PH-AP-15-128", "AC-CASE-IP15"]
    assert found.total == 5999 + 39
    assert found.missing == ["贴膜"]


def test_policy_answers_fit_the_product(view):
    phone = view.graph.products["PH-XM-14-256"]
    opened = policy.opened_return(phone)
    assert "不支持7天无理由退货" in opened and "15天内可以直接换货" in opened
    assert "可以无理由退货" in policy.opened_return(view.graph.products["SH-NK-PEG40-42"])
    assert "一年全国联保" in policy.warranty(phone)
    bank = Product(
        "PB-20000", "充电宝 20000mAh", "测试", "手机配件", 99,
        attributes={"类型": "充电宝", "容量": 20000},
    )  # fmt: skip
    flight = policy.air_travel(bank)
    assert "74Wh" in flight and "可以随身带上飞机" in flight and "不能托运" in flight
    big = replace(bank, title="大充电宝", attributes={"类型": "充电宝", "容量": 50000})
    assert "不能带上飞机" in policy.air_travel(big)


def test_which_is_cheaper_over_the_list_shown_keeps_the_list():
    shown = ["PH-HW-M60P-256", "PH-XM-14-256", "PH-HW-M60-256"]
    _, text, products, slots, _ = run(
        ActionCompareProducts(), tracker("哪个便宜", "compare_products", shown_products=shown)
    )
    assert "最便宜的是 小米14 12GB+256GB 白色 徕卡光学" in text
    assert "3999元" in text and "6499元" in text and "5499元" in text
    assert [p["sku"] for p in products] == ["PH-XM-14-256"]
    assert slots["product_focus"] == "PH-XM-14-256"
    assert slots["shown_products"] == shown  # 「第二个呢」 still means the list's second


def test_price_difference_of_the_pair_compared():
    _, text, products, slots, _ = run(
        ActionCompareProducts(),
        tracker("差价多少", "compare_products", compare_pair=["PH-HW-M60-256", "PH-XM-14-256"]),
    )
    assert "差价 1500元" in text
    assert {p["sku"] for p in products} == {"PH-HW-M60-256", "PH-XM-14-256"}


def test_comparison_remembers_its_pair_for_the_next_question():
    *_, slots, _ = run(ActionCompareProducts(), tracker("Mate60和小米14哪个续航好"))
    assert slots["compare_pair"] == ["PH-HW-M60-256", "PH-XM-14-256"]
    _, text, products, *_ = run(
        ActionCompareProducts(),
        tracker("那重量呢", "compare_products", compare_pair=slots["compare_pair"]),
    )
    assert "重量：Mate 60 209g，小米14 193g" in text
    assert len(products) == 2


def test_a_model_alone_asks_the_last_question_again():
    _, text, products, slots, _ = run(ActionAnswerAttribute(), tracker("小米14续航怎么样"))
    assert slots["last_question"]["fields"] == ["电池容量"]
    _, text, products, *_ = run(
        ActionAnswerAttribute(),
        tracker("那mate60呢", "ask_attribute", last_question=slots["last_question"]),
    )
    assert text.startswith("华为 Mate 60 12GB+256GB 南糯紫 的电池容量是 4750mAh")
    assert products[0]["sku"] == "PH-HW-M60-256"


def test_an_ordinal_beyond_the_list_says_how_many_there_were():
    _, text, products, *_ = run(
        ActionAnswerAttribute(),
        tracker("第三个呢", "ask_attribute", shown_products=["PH-HW-M60-256", "PH-XM-14-256"]),
    )
    assert text.startswith("刚才只列了 2 款") and products is None


def test_device_and_accessory_words_show_what_fits():
    _, text, products, *_ = run(
        ActionSearchProducts(), tracker("我是iPhone 15 推荐个壳", "search_product")
    )
    assert [p["sku"] for p in products] == ["AC-CASE-IP15"]
    assert "适配 iPhone 15 的手机壳" in text


def test_bundle_question_gives_the_total():
    _, text, products, *_ = run(
        ActionAnswerAttribute(), tracker("买iPhone 15再配个壳一共多少钱", "ask_attribute")
    )
    assert "一共 6038元" in text
    assert [p["sku"] for p in products] == ["PH-AP-15-128", "AC-CASE-IP15"]


def test_a_category_alone_moves_the_search_with_its_budget():
    _, text, products, slots, _ = run(
        ActionRefineSearch(),
        tracker(
            "跑鞋呢",
            "refine_search",
            shown_products=["PH-XM-14-256"],
            last_filters={"category": "手机", "max_price": 1000},
        ),
    )
    assert slots["last_filters"]["category"] == "跑步鞋"
    assert slots["last_filters"]["max_price"] == 1000


def test_opened_box_return_for_the_product_in_focus():
    t = tracker("拆封了还能退吗", "faq", product_focus="PH-XM-14-256")
    t.latest_message["response_selector"] = {
        "default": {"response": {"intent_response_key": "faq/return_policy"}}
    }
    _, text, *_ = run(ActionAnswerFaq(), t)
    assert text.startswith("小米14 12GB+256GB 白色 徕卡光学 拆封激活后就不支持7天无理由退货")
    assert not text.startswith("可以")


def test_bargaining_offers_a_cheaper_variant_not_a_discount():
    t = tracker("能便宜点吗", "faq", product_focus="PH-HW-M60P-512")
    t.latest_message["response_selector"] = {
        "default": {"response": {"intent_response_key": "faq/bargain"}}
    }
    _, text, products, *_ = run(ActionAnswerFaq(), t)
    assert "没法再单独改价" in text and "6499元" in text
    assert [p["sku"] for p in products] == ["PH-HW-M60P-256"]


def test_a_defect_gets_an_apology_and_the_exchange_path():
    t = tracker("耳机是坏的 左耳没声音", "faq", product_focus="PH-XM-14-256")
    t.latest_message["response_selector"] = {
        "default": {"response": {"intent_response_key": "faq/defect"}}
    }
    messages, text, *_ = run(ActionAnswerFaq(), t)
    assert text.startswith("非常抱歉") and "换货" in text and "申请售后" in text
    assert {b["title"] for b in messages[0]["buttons"]} >= {"转人工"}


def test_unclear_intent_with_a_clear_request_searches():
    from actions.fallback import ActionDefaultAskAffirmation

    _, text, products, _, events = run(
        ActionDefaultAskAffirmation(), tracker("跑鞋 1000以内", "nlu_fallback")
    )
    assert [p["sku"] for p in products] == ["SH-NK-PEG40-42"]
    assert "1000元以内的跑步鞋" in text
    assert any(e.get("name") == "last_filters" for e in events)  # kept for the next turn


def test_unclear_constraint_after_a_list_refines_it():
    from actions.fallback import ActionDefaultAskAffirmation

    _, text, products, slots, _ = run(
        ActionDefaultAskAffirmation(),
        tracker(
            "要白色的",
            "nlu_fallback",
            shown_products=["PH-XM-14-256", "PH-HW-M60-256"],
            last_filters={"category": "手机", "max_price": 6000},
        ),
    )
    assert [p["sku"] for p in products] == ["PH-XM-14-256"]
    assert slots["last_filters"]["colour"] == "白色" and slots["last_filters"]["max_price"] == 6000


def test_out_of_scope_that_names_a_product_is_answered():
    from actions.fallback import ActionOutOfScope

    _, text, products, *_ = run(ActionOutOfScope(), tracker("小米14多少钱一台啊", "out_of_scope"))
    assert products[0]["sku"] == "PH-XM-14-256" and "3999元" in text
    messages, *_ = run(ActionOutOfScope(), tracker("帮我订机票", "out_of_scope"))
    assert messages[0]["response"] == "utter_out_of_scope"


def test_total_of_the_products_shown():
    _, text, products, *_ = run(
        ActionAnswerAttribute(),
        tracker(
            "这两个一共多少钱", "ask_attribute", shown_products=["PH-XM-14-256", "AC-CASE-IP15"]
        ),
    )
    assert "一共 4038元" in text and len(products) == 2


def test_which_brands_a_category_has():
    messages, text, *_ = run(
        ActionSearchProducts(), tracker("你们有啥牌子", "search_product", need_category="手机")
    )
    assert text.startswith("店里在售的手机有这些牌子：华为（2款）")
    assert "苹果" not in text  # the iPhone 15 is out of stock
    assert {b["title"] for b in messages[0]["buttons"]} == {"华为", "小米"}


def test_two_brands_compared_show_both_and_keep_them():
    _, text, products, slots, _ = run(
        ActionCompareProducts(), tracker("华为和小米手机哪个好", "compare_products")
    )
    assert {p["brand"] for p in products} == {"华为", "小米"}
    assert sorted(slots["last_filters"]["brands"]) == ["华为", "小米"]


@pytest.mark.parametrize(
    ("message", "restated", "models"),
    [
        # 「5G」 is the network (all five are 5G; the iPhone is out of stock): no 5 GB, no 5 g
        ("5G手机 六千以内", "带5G的", {"Mate 60", "小米14"}),
        ("重量200g以下的手机", "重量200g以下的", {"小米14"}),
        ("6.5寸以上的华为手机", "屏幕尺寸6.5英寸以上的", {"Mate 60 Pro", "Mate 60"}),
    ],
)
def test_a_measured_requirement_is_kept_and_restated_with_its_unit(view, message, restated, models):
    _, text, products, slots, _ = run(ActionSearchProducts(), tracker(message, "search_product"))
    assert restated in text and "抱歉" not in text
    shown = [view.graph.products[p["sku"]] for p in products]
    assert sorted(p.model for p in shown) == sorted(models)  # one card per model, each fitting
    kept = slots["last_filters"]["attributes"]
    assert kept and all(key in restated for key in kept)


def test_a_refused_colour_leaves_out_what_comes_only_in_it(view):
    _, text, products, slots, _ = run(
        ActionSearchProducts(), tracker("不要黑色的手机", "search_product")
    )
    assert "黑色以外的手机" in text
    # the 512 GB Mate 60 Pro comes only in 雅丹黑; the 256 GB one also in 白沙银
    assert {p["sku"] for p in products} == {"PH-HW-M60P-256", "PH-HW-M60-256", "PH-XM-14-256"}
    assert slots["last_filters"]["avoided_colours"] == ["黑色"]


def test_brands_refused_together_are_all_left_out_and_said_back_as_refused(view):
    _, text, products, slots, _ = run(
        ActionSearchProducts(), tracker("除了华为和苹果以外的手机", "search_product")
    )
    assert [p["sku"] for p in products] == ["PH-XM-14-256"]
    assert "小米的手机" in text  # the one maker left, named
    assert slots["last_filters"]["avoided_brands"] == ["华为", "苹果"]


def test_a_brand_wanted_and_one_refused_in_one_refinement(view):
    shown = ["PH-HW-M60P-256", "PH-XM-14-256"]
    _, text, products, slots, _ = run(
        ActionRefineSearch(),
        tracker("华为的有吗 不要小米", "refine_search", shown_products=shown,
                last_filters={"category": "手机"}),
    )  # fmt: skip
    assert {view.graph.products[p["sku"]].brand for p in products} == {"华为"}
    assert slots["last_filters"]["brands"] == ["华为"]


def test_a_refused_colour_after_a_list_refines_it_and_a_later_colour_lifts_it():
    shown = ["PH-HW-M60P-256", "PH-HW-M60-256", "PH-XM-14-256"]
    _, text, products, slots, _ = run(
        ActionRefineSearch(),
        tracker("不要黑色的", "refine_search", shown_products=shown,
                last_filters={"category": "手机", "brands": ["华为"]}),
    )  # fmt: skip
    assert {p["sku"] for p in products} == {"PH-HW-M60P-256", "PH-HW-M60-256"}
    kept = slots["last_filters"]
    assert kept["avoided_colours"] == ["黑色"] and kept["brands"] == ["华为"]
    _, text, products, slots, _ = run(
        ActionRefineSearch(),
        tracker("黑色的呢", "refine_search", shown_products=shown, last_filters=kept),
    )
    assert slots["last_filters"]["colour"] == "黑色"
    assert slots["last_filters"]["avoided_colours"] == []


@pytest.mark.parametrize(
    ("text", "opened"),
    [
        ("跑鞋穿出去跑了一次 磨脚 能退吗", True),
        ("衣服穿了一天 能退吗", True),
        ("手表戴了两天 想退", True),
        ("拆封了还能退吗", True),
        ("还没拆 能退吗", False),
        ("买错了能退吗", False),
    ],
)
def test_worn_or_opened_is_told_from_untouched(text, opened):
    assert policy.asks_about_opened(text) is opened
