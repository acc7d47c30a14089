from __future__ import annotations

import pytest

from knowledge_graph.linking import is_everyday_word, normalise


def products(view, text):
    return [(m.value, m.method) for m in view.linker.link(text) if m.kind == "product"]


@pytest.mark.parametrize(
    ("text", "model"),
    [
        ("华为Mate60 Pro多少钱", "Mate 60 Pro"),
        ("mate60pro还有货吗", "Mate 60 Pro"),
        ("HUAWEI Mate 60 Pro 续航", "Mate 60 Pro"),
        ("ＭＡＴＥ６０ ＰＲＯ多少钱", "Mate 60 Pro"),  # full-width
        ("mate60多少钱", "Mate 60"),  # not the Pro
        ("Mate 60", "Mate 60"),
        ("小米14怎么样", "小米14"),
        ("xiaomi 14 电池多大", "小米14"),
        ("iPhone15有粉色吗", "iPhone 15"),
        ("苹果15多少钱", "iPhone 15"),
        ("爱疯15", "iPhone 15"),
        ("飞马40跑鞋", "Pegasus 40"),
    ],
)
def test_aliases_and_mixed_scripts(mini_view, text, model):
    assert products(mini_view, text)[0][0] == model


def test_typos_in_latin_names_match_by_edit_distance(mini_view):
    assert products(mini_view, "iphnoe15多少钱") == [("iPhone 15", "fuzzy")]
    assert products(mini_view, "mate60 por 多少钱")[0][0] == "Mate 60 Pro"


def test_typo_keeps_model_number(mini_view):
    # mate50 is a different phone: never silently answer with the Mate 60.
    assert products(mini_view, "mate50多少钱") == []
    assert products(mini_view, "小米13") == []


def test_homophone_typos_match_by_pinyin(mini_view):
    brands = [m for m in mini_view.linker.link("华维的手机") if m.kind == "brand"]
    assert brands and brands[0].value == "华为" and brands[0].method == "pinyin"
    assert [m.value for m in mini_view.linker.link("小迷的手机") if m.kind == "brand"] == ["小米"]


def test_everyday_words_are_not_sound_alike_typos(mini_view):
    # 化为 sounds like 华为 and 一家 like 一加, but both are common words meant as themselves.
    assert [m for m in mini_view.linker.link("冰化为水的时候") if m.kind == "brand"] == []
    assert is_everyday_word("一家") and not is_everyday_word("华维")


def test_sound_alikes_of_seed_brands_only_where_a_word_is_a_typo():
    from knowledge_graph.linking import EntityLinker
    from tests.shopper_suite import seed_graph

    linker = EntityLinker(seed_graph())

    def brands(text):
        return [m.value for m in linker.link(text) if m.kind == "brand"]

    assert brands("想给我妈买个礼物") == []  # 个礼 ≈ 格力 across 买个|礼物
    assert brands("一家三口用的空气炸锅") == []  # 一家 ≈ 一加, but a word of its own
    assert brands("华维的手机") == ["华为"]


def test_traditional_characters(mini_view):
    kinds = {(m.kind, m.value) for m in mini_view.linker.link("華為手機")}
    assert ("brand", "华为") in kinds and ("category", "手机") in kinds


def test_categories_attributes_colours_and_spans(mini_view):
    text = "有没有白色的手机，续航要好"
    mentions = mini_view.linker.link(text)
    found = {(m.kind, m.value) for m in mentions}
    assert {("color", "白色"), ("category", "手机"), ("attribute", "电池容量")} <= found
    for m in mentions:
        assert text[m.start : m.end] == m.text


def test_unknown_and_hostile_text(mini_view):
    assert products(mini_view, "诺基亚3310多少钱") == []
    assert mini_view.linker.link("") == []
    assert mini_view.linker.link("😀😀😀") == []
    assert isinstance(mini_view.linker.link("<script>alert(1)</script>' OR 1=1 --"), list)
    assert isinstance(mini_view.linker.link("华为" * 5000), list)


def test_suggest_close_names(mini_view):
    assert "Mate 60 Pro" in mini_view.linker.suggest("mate70 pro")


def test_normalise_maps_back_to_original_positions():
    norm, positions = normalise("Mate 60 Ｐｒｏ")
    assert norm == "mate60pro"
    assert positions[0] == 0 and positions[-1] == len("Mate 60 Ｐｒｏ") - 1


def skus_named(view, text):
    return [m.skus for m in view.linker.link(text) if m.kind == "product"]


@pytest.mark.parametrize(
    "template", ["{t}多少钱", "请问{t}现在卖多少钱？", "{t} 价格", "{t}还有货吗"]
)
def test_a_pasted_title_is_that_sku_and_nothing_else(mini_view, template):
    for sku, product in mini_view.graph.products.items():
        mentions = mini_view.linker.link(template.format(t=product.title))
        assert [(m.kind, m.skus, m.exact) for m in mentions] == [("product", (sku,), True)]


@pytest.mark.parametrize(
    ("text", "skus"),
    [
        ("华为mate60pro 512 有货吗", ("PH-HW-M60P-512",)),
        ("mate60pro 512G多少钱", ("PH-HW-M60P-512",)),
        ("Mate 60 Pro 12GB+256GB多少钱", ("PH-HW-M60P-256",)),
        ("mate60pro多少钱", ("PH-HW-M60P-256", "PH-HW-M60P-512")),  # the model: both variants
        ("mate60多少钱", ("PH-HW-M60-256",)),  # not the Pro
        ("iPhone 15的手机壳", ("AC-CASE-IP15",)),  # the accessory made for it, not the phone
    ],
)
def test_variant_words_decide_between_siblings(mini_view, text, skus):
    assert skus_named(mini_view, text)[0] == skus


def test_the_alias_keeps_what_it_named(mini_view):
    case = next(m for m in mini_view.linker.link("iPhone 15的手机壳") if m.kind == "product")
    assert case.named == ("PH-AP-15-128",)


def test_brand_and_category_words_never_name_one_product(mini_view):
    # 「华为手机」 is a search for Huawei phones, even if a product lists it as an alias.
    kinds = {(m.kind, m.value) for m in mini_view.linker.link("华为手机有哪些")}
    assert kinds == {("brand", "华为"), ("category", "手机")}


def test_two_products_of_one_brand_stay_two(mini_view):
    assert skus_named(mini_view, "mate60和mate60pro哪个好") == [
        ("PH-HW-M60-256",),
        ("PH-HW-M60P-256", "PH-HW-M60P-512"),
    ]


def test_a_space_separates_a_model_number_from_a_storage_size(mini_view):
    assert skus_named(mini_view, "Mate 60 Pro 512GB") == [("PH-HW-M60P-512",)]


def test_memory_pairs_without_units_pick_the_variant(mini_view):
    assert skus_named(mini_view, "mate60pro 12+512还有吗") == [("PH-HW-M60P-512",)]


@pytest.fixture(scope="module")
def seed_linker():
    from knowledge_graph.linking import EntityLinker
    from tests.shopper_suite import seed_graph

    return EntityLinker(seed_graph())


@pytest.mark.parametrize("text", ["iphone15pm多少钱", "苹果15pm", "iPhone 15 PM有货吗"])
def test_pm_is_pro_max_as_shoppers_type_it(seed_linker, text):
    mentions = [m for m in seed_linker.link(text) if m.kind == "product"]
    assert [m.value for m in mentions] == ["iPhone 15 Pro Max"]
    assert seed_linker.link("pm2.5过滤") == []  # no model number before it
