"""手机配件: cases and screen protectors for popular phones, chargers, cables, power banks, straps.

Every accessory names the model lines it fits by key (`compat`); model-specific
ones (cases, films, straps) are also `accessory_of` them, and official chargers
are accessories of their own brand's phones.
"""

from __future__ import annotations

from typing import Any

from data.seed import laptops, phones, tablets
from data.seed._rows import Draft, display_name, draft, words

CATEGORY = "手机配件"
PREFIX = "AC"


def _phone_keys(*brands: str) -> list[str]:
    return [key for key, row in phones.MODELS.items() if row[0] in brands]


IPHONE_LIGHTNING = ["IPHONE14", "IPHONE13", "IPHONESE3"]
IPHONE_ALL = _phone_keys("苹果")
IPHONE_USBC = [k for k in IPHONE_ALL if k not in IPHONE_LIGHTNING]
IPHONE_MAGSAFE = [k for k in IPHONE_ALL if k != "IPHONESE3"]
ANDROID = [k for k in phones.MODELS if k not in IPHONE_ALL]
ALL_PHONES = list(phones.MODELS)
USBC_PHONES = ANDROID + IPHONE_USBC
APPLE_TABLETS = [k for k, row in tablets.MODELS.items() if row[0] == "苹果"]
USBC_LAPTOPS = [
    "MBA13M3",
    "MBA15M3",
    "MBA13M2",
    "MBP14M4",
    "MATEBOOKXPRO",
    "MATEBOOK14",
    "XIAOXINPRO14",
    "XPS139340",
    "ZENBOOK14",
]
assert all(k in laptops.MODELS for k in USBC_LAPTOPS)

# Phones that get a third-party case and a screen protector each.
CASE_PHONES = [
    "IPHONE16PROMAX", "IPHONE16PRO", "IPHONE16PLUS", "IPHONE16", "IPHONE15PROMAX", "IPHONE15PRO",
    "IPHONE15", "IPHONE14", "MATE60PRO", "MATE60", "MATE60PROPLUS", "MATE70PRO", "PURA70PRO",
    "PURA70", "XIAOMI15PRO", "XIAOMI15", "XIAOMI14PRO", "XIAOMI14", "XIAOMI14ULTRA", "K70", "K80",
    "NOTE13PRO", "NOTE13PROPLUS", "FINDX8", "FINDX7", "X200PRO", "X100PRO", "MAGIC7PRO",
    "MAGIC6PRO", "ONEPLUS13", "ONEPLUS12", "IQOO13", "S24ULTRA",
]  # fmt: skip
_CURVED = {
    "MATE60PRO",
    "MATE60PROPLUS",
    "MATE70PRO",
    "PURA70PRO",
    "XIAOMI14ULTRA",
    "XIAOMI14PRO",
    "FINDX7",
    "X100PRO",
    "X200PRO",
    "MAGIC6PRO",
    "MAGIC7PRO",
    "ONEPLUS12",
    "ONEPLUS13",
}

# brand, phone key, product name, price, material, magnetic, colours
_OFFICIAL_CASES = [
    ("苹果", "IPHONE16PROMAX", "MagSafe 硅胶保护壳", 399, "硅胶", True, "黑色 星蓝色 浅紫色 湖水绿"),
    ("苹果", "IPHONE16PRO", "MagSafe 透明保护壳", 399, "聚碳酸酯", True, "透明"),
    ("苹果", "IPHONE16", "MagSafe 硅胶保护壳", 399, "硅胶", True, "黑色 星蓝色 浅紫色 湖水绿"),
    ("苹果", "IPHONE15", "MagSafe 硅胶保护壳", 399, "硅胶", True, "黑色 风暴蓝 冬青绿 亮粉色"),
    ("华为", "MATE60PRO", "素皮保护壳", 199, "素皮", False, "雅丹黑 雅川青 南糯紫"),
    ("华为", "MATE70PRO", "素皮保护壳", 199, "素皮", False, "曜石黑 云杉绿 风信紫"),
    ("小米", "XIAOMI15", "原装保护壳", 99, "TPU", False, "黑色 透明"),
    ("三星", "S24ULTRA", "硅胶保护壳", 299, "硅胶", False, "黑色 浅紫 米白"),
    ("荣耀", "MAGIC6PRO", "原装素皮保护壳", 129, "素皮", False, "绒黑色 天海青"),
]  # fmt: skip

# brand, key, product name, type, compat keys, power W, capacity mAh, interface, length m,
# material, magnetic, weight g, colours, price, tags, aliases, official (also accessory_of)
_GENERIC: list[tuple[Any, ...]] = [
    ("苹果", "APPLE20W", "20W USB-C 电源适配器", "充电器", IPHONE_ALL, 20, None, "USB-C", None,
     None, False, 55, "白色", 149, "快充", "苹果充电头|苹果20w充电器|iphone充电头|苹果快充头", True),
    ("苹果", "APPLEMAGSAFE", "MagSafe 充电器（1米）", "无线充电器", IPHONE_MAGSAFE, 25, None, "USB-C", 1,
     None, True, 60, "白色", 329, "快充", "magsafe充电器|苹果无线充|magsafe", True),
    ("苹果", "APPLECCABLE", "USB-C 编织充电线（1米）", "数据线", IPHONE_USBC + APPLE_TABLETS, 60, None, "USB-C", 1,
     "编织", False, 25, "白色", 145, "", "苹果c口线|iphone15数据线|苹果编织线", True),
    ("苹果", "APPLECLCABLE", "USB-C 转闪电连接线（1米）", "数据线", IPHONE_LIGHTNING, 20, None, "USB-C转Lightning", 1,
     "TPE", False, 25, "白色", 145, "", "苹果数据线|lightning线|苹果充电线", True),
    ("华为", "HW100W", "超级快充多协议充电器（Max 100W）", "充电器", _phone_keys("华为"), 100, None, "USB-C+USB-A", None,
     None, False, 110, "白色", 189, "快充", "华为充电器|华为100w充电头|华为快充头", True),
    ("华为", "HWPOWERBANK", "超级快充移动电源 12000mAh（Max 66W）", "充电宝", _phone_keys("华为"), 66, 12000, "USB-C+USB-A", None,
     "PC阻燃材料", False, 240, "白色", 299, "快充", "华为充电宝|华为移动电源", True),
    ("小米", "MI120W", "120W 充电器套装", "充电器", _phone_keys("小米", "Redmi"), 120, None, "USB-A", None,
     None, False, 130, "白色", 149, "快充", "小米120w充电器|小米充电头|小米快充", True),
    ("小米", "MI67W", "67W 充电器套装", "充电器", _phone_keys("小米", "Redmi"), 67, None, "USB-A", None,
     None, False, 95, "白色", 99, "快充 性价比", "小米67w充电器|红米充电器", True),
    ("小米", "MIPB20000", "充电宝 20000mAh 22.5W", "充电宝", ALL_PHONES, 22.5, 20000, "USB-C+USB-A", None,
     "PC阻燃材料", False, 435, "黑色 白色", 129, "性价比", "小米充电宝|小米移动电源|20000毫安充电宝", False),
    ("OPPO", "OPPO80W", "80W SUPERVOOC 超级闪充电源适配器", "充电器", _phone_keys("OPPO", "一加", "realme"), 80, None, "USB-A", None,
     None, False, 100, "白色", 149, "快充", "oppo充电器|supervooc|oppo闪充头", True),
    ("vivo", "VIVO120W", "120W FlashCharge 超快闪充套装", "充电器", _phone_keys("vivo", "iQOO"), 120, None, "USB-A", None,
     None, False, 125, "白色", 149, "快充", "vivo充电器|iqoo充电器|vivo闪充头", True),
    ("荣耀", "HONOR100W", "100W 超级快充充电器", "充电器", _phone_keys("荣耀"), 100, None, "USB-A", None,
     None, False, 115, "白色", 149, "快充", "荣耀充电器|荣耀快充头", True),
    ("三星", "SAMSUNG45W", "45W 超级快充电源适配器", "充电器", _phone_keys("三星"), 45, None, "USB-C", None,
     None, False, 85, "黑色 白色", 249, "快充", "三星充电器|三星45w", True),
    ("安克", "ANKERNANO20W", "Nano 20W 苹果快充头", "充电器", IPHONE_ALL, 20, None, "USB-C", None,
     None, False, 30, "白色 黑色 紫色", 59, "快充 性价比 学生", "安克20w|安克充电头|anker快充头", False),
    ("安克", "ANKER65W", "65W 氮化镓三口充电器", "充电器", ALL_PHONES + USBC_LAPTOPS, 65, None, "2C1A", None,
     "氮化镓", False, 115, "白色", 169, "快充 办公", "安克65w|安克氮化镓|anker 65w", False),
    ("安克", "ANKERMAGGO", "MagGo 磁吸充电宝 10000mAh", "充电宝", IPHONE_MAGSAFE, 15, 10000, "USB-C", None,
     "PC阻燃材料", True, 250, "黑色 白色 蓝色", 299, "", "安克磁吸充电宝|maggo|苹果磁吸充电宝", False),
    ("绿联", "UGREEN100W", "100W 氮化镓充电器 四口", "充电器", ALL_PHONES + USBC_LAPTOPS, 100, None, "3C1A", None,
     "氮化镓", False, 210, "深空灰", 199, "快充 办公", "绿联100w|绿联氮化镓|ugreen充电器", False),
    ("绿联", "UGREENCC240", "USB-C to C 240W 数据线（2米）", "数据线", USBC_PHONES + USBC_LAPTOPS, 240, None, "USB-C", 2,
     "编织", False, 60, "黑色", 49, "快充 性价比", "绿联c to c|双c数据线|240w数据线", False),
    ("绿联", "UGREENMFI", "MFi认证 USB-C 转 Lightning 数据线（1米）", "数据线", IPHONE_LIGHTNING, 20, None, "USB-C转Lightning", 1,
     "TPE", False, 25, "白色", 39, "性价比", "绿联苹果线|mfi数据线", False),
    ("品胜", "PISENPD", "PD 20W 苹果快充数据线（1.2米）", "数据线", IPHONE_LIGHTNING, 20, None, "USB-C转Lightning", 1.2,
     "TPE", False, 28, "白色", 29, "性价比 学生", "品胜数据线|品胜苹果线", False),
    ("品胜", "PISEN6A", "6A Type-C 超级快充数据线（1米）", "数据线", ANDROID, 66, None, "USB-A转USB-C", 1,
     "TPE", False, 25, "白色", 29, "性价比 学生", "品胜type-c线|安卓数据线", False),
    ("罗马仕", "ROMOSS20000", "充电宝 20000mAh 22.5W 快充", "充电宝", ALL_PHONES, 22.5, 20000, "USB-C+USB-A", None,
     "PC阻燃材料", False, 420, "白色 黑色", 89, "性价比 学生", "罗马仕充电宝|罗马仕20000", False),
    ("罗马仕", "ROMOSS10000", "充电宝 10000mAh 超薄小巧", "充电宝", ALL_PHONES, 20, 10000, "USB-C+USB-A", None,
     "PC阻燃材料", False, 210, "白色 粉色", 59, "性价比 学生 轻薄", "罗马仕小充电宝|罗马仕10000", False),
    ("倍思", "BASEUSMAG10000", "磁吸无线充电宝 10000mAh 20W", "充电宝", IPHONE_MAGSAFE, 20, 10000, "USB-C", None,
     "PC阻燃材料", True, 200, "白色 紫色", 169, "", "倍思磁吸充电宝|倍思充电宝", False),
    ("倍思", "BASEUSCARMOUNT", "车载手机支架 重力感应款", "支架", ALL_PHONES, None, None, None, None,
     "铝合金+ABS", False, 95, "黑色", 79, "", "车载支架|倍思支架|手机支架", False),
    ("倍思", "BASEUS65W", "65W 氮化镓充电器 2C1A", "充电器", ALL_PHONES + USBC_LAPTOPS, 65, None, "2C1A", None,
     "氮化镓", False, 110, "白色 黑色", 129, "快充 性价比", "倍思65w|倍思充电头|倍思氮化镓", False),
    ("图拉斯", "TORRASAPP2", "AirPods Pro 2 保护套 磁吸防摔", "耳机保护套", ["AIRPODSPRO2"], None, None, None, None,
     "液态硅胶", False, 18, "透明 黑色", 49, "", "airpods pro2保护套|耳机套|airpods保护壳", False),
    ("苹果", "APPLEBAND46", "46mm 运动型表带", "表带", ["AWS10-46", "AWS9-45", "AWULTRA2"], None, None, None, None,
     "氟橡胶", False, 30, "黑色 星光色 浅紫色", 399, "运动", "苹果表带|apple watch表带|运动型表带", True),
    ("苹果", "APPLEBAND42", "42mm 运动型表带", "表带", ["AWS10-42", "AWSE-40"], None, None, None, None,
     "氟橡胶", False, 26, "黑色 星光色 浅粉色", 399, "运动", "苹果表带小号|apple watch 42表带", True),
    ("图拉斯", "TORRASMILANESE", "Apple Watch 米兰尼斯不锈钢表带（45/46mm）", "表带", ["AWS10-46", "AWS9-45", "AWULTRA2"], None, None, None, None,
     "不锈钢", True, 45, "银色 黑色", 99, "商务", "米兰表带|苹果手表钢带", False),
    ("华为", "HWBAND22", "22mm 氟橡胶表带", "表带", ["GT5-46", "GT5PRO-46", "GT4-46", "WATCH5-46"], None, None, None, None,
     "氟橡胶", False, 25, "黑色 蓝色 绿色", 199, "运动", "华为表带|gt5表带|华为手表表带", True),
    ("小米", "MIBAND9STRAP", "小米手环9 彩色腕带", "表带", ["MIBAND9"], None, None, None, None,
     "TPU", False, 10, "蓝色 粉色 绿色", 39, "学生 性价比", "小米手环腕带|手环9表带", True),
    ("佳明", "GARMINQUICKFIT22", "QuickFit 22mm 硅胶表带", "表带", ["FENIX8"], None, None, None, None,
     "硅胶", False, 30, "黑色 橙色", 299, "户外 运动", "佳明表带|quickfit表带", True),
]  # fmt: skip


def _phone_label(key: str) -> tuple[str, str]:
    """('iPhone 16 Pro', 'iphone16pro'): how accessory titles and aliases name the phone."""
    brand, model = phones.MODELS[key][0], phones.MODELS[key][1]
    label = model
    if brand != "苹果" and not any(
        model.startswith(p) for p in (brand, "Redmi", "vivo", "iQOO", "OPPO")
    ):
        label = f"{brand}{model}"
    return label, model.replace(" ", "").lower()


def _case(maker: str, key: str, phone_key: str, magnetic: bool, price: float, index: int) -> Draft:
    label, compact = _phone_label(phone_key)
    if maker == "图拉斯":
        style, material, colors = (
            ("磁吸MagSafe 全包防摔 透明", "TPU+PC", "透明 磨砂黑")
            if magnetic
            else ("全包防摔 磨砂手感", "TPU+PC", "磨砂黑 远峰蓝")
        )
    else:
        style, material, colors = ("透明硅胶 全包防摔", "TPU", "透明")
    return draft(
        key=key,
        brand=maker,
        title=f"{maker} 适用{label}手机壳 {style}",
        price=price,
        attributes={
            "类型": "手机壳",
            "适配机型": [label],
            "材质": material,
            "磁吸": magnetic,
            "重量": 28 + index % 9,
            "颜色": words(colors),
        },
        tags="送礼 女生" if maker == "倍思" and index % 3 == 0 else "",
        aliases=[
            f"{maker}{compact}手机壳",
            f"{compact}{'磁吸壳' if magnetic else '透明壳' if maker == '倍思' else '防摔壳'}",
        ]
        + ([f"{compact}手机壳", f"{label}保护壳"] if key.startswith("CASE-") else []),
        compat=[phone_key],
        accessory_of=[phone_key],
        kind="手机壳",
    )


def _film(phone_key: str, index: int) -> Draft:
    label, compact = _phone_label(phone_key)
    maker = "闪魔" if index % 2 == 0 else "绿联"
    curved = phone_key in _CURVED
    name = "曲面UV全胶钢化膜 2片装" if curved else "高清钢化膜 防指纹 2片装"
    return draft(
        key=f"FILM-{phone_key}",
        brand=maker,
        title=f"{maker} 适用{label} {name}",
        price=39 if curved else 29,
        attributes={
            "类型": "贴膜",
            "适配机型": [label],
            "材质": "UV钢化玻璃" if curved else "9H钢化玻璃",
            "磁吸": False,
            "颜色": ["高清透明"],
        },
        tags="性价比",
        aliases=[f"{compact}钢化膜", f"{label}贴膜", f"{compact}手机膜"],
        compat=[phone_key],
        accessory_of=[phone_key],
        kind="贴膜",
    )


def _case_drafts() -> list[Draft]:
    result = []
    for index, phone_key in enumerate(CASE_PHONES):
        is_iphone = phone_key in IPHONE_ALL
        maker = "图拉斯" if index % 2 == 0 or is_iphone else "倍思"
        price = (
            99 if "PROMAX" in phone_key else (89 if is_iphone else 69 if maker == "图拉斯" else 39)
        )
        result.append(
            _case(
                maker, f"CASE-{phone_key}", phone_key, is_iphone and maker == "图拉斯", price, index
            )
        )
        if is_iphone:
            result.append(_case("倍思", f"CASE2-{phone_key}", phone_key, False, 39, index))
        result.append(_film(phone_key, index))
    for brand, phone_key, name, price, material, magnetic, colors in _OFFICIAL_CASES:
        label, compact = _phone_label(phone_key)
        result.append(
            draft(
                key=f"OCASE-{phone_key}",
                brand=brand,
                title=f"{display_name(brand, phones.MODELS[phone_key][1])} {name}",
                price=price,
                model=f"{label} {name}",
                attributes={
                    "类型": "手机壳",
                    "适配机型": [label],
                    "材质": material,
                    "磁吸": magnetic,
                    "重量": 30,
                    "颜色": words(colors),
                },
                tags="送礼",
                aliases=[f"{compact}原装壳", f"{label}官方保护壳", f"{compact}官方壳"],
                compat=[phone_key],
                accessory_of=[phone_key],
                kind="手机壳",
            )
        )
    return result


def _generic_draft(row: tuple[Any, ...]) -> Draft:
    (brand, key, name, kind, compat, power, capacity, interface, length, material, magnetic,
     weight, colors, price, tags, aliases, official) = row  # fmt: skip
    attributes = {
        "类型": kind,
        "适配机型": _compat_labels(compat),
        "功率": power,
        "容量": capacity,
        "接口": interface,
        "长度": length,
        "材质": material,
        "磁吸": magnetic,
        "重量": weight,
        "颜色": words(colors),
    }
    title_brand = "Apple" if brand == "苹果" else brand
    return draft(
        key=key,
        brand=brand,
        title=f"{title_brand} {name}",
        price=price,
        attributes=attributes,
        tags=tags,
        aliases=aliases,
        model=name if official else None,
        compat=list(compat),
        accessory_of=list(compat) if official or kind in {"表带", "耳机保护套"} else [],
        kind=kind,
    )


_FAMILIES = [
    (ALL_PHONES, "iPhone及主流安卓手机通用"),
    (USBC_PHONES, "USB-C接口手机通用"),
    (ANDROID, "安卓Type-C接口手机通用"),
]


def _compat_labels(keys: list[str]) -> list[str]:
    """Human-readable compatible models; a whole family of phones collapses into one label."""
    labels = []
    for family, label in _FAMILIES:
        if set(family) <= set(keys):
            labels.append(label)
            keys = [k for k in keys if k not in family]
            break
    for key in keys:
        for table in (phones.MODELS, tablets.MODELS, laptops.MODELS):
            if key in table:
                labels.append(table[key][1])
                break
        else:
            labels.append(_device_label(key))
    return labels


def _device_label(key: str) -> str:
    from data.seed import earphones, watches

    for table in (watches.MODELS, earphones.MODELS):
        if key in table:
            return table[key][1]
    raise KeyError(key)


def drafts() -> list[Draft]:
    return _case_drafts() + [_generic_draft(row) for row in _GENERIC]


def context(c: dict[str, Any]) -> dict[str, Any]:
    models = c["适配机型"]
    shown = "、".join(models[:3]) + ("等机型" if len(models) > 3 else "")
    return {"适配说明": shown}


DESCRIPTION = {
    "openers": [
        "{name}，适配{适配说明}，做工细致，装上即用。",
        "这款{类型}专为{适配说明}设计，{brand}出品，品质有保障。",
        "{brand}{类型}，兼容{适配说明}，日常使用很省心。",
    ],
    "features": [
        (
            lambda c: c["类型"] == "手机壳",
            [
                "四角气囊加厚，跌落时能有效缓冲，镜头和屏幕都有凸起保护。",
                "按键灵敏、开孔精准，握感轻薄不臃肿。",
            ],
        ),
        (
            lambda c: c["类型"] == "贴膜",
            ["高透光率不影响显示效果，疏油层防指纹，附赠贴膜神器一次贴好。"],
        ),
        (
            lambda c: c["类型"] in {"充电器", "无线充电器"} and c.get("功率"),
            ["最高{功率}W输出，智能识别设备匹配合适功率，充电安全不发烫。"],
        ),
        (lambda c: c["类型"] == "充电宝", ["{容量}mAh容量，出门一天给手机多次补电，可带上飞机。"]),
        (
            lambda c: c["类型"] == "数据线" and c.get("长度"),
            ["{长度}米线长，{接口}接口，床头、桌面都够用。"],
        ),
        (lambda c: c.get("磁吸"), ["磁吸对位精准，一贴即充，吸附稳固不易脱落。"]),
        (lambda c: c["类型"] == "表带", ["{材质}材质亲肤透气，快拆设计换表带只需几秒。"]),
        (lambda c: c["类型"] == "支架", ["重力感应单手放取，出风口夹稳固不晃动。"]),
    ],
    "closers": {
        "快充": ["支持快充协议，充电速度明显提升。"],
        "性价比": ["价格实惠，买来备用也不心疼。"],
        "_": ["官方正品，支持七天无理由退换。", "提供{颜色首}等颜色可选。"],
    },
}
