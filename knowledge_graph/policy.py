"""The shop's after-sales policy applied to one product: returns once opened, warranty, flights.

One policy, stated the same way as the FAQ answers in bot/domain/faq.yml:
签收后7天无理由退货（未拆封、不影响二次销售；护肤彩妆和食品拆封后不支持），15天内质量问题换货，
数码产品和小家电一年保修。These functions say what it means for the product in question, so an
answer never contradicts itself (「拆封了还能退吗」 is not answered 「可以的：…未拆封」).
"""

from __future__ import annotations

import re

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
    r"|[喝吃用穿戴涂抹擦]了(?:一|两|几|半)?[盒瓶包袋口次天回件只支片罐箱]"  # 「喝了一盒 剩下的能退吗」
)


def asks_about_opened(text: str) -> bool:
    return bool(_OPENED.search(text))


def asks_warranty(text: str) -> bool:
    return bool(_WARRANTY.search(text))


def asks_flight(text: str) -> bool:
    return bool(_FLIGHT.search(text))


def reports_defect(text: str) -> bool:
    return bool(_DEFECT.search(text))


def opened_return(product: Product | None) -> str:
    """Whether an opened (used, tried-on) item can still be returned, for this product's kind."""
    if product is None:
        return (
            "拆封后要看商品类型：护肤彩妆和食品拆封后不支持7天无理由退货；手机、电脑等数码产品和"
            "小家电拆封激活后也不支持无理由退货；鞋服试穿后吊牌完好、不影响二次销售的，签收7天内"
            "可以退。无论哪类，签收15天内出现质量问题都可以换货，来回运费由我们承担。"
        )
    return opened_return_in(product.category, product.title)


def opened_return_in(category: str, name: str) -> str:
    """The same answer for a kind of product named without a model (「薯片拆开了能退吗」)."""
    quality = "如果是质量问题，签收15天内可以直接换货，来回运费由我们承担"
    if category in CONSUMABLES:
        return f"抱歉，{name} 属于{category}，拆封后不支持7天无理由退货；{quality}。"
    if category in WEARABLES:
        return (
            f"{name} 拆开试穿后，只要吊牌完好、没有穿着外出和磨损、不影响二次销售，签收7天内"
            f"可以无理由退货；{quality}。"
        )
    warranty = "，一年内还可以享受全国联保" if category in DIGITAL | APPLIANCES else ""
    return (
        f"{name} 拆封激活后就不支持7天无理由退货了（无理由退货需未拆封、不影响二次销售）；"
        f"{quality}{warranty}。"
    )


def warranty(product: Product) -> str:
    name, category = product.title, product.category
    if category in DIGITAL:
        return (
            f"{name} 享受一年全国联保，凭订单或电子发票到{product.brand}官方售后网点维修；"
            "签收15天内有质量问题也可以直接申请换货。人为损坏和进水不在免费保修范围内。"
        )
    if category in APPLIANCES:
        return f"{name} 保修一年，签收15天内有质量问题可以直接换货。人为损坏不在免费保修范围内。"
    return (
        f"{name} 属于{category}，没有保修期的说法；签收15天内出现质量问题（比如开胶、破损、"
        "变质）可以申请换货或退货，运费由我们承担。"
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
