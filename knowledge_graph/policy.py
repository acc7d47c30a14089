"""The shop's after-sales policy applied to one product: returns once opened, warranty, flights.

One policy, stated the same way as the FAQ answers in bot/domain/faq.yml:
签收后7天无理由退货（未拆封、不影响二次销售；护肤彩妆和食品拆封后不支持），15天内质量问题换货，
数码产品和小家电一年保修。These functions say what it means for the product in question, so an
answer never contradicts itself (「拆封了还能退吗」 is not answered 「可以的：…未拆封」).

The numbers are the shop's: a :class:`ShopPolicy` (today's values as defaults), which the shop
edits in the console (knowledge_graph/shop_answers.py stores it), so a shop with 15-day returns
says 15天 in every sentence here too.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields

from knowledge_graph.product import Product

DIGITAL = frozenset({"手机", "笔记本电脑", "平板电脑", "耳机", "智能手表", "手机配件"})
APPLIANCES = frozenset({"小家电"})
CONSUMABLES = frozenset({"护肤品", "彩妆", "零食饮料"})
WEARABLES = frozenset({"跑步鞋", "运动服饰"})

# Carry-on limit for lithium batteries (CAAC / IATA): 100 Wh without approval, 160 Wh with it.
CARRY_ON_WH = 100.0
APPROVAL_WH = 160.0
CELL_VOLTS = 3.7  # power banks state mAh at the cell's nominal voltage

_WARRANTY = re.compile(r"保修|质保|联保|保多久|保几年|保固")
_FLIGHT = re.compile(r"飞机|登机|托运|乘机|过安检")
_DEFECT = re.compile(
    r"坏了|是坏的|坏掉|没声音|没有声音|开不了机|开不开机|不开机|黑屏|蓝屏|充不进电|充不上电|不出水|"
    r"不出热风|漏液|漏了|是漏的|碎了|杂音|有划痕|开胶|亮点|坏点|失灵|不灵|连不上|死机|发错货|少发"
)
_OPENED = re.compile(
    r"拆封|拆了|拆开|打开|开封|开过|用过|使用过|试用|激活|撕了|试穿|穿过|洗过"
    r"|穿出去|穿出门|[穿戴]了|跑了[一两几]?[次回趟]|跑过"  # 「跑鞋穿出去跑了一次 磨脚」
    r"|[喝吃用穿戴涂抹擦]了(?:一|两|几|半)?[盒瓶包袋口次天回件只支片罐箱]"  # 「喝了一盒 剩下的能退吗」
)


@dataclass(frozen=True)
class PolicyField:
    """How the console names one policy number, the placeholder that says it in a shop's own
    FAQ text (「满{包邮门槛}元包邮」), and its allowed range."""

    label: str
    placeholder: str
    unit: str
    low: int
    high: int


@dataclass(frozen=True)
class ShopPolicy:
    """The shop's policy numbers; the defaults are what bot/domain/faq.yml says."""

    return_days: int = 7  # 签收后无理由退货（未拆封、不影响二次销售）
    exchange_days: int = 15  # 签收后质量问题换货或退货，来回运费由店铺承担
    digital_warranty_months: int = 12  # 数码产品全国联保
    appliance_warranty_months: int = 12  # 小家电保修
    free_shipping_threshold: int = 99  # 实付满多少元包邮（0：全场包邮）
    remote_free_shipping_threshold: int = 199  # 偏远地区
    shipping_fee: int = 8  # 不满包邮门槛时的运费

    def values(self) -> dict[str, int]:
        return asdict(self)

    def problems(self) -> dict[str, str]:
        """Numbers outside their range, as {field: the reason in Chinese}; empty when valid.
        Online shops must take returns for at least seven days (消费者权益保护法第二十五条)."""
        found = {}
        for name, value in self.values().items():
            spec = POLICY_FIELDS[name]
            if isinstance(value, bool) or not isinstance(value, int):
                found[name] = f"{spec.label}必须是整数"
            elif not spec.low <= value <= spec.high:
                found[name] = f"{spec.label}应在 {spec.low} 到 {spec.high} {spec.unit}之间"
        return found

    def placeholder_values(self) -> dict[str, str]:
        """{placeholder: its text now}: what 「{无理由退货天数}」 says in a shop's FAQ text."""
        return {POLICY_FIELDS[k].placeholder: str(v) for k, v in self.values().items()}


POLICY_FIELDS: dict[str, PolicyField] = {
    "return_days": PolicyField("无理由退货天数", "无理由退货天数", "天", 7, 90),
    "exchange_days": PolicyField("质量问题换货天数", "换货天数", "天", 1, 365),
    "digital_warranty_months": PolicyField("数码产品保修期", "数码保修月数", "个月", 1, 60),
    "appliance_warranty_months": PolicyField("小家电保修期", "小家电保修月数", "个月", 1, 60),
    "free_shipping_threshold": PolicyField("包邮门槛", "包邮门槛", "元", 0, 100_000),
    "remote_free_shipping_threshold": PolicyField(
        "偏远地区包邮门槛", "偏远地区包邮门槛", "元", 0, 100_000
    ),
    "shipping_fee": PolicyField("不包邮时的运费", "运费", "元", 0, 1_000),
}
assert set(POLICY_FIELDS) == {f.name for f in fields(ShopPolicy)}
DEFAULT_POLICY = ShopPolicy()

_YEARS = {1: "一", 2: "两", 3: "三", 4: "四", 5: "五"}


def period(months: int) -> str:
    """「一年」「两年」「18个月」: a warranty period as the answers say it."""
    years, rest = divmod(months, 12)
    if not rest and years in _YEARS:
        return f"{_YEARS[years]}年"
    return f"{months}个月"


def warranty_months(category: str, terms: ShopPolicy) -> int | None:
    """The warranty of a category's group, None for groups without one (clothes, food)."""
    if category in DIGITAL:
        return terms.digital_warranty_months
    if category in APPLIANCES:
        return terms.appliance_warranty_months
    return None


def asks_about_opened(text: str) -> bool:
    return bool(_OPENED.search(text))


def asks_warranty(text: str) -> bool:
    return bool(_WARRANTY.search(text))


def asks_flight(text: str) -> bool:
    return bool(_FLIGHT.search(text))


def reports_defect(text: str) -> bool:
    return bool(_DEFECT.search(text))


def opened_return(product: Product | None, terms: ShopPolicy = DEFAULT_POLICY) -> str:
    """Whether an opened (used, tried-on) item can still be returned, for this product's kind."""
    if product is None:
        days, exchange = terms.return_days, terms.exchange_days
        return (
            f"拆封后要看商品类型：护肤彩妆和食品拆封后不支持{days}天无理由退货；手机、电脑等数码产品和"
            f"小家电拆封激活后也不支持无理由退货；鞋服试穿后吊牌完好、不影响二次销售的，签收{days}天内"
            f"可以退。无论哪类，签收{exchange}天内出现质量问题都可以换货，来回运费由我们承担。"
        )
    return opened_return_in(product.category, product.title, terms)


def opened_return_in(category: str, name: str, terms: ShopPolicy = DEFAULT_POLICY) -> str:
    """The same answer for a kind of product named without a model (「薯片拆开了能退吗」)."""
    days = terms.return_days
    quality = f"如果是质量问题，签收{terms.exchange_days}天内可以直接换货，来回运费由我们承担"
    if category in CONSUMABLES:
        return f"抱歉，{name} 属于{category}，拆封后不支持{days}天无理由退货；{quality}。"
    if category in WEARABLES:
        return (
            f"{name} 拆开试穿后，只要吊牌完好、没有穿着外出和磨损、不影响二次销售，签收{days}天内"
            f"可以无理由退货；{quality}。"
        )
    months = warranty_months(category, terms)
    warranty = f"，{period(months)}内还可以享受全国联保" if months else ""
    return (
        f"{name} 拆封激活后就不支持{days}天无理由退货了（无理由退货需未拆封、不影响二次销售）；"
        f"{quality}{warranty}。"
    )


def warranty(product: Product, terms: ShopPolicy = DEFAULT_POLICY) -> str:
    name, category = product.title, product.category
    exchange = terms.exchange_days
    if category in DIGITAL:
        return (
            f"{name} 享受{period(terms.digital_warranty_months)}全国联保，凭订单或电子发票到"
            f"{product.brand}官方售后网点维修；签收{exchange}天内有质量问题也可以直接申请换货。"
            "人为损坏和进水不在免费保修范围内。"
        )
    if category in APPLIANCES:
        return (
            f"{name} 保修{period(terms.appliance_warranty_months)}，签收{exchange}天内有质量问题"
            "可以直接换货。人为损坏不在免费保修范围内。"
        )
    return (
        f"{name} 属于{category}，没有保修期的说法；签收{exchange}天内出现质量问题（比如开胶、破损、"
        "变质）可以申请换货或退货，运费由我们承担。"
    )


def defect(product: Product | None, terms: ShopPolicy = DEFAULT_POLICY) -> str:
    """An apology and the way to an exchange, for a product that arrived broken or broke."""
    item = f"您的 {product.title} " if product else ""
    exchange = terms.exchange_days
    months = (
        terms.digital_warranty_months
        if product is None
        else warranty_months(product.category, terms)
    )
    warranty = (
        f"；超过{exchange}天的可以凭订单到品牌官方售后享受{period(months)}保修" if months else ""
    )
    return (
        f"非常抱歉，{item}出现这样的问题，给您添麻烦了😔 签收{exchange}天内的质量问题可以直接换货或"
        "退货：在「我的订单」→ 订单详情 →「申请售后」选「质量问题」，附上照片或视频，来回运费由我们"
        f"承担{warranty}。需要的话我马上帮您转人工客服跟进。"
    )


def may_carry_on(product: Product) -> bool:
    """Whether it may go in the cabin without an airline's approval (power banks ≤ 100Wh)."""
    capacity = product.attributes.get("容量")
    kind = product.attributes.get("类型") or product.attributes.get("品类")
    if kind == "充电宝" and isinstance(capacity, (int, float)):
        return capacity * CELL_VOLTS / 1000 <= CARRY_ON_WH
    return True


def air_travel(product: Product) -> str | None:
    """Flying with this product, from its capacity; None when it has no battery to speak of."""
    name = product.title
    capacity = product.attributes.get("容量")
    kind = product.attributes.get("类型") or product.attributes.get("品类")
    if kind == "充电宝" and isinstance(capacity, (int, float)):
        watt_hours = capacity * CELL_VOLTS / 1000
        if watt_hours <= CARRY_ON_WH:
            verdict = "可以随身带上飞机"
        elif watt_hours <= APPROVAL_WH:
            verdict = "需要航空公司批准才能随身携带"
        else:
            verdict = "超过民航限制，不能带上飞机"
        return (
            f"{name} 容量 {capacity:g}mAh，约 {watt_hours:.0f}Wh，{verdict}（100Wh以内可直接随身携带）。"
            "充电宝不能托运，只能放随身行李，飞行中也不能用来充电。具体以航空公司和安检要求为准。"
        )
    if product.category in DIGITAL - {"手机配件"}:
        return (
            f"{name} 内置电池在民航允许范围内，可以随身带上飞机；建议放随身行李，不要托运。"
            "具体以航空公司和安检要求为准。"
        )
    return None
