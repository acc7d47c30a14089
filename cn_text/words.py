"""Word lists behind the price decisions (cn_text/prices.py): the words shoppers put around a
price, and the words that make a number a spec, a count, an id or a model instead.

Only general Chinese shopping language lives here. Brand and model-line names come from the
catalog (cn_text/lexicon.py reads what knowledge_graph/export.py writes), so a new brand needs
no edit here.
"""

from __future__ import annotations

# Cues before a number, by what they make of it. "budget" alone is an upper bound ("预算3000").
LEFT_CUES: dict[str, list[str]] = {
    "max": [
        "不超过", "不要超过", "别超过", "不能超过", "不得超过", "不想超过", "不超出", "不超",
        "不高于", "不多于", "不大于", "最多", "最高", "最贵", "顶多", "至多", "低于", "小于",
        "少于", "不到", "不足", "降到", "降至", "<=", "<", "≤",
    ],
    "min": [
        "至少", "最少", "最低", "起码", "不低于", "不少于", "不小于", "高于", "大于", "超过",
        "多于", ">=", ">", "≥",
    ],
    "around": ["大概", "大约", "大致", "约莫", "约", "差不多", "估计", "接近", "将近"],
    "budget": ["预算", "控制在", "控制", "能接受", "承受", "手头", "手上", "兜里"],
    "price": ["价格区间", "价格范围", "价格", "价位", "价钱", "售价", "标价", "报价", "单价"],
}  # fmt: skip

# Cues after a number. The order of the kinds is the order they are tried in.
RIGHT_CUES: dict[str, list[str]] = {
    "max": [
        "以内", "之内", "以內", "之內", "以下", "之下", "以里", "封顶", "为限", "为上限", "不到",
        "打住", "顶天",
    ],
    "min": ["以上", "之上", "往上", "朝上", "起步", "起", "开外", "为下限", "打底", "保底"],
    "around": ["左右", "上下", "前后", "附近", "出头"],
    "tier": ["档", "价位", "价格", "价"],
}  # fmt: skip

# Money words: before the number ("¥299", "RMB 3000") and after it ("299元", "100块钱").
CURRENCY_BEFORE = ["¥", "rmb", "cny", "人民币"]
CURRENCY_AFTER = ["块钱", "元钱", "元", "块", "rmb", "cny", "人民币"]

# Units that make a number a spec, a count, a date or an id rather than a price.
CN_SPEC_UNITS = [
    "英寸", "寸", "码", "毫升", "升", "千克", "公斤", "毫克", "克", "斤", "万像素", "亿像素",
    "像素", "毫安时", "毫安", "毫米", "厘米", "公分", "公里", "千米", "平米", "平方", "米",
    "瓦", "伏", "赫兹", "帧", "转", "度", "核", "线程", "代", "系列", "系", "款", "版", "号",
    "个", "件", "台", "部", "只", "双", "对", "套", "条", "张", "支", "片", "粒", "包", "盒",
    "瓶", "罐", "袋", "箱", "份", "本", "杯", "颗", "枚", "把", "位", "名", "人", "次", "遍",
    "回", "天", "日", "月", "年", "周", "星期", "小时", "分钟", "分", "秒", "岁", "倍", "折",
    "期", "层", "楼", "页", "集", "色", "种", "样", "级", "成", "步", "卡", "大卡",
    "千卡", "匹", "块", "毛", "角", "%", "屏", "分辨率", "积分", "字",
]  # fmt: skip
# The same after a space ("3000 mAh", "15 Pro"); joined Latin letters are always a spec.
LATIN_SPEC_UNITS = [
    "gb", "g", "mb", "tb", "t", "mah", "wh", "w", "kw", "ml", "l", "cm", "mm", "m", "km",
    "hz", "khz", "nits", "nit", "fps", "p", "k", "mp", "px", "dpi", "ppi", "kg", "oz",
    "inch", "in", "v", "ma", "a", "pro", "max", "ultra", "plus", "mini", "lite", "se", "s",
    "gen", "th", "nd", "rd", "x",
]  # fmt: skip

# Numbers right after these words are ids, chip models or promotions, never a price wish:
# "尾号1234", "骁龙888", "天玑9300", "满300减50", "运费10元".
NOT_A_PRICE_AFTER = [
    "尾号", "单号", "订单", "编号", "型号", "电话", "手机号", "号码", "货号", "工号", "卡号",
    "房间", "邮编", "验证码", "快递", "No.", "No", "#",
    "骁龙", "天玑", "麒麟", "锐龙", "酷睿", "猎户座", "联发科", "英伟达",
    "满", "减", "立减", "省", "优惠", "返现", "返", "券", "红包", "运费", "邮费", "定金", "订金",
    "rtx", "gtx", "rx", "ryzen", "core", "snapdragon", "dimensity", "kirin", "helio", "exynos",
]  # fmt: skip

# "两块手表", "20块巧克力": 块 counts things before these nouns.
BLOCK_NOUNS = [
    "手表", "表", "屏", "电池", "巧克力", "蛋糕", "饼干", "糖", "肥皂", "香皂", "面包", "布",
    "玻璃", "石", "地", "板", "砖", "牌", "硬盘", "内存", "显卡", "手帕", "毛巾", "磁铁",
    "镜片", "贴膜", "膜", "肉", "冰",
]  # fmt: skip

# Generic words that, after a space, still name a model: "X 200", "Gen 3", "No 5", "Model 3".
# They are never taken for a brand, even when a catalog name is spelt the same ("K", "X").
LATIN_MODEL_WORDS = frozenset(["series", "gen", "model", "no", "v", "x", "k", "p", "s"])
