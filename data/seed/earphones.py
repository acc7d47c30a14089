"""耳机: true-wireless, over-ear, open and bone-conduction models with real specifications."""

from __future__ import annotations

from typing import Any

from data.seed._rows import Draft, display_name, draft, words

CATEGORY = "耳机"
PREFIX = "EP"

# brand, model, key, series, type, ANC, battery h (with case; None for wired), Bluetooth,
# water rating, weight g (per earbud or whole headset), colours, price, tags, aliases
_ROWS: list[tuple[Any, ...]] = [
    ("苹果", "AirPods Pro 2（USB-C）", "AIRPODSPRO2", "苹果 AirPods 系列", "入耳式", True, 30, 5.3, "IP54", 5.3,
     "白色", 1899, "降噪 送礼 通勤", "airpods pro 2|airpodspro2|app2|苹果耳机|airpods pro|苹果降噪耳机|豆子"),
    ("苹果", "AirPods 4 主动降噪款", "AIRPODS4ANC", "苹果 AirPods 系列", "半入耳式", True, 30, 5.3, "IP54", 4.3,
     "白色", 1399, "降噪 通勤 送礼", "airpods 4 降噪|airpods4anc|airpods4降噪版"),
    ("苹果", "AirPods 4", "AIRPODS4", "苹果 AirPods 系列", "半入耳式", False, 30, 5.3, "IP54", 4.3,
     "白色", 999, "学生 送礼", "airpods 4|airpods4|苹果耳机4|airpods"),
    ("苹果", "AirPods Max", "AIRPODSMAX", "苹果 AirPods 系列", "头戴式", True, 20, 5.0, None, 385,
     "午夜色 星光色 蓝色 紫色 橙色", 3999, "降噪 旗舰 送礼", "airpods max|airpodsmax|苹果头戴耳机|apm"),
    ("Beats", "Beats Studio Pro", "BEATSSTUDIOPRO", "Beats Studio 系列", "头戴式", True, 40, 5.3, None, 260,
     "黑色 深褐色 沙石色 深海蓝", 2699, "降噪 送礼", "studio pro|beats头戴|beats studio pro"),
    ("Beats", "Beats Fit Pro", "BEATSFITPRO", "Beats Fit 系列", "入耳式", True, 24, 5.0, "IPX4", 5.6,
     "黑色 白色 石板蓝 鼠尾草灰", 1599, "运动 降噪", "fit pro|beats fitpro|beats fit pro"),
    ("华为", "FreeBuds Pro 4", "FREEBUDSPRO4", "华为 FreeBuds Pro 系列", "入耳式", True, 33, 5.2, "IP54", 5.8,
     "冰霜银 雅川青 曜石黑", 1499, "降噪 旗舰 通勤 新品", "freebuds pro4|fbp4|华为耳机pro4|freebudspro4"),
    ("华为", "FreeBuds Pro 3", "FREEBUDSPRO3", "华为 FreeBuds Pro 系列", "入耳式", True, 31, 5.2, "IP54", 5.8,
     "冰霜银 雅川青 陶瓷白", 1199, "降噪 通勤", "freebuds pro3|fbp3|freebudspro3|华为pro3耳机"),
    ("华为", "FreeBuds 6i", "FREEBUDS6I", "华为 FreeBuds 系列", "入耳式", True, 35, 5.3, "IP54", 5.0,
     "星际黑 冰霜银 樱语粉", 699, "降噪 学生 性价比", "freebuds 6i|华为6i|freebuds6i"),
    ("华为", "FreeBuds 5", "FREEBUDS5", "华为 FreeBuds 系列", "半入耳式", True, 30, 5.2, "IP54", 5.9,
     "冰霜银 陶瓷白 珊瑚橙", 999, "降噪 女生", "freebuds5|华为耳机5|freebuds 5"),
    ("华为", "FreeClip", "FREECLIP", "华为 FreeClip 系列", "开放式", False, 36, 5.3, "IP54", 5.6,
     "星空黑 冰雾紫", 1299, "运动 通勤", "freeclip|华为耳夹|华为耳夹耳机"),
    ("小米", "Xiaomi Buds 5 Pro", "BUDS5PRO", "小米 Buds 系列", "入耳式", True, 40, 5.4, "IP54", 5.6,
     "月影黑 雪山白", 1299, "降噪 旗舰 新品", "buds5pro|小米耳机pro|xiaomi buds 5 pro"),
    ("小米", "Xiaomi Buds 5", "BUDS5", "小米 Buds 系列", "半入耳式", True, 39, 5.4, "IP54", 5.6,
     "钛光灰 雪山白 冰川绿", 699, "降噪 通勤", "buds5|小米buds5|小米耳机"),
    ("Redmi", "Redmi Buds 6 Pro", "RMBUDS6PRO", "Redmi Buds 系列", "入耳式", True, 36, 5.3, "IP54", 5.4,
     "暗夜黑 晴雪白 冰川蓝", 399, "降噪 学生 性价比", "红米buds6pro|redmi buds 6 pro|红米耳机pro"),
    ("Redmi", "Redmi Buds 6 活力版", "RMBUDS6LITE", "Redmi Buds 系列", "入耳式", False, 30, 5.4, "IPX4", 4.0,
     "黑色 白色 绿色", 99, "学生 入门 性价比", "红米耳机|redmi buds 6 lite|红米buds6活力版"),
    ("索尼", "WH-1000XM5", "WH1000XM5", "索尼 1000X 系列", "头戴式", True, 30, 5.2, None, 250,
     "黑色 铂金银 午夜蓝", 2999, "降噪 通勤 商务 旗舰", "xm5|1000xm5|索尼头戴|大法耳机|wh1000xm5"),
    ("索尼", "WH-1000XM4", "WH1000XM4", "索尼 1000X 系列", "头戴式", True, 30, 5.0, None, 254,
     "黑色 铂金银", 1999, "降噪 通勤 性价比", "xm4|1000xm4|wh1000xm4"),
    ("索尼", "WF-1000XM5", "WF1000XM5", "索尼 1000X 系列", "入耳式", True, 24, 5.3, "IPX4", 5.9,
     "黑色 铂金银", 1999, "降噪 旗舰", "wf1000xm5|降噪豆5|索尼豆子|wfxm5"),
    ("索尼", "WF-C700N", "WFC700N", "索尼 WF 系列", "入耳式", True, 20, 5.2, "IPX4", 4.6,
     "黑色 白色 薰衣草紫 鼠尾草绿", 799, "降噪 学生 女生", "c700n|wfc700n|索尼c700n"),
    ("索尼", "ULT WEAR", "ULTWEAR", "索尼 ULT 系列", "头戴式", True, 30, 5.2, None, 255,
     "黑色 米白色 森林灰", 1299, "降噪 学生", "ult wear|wh-ult900n|索尼ult"),
    ("Bose", "QuietComfort Ultra 消噪耳机", "QCULTRAHP", "Bose QuietComfort 系列", "头戴式", True, 24, 5.3, None, 250,
     "经典黑 月光白 砂岩色", 3299, "降噪 旗舰 商务 通勤", "qc ultra|qcultra|bose头戴|bose qc ultra"),
    ("Bose", "QuietComfort Ultra 消噪耳塞", "QCULTRAEB", "Bose QuietComfort 系列", "入耳式", True, 24, 5.3, "IPX4", 6.2,
     "经典黑 月光白", 2299, "降噪 旗舰", "qc ultra earbuds|大鲨耳塞|qcue|bose降噪耳塞"),
    ("Bose", "QuietComfort 45", "QC45", "Bose QuietComfort 系列", "头戴式", True, 24, 5.1, None, 238,
     "黑色 白烟色", 1799, "降噪 商务 通勤", "qc45|bose45|bose qc45"),
    ("Bose", "Ultra 开放式耳机", "BOSEULTRAOPEN", "Bose Ultra 系列", "开放式", False, 27, 5.3, "IPX4", 6.3,
     "经典黑 月光白", 2299, "运动 通勤", "bose open|bose耳夹|bose ultra open"),
    ("森海塞尔", "MOMENTUM 4 Wireless", "MOMENTUM4", "森海塞尔 MOMENTUM 系列", "头戴式", True, 60, 5.2, None, 293,
     "黑色 白色 石墨色", 2499, "降噪 长续航 旗舰 音质", "m4|momentum4|大馒头4|森海m4"),
    ("森海塞尔", "MOMENTUM True Wireless 4", "MTW4", "森海塞尔 MOMENTUM 系列", "入耳式", True, 30, 5.4, "IP54", 6.0,
     "黑铜色 金属银", 1999, "降噪 旗舰 音质", "mtw4|真无线4|小馒头4|森海mtw4"),
    ("森海塞尔", "ACCENTUM Plus", "ACCENTUMPLUS", "森海塞尔 ACCENTUM 系列", "头戴式", True, 50, 5.2, None, 227,
     "黑色 白色", 1299, "降噪 长续航 性价比", "accentum plus|森海accentum"),
    ("森海塞尔", "IE 200", "IE200", "森海塞尔 IE 系列", "入耳式", False, None, None, None, 4,
     "黑色", 999, "音质", "ie200|ie 200|森海ie200"),
    ("漫步者", "W820NB 双金标版", "W820NB", "漫步者 W 系列", "头戴式", True, 49, 5.2, None, 265,
     "雅灰 雾白 雾蓝", 299, "降噪 学生 性价比 长续航", "w820nb|漫步者头戴|双金标|漫步者w820nb"),
    ("漫步者", "NeoBuds Pro 2", "NEOBUDSPRO2", "漫步者 NeoBuds 系列", "入耳式", True, 24, 5.3, "IP54", 5.0,
     "曜石黑 星光白", 699, "降噪 音质", "neobuds pro2|漫步者pro2|neobudspro2"),
    ("漫步者", "Lolli Pro 3", "LOLLIPRO3", "漫步者 Lolli 系列", "入耳式", True, 36, 5.3, "IP54", 4.8,
     "星空灰 雪糕白 樱花粉", 399, "降噪 学生 女生 性价比", "lolli pro3|漫步者lolli|lollipro3"),
    ("漫步者", "X3 Lite", "X3LITE", "漫步者 X 系列", "半入耳式", False, 24, 5.3, "IP54", 3.6,
     "黑色 白色", 99, "学生 入门 性价比", "x3lite|漫步者x3|x3 lite"),
    ("倍思", "Bowie MA10", "BOWIEMA10", "倍思 Bowie 系列", "入耳式", True, 140, 5.3, "IPX6", 4.6,
     "黑色 白色 紫色", 159, "降噪 长续航 学生 性价比", "ma10|倍思ma10|bowie ma10"),
    ("倍思", "Bowie WM02", "BOWIEWM02", "倍思 Bowie 系列", "半入耳式", False, 25, 5.3, None, 4.0,
     "白色 黑色 粉色", 69, "入门 学生 性价比", "wm02|倍思wm02|bowie wm02"),
    ("JBL", "TUNE 770NC", "TUNE770NC", "JBL TUNE 系列", "头戴式", True, 70, 5.3, None, 232,
     "黑色 白色 蓝色 紫色", 699, "降噪 长续航 学生", "770nc|jbl770nc|jbl头戴|tune770nc"),
    ("JBL", "LIVE BEAM 3", "LIVEBEAM3", "JBL LIVE 系列", "入耳式", True, 48, 5.3, "IP55", 5.0,
     "黑色 银色 蓝色", 1299, "降噪 运动", "live beam3|jbl beam3|livebeam3"),
    ("韶音", "OpenRun Pro 2", "OPENRUNPRO2", "韶音 OpenRun 系列", "骨传导", False, 12, 5.3, "IP55", 30,
     "黑色 橙色 白色", 1499, "运动 跑步", "openrun pro2|韶音pro2|s820|openrunpro2"),
    ("韶音", "OpenRun", "OPENRUN", "韶音 OpenRun 系列", "骨传导", False, 8, 5.1, "IP67", 26,
     "黑色 蓝色 红色 灰色", 898, "运动 跑步", "openrun|s803|韶音骨传导|骨传导耳机"),
    ("韶音", "OpenFit", "OPENFIT", "韶音 OpenFit 系列", "开放式", False, 28, 5.2, "IP54", 8.3,
     "灰色 米白色", 1299, "运动 通勤", "openfit|韶音耳挂|韶音openfit"),
    ("韶音", "OpenSwim Pro", "OPENSWIMPRO", "韶音 OpenSwim 系列", "骨传导", False, 9, 5.4, "IP68", 27.3,
     "灰色 红色", 1299, "运动", "openswim|游泳耳机|openswim pro"),
    ("马歇尔", "MAJOR IV", "MAJOR4", "马歇尔 MAJOR 系列", "头戴式", False, 80, 5.0, None, 165,
     "黑色 棕色", 999, "长续航 送礼 音质", "major4|马歇尔4代|大名4|major iv"),
    ("马歇尔", "MOTIF II A.N.C.", "MOTIF2", "马歇尔 MOTIF 系列", "入耳式", True, 30, 5.3, "IPX5", 4.9,
     "黑色", 1599, "降噪 送礼", "motif2|马歇尔耳机|motif ii"),
    ("马歇尔", "MINOR IV", "MINOR4", "马歇尔 MINOR 系列", "半入耳式", False, 30, 5.3, "IPX4", 4.4,
     "黑色 奶油白", 899, "送礼 通勤", "minor4|小名4|minor iv"),
    ("QCY", "MeloBuds Pro", "MELOBUDSPRO", "QCY MeloBuds 系列", "入耳式", True, 30, 5.3, "IPX5", 4.3,
     "黑色 白色", 179, "降噪 学生 性价比", "melobuds pro|qcy ht08|qcy降噪|qcy耳机"),
    ("QCY", "T13", "QCYT13", "QCY T 系列", "入耳式", False, 40, 5.1, "IPX5", 4.0,
     "黑色 白色", 79, "入门 学生 性价比", "qcy t13|t13"),
    ("OPPO", "Enco X2", "ENCOX2", "OPPO Enco 系列", "入耳式", True, 40, 5.2, "IP54", 4.7,
     "凝霜白 坚果黑", 999, "降噪 音质", "encox2|enco x2|oppo耳机"),
    ("OPPO", "Enco Free3", "ENCOFREE3", "OPPO Enco 系列", "入耳式", True, 30, 5.3, "IP55", 4.7,
     "竹影绿 竹影黑", 499, "降噪 学生", "enco free3|encofree3"),
    ("vivo", "vivo TWS 4", "VIVOTWS4", "vivo TWS 系列", "入耳式", True, 45, 5.4, "IP54", 4.7,
     "深空黑 月光白", 599, "降噪 学生", "tws4|vivo耳机|vivo tws4"),
    ("荣耀", "荣耀亲选 Earbuds X6", "EARBUDSX6", "荣耀 Earbuds 系列", "入耳式", False, 40, 5.3, "IP54", 4.2,
     "冰岛白 星空灰", 199, "学生 性价比", "earbuds x6|荣耀耳机|荣耀x6耳机"),
    ("声阔", "Liberty 4 NC", "LIBERTY4NC", "声阔 Liberty 系列", "入耳式", True, 50, 5.3, "IPX4", 4.8,
     "黑色 白色 蓝色 粉色", 599, "降噪 长续航 学生", "liberty4nc|声阔降噪|soundcore liberty 4 nc"),
    ("声阔", "Space Q45", "SPACEQ45", "声阔 Space 系列", "头戴式", True, 65, 5.3, None, 295,
     "黑色 白色 蓝色", 799, "降噪 长续航", "space q45|声阔头戴|spaceq45"),
    ("华为", "FreeBuds SE 2", "FREEBUDSSE2", "华为 FreeBuds 系列", "半入耳式", False, 40, 5.3, "IP54", 3.8,
     "陶瓷白 海岛蓝", 169, "学生 入门 性价比", "freebuds se2|华为入门耳机|fbse2"),
    ("索尼", "LinkBuds S", "LINKBUDSS", "索尼 LinkBuds 系列", "入耳式", True, 20, 5.2, "IPX4", 4.8,
     "黑色 白色 大地灰", 999, "降噪 通勤 轻薄", "linkbuds s|索尼linkbuds|wf-ls900n"),
    ("漫步者", "Comfo Run", "COMFORUN", "漫步者 Comfo 系列", "开放式", False, 35, 5.3, "IP55", 8.6,
     "黑色 白色", 299, "运动 跑步 性价比", "comfo run|漫步者开放式|comforun"),
    ("苹果", "EarPods（USB-C）", "EARPODSUSBC", "苹果 EarPods 系列", "半入耳式", False, None, None, None, 10,
     "白色", 149, "入门 学生", "earpods|苹果有线耳机|有线耳机"),
]  # fmt: skip

MODELS = {row[2]: row for row in _ROWS}


def _connection(kind: str, battery: Any) -> str:
    if battery is None:
        return "有线"
    return (
        "头戴无线"
        if kind == "头戴式"
        else ("挂耳无线" if kind in {"骨传导", "开放式"} else "真无线")
    )


def _earphone_draft(row: tuple[Any, ...]) -> Draft:
    (
        brand,
        model,
        key,
        series,
        kind,
        anc,
        battery,
        bt,
        water,
        weight,
        colors,
        price,
        tags,
        aliases,
    ) = row
    color_list = words(colors)
    wireless = battery is not None
    product = ("主动降噪" if anc else "") + ("无线蓝牙耳机" if wireless else "有线耳机")
    attributes = {
        "类型": kind,
        "降噪": anc,
        "续航": battery,
        "蓝牙版本": bt,
        "防水等级": water or "无",
        "连接方式": _connection(kind, battery),
        "重量": weight,
        "颜色": color_list,
    }
    return draft(
        key=key,
        brand=brand,
        title=f"{display_name(brand, model)} {kind}{product} {color_list[0]}",
        price=price,
        attributes=attributes,
        tags=tags,
        aliases=aliases,
        series=series,
        model=model,
    )


def drafts() -> list[Draft]:
    return [_earphone_draft(row) for row in _ROWS]


DESCRIPTION = {
    "openers": [
        "{name}采用{类型}设计，{连接方式}连接，佩戴稳固舒适。",
        "这款{name}是{brand}的{类型}耳机，音色均衡耐听，日常通勤很合适。",
        "{name}主打{类型}佩戴体验，单边约{重量}g，长时间戴着也不累。",
    ],
    "features": [
        (
            lambda c: c["降噪"],
            [
                "主动降噪能有效压低地铁、飞机的低频噪音，一戴上就安静下来。",
                "支持主动降噪和通透模式一键切换，路上听歌也能留意周围。",
            ],
        ),
        (lambda c: (c.get("续航") or 0) >= 40, ["综合续航可达{续航}小时，一周充一次就够。"]),
        (lambda c: c.get("蓝牙版本") is not None, ["蓝牙{蓝牙版本}连接稳定，出入电梯也不易断连。"]),
        (lambda c: c["防水等级"] not in {"无"}, ["{防水等级}级防水防汗，运动出汗、小雨天都不怕。"]),
        (
            lambda c: c["类型"] in {"骨传导", "开放式"},
            ["不入耳的开放式佩戴，跑步时也能听见路况，更安全。"],
        ),
        (lambda c: c["连接方式"] == "有线", ["有线直连零延迟，音质细节还原到位，适合认真听歌。"]),
        (lambda c: "音质" in c["tags"], ["调音细腻，人声通透、低频有弹性，发烧友也认可。"]),
    ],
    "closers": {
        "送礼": ["包装精美，送人很有面子。"],
        "学生": ["价格友好，学生党上网课、听歌都够用。"],
        "性价比": ["同价位里功能很全，性价比突出。"],
        "运动": ["运动时佩戴稳固，甩头也不容易掉。"],
        "_": ["提供{颜色首}等配色，享官方质保。", "官方正品，支持一年质保。"],
    },
}
