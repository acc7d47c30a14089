"""运动服饰: running tops and shorts, yoga wear, sports bras, socks, jackets and outdoor shells."""

from __future__ import annotations

from typing import Any

from data.seed._rows import Draft, draft, title_brand, words

CATEGORY = "运动服饰"
PREFIX = "SW"

_SIZES = {
    "men": "S M L XL XXL 3XL",
    "women": "XS S M L XL",
    "lulu": "2 4 6 8 10 12",
    "socks": "M（39-42） L（43-46）",
    "socks_w": "S（35-38） M（39-42）",
    "unisex": "S M L XL XXL",
}

# brand, name, key, model (what people call it) or '', style, gender, size set, fabric, scenes,
# quick-dry, season, colours, price, tags, aliases
_ROWS: list[tuple[Any, ...]] = [
    ("耐克", "Dri-FIT Miler 男子短袖跑步上衣", "NKMILER", "Miler", "短袖T恤", "男款", "men", "聚酯纤维（Dri-FIT速干科技）",
     "跑步 健身", True, "夏季", "黑色 白色 蓝色", 249, "跑步 运动", "耐克速干t恤|miler|nike跑步短袖"),
    ("耐克", "Challenger 男子7英寸跑步短裤", "NKCHALLENGER", "Challenger", "短裤", "男款", "men", "聚酯纤维（Dri-FIT速干科技）",
     "跑步 健身", True, "夏季", "黑色 灰色", 249, "跑步 运动", "耐克跑步短裤|challenger短裤"),
    ("耐克", "Pro 女子高腰紧身裤", "NKPROTIGHT", "Nike Pro", "紧身裤", "女款", "women", "聚酯纤维+氨纶（Dri-FIT）",
     "健身 瑜伽 跑步", True, "四季", "黑色 深灰", 329, "健身 女生", "nike pro|耐克紧身裤|耐克健身裤"),
    ("耐克", "Windrunner 男子梭织夹克", "NKWINDRUNNER", "Windrunner", "外套", "男款", "men", "尼龙梭织面料",
     "跑步 通勤 户外", False, "春秋", "黑色 蓝/白", 599, "运动 通勤", "windrunner|耐克风衣|耐克夹克"),
    ("耐克", "Everyday 运动中筒袜（3双装）", "NKSOCKS", "", "袜子", "男女同款", "socks", "棉+聚酯纤维",
     "跑步 健身 日常", True, "四季", "白色 黑色", 99, "运动 跑步", "耐克袜子|nike袜子|运动袜"),
    ("耐克", "Club Fleece 男子连帽卫衣", "NKCLUBHOODIE", "Club Fleece", "卫衣", "男款", "men", "棉+聚酯纤维抓绒",
     "日常 通勤", False, "秋冬", "黑色 灰色 藏青", 399, "通勤 学生", "耐克卫衣|club卫衣"),
    ("阿迪达斯", "Own the Run 男子跑步短袖T恤", "ADOTR", "Own the Run", "短袖T恤", "男款", "men", "再生聚酯纤维（AEROREADY）",
     "跑步 健身", True, "夏季", "黑色 白色 荧光黄", 249, "跑步 运动", "阿迪跑步t恤|own the run"),
    ("阿迪达斯", "Essentials 三条纹男子运动长裤", "AD3STRIPE", "三条纹", "长裤", "男款", "men", "棉+聚酯纤维",
     "健身 日常 通勤", False, "春秋", "黑色 藏青", 399, "通勤 学生", "阿迪三条杠裤子|阿迪运动裤|三道杠"),
    ("阿迪达斯", "三叶草 经典连帽卫衣", "ADHOODIE", "三叶草", "卫衣", "男女同款", "unisex", "棉",
     "日常 通勤", False, "秋冬", "黑色 白色 灰色", 599, "送礼 学生", "阿迪卫衣|三叶草卫衣"),
    ("阿迪达斯", "Optime 女子高腰训练紧身裤", "ADOPTIME", "Optime", "紧身裤", "女款", "women", "再生聚酯纤维+氨纶",
     "健身 瑜伽", True, "四季", "黑色 紫色", 349, "健身 瑜伽 女生", "阿迪瑜伽裤|optime"),
    ("阿迪达斯", "跑步袜（3双装）", "ADSOCKS", "", "袜子", "男女同款", "socks", "棉+尼龙",
     "跑步 健身", True, "四季", "白色 黑色", 79, "跑步 性价比", "阿迪袜子|阿迪跑步袜"),
    ("lululemon", "Align 女士高腰瑜伽裤 25英寸", "LLALIGN", "Align", "瑜伽裤", "女款", "lulu", "Nulu™裸感面料",
     "瑜伽 健身 日常", False, "四季", "黑色 深海军蓝 燕麦色", 850, "瑜伽 女生 送礼", "align|lulu瑜伽裤|露露乐蒙align|裸感裤"),
    ("lululemon", "Swiftly Tech 女士运动短袖 2.0", "LLSWIFTLY", "Swiftly Tech", "短袖T恤", "女款", "lulu", "Swift™针织面料",
     "跑步 健身", True, "夏季", "白色 黑色 粉色", 550, "跑步 女生", "swiftly|lulu短袖|swiftly tech"),
    ("lululemon", "Metal Vent Tech 男士运动短袖", "LLMETALVENT", "Metal Vent Tech", "短袖T恤", "男款", "men", "抗菌速干针织面料",
     "健身 跑步", True, "夏季", "黑色 灰色 蓝色", 550, "健身 运动", "metal vent|lulu男士短袖"),
    ("lululemon", "Define 女士修身夹克", "LLDEFINE", "Define", "外套", "女款", "lulu", "Luon™面料",
     "瑜伽 通勤 日常", False, "春秋", "黑色 白色 浅粉", 980, "女生 通勤 送礼", "define|lulu外套|define夹克"),
    ("lululemon", "Pace Breaker 男士运动短裤 7英寸", "LLPACEBREAKER", "Pace Breaker", "短裤", "男款", "men", "Swift™轻量梭织面料",
     "跑步 健身", True, "夏季", "黑色 海军蓝", 550, "跑步 健身", "pace breaker|lulu短裤"),
    ("lululemon", "Energy 女士中强度运动内衣", "LLENERGY", "Energy", "运动内衣", "女款", "lulu", "Luxtreme™面料",
     "健身 跑步 瑜伽", True, "四季", "黑色 白色 紫色", 450, "健身 女生", "lulu运动内衣|energy bra"),
    ("迪卡侬", "男子跑步速干T恤 Run Dry", "DCRUNDRY", "Run Dry", "短袖T恤", "男款", "men", "聚酯纤维",
     "跑步 健身", True, "夏季", "黑色 蓝色 橙色", 49.9, "性价比 学生 跑步", "迪卡侬速干衣|迪卡侬t恤"),
    ("迪卡侬", "女子高腰瑜伽裤", "DCYOGA", "", "瑜伽裤", "女款", "women", "聚酰胺+氨纶",
     "瑜伽 健身", False, "四季", "黑色 灰色 雾蓝", 99.9, "瑜伽 性价比 女生", "迪卡侬瑜伽裤"),
    ("迪卡侬", "男子跑步短裤 Run Dry", "DCSHORTS", "Run Dry", "短裤", "男款", "men", "聚酯纤维",
     "跑步 健身", True, "夏季", "黑色 蓝色", 69.9, "性价比 学生 跑步", "迪卡侬短裤|迪卡侬跑步短裤"),
    ("迪卡侬", "跑步袜 5双装", "DCSOCKS", "", "袜子", "男女同款", "socks", "棉+聚酯纤维",
     "跑步 健身", True, "四季", "白色 黑色", 39.9, "性价比 学生 跑步", "迪卡侬袜子|运动袜便宜"),
    ("迪卡侬", "MH500 男子防水冲锋衣", "DCMH500", "MH500", "冲锋衣", "男款", "men", "聚酯纤维+防水涂层",
     "户外 徒步 通勤", False, "春秋", "黑色 深蓝", 399, "户外 性价比", "迪卡侬冲锋衣|mh500"),
    ("安德玛", "HeatGear 男子训练紧身衣", "UAHEATGEAR", "HeatGear", "紧身衣", "男款", "men", "聚酯纤维+氨纶",
     "健身 跑步", True, "夏季", "黑色 白色", 299, "健身 运动", "ua紧身衣|heatgear|安德玛紧身衣"),
    ("安德玛", "Rival 男子抓绒连帽卫衣", "UARIVAL", "Rival", "卫衣", "男款", "men", "棉+聚酯纤维抓绒",
     "健身 日常", False, "秋冬", "黑色 灰色", 399, "健身 学生", "ua卫衣|rival卫衣"),
    ("安德玛", "Tech 2.0 男子速干短袖", "UATECH", "Tech 2.0", "短袖T恤", "男款", "men", "聚酯纤维",
     "健身 跑步", True, "夏季", "黑色 红色 蓝色", 199, "健身 性价比", "ua速干衣|ua tech"),
    ("李宁", "男子速干短袖T恤", "LNTEE", "", "短袖T恤", "男款", "men", "聚酯纤维（AT DRY速干）",
     "跑步 健身", True, "夏季", "黑色 白色 蓝色", 129, "跑步 学生 性价比", "李宁速干t恤|李宁短袖"),
    ("李宁", "男子运动卫裤", "LNPANTS", "", "长裤", "男款", "men", "棉+聚酯纤维",
     "健身 日常", False, "春秋", "黑色 灰色", 259, "学生 通勤", "李宁运动裤|李宁卫裤"),
    ("李宁", "男子跑步短裤", "LNSHORTS", "", "短裤", "男款", "men", "聚酯纤维",
     "跑步 健身", True, "夏季", "黑色 蓝色", 149, "跑步 学生", "李宁短裤|李宁跑步短裤"),
    ("李宁", "女子健身运动内衣", "LNBRA", "", "运动内衣", "女款", "women", "锦纶+氨纶",
     "健身 瑜伽 跑步", True, "四季", "黑色 粉色", 169, "健身 女生", "李宁运动内衣"),
    ("安踏", "男子冰丝速干T恤", "ATTEE", "", "短袖T恤", "男款", "men", "聚酯纤维（冰丝凉感）",
     "跑步 健身", True, "夏季", "黑色 白色 灰色", 99, "性价比 学生 跑步", "安踏速干衣|安踏冰丝t恤"),
    ("安踏", "男子运动针织外套", "ATJACKET", "", "外套", "男款", "men", "聚酯纤维针织",
     "日常 通勤 健身", False, "春秋", "黑色 藏青", 299, "学生 通勤", "安踏外套|安踏运动外套"),
    ("安踏", "男子针织运动长裤", "ATPANTS", "", "长裤", "男款", "men", "聚酯纤维",
     "健身 日常", False, "春秋", "黑色 灰色", 199, "学生 性价比", "安踏运动裤"),
    ("安踏", "速干运动袜 5双装", "ATSOCKS", "", "袜子", "男女同款", "socks", "棉+锦纶",
     "跑步 健身", True, "四季", "白色 黑色", 49, "性价比 跑步", "安踏袜子"),
    ("特步", "男子跑步短裤 二合一", "XSSHORTS", "", "短裤", "男款", "men", "聚酯纤维",
     "跑步 健身", True, "夏季", "黑色 蓝色", 99, "跑步 性价比", "特步短裤|特步跑步短裤"),
    ("特步", "男子速干T恤 马拉松款", "XSTEE", "", "短袖T恤", "男款", "men", "聚酯纤维（速干）",
     "跑步 马拉松", True, "夏季", "白色 荧光黄", 89, "跑步 马拉松 性价比", "特步速干衣|特步t恤"),
    ("北面", "男子三合一冲锋衣", "TNFTRICLIMATE", "三合一", "冲锋衣", "男款", "men", "DryVent™防水面料+抓绒内胆",
     "户外 徒步 通勤", False, "秋冬", "黑色 深蓝", 1599, "户外 通勤", "北面冲锋衣|tnf冲锋衣|北面三合一"),
    ("北面", "1996 Nuptse 经典羽绒服", "TNFNUPTSE", "1996 Nuptse", "羽绒服", "男女同款", "unisex", "尼龙+700蓬鹅绒",
     "户外 日常", False, "冬季", "黑色 黄色 蓝色", 2799, "户外 送礼", "北面羽绒服|nuptse|1996羽绒服"),
    ("始祖鸟", "Beta LT 硬壳冲锋衣", "ARCBETALT", "Beta LT", "冲锋衣", "男款", "men", "GORE-TEX ePE三层压胶面料",
     "户外 徒步 登山", False, "四季", "黑色 蓝色", 4500, "户外 旗舰 送礼", "beta lt|始祖鸟冲锋衣|鸟beta"),
    ("始祖鸟", "Atom Hoody 保暖棉服", "ARCATOM", "Atom", "棉服", "男款", "men", "尼龙+Coreloft™保暖棉",
     "户外 通勤", False, "秋冬", "黑色 灰色", 2700, "户外 通勤 送礼", "atom|始祖鸟棉服|atom hoody"),
    ("骆驼", "户外三合一冲锋衣", "CMJACKET", "", "冲锋衣", "男女同款", "unisex", "聚酯纤维+抓绒内胆",
     "户外 徒步 通勤", False, "秋冬", "黑色 卡其 藏青", 399, "户外 性价比 学生", "骆驼冲锋衣|camel冲锋衣"),
    ("骆驼", "男子户外速干裤", "CMPANTS", "", "长裤", "男款", "men", "锦纶+氨纶",
     "户外 徒步", True, "春夏", "黑色 卡其", 159, "户外 性价比", "骆驼速干裤"),
    ("斐乐", "女子运动卫衣", "FLHOODIE", "", "卫衣", "女款", "women", "棉+聚酯纤维",
     "日常 通勤", False, "秋冬", "白色 黑色 浅粉", 799, "女生 送礼", "斐乐卫衣|fila卫衣"),
    ("MAIA ACTIVE", "高腰提臀瑜伽裤", "MAIAYOGA", "", "瑜伽裤", "女款", "women", "锦纶+氨纶",
     "瑜伽 健身 日常", False, "四季", "黑色 灰色 豆沙色", 398, "瑜伽 女生", "maia瑜伽裤|玛娅瑜伽裤"),
    ("MAIA ACTIVE", "高强度防震运动内衣", "MAIABRA", "", "运动内衣", "女款", "women", "锦纶+氨纶",
     "跑步 健身", True, "四季", "黑色 白色", 298, "跑步 健身 女生", "maia运动内衣"),
    ("鸿星尔克", "男子运动套装 速干两件套", "EKSET", "", "运动套装", "男款", "men", "聚酯纤维",
     "跑步 健身 日常", True, "夏季", "黑色 蓝色", 259, "性价比 学生", "鸿星尔克套装|尔克运动套装"),
    ("耐克", "Dri-FIT 女子跑步短袖上衣", "NKWOMENTEE", "", "短袖T恤", "女款", "women", "聚酯纤维（Dri-FIT速干科技）",
     "跑步 健身", True, "夏季", "黑色 白色 粉色", 229, "跑步 女生", "耐克女子t恤|耐克女款速干衣"),
    ("阿迪达斯", "男子防风梭织运动夹克", "ADWINDJACKET", "", "外套", "男款", "men", "聚酯纤维梭织",
     "跑步 通勤", False, "春秋", "黑色 藏青", 499, "通勤 运动", "阿迪外套|阿迪夹克"),
    ("lululemon", "ABC 男士休闲长裤", "LLABC", "ABC", "长裤", "男款", "men", "Warpstreme™弹力面料",
     "通勤 日常", False, "四季", "黑色 海军蓝 卡其", 1180, "通勤 商务 送礼", "abc裤|lulu abc|lulu男裤"),
    ("迪卡侬", "女子中强度运动内衣", "DCBRA", "", "运动内衣", "女款", "women", "聚酯纤维+氨纶",
     "健身 跑步", True, "四季", "黑色 粉色", 79.9, "健身 女生 性价比", "迪卡侬运动内衣"),
    ("迪卡侬", "男子抓绒外套 MH100", "DCFLEECE", "MH100", "外套", "男款", "men", "聚酯纤维抓绒",
     "户外 徒步 日常", False, "秋冬", "黑色 灰色 蓝色", 99.9, "户外 性价比 学生", "迪卡侬抓绒衣|抓绒外套"),
    ("安德玛", "Meridian 女子运动紧身裤", "UAMERIDIAN", "Meridian", "紧身裤", "女款", "women", "锦纶+氨纶",
     "瑜伽 健身", False, "四季", "黑色 灰色", 459, "瑜伽 女生", "ua瑜伽裤|meridian"),
    ("北面", "男子速干短袖T恤", "TNFTEE", "", "短袖T恤", "男款", "men", "聚酯纤维（FlashDry速干）",
     "户外 徒步", True, "夏季", "黑色 白色 绿色", 299, "户外", "北面t恤|北面速干衣"),
    ("李宁", "男子防泼水运动风衣", "LNWINDBREAKER", "", "外套", "男款", "men", "锦纶",
     "跑步 通勤 户外", False, "春秋", "黑色 灰色", 399, "通勤 运动", "李宁风衣|李宁外套"),
    ("特步", "女子瑜伽运动套装", "XSYOGASET", "", "运动套装", "女款", "women", "锦纶+氨纶",
     "瑜伽 健身", True, "四季", "黑色 紫色 粉色", 199, "瑜伽 女生 性价比", "特步瑜伽服|特步套装"),
]  # fmt: skip

MODELS = {row[2]: row for row in _ROWS}


def _draft(row: tuple[Any, ...]) -> Draft:
    (brand, name, key, model, style, gender, sizes, fabric, scenes, quick_dry, season, colors,
     price, tags, aliases) = row  # fmt: skip
    attributes = {
        "款式": style,
        "尺码": words(_SIZES[sizes]),
        "面料": fabric,
        "适用场景": words(scenes),
        "适用人群": gender,
        "速干": quick_dry,
        "季节": season,
        "颜色": words(colors),
    }
    series = f"{brand} {model} 系列" if model else None
    return draft(
        key=key,
        brand=brand,
        title=f"{title_brand(brand)} {name}",
        price=price,
        attributes=attributes,
        tags=tags,
        aliases=aliases,
        series=series,
        model=model or None,
    )


def drafts() -> list[Draft]:
    return [_draft(row) for row in _ROWS]


DESCRIPTION = {
    "openers": [
        "{name}采用{面料}，版型利落，适合{适用场景文本}穿着。",
        "这款{brand}{款式}主打{适用场景文本}场景，{面料}穿着舒适。",
        "{name}，{季节}可穿，{适用人群}设计，日常运动很实用。",
    ],
    "features": [
        (
            lambda c: c["速干"],
            ["面料吸湿速干，大汗淋漓后也能很快恢复干爽。", "排汗快、不闷热，长时间运动依旧清爽。"],
        ),
        (lambda c: c["款式"] in {"瑜伽裤", "紧身裤"}, ["高腰设计收腹提臀，深蹲不透、不卷边。"]),
        (
            lambda c: c["款式"] in {"冲锋衣", "羽绒服", "棉服"},
            ["防风防泼水，换季出行和户外徒步都能从容应对。"],
        ),
        (lambda c: c["款式"] == "袜子", ["足底加厚毛圈缓冲，脚跟防滑设计跑步不掉跟。"]),
        (lambda c: c["款式"] == "运动内衣", ["包裹稳固，跑跳时有效减少晃动。"]),
        (lambda c: "通勤" in c["tags"], ["款式简洁，运动之外日常通勤穿也好看。"]),
    ],
    "closers": {
        "性价比": ["价格实惠，多买几件换着穿也不心疼。"],
        "送礼": ["质感出众，送人也很拿得出手。"],
        "_": [
            "尺码{尺码首}到{尺码末}可选，建议参考尺码表选购。",
            "提供{颜色首}等颜色，支持七天无理由退换。",
        ],
    },
}
