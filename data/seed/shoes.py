"""跑步鞋: daily trainers, stability shoes and carbon-plated racers from real lines.

Models sold in separate men's and women's versions (JD lists them separately)
are written once with gender 'both' and expand into two products.
"""

from __future__ import annotations

from typing import Any

from data.seed._rows import Draft, display_name, draft, words

CATEGORY = "跑步鞋"
PREFIX = "SH"

_SIZES = {
    "男款": "39 40 40.5 41 42 42.5 43 44 45",
    "女款": "35.5 36 36.5 37.5 38 38.5 39 40",
    "男女同款": "36 37 38 39 40 41 42 43 44 45",
}
_WOMEN_COLORS = "白/粉 浅紫/白 燕麦色"

# brand, model, key, series, gender (男款/女款/男女同款/both), scenes, cushioning, weight g
# (men's 42 or unisex), carbon plate, support, midsole, colours, price, tags, aliases
_ROWS: list[tuple[Any, ...]] = [
    ("耐克", "Pegasus 41", "PEGASUS41", "耐克 Pegasus 飞马 系列", "both", "日常慢跑 训练 通勤", "均衡缓震", 286, False, "中性",
     "ReactX泡棉+Air Zoom气垫", "黑/白 白/浅灰 蓝/橙", 899, "跑步 通勤", "飞马41|pegasus41|peg41|nike飞马|耐克飞马"),
    ("耐克", "Vomero 18", "VOMERO18", "耐克 Vomero 系列", "both", "日常慢跑 长距离", "高缓震", 306, False, "中性",
     "ZoomX+ReactX双层中底", "黑/白 白/银 蓝/黄", 1099, "跑步 缓震", "vomero18|v18|耐克vomero|vomero 18"),
    ("耐克", "Invincible 3", "INVINCIBLE3", "耐克 Invincible 系列", "both", "日常慢跑 恢复跑 长距离", "高缓震", 310, False, "中性",
     "ZoomX", "白/黑 灰/橙 黑/红", 1399, "跑步 缓震", "invincible3|不可战胜3|耐克大缓震|invincible 3"),
    ("耐克", "Alphafly 3", "ALPHAFLY3", "耐克 Air Zoom Alphafly 系列", "男女同款", "马拉松 竞速", "竞速回弹", 218, True, "中性",
     "ZoomX+Air Zoom气垫+全掌碳板", "荧光绿/黑 白/粉", 2299, "马拉松 跑步 旗舰", "af3|alphafly3|破二3|alphafly 3"),
    ("耐克", "Vaporfly 3", "VAPORFLY3", "耐克 Vaporfly 系列", "男女同款", "马拉松 竞速", "竞速回弹", 198, True, "中性",
     "ZoomX+全掌碳板", "白/黑 荧光粉", 1899, "马拉松 旗舰", "vf3|vaporfly3|下一代%3|vaporfly 3"),
    ("耐克", "Structure 25", "STRUCTURE25", "耐克 Structure 系列", "both", "日常慢跑 训练", "均衡缓震", 300, False, "稳定支撑",
     "React泡棉", "黑/白 灰/蓝", 999, "跑步 扁平足", "structure25|耐克稳定跑鞋"),
    ("耐克", "Revolution 7", "REVOLUTION7", "耐克 Revolution 系列", "both", "日常慢跑 健身 通勤", "轻缓震", 270, False, "中性",
     "软质泡棉", "黑/白 白/灰", 399, "入门 学生 性价比", "revolution7|耐克入门跑鞋|revolution 7"),
    ("阿迪达斯", "Adizero Adios Pro 3", "ADIOSPRO3", "阿迪达斯 Adizero 系列", "男女同款", "马拉松 竞速", "竞速回弹", 215, True, "中性",
     "LIGHTSTRIKE PRO+ENERGYRODS 2.0碳纤维", "荧光黄/黑 白/红", 1599, "马拉松 旗舰", "adios pro 3|ap3|阿迪ap3|adiospro3"),
    ("阿迪达斯", "Adizero Boston 12", "BOSTON12", "阿迪达斯 Adizero 系列", "男款", "节奏跑 训练 长距离", "均衡缓震", 265, False, "中性",
     "LIGHTSTRIKE PRO+ENERGYRODS", "白/蓝 黑/荧光", 1199, "跑步 马拉松", "boston12|波士顿12|boston 12"),
    ("阿迪达斯", "Adizero SL2", "ADIZEROSL2", "阿迪达斯 Adizero 系列", "男款", "日常慢跑 训练", "轻量回弹", 250, False, "中性",
     "LIGHTSTRIKE PRO+LIGHTSTRIKE", "黑/白 白/蓝", 799, "跑步 学生", "sl2|adizero sl2|阿迪sl2"),
    ("阿迪达斯", "Ultraboost Light", "ULTRABOOSTLIGHT", "阿迪达斯 Ultraboost 系列", "both", "日常慢跑 通勤", "高缓震", 293, False, "中性",
     "Light BOOST", "白/黑 全黑 灰/白", 1499, "跑步 通勤 送礼", "ub light|ultraboost|爆米花|ultraboost light"),
    ("阿迪达斯", "Supernova Rise", "SUPERNOVARISE", "阿迪达斯 Supernova 系列", "both", "日常慢跑", "均衡缓震", 300, False, "中性",
     "Dreamstrike+", "黑/白 白/蓝", 899, "跑步 入门", "supernova rise|supernova"),
    ("阿迪达斯", "Duramo SL", "DURAMOSL", "阿迪达斯 Duramo 系列", "男女同款", "日常慢跑 健身", "轻缓震", 260, False, "中性",
     "LIGHTMOTION", "黑/白 白/灰 粉/白", 399, "入门 学生 性价比", "duramo sl|阿迪入门跑鞋|duramo"),
    ("李宁", "飞电4 Challenger", "FEIDIAN4C", "李宁 飞电 系列", "男女同款", "马拉松 竞速", "竞速回弹", 205, True, "中性",
     "䨻丝+全掌碳板", "标准白/荧光 黑/红", 1299, "马拉松 旗舰", "飞电4c|飞电4|feidian4|李宁飞电"),
    ("李宁", "赤兔7 PRO", "CHITU7PRO", "李宁 赤兔 系列", "both", "训练 节奏跑", "轻量回弹", 220, False, "中性",
     "䨻轻弹科技", "标准白/蓝 黑/橙", 599, "跑步 学生 性价比", "赤兔7pro|chitu7pro|赤兔|李宁赤兔"),
    ("李宁", "超轻21", "CHAOQING21", "李宁 超轻 系列", "both", "日常慢跑 训练", "轻量回弹", 210, False, "中性",
     "䨻轻弹科技", "标准白 黑色 浅蓝", 499, "跑步 轻薄 学生", "超轻21|超轻|李宁超轻"),
    ("李宁", "绝影3", "JUEYING3", "李宁 绝影 系列", "both", "日常慢跑 长距离", "高缓震", 280, False, "中性",
     "䨻丝+䨻轻弹科技", "标准白/黑 灰/荧光", 899, "跑步 通勤 缓震", "绝影3|jueying3|李宁绝影"),
    ("安踏", "C10 PRO", "C10PRO", "安踏 C 系列", "男女同款", "马拉松 竞速", "竞速回弹", 212, True, "中性",
     "氮科技+全掌碳板", "白/荧光绿 黑/金", 1299, "马拉松 旗舰", "c10pro|安踏c10|c10 pro"),
    ("安踏", "马赫4", "MACH4", "安踏 马赫 系列", "both", "训练 节奏跑 日常慢跑", "轻量回弹", 235, False, "中性",
     "氮科技", "象牙白 黑/蓝 荧光绿", 599, "跑步 学生 性价比", "马赫4|mach4|安踏马赫"),
    ("安踏", "PG7", "PG7", "安踏 PG 系列", "男款", "日常慢跑 健身", "均衡缓震", 270, False, "中性",
     "氮科技", "黑/白 灰/蓝", 399, "入门 学生 性价比 通勤", "pg7|安踏pg7"),
    ("特步", "160X 6.0 PRO", "160X6PRO", "特步 160X 系列", "男女同款", "马拉松 竞速", "竞速回弹", 210, True, "中性",
     "PB超临界+全掌碳板", "新白色/荧光 黑/红", 1299, "马拉松 旗舰", "160x6|160x 6.0 pro|特步160x|160x"),
    ("特步", "360X 2.0", "360X2", "特步 360X 系列", "男女同款", "马拉松 长距离 训练", "均衡缓震", 235, True, "中性",
     "动力巢PRO+碳板", "白/橙 黑/蓝", 899, "马拉松 跑步", "360x|特步360x|360x 2.0"),
    ("特步", "二千公里 3代", "ERQIAN3", "特步 二千公里 系列", "男款", "日常慢跑 训练", "均衡缓震", 275, False, "中性",
     "动力巢PRO", "黑/白 白/灰", 399, "入门 学生 性价比", "二千公里|2000公里|特步二千公里"),
    ("361度", "飞燃4", "FEIRAN4", "361度 飞燃 系列", "男女同款", "马拉松 竞速", "竞速回弹", 215, True, "中性",
     "QU!KFOAM+全掌碳板", "羽毛白/荧光 黑/红", 999, "马拉松 性价比", "飞燃4|feiran4|361飞燃"),
    ("361度", "飞飚3.0", "FEIBIAO3", "361度 飞飚 系列", "男款", "训练 节奏跑", "轻量回弹", 230, False, "中性",
     "QU!KFOAM", "白/蓝 黑色", 499, "学生 性价比 跑步", "飞飚3|361飞飚"),
    ("亚瑟士", "GEL-KAYANO 31", "KAYANO31", "亚瑟士 GEL-KAYANO 系列", "both", "日常慢跑 长距离", "高缓震", 305, False, "稳定支撑",
     "FF BLAST PLUS ECO+PureGEL", "黑/白 白/蓝 灰/绿", 1399, "跑步 扁平足 缓震", "k31|kayano31|亚瑟士k31|kayano 31"),
    ("亚瑟士", "GEL-NIMBUS 26", "NIMBUS26", "亚瑟士 GEL-NIMBUS 系列", "both", "日常慢跑 长距离 恢复跑", "高缓震", 304, False, "中性",
     "FF BLAST PLUS ECO+PureGEL", "黑/白 白/浅蓝 奶白", 1299, "跑步 通勤 缓震", "nimbus26|n26|亚瑟士n26|nimbus 26"),
    ("亚瑟士", "NOVABLAST 4", "NOVABLAST4", "亚瑟士 NOVABLAST 系列", "both", "日常慢跑 训练", "均衡缓震", 260, False, "中性",
     "FF BLAST+ ECO", "白/蓝 黑/荧光", 899, "跑步 学生", "nb4|novablast4|诺瓦4|novablast 4"),
    ("亚瑟士", "MAGIC SPEED 4", "MAGICSPEED4", "亚瑟士 MAGIC SPEED 系列", "男女同款", "训练 竞速 节奏跑", "竞速回弹", 225, True, "中性",
     "FF BLAST TURBO+碳板", "白/荧光 黑/橙", 1299, "马拉松 跑步", "ms4|magic speed 4|魔速4|magicspeed4"),
    ("亚瑟士", "METASPEED SKY PARIS", "METASPEEDSKY", "亚瑟士 METASPEED 系列", "男女同款", "马拉松 竞速", "竞速回弹", 186, True, "中性",
     "FF TURBO PLUS+全掌碳板", "白/荧光黄 黑/粉", 1799, "马拉松 旗舰", "sky paris|metaspeed sky|亚瑟士碳板|sky"),
    ("亚瑟士", "GT-2000 12", "GT200012", "亚瑟士 GT-2000 系列", "both", "日常慢跑 训练", "均衡缓震", 275, False, "稳定支撑",
     "FF BLAST PLUS", "黑/白 白/灰", 899, "跑步 扁平足", "gt2000|gt-2000 12|gt2000 12"),
    ("新百伦", "Fresh Foam X 1080 v14", "NB1080V14", "新百伦 1080 系列", "both", "日常慢跑 长距离", "高缓震", 292, False, "中性",
     "Fresh Foam X", "白/黑 灰/蓝 黑/橙", 1299, "跑步 通勤 缓震", "1080v14|nb1080|1080|新百伦1080"),
    ("新百伦", "FuelCell Rebel v4", "REBELV4", "新百伦 FuelCell 系列", "both", "训练 节奏跑", "轻量回弹", 212, False, "中性",
     "FuelCell", "白/橙 黑/荧光", 999, "跑步 轻薄", "rebel v4|rebel4|nb rebel"),
    ("新百伦", "Fresh Foam X 880 v14", "NB880V14", "新百伦 880 系列", "女款", "日常慢跑 通勤", "均衡缓震", 250, False, "中性",
     "Fresh Foam X", "白/粉 灰/紫", 999, "跑步 女生 通勤", "880v14|nb880|880"),
    ("新百伦", "FuelCell SC Elite v4", "SCELITEV4", "新百伦 FuelCell 系列", "男女同款", "马拉松 竞速", "竞速回弹", 210, True, "中性",
     "FuelCell+全掌碳板", "白/荧光绿 黑", 1999, "马拉松 旗舰", "sc elite v4|nb碳板|scelite"),
    ("鸿星尔克", "芷境3.0", "ZHIJING3", "鸿星尔克 芷境 系列", "男女同款", "马拉松 竞速 训练", "竞速回弹", 215, True, "中性",
     "奇弹科技+全掌碳板", "白/荧光 黑/红", 799, "马拉松 性价比", "芷境3|芷境|鸿星尔克芷境"),
    ("鸿星尔克", "奇弹5.0", "QITAN5", "鸿星尔克 奇弹 系列", "男款", "日常慢跑 健身", "均衡缓震", 270, False, "中性",
     "奇弹科技", "黑/白 白/蓝", 299, "入门 学生 性价比", "奇弹|奇弹5|鸿星尔克奇弹"),
    ("索康尼", "啡鹏4", "ENDORPHINPRO4", "索康尼 啡 系列", "男女同款", "马拉松 竞速", "竞速回弹", 210, True, "中性",
     "PWRRUN HG+全掌碳板", "白/荧光 黑/金", 1599, "马拉松 旗舰", "endorphin pro 4|啡鹏4|ep4|啡鹏"),
    ("索康尼", "啡速4", "ENDORPHINSPEED4", "索康尼 啡 系列", "男女同款", "训练 节奏跑 马拉松", "轻量回弹", 230, False, "中性",
     "PWRRUN PB+尼龙板", "白/蓝 黑/橙", 1199, "跑步 马拉松", "endorphin speed 4|啡速4|es4|啡速"),
    ("索康尼", "胜利21", "TRIUMPH21", "索康尼 胜利 系列", "both", "日常慢跑 长距离", "高缓震", 300, False, "中性",
     "PWRRUN PB", "白/灰 黑/白", 1199, "跑步 通勤 缓震", "triumph21|胜利21|索康尼胜利"),
    ("索康尼", "菁华14", "KINVARA14", "索康尼 菁华 系列", "both", "日常慢跑 训练", "轻量回弹", 204, False, "中性",
     "PWRRUN", "白/蓝 黑/白", 799, "跑步 轻薄", "kinvara14|菁华14|索康尼菁华"),
    ("索康尼", "向导17", "GUIDE17", "索康尼 向导 系列", "男款", "日常慢跑", "均衡缓震", 283, False, "稳定支撑",
     "PWRRUN", "黑/白 灰/蓝", 999, "跑步 扁平足", "guide17|向导17|索康尼向导"),
    ("HOKA", "Clifton 9", "CLIFTON9", "HOKA Clifton 系列", "both", "日常慢跑 长距离 通勤", "高缓震", 248, False, "中性",
     "压缩模塑EVA", "黑/白 白/蓝 燕麦色", 1099, "跑步 通勤 缓震", "克利夫顿9|clifton9|c9|hoka c9"),
    ("HOKA", "Bondi 8", "BONDI8", "HOKA Bondi 系列", "both", "日常慢跑 恢复跑 健走", "高缓震", 308, False, "中性",
     "全掌压缩模塑EVA", "全黑 白/灰", 1299, "跑步 老人 缓震", "邦代8|bondi8|hoka邦代"),
    ("HOKA", "Mach 6", "HOKAMACH6", "HOKA Mach 系列", "both", "训练 节奏跑", "轻量回弹", 232, False, "中性",
     "Supercritical EVA", "白/荧光 黑/蓝", 1199, "跑步 轻薄", "hoka马赫6|mach6|马赫6"),
    ("昂跑", "Cloudmonster 2", "CLOUDMONSTER2", "昂跑 Cloud 系列", "both", "日常慢跑 长距离 通勤", "高缓震", 300, False, "中性",
     "CloudTec+Helion超临界泡棉", "全黑 白/冰川 沙色", 1490, "跑步 通勤 送礼 缓震", "cloudmonster|云怪兽|怪兽2|on跑鞋"),
    ("昂跑", "Cloudsurfer", "CLOUDSURFER", "昂跑 Cloud 系列", "女款", "日常慢跑 通勤", "均衡缓震", 245, False, "中性",
     "CloudTec Phase", "白/粉 黑/灰", 1290, "跑步 女生 通勤", "cloudsurfer|昂跑女鞋"),
    ("美津浓", "Wave Rider 28", "WAVERIDER28", "美津浓 Wave Rider 系列", "both", "日常慢跑 训练", "均衡缓震", 275, False, "中性",
     "MIZUNO ENERZY NXT+波浪片", "白/蓝 黑/橙", 899, "跑步", "rider28|波浪28|wave rider 28|美津浓rider"),
]  # fmt: skip

MODELS = {row[2]: row for row in _ROWS}


def _variants(gender: str, weight: int, colors: str) -> list[tuple[str | None, str, int, str]]:
    if gender != "both":
        return [(None, gender, weight, colors)]
    return [("M", "男款", weight, colors), ("W", "女款", round(weight * 0.82), _WOMEN_COLORS)]


def _shoe_drafts(row: tuple[Any, ...]) -> list[Draft]:
    (brand, model, key, series, gender, scenes, cushion, weight, carbon, support, midsole, colors,
     price, tags, aliases) = row  # fmt: skip
    drafts = []
    for variant, who, grams, palette in _variants(gender, weight, colors):
        person = {"男款": "男子", "女款": "女子", "男女同款": "男女同款"}[who]
        extra_tags = " 女生" if who == "女款" else ""
        feature = "碳板竞速" if carbon else ("稳定支撑" if support == "稳定支撑" else cushion)
        attributes = {
            "尺码": words(_SIZES[who]),
            "适用场景": words(scenes),
            "缓震": cushion,
            "重量": grams,
            "颜色": words(palette),
            "适用人群": who,
            "碳板": carbon,
            "支撑类型": support,
            "中底科技": midsole,
        }
        drafts.append(
            draft(
                key=key,
                variant=variant,
                brand=brand,
                title=f"{display_name(brand, model)} {person}跑步鞋 {feature} {words(palette)[0]}",
                price=price,
                attributes=attributes,
                tags=tags + extra_tags,
                aliases=aliases,
                series=series,
                model=model,
            )
        )
    return drafts


def drafts() -> list[Draft]:
    return [d for row in _ROWS for d in _shoe_drafts(row)]


DESCRIPTION = {
    "openers": [
        "{name}采用{中底科技}中底，{缓震}脚感，适合{适用场景文本}。",
        "这双{name}单只约{重量}g（标准码），{缓震}表现出色，跑起来轻快不拖沓。",
        "{name}是{brand}的{适用人群}跑鞋，主打{适用场景文本}，{中底科技}带来稳定回弹。",
    ],
    "features": [
        (
            lambda c: c["碳板"],
            [
                "内嵌碳板提供强劲推进力，配速提升明显，是冲击个人最好成绩的利器。",
                "碳板加高回弹中底，长距离比赛后段依然有推进感。",
            ],
        ),
        (
            lambda c: c["支撑类型"] == "稳定支撑",
            ["稳定支撑结构可减少足部过度内翻，扁平足和大体重跑者更安心。"],
        ),
        (lambda c: c["缓震"] == "高缓震", ["厚实中底吸收落地冲击，长距离慢跑对膝盖更友好。"]),
        (lambda c: c["重量"] <= 220, ["鞋身轻盈，节奏跑和间歇训练时腿部负担更小。"]),
        (lambda c: "通勤" in c["tags"], ["外观简洁百搭，上班通勤穿也不违和。"]),
        (lambda c: "入门" in c["tags"], ["价格亲民、包裹舒适，适合刚开始跑步的新手。"]),
    ],
    "closers": {
        "马拉松": ["适合有一定基础的跑者备战半马、全马。"],
        "学生": ["学生党体测、日常锻炼都合适。"],
        "送礼": ["颜值在线，送给爱运动的朋友很合适。"],
        "_": [
            "提供{颜色首}等配色，尺码{尺码首}起，建议按平时尺码购买。",
            "鞋面透气包裹好，夏天跑步也不闷脚。",
        ],
    },
}
