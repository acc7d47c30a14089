"""笔记本电脑: gaming, thin-and-light and business lines with real 2023-2024 configurations."""

from __future__ import annotations

from typing import Any

from data.seed._rows import Draft, display_name, draft, parse_configs, storage_label, words

CATEGORY = "笔记本电脑"
PREFIX = "NB"

# brand, model, key, series, CPU, screen in, GPU, weight kg, battery h, refresh Hz, colours,
# configs 'RAM+SSD:price', tags, aliases
_ROWS: list[tuple[Any, ...]] = [
    ("联想", "拯救者Y9000P 2024", "Y9000P2024", "联想 拯救者 系列", "英特尔酷睿i9-14900HX", 16, "RTX 4060", 2.5, 5, 240,
     "钛晶灰 冰魄白", "16+1024:9999 32+1024:10999", "游戏 旗舰 创作", "y9000p|拯救者y9000p|legion y9000p|拯救者9000p"),
    ("联想", "拯救者R9000P 2024", "R9000P2024", "联想 拯救者 系列", "AMD 锐龙9 7945HX", 16, "RTX 4060", 2.5, 6, 240,
     "钛晶灰", "16+1024:8999", "游戏 性价比", "r9000p|拯救者r9000p|legion r9000p"),
    ("联想", "拯救者Y7000P 2024", "Y7000P2024", "联想 拯救者 系列", "英特尔酷睿i7-14700HX", 16, "RTX 4060", 2.4, 5, 165,
     "碳晶灰 冰魄白", "16+1024:7999", "游戏 学生", "y7000p|拯救者y7000p|legion y7000p"),
    ("联想", "小新Pro 14 2024", "XIAOXINPRO14", "联想 小新 系列", "英特尔酷睿Ultra5 125H", 14, "Intel Arc 核显", 1.46, 12, 120,
     "鸽子灰 云霄白", "32+1024:5299", "轻薄 学生 办公 性价比", "小新pro14|xiaoxin pro 14|小新14|小新pro 14"),
    ("联想", "小新Pro 16 2024", "XIAOXINPRO16", "联想 小新 系列", "英特尔酷睿Ultra5 125H", 16, "Intel Arc 核显", 1.9, 11, 120,
     "鸽子灰", "32+1024:5499", "大屏 学生 办公", "小新pro16|xiaoxin pro 16|小新16"),
    ("联想", "小新Air 14 2024", "XIAOXINAIR14", "联想 小新 系列", "英特尔酷睿i5-12450H", 14, "Intel UHD 核显", 1.38, 10, 60,
     "云霄白 鸽子灰", "16+512:3999", "轻薄 学生 入门 性价比", "小新air14|xiaoxin air 14|小新air"),
    ("联想", "ThinkPad X1 Carbon 2024", "X1CARBON2024", "联想 ThinkPad 系列", "英特尔酷睿Ultra7 155U", 14, "Intel 核显", 1.09, 15, 60,
     "深空黑", "32+1024:12999", "商务 轻薄 旗舰 办公", "x1c|x1 carbon|thinkpad x1|小黑本|x1carbon"),
    ("联想", "ThinkPad E14 2024", "THINKPADE14", "联想 ThinkPad 系列", "英特尔酷睿i5-13420H", 14, "Intel UHD 核显", 1.41, 9, 60,
     "黑色", "16+512:4599", "商务 办公 性价比", "e14|thinkpad e14|thinkpade14"),
    ("联想", "ThinkBook 14+ 2024", "THINKBOOK14P", "联想 ThinkBook 系列", "英特尔酷睿Ultra5 125H", 14.5, "Intel Arc 核显", 1.6, 10, 120,
     "灰色", "32+1024:5999", "办公 商务 创作", "thinkbook14+|tb14+|thinkbook 14p|thinkbook14"),
    ("联想", "ThinkBook 16+ 2024", "THINKBOOK16P", "联想 ThinkBook 系列", "英特尔酷睿Ultra5 125H", 16, "Intel Arc 核显", 1.9, 10, 120,
     "灰色", "32+1024:6299", "办公 大屏", "thinkbook16+|tb16+|thinkbook 16p"),
    ("联想", "YOGA Pro 14s 2024", "YOGAPRO14S", "联想 YOGA 系列", "英特尔酷睿Ultra9 185H", 14.5, "RTX 4050", 1.5, 10, 120,
     "深空灰 月光银", "32+1024:9999", "创作 轻薄 旗舰", "yoga pro 14s|yoga14s|yogapro14s"),
    ("戴尔", "XPS 13 9340", "XPS139340", "戴尔 XPS 系列", "英特尔酷睿Ultra7 155H", 13.4, "Intel Arc 核显", 1.19, 13, 120,
     "石墨色 铂金银", "16+512:10999 32+1024:13999", "轻薄 商务 旗舰", "xps13|xps 13|戴尔xps|xps9340"),
    ("戴尔", "灵越14 Plus 7440", "INSPIRON14PLUS", "戴尔 灵越 系列", "英特尔酷睿Ultra5 125H", 14, "Intel Arc 核显", 1.6, 12, 90,
     "冰河银", "16+1024:5999", "办公 学生", "灵越14plus|inspiron 14 plus|灵越14"),
    ("戴尔", "成就3520", "VOSTRO3520", "戴尔 成就 系列", "英特尔酷睿i5-1235U", 15.6, "Intel 核显", 1.66, 8, 120,
     "黑色", "16+512:3699", "办公 入门 性价比", "成就3520|vostro 3520|戴尔成就"),
    ("戴尔", "游匣G16 7630", "G167630", "戴尔 游匣 系列", "英特尔酷睿i7-13650HX", 16, "RTX 4060", 2.7, 5, 165,
     "暗夜黑", "16+1024:7999", "游戏", "g16|游匣g16|戴尔g16"),
    ("戴尔", "外星人 m16 R2", "ALIENWAREM16R2", "戴尔 外星人 系列", "英特尔酷睿Ultra9 185H", 16, "RTX 4070", 2.6, 6, 240,
     "暗夜蓝", "32+1024:15999", "游戏 旗舰", "外星人m16|alienware m16|alienware|外星人"),
    ("惠普", "暗影精灵10", "OMEN10", "惠普 暗影精灵 系列", "英特尔酷睿i7-14650HX", 16.1, "RTX 4060", 2.4, 5, 240,
     "暗影黑 极地白", "16+1024:7999", "游戏", "暗影精灵10|omen10|暗影10|omen 10"),
    ("惠普", "光影精灵10", "VICTUS10", "惠普 光影精灵 系列", "英特尔酷睿i5-13500H", 16.1, "RTX 4050", 2.3, 5, 144,
     "白色", "16+512:5999", "游戏 学生 性价比", "光影精灵10|victus|光影10"),
    ("惠普", "星Book Pro 14 2024", "STARBOOKPRO14", "惠普 星Book 系列", "英特尔酷睿Ultra5 125H", 14, "Intel Arc 核显", 1.39, 12, 120,
     "月光银 晨雾蓝", "32+1024:5499", "轻薄 女生 办公", "星bookpro14|星book pro|hp星book|星book"),
    ("惠普", "战66 六代", "ZHAN66G6", "惠普 战 系列", "英特尔酷睿i5-1340P", 14, "Intel 核显", 1.4, 10, 60,
     "银色", "16+512:4599", "商务 办公", "战66|hp战66|战66六代"),
    ("华硕", "天选5 Pro", "TIANXUAN5PRO", "华硕 天选 系列", "英特尔酷睿i9-14900HX", 16, "RTX 4060", 2.3, 6, 165,
     "日蚀灰 魔幻青", "16+1024:8499", "游戏 学生", "天选5pro|天选5|tuf gaming|天选"),
    ("华硕", "无畏Pro14 2024", "VIVOBOOKPRO14", "华硕 无畏 系列", "英特尔酷睿Ultra5 125H", 14.5, "Intel Arc 核显", 1.6, 11, 120,
     "月光银 午夜灰", "32+1024:5499", "轻薄 办公 学生", "无畏pro14|vivobook pro 14|无畏14"),
    ("华硕", "无畏15i 2024", "VIVOBOOK15I", "华硕 无畏 系列", "英特尔酷睿i5-12500H", 15.6, "Intel 核显", 1.7, 8, 60,
     "冰川银", "16+512:3599", "入门 学生 办公 性价比", "无畏15i|vivobook 15|无畏15"),
    ("华硕", "灵耀14 2024", "ZENBOOK14", "华硕 灵耀 系列", "英特尔酷睿Ultra7 155H", 14, "Intel Arc 核显", 1.2, 15, 120,
     "月白灰 紫晶蓝", "32+1024:7999", "轻薄 商务 女生", "灵耀14|zenbook 14|灵耀"),
    ("华硕", "ROG幻16 2024", "ROGZEPHYRUSG16", "华硕 ROG 系列", "英特尔酷睿Ultra9 185H", 16, "RTX 4070", 1.85, 8, 240,
     "日蚀灰 铂月白", "32+1024:14999", "游戏 创作 旗舰 轻薄", "幻16|rog幻16|zephyrus g16|rog 幻16"),
    ("华硕", "ROG枪神8", "ROGSTRIXSCAR8", "华硕 ROG 系列", "英特尔酷睿i9-14900HX", 16, "RTX 4060", 2.5, 5, 240,
     "日蚀灰", "16+1024:10999", "游戏 旗舰", "枪神8|rog枪神8|strix g16|枪神"),
    ("苹果", "MacBook Air 13 M3", "MBA13M3", "苹果 MacBook Air 系列", "Apple M3", 13.6, "M3 8核图形处理器", 1.24, 18, 60,
     "午夜色 星光色 深空灰色 银色", "16+256:8999 16+512:10499", "轻薄 学生 办公",
     "mba|macbook air|mac air|苹果笔记本|air m3|苹果电脑|macbookair"),
    ("苹果", "MacBook Air 15 M3", "MBA15M3", "苹果 MacBook Air 系列", "Apple M3", 15.3, "M3 10核图形处理器", 1.51, 18, 60,
     "午夜色 星光色 深空灰色 银色", "16+256:10499", "轻薄 大屏 办公", "macbook air 15|mba15|air15"),
    ("苹果", "MacBook Air 13 M2", "MBA13M2", "苹果 MacBook Air 系列", "Apple M2", 13.6, "M2 8核图形处理器", 1.24, 18, 60,
     "午夜色 星光色 深空灰色 银色", "16+256:6999", "学生 轻薄 性价比", "air m2|mba m2|macbook air m2"),
    ("苹果", "MacBook Pro 14 M4", "MBP14M4", "苹果 MacBook Pro 系列", "Apple M4", 14.2, "M4 10核图形处理器", 1.55, 24, 120,
     "深空黑色 银色", "16+512:12999 24+1024:15999", "创作 商务 旗舰", "mbp|macbook pro|mbp14|macbookpro"),
    ("苹果", "MacBook Pro 14 M4 Pro", "MBP14M4PRO", "苹果 MacBook Pro 系列", "Apple M4 Pro", 14.2, "M4 Pro 16核图形处理器", 1.6, 22, 120,
     "深空黑色 银色", "24+512:16999", "创作 旗舰", "mbp m4pro|macbook pro m4 pro"),
    ("苹果", "MacBook Pro 16 M4 Pro", "MBP16M4PRO", "苹果 MacBook Pro 系列", "Apple M4 Pro", 16.2, "M4 Pro 20核图形处理器", 2.14, 24, 120,
     "深空黑色 银色", "24+512:19999", "创作 旗舰 大屏", "mbp16|macbook pro 16"),
    ("华为", "MateBook X Pro 2024", "MATEBOOKXPRO", "华为 MateBook X 系列", "英特尔酷睿Ultra7 155H", 14.2, "Intel Arc 核显", 0.98, 14, 120,
     "砚黑 宝石蓝 晶钻白", "32+1024:11999", "轻薄 商务 旗舰", "matebook x pro|mbxpro|华为x pro|matebookxpro"),
    ("华为", "MateBook 14 2024", "MATEBOOK14", "华为 MateBook 系列", "英特尔酷睿Ultra5 125H", 14.2, "Intel Arc 核显", 1.31, 13, 120,
     "深空灰 皓月银 云杉绿", "16+1024:5999", "轻薄 办公 商务", "matebook14|mb14|华为14|matebook 14"),
    ("华为", "MateBook D 14 2024", "MATEBOOKD14", "华为 MateBook D 系列", "英特尔酷睿i5-13420H", 14, "Intel UHD 核显", 1.39, 10, 60,
     "深空灰 皓月银", "16+512:3999", "学生 办公 性价比", "matebook d14|md14|华为d14"),
    ("华为", "MateBook D 16 2024", "MATEBOOKD16", "华为 MateBook D 系列", "英特尔酷睿i5-13420H", 16, "Intel UHD 核显", 1.68, 10, 60,
     "深空灰 皓月银", "16+1024:4699", "大屏 办公 学生", "matebook d16|华为d16"),
    ("Redmi", "Redmi Book Pro 14 2024", "RMBOOKPRO14", "Redmi Book 系列", "英特尔酷睿Ultra5 125H", 14, "Intel Arc 核显", 1.39, 12, 120,
     "星辰灰", "32+1024:4999", "轻薄 学生 性价比", "红米笔记本pro14|redmibook pro 14|redmi book pro"),
    ("Redmi", "Redmi Book Pro 16 2024", "RMBOOKPRO16", "Redmi Book 系列", "英特尔酷睿Ultra5 125H", 16, "Intel Arc 核显", 1.88, 12, 165,
     "星辰灰", "32+1024:5499", "大屏 办公 学生", "红米笔记本pro16|redmibook pro 16"),
    ("Redmi", "Redmi Book 14 2024", "RMBOOK14", "Redmi Book 系列", "英特尔酷睿i5-13500H", 14, "Intel 核显", 1.37, 10, 120,
     "星辰灰", "16+512:3699", "学生 入门 性价比", "红米笔记本14|redmibook 14|红米笔记本"),
    ("Redmi", "Redmi G Pro 2024", "RMGPRO2024", "Redmi G 系列", "英特尔酷睿i9-14900HX", 16, "RTX 4060", 2.6, 5, 240,
     "暗影黑", "16+1024:7999", "游戏 性价比", "红米游戏本|redmi g pro|红米g pro"),
    ("机械革命", "蛟龙16 Pro", "JIAOLONG16PRO", "机械革命 蛟龙 系列", "AMD 锐龙9 7945HX", 16, "RTX 4060", 2.3, 4, 240,
     "黑色", "16+1024:5999", "游戏 性价比 学生", "蛟龙16pro|蛟龙16|机革蛟龙"),
    ("机械革命", "极光X", "JIGUANGX", "机械革命 极光 系列", "英特尔酷睿i9-14900HX", 16, "RTX 4060", 2.3, 4, 240,
     "白色", "16+1024:6999", "游戏 性价比", "极光x|机革极光|机械革命极光"),
    ("机械革命", "无界14 Pro", "WUJIE14PRO", "机械革命 无界 系列", "AMD 锐龙7 8845H", 14, "Radeon 780M 核显", 1.4, 10, 120,
     "银色", "32+1024:3999", "轻薄 性价比 办公 学生", "无界14pro|无界14|机革无界"),
    ("雷神", "ZERO 2024", "ZERO2024", "雷神 ZERO 系列", "英特尔酷睿i9-14900HX", 16, "RTX 4070", 2.6, 4, 240,
     "黑色", "32+1024:9999", "游戏 旗舰", "雷神zero|zero2024|雷神zero 2024"),
    ("雷神", "猎刃15", "LIEREN15", "雷神 猎刃 系列", "英特尔酷睿i7-13620H", 15.6, "RTX 4060", 2.2, 4, 144,
     "黑色", "16+512:5499", "游戏 学生 性价比", "猎刃15|雷神猎刃"),
    ("微星", "星影15", "XINGYING15", "微星 星影 系列", "英特尔酷睿i7-13620H", 15.6, "RTX 4060", 2.25, 5, 144,
     "黑色", "16+512:5999", "游戏 学生", "星影15|msi星影|微星星影"),
    ("荣耀", "MagicBook Pro 16 2024", "MAGICBOOKPRO16", "荣耀 MagicBook 系列", "英特尔酷睿Ultra5 125H", 16, "Intel Arc 核显", 1.86, 12, 165,
     "星空灰 皓月银", "24+1024:5499", "大屏 办公", "magicbook pro 16|magicbookpro16|荣耀笔记本"),
    ("荣耀", "MagicBook X 14 2024", "MAGICBOOKX14", "荣耀 MagicBook 系列", "英特尔酷睿i5-12450H", 14, "Intel UHD 核显", 1.4, 10, 60,
     "星空灰 皓月银", "16+512:3499", "学生 入门 性价比", "magicbook x14|荣耀x14|magicbookx14"),
    ("联想", "ThinkPad T14p 2024", "THINKPADT14P", "联想 ThinkPad 系列", "英特尔酷睿Ultra9 185H", 14.5, "Intel Arc 核显", 1.7, 10, 120,
     "黑色", "32+1024:9999", "商务 办公", "t14p|thinkpad t14p"),
    ("华硕", "a豆14 2024", "ADOU14", "华硕 a豆 系列", "英特尔酷睿i5-13500H", 14, "Intel 核显", 1.4, 10, 60,
     "豆蔻粉 清新绿", "16+512:3999", "女生 轻薄 学生", "a豆14|华硕a豆|adol14"),
    ("荣耀", "MagicBook Art 14", "MAGICBOOKART14", "荣耀 MagicBook 系列", "英特尔酷睿Ultra5 125H", 14.6, "Intel Arc 核显", 1.03, 14, 120,
     "星空灰 月影白", "32+1024:7999", "轻薄 商务 旗舰", "magicbook art 14|荣耀art14"),
    ("戴尔", "灵越16 Plus 7640", "INSPIRON16PLUS", "戴尔 灵越 系列", "英特尔酷睿Ultra7 155H", 16, "Intel Arc 核显", 2.1, 12, 120,
     "冰河银", "32+1024:6999", "大屏 办公 创作", "灵越16plus|inspiron 16 plus"),
]  # fmt: skip

MODELS = {row[2]: row for row in _ROWS}


def _kind(gpu: str, weight: float, tags: str) -> str:
    if gpu.startswith("RTX") and "游戏" in tags:
        return "游戏本"
    if weight <= 1.5:
        return "轻薄本"
    return "笔记本电脑"


def _laptop_drafts(row: tuple[Any, ...]) -> list[Draft]:
    (
        brand,
        model,
        key,
        series,
        cpu,
        screen,
        gpu,
        weight,
        hours,
        hz,
        colors,
        configs,
        tags,
        aliases,
    ) = row
    color_list = words(colors)
    name = display_name(brand, model)
    cpu_short = cpu.replace("英特尔酷睿", "酷睿").replace("AMD ", "")
    kind = _kind(gpu, weight, tags)
    drafts = []
    for ram, ssd, price in parse_configs(configs):
        attributes = {
            "屏幕尺寸": screen,
            "处理器": cpu,
            "内存": f"{ram}GB",
            "硬盘": storage_label(ssd),
            "显卡": gpu,
            "独立显卡": gpu.startswith("RTX"),
            "重量": weight,
            "续航": hours,
            "屏幕刷新率": hz,
            "操作系统": "macOS" if brand == "苹果" else "Windows 11 家庭中文版",
            "颜色": color_list,
        }
        gpu_part = f" {gpu}" if gpu.startswith("RTX") else ""
        drafts.append(
            draft(
                key=key,
                variant=f"{ram}G{storage_label(ssd).replace('GB', 'G')}",
                brand=brand,
                title=f"{name} {screen}英寸{kind} {cpu_short} {ram}GB {storage_label(ssd)}{gpu_part}",
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
    return [d for row in _ROWS for d in _laptop_drafts(row)]


def context(c: dict[str, Any]) -> dict[str, Any]:
    return {"处理器简称": c["处理器"].replace("英特尔酷睿", "酷睿").replace("AMD ", "")}


DESCRIPTION = {
    "openers": [
        "{name}搭载{处理器简称}处理器，{内存}内存加{硬盘}固态硬盘，开机和多任务都很利落。",
        "这台{name}配备{屏幕尺寸}英寸{屏幕刷新率}Hz屏幕，{处理器简称}处理器应对日常办公和学习绰绰有余。",
        "{name}整机约{重量}kg，{屏幕尺寸}英寸屏幕配{显卡}，兼顾性能与便携。",
    ],
    "features": [
        (
            lambda c: c["独立显卡"],
            [
                "{显卡}独立显卡加{屏幕刷新率}Hz高刷屏，3A大作开高画质也流畅。",
                "满血{显卡}配合强劲散热，长时间游戏和渲染都能稳住帧率。",
            ],
        ),
        (lambda c: c["重量"] <= 1.4, ["机身仅约{重量}kg，放进通勤包几乎感觉不到分量。"]),
        (lambda c: c["续航"] >= 12, ["官方续航约{续航}小时，出差或上课一整天不用找插座。"]),
        (lambda c: "创作" in c["tags"], ["高色准屏幕适合修图、剪辑等创作工作。"]),
        (lambda c: "商务" in c["tags"], ["键盘手感扎实、接口齐全，商务会议和移动办公都很可靠。"]),
        (
            lambda c: c["操作系统"] == "macOS",
            ["与iPhone、iPad无缝协同，隔空投送和通用控制用起来很省事。"],
        ),
        (lambda c: c["内存"] in {"32GB", "24GB"}, ["{内存}大内存，开几十个网页加办公软件也不卡。"]),
    ],
    "closers": {
        "学生": ["上网课、写论文、做设计都够用，是学生党的省心之选。"],
        "游戏": ["适合喜欢打游戏的同学，电竞级屏幕体验拉满。"],
        "办公": ["预装正版{操作系统}，开箱即可投入办公。"],
        "性价比": ["同价位里配置很能打，性价比突出。"],
        "_": ["提供{颜色首}等配色，支持官方联保。", "整机做工扎实，享受品牌官方售后服务。"],
    },
}
