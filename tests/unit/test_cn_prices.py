"""Price wishes (cn_text/prices.py): the rules behind the `price` entity, no rasa needed.

The brand and model-line names come from the seed catalog, through the same export the NLU
gets (knowledge_graph/export.py). The lists the parser kept by hand before that are kept here
only to show that the catalog's names decide every case the same way.
"""

from __future__ import annotations

import pytest

from cn_text import lexicon
from cn_text.prices import (
    NameWords,
    PriceConstraint,
    extract_prices,
    format_price_value,
    price_roles,
)
from data.generate_catalog import build_catalog
from knowledge_graph.export import price_names
from knowledge_graph.graph import ProductGraph
from knowledge_graph.store import CatalogStore

# The hand-kept lists cn_text/prices.py had before the names came from the catalog.
HAND_KEPT_LATIN_BRANDS = {
    "vivo", "oppo", "iqoo", "realme", "apple", "huawei", "xiaomi", "redmi", "honor", "oneplus",
    "samsung", "sony", "nike", "adidas", "lenovo", "dell", "hp", "asus", "acer", "msi",
    "iphone", "ipad", "macbook", "airpods", "meizu", "anta", "lining",
}  # fmt: skip
HAND_KEPT_CN_PREFIXES = [
    "小米", "红米", "华为", "荣耀", "一加", "魅族", "三星", "苹果", "真我", "努比亚", "中兴",
    "联想", "索尼", "坚果", "酷派", "诺基亚", "摩托罗拉", "红魔", "黑鲨", "畅享", "麦芒",
    "小新", "拯救者", "天选", "无畏", "小天才", "米家", "大疆",
]  # fmt: skip
# Model-line words the parser also kept (after a space they named a model: "Mate 60").
HAND_KEPT_LINES = ["mate", "pura", "nova", "reno", "find", "note", "galaxy", "pixel"]
# Of those, the words the catalog has neither as a brand spelling nor as a model line named
# with a number: brands it does not sell, and lines whose models read "iPad Air", "小新Pro 14",
# "Redmi Note 13".
NOT_CATALOG_NAMES = {
    "acer", "ipad", "macbook", "努比亚", "中兴", "坚果", "酷派", "诺基亚", "摩托罗拉", "黑鲨",
    "麦芒", "小新", "拯救者", "米家", "大疆", "find", "note", "galaxy", "pixel",
}  # fmt: skip


@pytest.fixture(scope="module")
def seed_graph(tmp_path_factory) -> ProductGraph:
    store = CatalogStore.from_url(f"sqlite:///{tmp_path_factory.mktemp('seed') / 'seed.db'}")
    store.create_schema()
    store.load_catalog(build_catalog())
    return ProductGraph(store.snapshot())


@pytest.fixture(scope="module")
def catalog(seed_graph) -> NameWords:
    """The seed catalog's names, as `daogou bot prepare` exports them."""
    return NameWords.from_lexicon(price_names(seed_graph))


HAND_KEPT = NameWords([*HAND_KEPT_LATIN_BRANDS, *HAND_KEPT_CN_PREFIXES])


@pytest.fixture(params=["catalog", "hand-kept"])
def names(request, catalog) -> NameWords:
    """Every price case holds with the catalog's names and with the old hand-kept lists."""
    return catalog if request.param == "catalog" else HAND_KEPT


# ------------------------------------------------------------------ extract_prices

# (message, [(min, max, around), ...] in text order)
PRICE_CASES = [
    # upper bounds
    ("三千以内", [(None, 3000, None)]),
    ("最多花三千", [(None, 3000, None)]),
    ("最多就花两千", [(None, 2000, None)]),
    ("预算降到两千", [(None, 2000, None)]),
    ("价格降到一千五", [(None, 1500, None)]),
    ("3000以下", [(None, 3000, None)]),
    ("不超过两千", [(None, 2000, None)]),
    ("两千块以下", [(None, 2000, None)]),
    ("最多五百", [(None, 500, None)]),
    ("预算3000", [(None, 3000, None)]),
    ("三千块钱以内的手机", [(None, 3000, None)]),
    ("万元以内", [(None, 10000, None)]),
    ("千元以内的耳机", [(None, 1000, None)]),
    ("百元以内的耳机", [(None, 100, None)]),
    ("1w以内", [(None, 10000, None)]),
    ("8k以内的笔记本", [(None, 8000, None)]),
    ("低于500", [(None, 500, None)]),
    ("三千不到", [(None, 3000, None)]),
    ("3000内的手机", [(None, 3000, None)]),
    ("最高不超过3000", [(None, 3000, None)]),
    ("价格不超过3000", [(None, 3000, None)]),
    ("预算在五千以内", [(None, 5000, None)]),
    ("不要超过1万", [(None, 10000, None)]),
    ("三千五以下", [(None, 3500, None)]),
    ("1千5以内", [(None, 1500, None)]),
    ("兩千以內", [(None, 2000, None)]),
    ("200元以内的零食", [(None, 200, None)]),
    ("手头只有3000", [(None, 3000, None)]),
    ("两三千以内", [(None, 3000, None)]),
    # vague amounts of money: at most the top of the span
    ("几百块的耳机", [(None, 999, None)]),
    ("小几百块的耳机", [(None, 500, None)]),
    ("几十块钱的数据线", [(None, 99, None)]),
    ("十几块的数据线", [(None, 19, None)]),
    ("几千块的笔记本", [(None, 9999, None)]),
    ("1w2以内", [(None, 12000, None)]),
    ("价格控制在3000以内", [(None, 3000, None)]),
    ("不到一百块", [(None, 100, None)]),
    ("充电宝10000mAh 200以内", [(None, 200, None)]),
    # lower bounds
    ("3000以上", [(3000, None, None)]),
    ("不低于2000", [(2000, None, None)]),
    ("至少五千", [(5000, None, None)]),
    ("五千起", [(5000, None, None)]),
    ("3000+的手机", [(3000, None, None)]),
    ("超过两千", [(2000, None, None)]),
    ("最少也要一千", [(1000, None, None)]),
    ("至少得2000吧", [(2000, None, None)]),
    # ranges
    ("预算两三千", [(2000, 3000, None)]),
    ("2k到3k", [(2000, 3000, None)]),
    ("2000-3000", [(2000, 3000, None)]),
    ("2000~3000元", [(2000, 3000, None)]),
    ("1000到1500之间", [(1000, 1500, None)]),
    ("两三百", [(200, 300, None)]),
    ("三四千", [(3000, 4000, None)]),
    ("一两千的耳机", [(1000, 2000, None)]),
    ("七八百块", [(700, 800, None)]),
    ("价格在2000到3000", [(2000, 3000, None)]),
    ("2-3k", [(2000, 3000, None)]),
    ("两到三千", [(2000, 3000, None)]),
    ("1.5-2万", [(15000, 20000, None)]),
    ("2千到3千", [(2000, 3000, None)]),
    ("1000元-2000元", [(1000, 2000, None)]),
    ("1000 - 2000", [(1000, 2000, None)]),
    ("一百到两百", [(100, 200, None)]),
    ("2000和3000之间", [(2000, 3000, None)]),
    ("3000到2000", [(2000, 3000, None)]),
    ("1,000-2,000", [(1000, 2000, None)]),
    ("３０００～５０００元", [(3000, 5000, None)]),
    ("3000以上5000以下", [(3000, 5000, None)]),
    ("不低于2000，不超过3000", [(2000, 3000, None)]),
    ("一千五到两千之间的手表", [(1500, 2000, None)]),
    ("5到10块的零食", [(5, 10, None)]),
    ("四五千的笔记本电脑", [(4000, 5000, None)]),
    ("预算800-1000", [(800, 1000, None)]),
    ("两千以上三千以下", [(2000, 3000, None)]),
    # "多": more than N, short of the next step
    ("一千多", [(1000, 1999, None)]),
    ("两千多块的手机", [(2000, 2999, None)]),
    ("200多的耳机", [(200, 299, None)]),
    ("三十多块", [(30, 39, None)]),
    ("1500多", [(1500, 1599, None)]),
    # around
    ("五百块左右", [(None, None, 500)]),
    ("500左右", [(None, None, 500)]),
    ("差不多一千", [(None, None, 1000)]),
    ("大概两千", [(None, None, 2000)]),
    ("1500上下", [(None, None, 1500)]),
    ("一千五", [(None, None, 1500)]),
    ("1.5万", [(None, None, 15000)]),
    ("100块钱", [(None, None, 100)]),
    ("¥299", [(None, None, 299)]),
    ("￥299", [(None, None, 299)]),
    ("299元", [(None, None, 299)]),
    ("千元机", [(None, None, 1000)]),
    ("两千档", [(None, None, 2000)]),
    ("3000价位的手机", [(None, None, 3000)]),
    ("3000的手机", [(None, None, 3000)]),
    ("三千的", [(None, None, 3000)]),
    ("两千左右的手机", [(None, None, 2000)]),
    ("预算3000左右", [(None, None, 3000)]),
    ("我的预算大概是3000", [(None, None, 3000)]),
    ("价格：3000", [(None, None, 3000)]),
    ("一百来块", [(None, None, 100)]),
    ("千把块", [(None, None, 1000)]),
    ("两千出头", [(None, None, 2000)]),
    ("3w左右", [(None, None, 30000)]),
    ("5块钱", [(None, None, 5)]),
    ("9.9元包邮", [(None, None, 9.9)]),
    ("50块的耳机", [(None, None, 50)]),
    ("RMB 3000", [(None, None, 3000)]),
    ("3000rmb", [(None, None, 3000)]),
    ("2,999元", [(None, None, 2999)]),
    ("三千块买个手机", [(None, None, 3000)]),
    ("2k5左右", [(None, None, 2500)]),
    ("一万出头", [(None, None, 10000)]),
    ("八百八", [(None, None, 880)]),
    # in real messages, with specs, brands, emoji and mixed scripts around
    ("三千以内的华为手机", [(None, 3000, None)]),
    ("2k到3k的耳机", [(2000, 3000, None)]),
    ("😊三千以内的手机😊", [(None, 3000, None)]),
    ("iPhone 15 Pro 256G三千以内", [(None, 3000, None)]),
    ("16G+512G 4000以内", [(None, 4000, None)]),
    ("5000左右的笔记本，要16G内存", [(None, None, 5000)]),
    ("42码的跑鞋500以内", [(None, 500, None)]),
    ("5G手机 两千左右", [(None, None, 2000)]),
    ("Mate60 Pro 6000左右", [(None, None, 6000)]),
    ("vivo3000左右的手机", [(None, None, 3000)]),
    ("华为3000以内", [(None, 3000, None)]),
    ("小米14 3000以内", [(None, 3000, None)]),
    ("万一三千以内", [(None, 3000, None)]),
    ("送女朋友的礼物，预算1000，不要太贵", [(None, 1000, None)]),
    ("有没有两百以内的蓝牙耳机？", [(None, 200, None)]),
    ("5000mAh大电池，两千以下", [(None, 2000, None)]),
    ("想要一部手机3000左右，还有一副500以内的耳机", [(None, None, 3000), (None, 500, None)]),
]

FALSE_POSITIVES = [
    "iPhone15",
    "mate60",
    "小米14",
    "12GB",
    "512G",
    "5000mAh",
    "6.7英寸",
    "42码",
    "第二个",
    "两个",
    "5G",
    "1TB",
    "120W",
    "一加12",
    "DG20261105001234",
    "订单号20261105001234",
    "尾号1234",
    "荣耀400",
    "RTX4060以上",
    "RTX 4060以上的显卡",
    "骁龙888以上",
    "天玑9300",
    "2K屏",
    "4K电视",
    "65W快充",
    "2024-11-05",
    "10:30",
    "12+256",
    "两块手表",
    "20块巧克力",
    "满300减50",
    "运费10元",
    "一千多个",
    "一百多克",
    "一起去",
    "三星手机",
    "4800万像素",
    "2024年的新款",
    "2023款",
    "八折",
    "12期免息",
    "1080p",
    "144Hz",
    "买两台",
    "十分好用",
    "三十岁",
    "十几岁的小孩",
    "有没有再便宜个几百的",
    "256的",
    "iPhone 15 Pro Max",
    "2kg",
    "帮我写一篇800字作文",
]


def _shape(constraint: PriceConstraint) -> tuple[float | None, float | None, float | None]:
    return (constraint.min, constraint.max, constraint.around)


@pytest.mark.parametrize(("text", "expected"), PRICE_CASES)
def test_extract_prices(text: str, expected: list[tuple], names: NameWords) -> None:
    found = [_shape(constraint) for constraint in extract_prices(text, names)]
    assert found == [tuple(None if v is None else float(v) for v in shape) for shape in expected]


@pytest.mark.parametrize("text", FALSE_POSITIVES)
def test_specs_models_and_ids_are_not_prices(text: str, names: NameWords) -> None:
    assert extract_prices(text, names) == []


@pytest.mark.parametrize(
    ("text", "span_text"),
    [
        ("三千以内的华为手机", "三千以内"),
        ("有没有五百块左右的耳机", "五百块左右"),
        ("2k到3k的耳机", "2k到3k"),
        ("想要不超过两千的", "不超过两千"),
        ("价格在2000到3000之间的手表", "价格在2000到3000之间"),
        ("３０００元以内", "３０００元以内"),
        ("想要3000的手机", "3000"),
        ("价格控制在3000以内", "价格控制在3000以内"),
    ],
)
def test_span_points_into_the_original_text(text: str, span_text: str, catalog: NameWords) -> None:
    (constraint,) = extract_prices(text, catalog)
    assert constraint.text == span_text
    assert text[constraint.start : constraint.end] == span_text


# Where the catalog's names decide otherwise than the hand-kept lists: model names of lines
# and brands the lists did not know are no longer prices; a brand the shop does not sell is
# no name any more.
CATALOG_DECIDES = [
    ("佳明265", []),
    ("迪奥999", []),
    ("新百伦1080", []),
    ("戴尔成就3520", []),
    ("诺基亚3310多少钱", [(None, None, 3310)]),
    ("佳明265左右的手表", [(None, None, 265)]),  # a price cue still makes it a price
]


@pytest.mark.parametrize(("text", "expected"), CATALOG_DECIDES)
def test_catalog_names(text: str, expected: list[tuple], catalog: NameWords) -> None:
    found = [_shape(constraint) for constraint in extract_prices(text, catalog)]
    assert found == [tuple(None if v is None else float(v) for v in shape) for shape in expected]


def test_catalog_has_the_hand_kept_names_it_sells(seed_graph, catalog: NameWords) -> None:
    spellings = {
        alias.lower()
        for brand in seed_graph.brands.values()
        for alias in [brand["name"], *brand.get("aliases", [])]
    }
    hand_kept = [*HAND_KEPT_LATIN_BRANDS, *HAND_KEPT_CN_PREFIXES, *HAND_KEPT_LINES]
    brands = [word for word in hand_kept if word.lower() in spellings]
    assert len(brands) >= 30
    known = catalog.latin | catalog.chinese
    assert [word for word in brands if word not in known] == []
    assert {word for word in hand_kept if word not in known} == NOT_CATALOG_NAMES


def test_generic_words_are_never_names() -> None:
    names = NameWords(["X", "Pro", "gen", "1+", "361", "New Balance", "vivo", "iQOO", "荣耀"])
    assert names.latin == {"vivo", "iqoo"} and names.chinese == {"荣耀"}
    assert extract_prices("X 200以内", names) == []  # "X 200" stays a model


def test_without_names_numbers_after_brands_are_read_plainly() -> None:
    assert [_shape(c) for c in extract_prices("荣耀400", NameWords())] == [(None, None, 400.0)]
    assert extract_prices("vivo3000左右", NameWords()) == []


# ------------------------------------------------------------------ the exported names file


def test_the_live_catalog_gives_the_action_side_its_names(mini_view) -> None:
    from search.query import prices_in

    names = mini_view.price_names
    assert {"小米", "华为"} <= names.chinese
    assert prices_in("小米400", names) == (None, None)  # a model number after a brand
    assert prices_in("小米400以内", names) == (None, 400.0)


def test_lexicon_round_trip() -> None:
    text = lexicon.format_lexicon(
        {"line": ["天选", "iPhone"], "brand": ["vivo", " 华为 ", "vivo", "bad\tword", ""]},
        header="made here",
    )
    assert text.splitlines()[0] == "# made here"
    assert lexicon.parse_lexicon(text) == {"brand": ["vivo", "华为"], "line": ["iPhone", "天选"]}


# ------------------------------------------------------------------ entity helpers


@pytest.mark.parametrize(
    ("text", "roles"),
    [
        ("三千以内", [("max", 3000.0)]),
        ("3000以上", [("min", 3000.0)]),
        ("500左右", [("around", 500.0)]),
        ("2k到3k", [("min", 2000.0), ("max", 3000.0)]),
    ],
)
def test_price_roles(text: str, roles: list[tuple[str, float]], catalog: NameWords) -> None:
    (constraint,) = extract_prices(text, catalog)
    assert price_roles(constraint) == roles


@pytest.mark.parametrize(
    ("value", "expected"), [(3000.0, "3000"), (1499.5, "1499.5"), (9.9, "9.9"), (0.0, "0")]
)
def test_format_price_value(value: float, expected: str) -> None:
    assert format_price_value(value) == expected
