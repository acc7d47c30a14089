"""智能手表: smart watches, sport watches, bands and children's phone watches."""

from __future__ import annotations

from typing import Any

from data.seed._rows import Draft, display_name, draft, words

CATEGORY = "智能手表"
PREFIX = "WT"

_SYSTEMS = {
    "苹果": "iOS", "华为": "HarmonyOS Android iOS", "荣耀": "Android iOS", "三星": "Android",
    "OPPO": "Android", "vivo": "Android",
}  # fmt: skip
_DEFAULT_SYSTEMS = "Android iOS"

# brand, model, key, series, screen in, case mm (None: band/rectangular), battery h, water,
# heart rate, SpO2, GPS, eSIM, weight g, colours, price, tags, aliases, strap, extra flags
_ROWS: list[tuple[Any, ...]] = [
    ("苹果", "Apple Watch Series 10 42mm", "AWS10-42", "苹果 Apple Watch 系列", 1.65, 42, 18, "50米防水",
     True, True, True, False, 30, "亮黑色 银色 玫瑰金色", 2999, "运动 健康 送礼",
     "s10|apple watch s10|苹果手表|iwatch s10|aws10|iwatch", "运动型表带", ""),
    ("苹果", "Apple Watch Series 10 46mm", "AWS10-46", "苹果 Apple Watch 系列", 1.96, 46, 18, "50米防水",
     True, True, True, False, 36, "亮黑色 银色 玫瑰金色", 3199, "运动 健康 送礼",
     "s10 46mm|apple watch s10 46|苹果手表大号", "运动型表带", ""),
    ("苹果", "Apple Watch Series 9 45mm", "AWS9-45", "苹果 Apple Watch 系列", 1.9, 45, 18, "50米防水",
     True, True, True, False, 38.7, "午夜色 星光色 粉色 红色", 2799, "运动 健康",
     "s9|apple watch s9|iwatch s9|aws9", "运动型表带", ""),
    ("苹果", "Apple Watch Ultra 2", "AWULTRA2", "苹果 Apple Watch Ultra 系列", 1.92, 49, 36, "100米防水",
     True, True, True, True, 61.4, "原色钛金属 黑色钛金属", 6499, "户外 运动 旗舰",
     "ultra2|apple watch ultra|苹果手表ultra|awu2", "高山回环式表带", ""),
    ("苹果", "Apple Watch SE 40mm", "AWSE-40", "苹果 Apple Watch SE 系列", 1.57, 40, 18, "50米防水",
     True, False, True, False, 26.4, "午夜色 星光色 银色", 1999, "入门 学生 运动",
     "apple watch se|awse|苹果手表se|iwatch se", "运动型表带", ""),
    ("华为", "WATCH GT 5 46mm", "GT5-46", "华为 WATCH GT 系列", 1.43, 46, 336, "5ATM",
     True, True, True, False, 48, "黑色 蓝色 棕色", 1488, "运动 长续航 商务",
     "gt5|华为gt5|watch gt5|华为手表gt5", "氟橡胶表带", ""),
    ("华为", "WATCH GT 5 41mm", "GT5-41", "华为 WATCH GT 系列", 1.32, 41, 168, "5ATM",
     True, True, True, False, 35, "白色 紫色 金色", 1288, "女生 运动",
     "gt5 41mm|gt5小号|华为gt5女款", "编织表带", ""),
    ("华为", "WATCH GT 5 Pro 46mm", "GT5PRO-46", "华为 WATCH GT 系列", 1.43, 46, 336, "5ATM",
     True, True, True, False, 53, "黑色 钛金属", 2488, "户外 运动 商务 送礼",
     "华为gt5pro|watch gt5 pro", "氟橡胶表带", ""),
    ("华为", "WATCH GT 4 46mm", "GT4-46", "华为 WATCH GT 系列", 1.43, 46, 336, "5ATM",
     True, True, True, False, 48, "云杉绿 山茶棕 曜石黑", 1288, "运动 长续航",
     "gt4|华为gt4|watch gt4", "复合表带", ""),
    ("华为", "WATCH 5 46mm", "WATCH5-46", "华为 WATCH 系列", 1.5, 46, 72, "5ATM",
     True, True, True, True, 49, "黑色 银色", 2999, "商务 健康 送礼",
     "watch5|华为watch5|华为手表5", "氟橡胶表带", ""),
    ("华为", "WATCH 4 Pro", "WATCH4PRO", "华为 WATCH 系列", 1.5, 48, 72, "5ATM",
     True, True, True, True, 65.5, "钛金属 深空灰", 3699, "商务 健康 旗舰 送礼",
     "watch4pro|华为手表4pro|watch 4 pro", "钛金属表带", ""),
    ("华为", "WATCH D2", "WATCHD2", "华为 WATCH D 系列", 1.82, None, 144, "IP68",
     True, True, False, False, 40, "曜石黑 流光金", 2988, "健康 老人 送礼",
     "watch d2|华为血压手表|d2|血压手表", "氟橡胶表带", "bp"),
    ("华为", "WATCH FIT 3", "WATCHFIT3", "华为 WATCH FIT 系列", 1.82, None, 240, "5ATM",
     True, True, True, False, 26, "幻夜黑 雪域白 星云粉 草木绿", 999, "运动 女生 轻薄 学生",
     "fit3|华为fit3|watch fit 3|华为fit", "氟橡胶表带", ""),
    ("华为", "华为手环9", "HWBAND9", "华为 手环 系列", 1.47, None, 336, "5ATM",
     True, True, False, False, 14, "幻夜黑 柠檬黄 樱语粉 冰霜白", 269, "运动 学生 入门 性价比",
     "华为手环|华为band9|华为手环9", "硅胶表带", ""),
    ("华为", "WATCH Ultimate 非凡大师", "ULTIMATE", "华为 WATCH 系列", 1.5, 48.5, 336, "10ATM",
     True, True, True, True, 76, "钛金属 黑色", 5999, "户外 商务 旗舰 送礼",
     "非凡大师|watch ultimate|华为非凡大师", "钛金属表带", ""),
    ("华为", "华为儿童手表 5 Pro", "HWKIDS5PRO", "华为 儿童手表 系列", 1.74, None, 48, "5ATM",
     True, False, True, True, 52, "星云蓝 樱花粉", 1298, "儿童 送礼",
     "儿童手表5pro|华为儿童手表|华为电话手表", "硅胶表带", ""),
    ("小米", "Xiaomi Watch S4", "WATCHS4", "小米 Watch 系列", 1.43, 47, 360, "5ATM",
     True, True, True, False, 44.5, "黑色 银色", 999, "运动 长续航 性价比",
     "watch s4|小米手表s4|xiaomi watch s4", "氟橡胶表带", ""),
    ("小米", "Xiaomi Watch S3", "WATCHS3", "小米 Watch 系列", 1.43, 47, 360, "5ATM",
     True, True, True, False, 44, "黑色 银色", 799, "运动 性价比",
     "watch s3|小米手表s3|小米手表", "氟橡胶表带", ""),
    ("小米", "小米手环9 Pro", "MIBAND9PRO", "小米 手环 系列", 1.74, None, 504, "5ATM",
     True, True, True, False, 24.5, "黑色 月影白 玫瑰金", 399, "运动 学生 性价比",
     "手环9pro|小米手环9pro|miband9pro", "硅胶腕带", ""),
    ("小米", "小米手环9", "MIBAND9", "小米 手环 系列", 1.62, None, 504, "5ATM",
     True, True, False, False, 15.8, "午夜黑 冰川银 霞光金", 249, "运动 学生 入门 性价比",
     "小米手环9|miband9|小米手环", "硅胶腕带", ""),
    ("Redmi", "Redmi Watch 4", "RMWATCH4", "Redmi Watch 系列", 1.97, None, 480, "5ATM",
     True, True, True, False, 31.5, "曜石黑 银雪白", 499, "学生 运动 性价比",
     "红米手表4|redmi watch4|红米手表", "TPU表带", ""),
    ("三星", "Galaxy Watch7 44mm", "GW7-44", "三星 Galaxy Watch 系列", 1.47, 44, 40, "5ATM",
     True, True, True, False, 33.8, "绿色 银色", 2199, "运动 健康",
     "galaxy watch7|三星手表7|gw7|三星手表", "运动表带", ""),
    ("三星", "Galaxy Watch Ultra", "GWULTRA", "三星 Galaxy Watch 系列", 1.47, 47, 100, "10ATM",
     True, True, True, True, 60.5, "钛银 钛灰 钛白", 4499, "户外 运动 旗舰",
     "galaxy watch ultra|三星ultra手表|三星手表ultra", "海洋表带", ""),
    ("佳明", "Forerunner 265", "FR265", "佳明 Forerunner 系列", 1.3, 46, 312, "5ATM",
     True, True, True, False, 47, "黑色 白色 水蓝色", 2980, "跑步 运动 马拉松",
     "fr265|265|佳明265|forerunner265", "硅胶表带", ""),
    ("佳明", "Forerunner 965", "FR965", "佳明 Forerunner 系列", 1.4, 47, 552, "5ATM",
     True, True, True, False, 53, "黑色 白色", 4680, "跑步 马拉松 户外 旗舰",
     "fr965|965|佳明965|forerunner965", "硅胶表带", ""),
    ("佳明", "Forerunner 255", "FR255", "佳明 Forerunner 系列", 1.3, 46, 336, "5ATM",
     True, True, True, False, 49, "石板灰 潮汐蓝", 2280, "跑步 运动",
     "fr255|佳明255|forerunner255", "硅胶表带", ""),
    ("佳明", "fēnix 8 AMOLED 47mm", "FENIX8", "佳明 fēnix 系列", 1.4, 47, 384, "10ATM",
     True, True, True, False, 78, "石墨灰 碳灰", 7980, "户外 旗舰 运动",
     "fenix8|飞耐时8|fenix 8|佳明fenix8", "QuickFit硅胶表带", ""),
    ("佳明", "Venu 3", "VENU3", "佳明 Venu 系列", 1.4, 45, 336, "5ATM",
     True, True, True, False, 47, "黑色 石灰", 3280, "健康 运动",
     "venu3|佳明venu3|venu 3", "硅胶表带", ""),
    ("Amazfit", "Amazfit Balance", "AFBALANCE", "Amazfit Balance 系列", 1.5, 46, 336, "5ATM",
     True, True, True, False, 35, "午夜黑 日落灰", 1299, "健康 运动 性价比",
     "amazfit balance|华米balance|跃我balance", "硅胶表带", ""),
    ("Amazfit", "Amazfit T-Rex 3", "TREX3", "Amazfit T-Rex 系列", 1.5, 48, 648, "10ATM",
     True, True, True, False, 68, "黑曜石 熔岩", 1599, "户外 长续航 运动",
     "trex3|霸王龙3|t-rex 3|amazfit trex3", "硅胶表带", ""),
    ("Amazfit", "Amazfit GTR 4", "GTR4", "Amazfit GTR 系列", 1.43, 46, 336, "5ATM",
     True, True, True, False, 34, "超速黑 沙漠金", 899, "运动 性价比",
     "gtr4|华米gtr4|amazfit gtr4", "皮革表带", ""),
    ("Amazfit", "Amazfit Active", "AFACTIVE", "Amazfit Active 系列", 1.75, None, 336, "5ATM",
     True, True, True, False, 24, "午夜黑 玫瑰粉 石灰", 699, "运动 女生 学生 性价比",
     "amazfit active|华米active", "硅胶表带", ""),
    ("小天才", "小天才电话手表 Z9", "XTCZ9", "小天才 Z 系列", 1.6, None, 48, "IPX8",
     True, False, True, True, 65, "星云蓝 暮光紫", 1998, "儿童 送礼",
     "小天才z9|儿童电话手表|小天才手表", "硅胶表带", ""),
    ("小天才", "小天才电话手表 Z8少年版", "XTCZ8", "小天才 Z 系列", 1.6, None, 48, "IPX8",
     True, False, True, True, 63, "太空蓝 极光粉", 1498, "儿童 学生 送礼",
     "z8|小天才z8|z8少年版", "硅胶表带", ""),
    ("小天才", "小天才电话手表 Q2A", "XTCQ2A", "小天才 Q 系列", 1.3, None, 48, "IPX7",
     False, False, True, True, 45, "蓝色 粉色", 598, "儿童 入门",
     "q2a|小天才q2a", "硅胶表带", ""),
    ("高驰", "COROS PACE 3", "PACE3", "高驰 PACE 系列", 1.2, 42, 408, "5ATM",
     True, True, True, False, 30, "黑色 白色", 1499, "跑步 马拉松 轻薄 性价比",
     "pace3|高驰pace3|coros pace3", "尼龙表带", ""),
    ("高驰", "COROS APEX 2 Pro", "APEX2PRO", "高驰 APEX 系列", 1.3, 46, 720, "10ATM",
     True, True, True, False, 53, "黑色", 2998, "户外 跑步 长续航",
     "apex2pro|高驰apex|apex 2 pro", "尼龙表带", ""),
    ("OPPO", "OPPO Watch X", "OPPOWATCHX", "OPPO Watch 系列", 1.5, 47, 108, "5ATM",
     True, True, True, True, 49, "铂金黑 晨曦白", 2299, "商务 运动",
     "oppo watch x|oppo手表|oppowatchx", "氟橡胶表带", ""),
    ("vivo", "vivo WATCH 3", "VIVOWATCH3", "vivo WATCH 系列", 1.43, 46, 384, "5ATM",
     True, True, True, False, 37, "辰夜黑 月光白", 1299, "运动 长续航",
     "vivo watch3|vivo手表|vivowatch3", "氟橡胶表带", ""),
    ("荣耀", "荣耀手表4 Pro", "HONORWATCH4PRO", "荣耀 手表 系列", 1.5, 48, 240, "5ATM",
     True, True, True, True, 50, "曜石黑 月影白", 1499, "商务 运动",
     "荣耀手表4pro|honor watch 4 pro|荣耀手表", "氟橡胶表带", ""),
    ("荣耀", "荣耀手环9", "HONORBAND9", "荣耀 手环 系列", 1.57, None, 336, "5ATM",
     True, True, False, False, 14, "幻夜黑 流光白 樱语粉", 229, "运动 学生 入门 性价比",
     "荣耀手环9|honor band 9|荣耀手环", "硅胶表带", ""),
    ("华为", "WATCH GT 5 Pro 42mm", "GT5PRO-42", "华为 WATCH GT 系列", 1.32, 42, 168, "5ATM",
     True, True, True, False, 44, "白色 钛金属", 2988, "女生 送礼 运动",
     "gt5pro 42mm|gt5pro女款|华为gt5pro小号", "陶瓷表带", ""),
    ("小米", "Xiaomi Watch S4 41mm", "WATCHS4-41", "小米 Watch 系列", 1.32, 41, 192, "5ATM",
     True, True, True, False, 35, "白色 粉色", 899, "女生 运动",
     "小米手表s4小号|watch s4 41mm", "编织表带", ""),
    ("佳明", "Forerunner 165", "FR165", "佳明 Forerunner 系列", 1.2, 43, 264, "5ATM",
     True, True, True, False, 39, "黑色 浅灰", 1980, "跑步 入门",
     "fr165|佳明165|forerunner165", "硅胶表带", ""),
    ("Amazfit", "Amazfit Bip 5", "BIP5", "Amazfit Bip 系列", 1.91, None, 240, "IP68",
     True, True, True, False, 26, "黑色 粉色 奶油白", 499, "学生 性价比 运动",
     "bip5|华米bip5|amazfit bip5", "硅胶表带", ""),
]  # fmt: skip

MODELS = {row[2]: row for row in _ROWS}


def _kind(model: str, esim: bool, tags: str) -> str:
    if "手环" in model:
        return "智能手环"
    if "儿童" in tags:
        return "儿童电话手表"
    return "eSIM独立通话智能手表" if esim else "智能手表"


def _watch_draft(row: tuple[Any, ...]) -> Draft:
    (brand, model, key, series, screen, case, hours, water, heart, spo2, gps, esim, weight, colors,
     price, tags, aliases, strap, flags) = row  # fmt: skip
    color_list = words(colors)
    attributes = {
        "屏幕尺寸": screen,
        "表盘尺寸": case,
        "续航": hours,
        "防水等级": water,
        "心率监测": heart,
        "血氧监测": spo2,
        "血压监测": flags == "bp" or None,
        "GPS": gps,
        "eSIM": esim,
        "重量": weight,
        "适配系统": words(_SYSTEMS.get(brand, _DEFAULT_SYSTEMS)),
        "表带材质": strap,
        "颜色": color_list,
    }
    health = "血压心率血氧监测" if flags == "bp" else ("心率血氧监测" if spo2 else "心率监测")
    return draft(
        key=key,
        brand=brand,
        title=f"{display_name(brand, model)} {_kind(model, esim, tags)} {health} {color_list[0]}",
        price=price,
        attributes=attributes,
        tags=tags,
        aliases=aliases,
        series=series,
        model=model,
    )


def drafts() -> list[Draft]:
    return [_watch_draft(row) for row in _ROWS]


def context(c: dict[str, Any]) -> dict[str, Any]:
    hours = c["续航"]
    return {"续航说法": f"约{hours}小时" if hours < 72 else f"约{round(hours / 24)}天"}


DESCRIPTION = {
    "openers": [
        "{name}配备{屏幕尺寸}英寸屏幕，典型续航{续航说法}，日常佩戴很省心。",
        "这款{name}重约{重量}g，搭配{表带材质}，戴着睡觉也舒服。",
        "{name}支持全天候心率监测，{防水等级}防护，洗手、淋雨都不用摘。",
    ],
    "features": [
        (lambda c: c["GPS"], ["内置GPS独立定位，户外跑步不带手机也能记录轨迹。"]),
        (lambda c: c["eSIM"], ["支持eSIM独立通话，手机不在身边也能接打电话。"]),
        (lambda c: c.get("血压监测"), ["具备血压测量功能，适合关注心血管健康的家人日常自测。"]),
        (lambda c: c["血氧监测"], ["支持血氧饱和度检测和睡眠监测，健康数据一目了然。"]),
        (lambda c: c["续航"] >= 300, ["{续航说法}的长续航，出差旅行不用天天充电。"]),
        (
            lambda c: "跑步" in c["tags"] or "马拉松" in c["tags"],
            ["提供配速、步频、训练负荷等专业跑步数据，备战马拉松很实用。"],
        ),
        (lambda c: "儿童" in c["tags"], ["支持精准定位、视频通话和上课禁用，家长随时放心。"]),
    ],
    "closers": {
        "送礼": ["送父母、送伴侣都很合适，包装体面。"],
        "学生": ["价格友好，学生党运动计步也够用。"],
        "老人": ["操作简单，长辈也能很快上手。"],
        "_": ["适配{适配系统文本}系统，提供{颜色首}等配色。", "支持官方质保，表带可自由更换。"],
    },
}
