"""平板电脑: iPad and Android tablets, WLAN versions, with storage configurations."""

from __future__ import annotations

from typing import Any

from data.seed._rows import (
    Draft,
    display_name,
    draft,
    parse_configs,
    storage_label,
    storage_variants,
    words,
)

CATEGORY = "平板电脑"
PREFIX = "TB"

_OS = {
    "苹果": "iPadOS 18",
    "华为": "HarmonyOS 4",
    "小米": "澎湃OS",
    "Redmi": "澎湃OS",
    "荣耀": "MagicOS 8.0",
    "联想": "ZUI 16",
    "OPPO": "ColorOS 14",
    "一加": "ColorOS 14",
    "vivo": "OriginOS 4",
    "三星": "One UI 6",
}

# brand, model, key, series, SoC, screen in, weight g, battery mAh, refresh Hz, pen support,
# colours, configs 'RAM+storage:price', tags, aliases
_ROWS: list[tuple[Any, ...]] = [
    ("苹果", "iPad Pro 11英寸 M4", "IPADPRO11M4", "苹果 iPad Pro 系列", "Apple M4", 11, 444, 8160, 120, True,
     "深空黑色 银色", "8+256:8999 8+512:10999", "创作 旗舰 办公", "ipad pro|ipadpro11|ipad pro 11|平板pro|爱派pro"),
    ("苹果", "iPad Pro 13英寸 M4", "IPADPRO13M4", "苹果 iPad Pro 系列", "Apple M4", 13, 579, 10290, 120, True,
     "深空黑色 银色", "8+256:11999", "创作 旗舰 大屏", "ipad pro 13|ipadpro13"),
    ("苹果", "iPad Air 11英寸 M2", "IPADAIR11M2", "苹果 iPad Air 系列", "Apple M2", 11, 462, 7606, 60, True,
     "深空灰色 星光色 紫色 蓝色", "8+128:4799 8+256:5599", "学习 轻薄 学生", "ipad air|ipadair|ipad air6|air6"),
    ("苹果", "iPad Air 13英寸 M2", "IPADAIR13M2", "苹果 iPad Air 系列", "Apple M2", 13, 617, 9705, 60, True,
     "深空灰色 星光色 紫色 蓝色", "8+128:6499", "大屏 学习 追剧", "ipad air 13|ipadair13"),
    ("苹果", "iPad（第十代）", "IPAD10", "苹果 iPad 系列", "A14 仿生", 10.9, 477, 7606, 60, True,
     "银色 蓝色 粉色 黄色", "4+64:2599 4+256:3599", "学生 网课 追剧 入门", "ipad10|ipad 10|ipad十代|爱派|ipad"),
    ("苹果", "iPad mini（A17 Pro）", "IPADMINI7", "苹果 iPad mini 系列", "A17 Pro", 8.3, 293, 5078, 60, True,
     "深空灰色 蓝色 紫色 星光色", "8+128:3999 8+256:4799", "轻薄 游戏 追剧", "ipad mini|ipadmini7|mini7|ipad mini7"),
    ("华为", "MatePad Pro 13.2英寸", "MATEPADPRO132", "华为 MatePad Pro 系列", "麒麟9000S", 13.2, 580, 10100, 144, True,
     "曜金黑 晶钻白 青山黛", "12+256:5199 16+1024:6999", "办公 创作 大屏", "matepad pro 13.2|matepadpro13|华为平板pro"),
    ("华为", "MatePad Pro 11英寸 2024", "MATEPADPRO11", "华为 MatePad Pro 系列", "麒麟9000S", 11, 449, 8300, 120, True,
     "曜金黑 晶钻白 罗兰紫", "12+256:3999 12+512:4499", "办公 学习 轻薄", "matepad pro 11|matepadpro11"),
    ("华为", "MatePad Air 2024", "MATEPADAIR", "华为 MatePad Air 系列", "骁龙888", 12, 555, 10100, 144, True,
     "曜石黑 云锦白 樱语粉", "8+256:2899 12+256:3199", "学习 追剧 大屏", "matepad air|华为平板air|matepadair"),
    ("华为", "MatePad 11.5英寸 2024", "MATEPAD115", "华为 MatePad 系列", "骁龙7 Gen1", 11.5, 499, 7700, 120, True,
     "深空灰 冰霜银 海岛蓝", "8+128:1699 8+256:1899", "学生 网课 性价比", "matepad11.5|华为平板|matepad 11.5"),
    ("华为", "MatePad SE 11英寸", "MATEPADSE11", "华为 MatePad SE 系列", "骁龙680", 11, 480, 7700, 90, False,
     "深海蓝", "6+128:1199", "入门 儿童 网课 老人", "matepad se|华为平板se|matepadse"),
    ("小米", "小米平板7 Pro", "MIPAD7PRO", "小米 平板7 系列", "骁龙8s Gen3", 11.2, 500, 8850, 144, True,
     "黑色 银色 绿色", "8+128:2499 12+256:2799", "游戏 学习 办公", "小米平板7pro|mipad7pro|xiaomi pad 7 pro"),
    ("小米", "小米平板7", "MIPAD7", "小米 平板7 系列", "骁龙7+ Gen3", 11.2, 500, 8850, 144, True,
     "黑色 银色 蓝色", "8+128:1999 8+256:2299", "学生 学习 性价比", "小米平板7|mipad7|xiaomi pad 7"),
    ("小米", "小米平板6S Pro 12.4", "MIPAD6SPRO", "小米 平板6 系列", "骁龙8 Gen2", 12.4, 590, 10000, 144, True,
     "黑色 绿色", "8+256:3199", "办公 大屏 游戏", "小米平板6spro|pad 6s pro|小米平板6s pro"),
    ("小米", "小米平板6", "MIPAD6", "小米 平板6 系列", "骁龙870", 11, 490, 8840, 144, True,
     "黑色 银色 蓝色", "8+128:1799", "学生 性价比 游戏", "小米平板6|mipad6|xiaomi pad 6"),
    ("Redmi", "Redmi Pad Pro", "RMPADPRO", "Redmi Pad 系列", "骁龙7s Gen2", 12.1, 571, 10000, 120, True,
     "深灰色 浅草绿", "8+128:1499 8+256:1699", "学生 网课 追剧 性价比", "红米平板pro|redmipadpro|redmi pad pro"),
    ("Redmi", "Redmi Pad SE", "RMPADSE", "Redmi Pad 系列", "骁龙680", 11, 478, 8000, 90, False,
     "深灰色 薄荷绿 薰衣草紫", "6+128:999", "入门 儿童 追剧 性价比 老人", "红米平板se|redmi pad se|红米平板"),
    ("荣耀", "MagicPad 2", "MAGICPAD2", "荣耀 MagicPad 系列", "骁龙8s Gen3", 12.3, 555, 10050, 144, True,
     "星空灰 月影白", "12+256:3299", "办公 追剧 旗舰", "magicpad2|荣耀magicpad2|magicpad 2"),
    ("荣耀", "荣耀平板9", "HONORPAD9", "荣耀 平板 系列", "骁龙6 Gen1", 12.1, 555, 8300, 120, True,
     "天青色 星空灰", "8+128:1499 8+256:1699", "学生 网课 性价比", "荣耀平板9|honor pad 9|荣耀平板"),
    ("联想", "拯救者Y700 2024", "Y7002024", "联想 拯救者 系列", "骁龙8 Gen3", 8.8, 350, 6550, 144, False,
     "钛晶灰 冰魄白", "12+256:2499 16+512:2999", "游戏 轻薄", "y700|拯救者y700|y700三代|拯救者平板"),
    ("联想", "小新Pad Pro 12.7", "XIAOXINPADPRO", "联想 小新 系列", "骁龙870", 12.7, 615, 10200, 144, True,
     "鸽子灰", "8+128:1699 8+256:1899", "学生 网课 追剧 性价比", "小新pad pro|小新平板|小新padpro"),
    ("OPPO", "OPPO Pad 3 Pro", "OPPOPAD3PRO", "OPPO Pad 系列", "骁龙8 Gen3", 12.1, 584, 9510, 144, True,
     "星夜蓝 深空灰", "12+256:3299", "办公 游戏", "oppo pad3 pro|pad3pro|oppo平板"),
    ("OPPO", "OPPO Pad Air2", "OPPOPADAIR2", "OPPO Pad 系列", "联发科 Helio G99", 11.4, 538, 8000, 90, False,
     "星河灰 浅海蓝", "8+128:1299", "学生 追剧 入门", "oppo pad air2|padair2|oppo平板air"),
    ("vivo", "vivo Pad3 Pro", "VIVOPAD3PRO", "vivo Pad 系列", "天玑9300", 13, 589, 11500, 144, True,
     "星空灰 春潮蓝", "8+128:3499 12+256:3999", "办公 大屏 游戏", "vivo pad3 pro|vivopad3pro|vivo平板"),
    ("vivo", "vivo Pad Air", "VIVOPADAIR", "vivo Pad 系列", "骁龙870", 11.5, 530, 8500, 144, True,
     "远峰灰 晴空蓝", "8+128:1799", "学生 轻薄", "vivo pad air|vivopadair"),
    ("三星", "Galaxy Tab S9", "TABS9", "三星 Galaxy Tab 系列", "骁龙8 Gen2", 11, 498, 8400, 120, True,
     "石墨灰 米色", "8+128:5999", "办公 追剧", "tab s9|三星平板s9|galaxy tab s9"),
    ("三星", "Galaxy Tab S9 FE", "TABS9FE", "三星 Galaxy Tab 系列", "Exynos 1380", 10.9, 523, 8000, 90, True,
     "薄荷绿 石墨灰 银色", "6+128:2999", "学生 学习", "tab s9 fe|s9fe|三星平板"),
    ("一加", "一加平板 Pro", "ONEPLUSPADPRO", "一加 平板 系列", "骁龙8 Gen3", 12.1, 584, 9510, 144, True,
     "深空灰 冰川蓝", "8+128:2899 12+256:3199", "游戏 办公", "一加平板pro|oneplus pad pro|一加平板"),
]  # fmt: skip

MODELS = {row[2]: row for row in _ROWS}


def _tablet_drafts(row: tuple[Any, ...]) -> list[Draft]:
    (
        brand,
        model,
        key,
        series,
        soc,
        screen,
        weight,
        battery,
        hz,
        pen,
        colors,
        configs,
        tags,
        aliases,
    ) = row
    color_list = words(colors)
    name = display_name(brand, model)
    parsed = parse_configs(configs)
    drafts = []
    for (ram, storage, price), variant in zip(parsed, storage_variants(parsed), strict=True):
        memory = storage_label(storage) if brand == "苹果" else f"{ram}GB+{storage_label(storage)}"
        attributes = {
            "屏幕尺寸": screen,
            "处理器": soc,
            "存储容量": storage_label(storage),
            "运行内存": f"{ram}GB",
            "电池容量": battery,
            "重量": weight,
            "屏幕刷新率": hz,
            "支持手写笔": pen,
            "网络": "WLAN版",
            "操作系统": _OS[brand],
            "颜色": color_list,
        }
        drafts.append(
            draft(
                key=key,
                variant=variant,
                brand=brand,
                title=f"{name} {memory} WLAN版 {color_list[0]} 平板电脑",
                price=price,
                attributes=attributes,
                tags=tags,
                aliases=aliases,
                series=series,
                model=model,
            )
        )
    return drafts


def drafts() -> list[Draft]:
    return [d for row in _ROWS for d in _tablet_drafts(row)]


DESCRIPTION = {
    "openers": [
        "{name}配备{屏幕尺寸}英寸{屏幕刷新率}Hz屏幕，{处理器}驱动，看剧、学习、办公一台搞定。",
        "这款{name}机身约{重量}g，内置{电池容量}mAh电池，拿在手里追剧一下午也不累。",
        "{name}搭载{处理器}，{运行内存}运行内存加{存储容量}存储，应用切换流畅。",
    ],
    "features": [
        (lambda c: c["支持手写笔"], ["支持手写笔，记笔记、批注课件和随手画画都很顺手。"]),
        (lambda c: c["屏幕尺寸"] >= 12, ["{屏幕尺寸}英寸大屏分屏效率高，接上键盘就是轻办公本。"]),
        (lambda c: c["重量"] <= 460, ["约{重量}g的轻巧机身，单手拿着看书也轻松。"]),
        (lambda c: "游戏" in c["tags"], ["{屏幕刷新率}Hz高刷屏配合{处理器}，手游高帧率运行稳定。"]),
        (
            lambda c: "网课" in c["tags"] or "儿童" in c["tags"],
            ["护眼屏幕加儿童模式，上网课和学习资料都合适。"],
        ),
        (
            lambda c: c["操作系统"].startswith("iPadOS"),
            ["iPadOS生态应用丰富，和iPhone、Mac互传文件很方便。"],
        ),
    ],
    "closers": {
        "学生": ["价格亲民，是学生党上课记笔记的好帮手。"],
        "追剧": ["大屏加立体声扬声器，在家追剧很有沉浸感。"],
        "办公": ["搭配键盘和手写笔，出差带它就能处理大部分工作。"],
        "_": ["提供{颜色首}等配色，官方正品保障。", "WLAN版本，支持官方联保与以旧换新。"],
    },
}
