"""Merchants, the 12 leaf categories, the per-category attribute schema and the tag list."""

from __future__ import annotations

from typing import Any

MERCHANTS = [
    {"id": "m001", "name": "数码优选旗舰店"},
    {"id": "m002", "name": "极客电脑影音专营店"},
    {"id": "m003", "name": "悦动运动旗舰店"},
    {"id": "m004", "name": "美妆护肤生活馆"},
    {"id": "m005", "name": "优选家电食品百货店"},
]

CATEGORY_MERCHANT = {
    "手机": "m001",
    "平板电脑": "m001",
    "智能手表": "m001",
    "手机配件": "m001",
    "笔记本电脑": "m002",
    "耳机": "m002",
    "跑步鞋": "m003",
    "运动服饰": "m003",
    "护肤品": "m004",
    "彩妆": "m004",
    "小家电": "m005",
    "零食饮料": "m005",
}

CATEGORIES = [
    {"name": "手机", "parent": "手机数码",
     "aliases": ["智能手机", "电话", "手机", "5G手机", "新手机", "phone"]},
    {"name": "笔记本电脑", "parent": "电脑办公",
     "aliases": ["笔记本", "电脑", "laptop", "手提电脑", "轻薄本", "游戏本", "notebook"]},
    {"name": "平板电脑", "parent": "电脑办公",
     "aliases": ["平板", "pad", "tablet", "学习平板", "平板机"]},
    {"name": "耳机", "parent": "手机数码",
     "aliases": ["蓝牙耳机", "耳麦", "无线耳机", "降噪耳机", "耳塞", "头戴式耳机", "earphone"]},
    {"name": "智能手表", "parent": "手机数码",
     "aliases": ["手表", "智能手环", "手环", "运动手表", "电话手表", "儿童手表", "smartwatch"]},
    {"name": "手机配件", "parent": "手机数码",
     "aliases": ["配件", "手机壳", "充电器", "数据线", "贴膜", "充电宝", "钢化膜", "移动电源", "充电头"]},
    {"name": "跑步鞋", "parent": "运动户外",
     "aliases": ["跑鞋", "运动鞋", "慢跑鞋", "鞋子", "竞速跑鞋", "碳板跑鞋"]},
    {"name": "运动服饰", "parent": "运动户外",
     "aliases": ["运动服", "运动装", "健身服", "瑜伽服", "速干衣", "运动裤", "冲锋衣", "运动袜"]},
    {"name": "护肤品", "parent": "美妆护肤",
     "aliases": ["护肤", "面霜", "精华", "爽肤水", "洗面奶", "防晒霜", "化妆水", "乳液"]},
    {"name": "彩妆", "parent": "美妆护肤",
     "aliases": ["化妆品", "口红", "粉底", "底妆", "眼影", "唇釉", "美妆"]},
    {"name": "小家电", "parent": "家用电器",
     "aliases": ["家电", "厨房电器", "电器", "个护电器", "生活电器", "小电器"]},
    {"name": "零食饮料", "parent": "食品饮料",
     "aliases": ["零食", "饮料", "吃的", "喝的", "小吃", "休闲零食", "食品", "饮品"]},
]  # fmt: skip

CATEGORY_NAMES = [c["name"] for c in CATEGORIES]

# Controlled tag vocabulary: every product tag comes from here.
TAGS = [
    "送礼", "学生", "老人", "儿童", "女生", "男士", "商务", "办公", "游戏", "拍照",
    "轻薄", "大屏", "续航", "长续航", "快充", "性价比", "入门", "旗舰", "新品", "折叠屏",
    "降噪", "音质", "通勤", "运动", "跑步", "马拉松", "户外", "瑜伽", "健身", "健康",
    "扁平足", "缓震", "保湿", "敏感肌", "油皮", "干皮", "控油", "美白", "抗老", "修护",
    "防晒", "家用", "宿舍", "早餐", "低糖", "提神", "年货", "创作", "学习", "网课", "追剧",
]  # fmt: skip


def _a(
    kind: str, unit: str | None = None, better: str | None = None, aliases: str = ""
) -> dict[str, Any]:
    return {"type": kind, "unit": unit, "better": better, "aliases": aliases.split()}


_COLOR = _a("list", aliases="颜色 配色 有什么颜色 什么颜色")
_WEIGHT_G = _a("number", "g", "lower", "重量 多重 重不重 分量")

# type: number | text | list | bool. better: which direction wins a comparison.
# Text values such as '512GB' or '16GB' carry their unit; compare them by the leading number.
ATTRIBUTE_SCHEMA: dict[str, dict[str, dict[str, Any]]] = {
    "手机": {
        "屏幕尺寸": _a("number", "英寸", None, "屏幕 屏幕多大 尺寸 屏幕尺寸"),
        "电池容量": _a("number", "mAh", "higher", "电池 续航 电量 电池多大 待机"),
        "存储容量": _a("text", None, "higher", "存储 存储空间 机身存储 内存多大 多少G"),
        "运行内存": _a("text", None, "higher", "内存 运存 RAM 运行内存"),
        "主摄像素": _a("number", "万像素", "higher", "像素 摄像头 拍照 相机 主摄"),
        "5G": _a("bool", None, "higher", "5G 支持5G吗 5G网络"),
        "重量": _WEIGHT_G,
        "颜色": _COLOR,
        "处理器": _a("text", None, None, "芯片 CPU 处理器 什么芯片 SoC"),
        "充电功率": _a("number", "W", "higher", "快充 充电 充电速度 几瓦 充电功率"),
        "屏幕刷新率": _a("number", "Hz", "higher", "刷新率 高刷 几Hz"),
        "操作系统": _a("text", None, None, "系统 操作系统 什么系统"),
        "折叠屏": _a("bool", None, None, "折叠 折叠屏吗 可折叠"),
    },
    "笔记本电脑": {
        "屏幕尺寸": _a("number", "英寸", None, "屏幕 屏幕多大 尺寸 几寸"),
        "处理器": _a("text", None, None, "CPU 芯片 处理器 什么处理器"),
        "内存": _a("text", None, "higher", "内存 运行内存 RAM 内存多大"),
        "硬盘": _a("text", None, "higher", "硬盘 存储 固态 SSD 硬盘多大"),
        "显卡": _a("text", None, None, "显卡 独显 GPU 什么显卡"),
        "独立显卡": _a("bool", None, "higher", "独显 有独显吗 独立显卡"),
        "重量": _a("number", "kg", "lower", "重量 多重 重不重 便携"),
        "续航": _a("number", "小时", "higher", "续航 电池 能用多久 待机"),
        "屏幕刷新率": _a("number", "Hz", "higher", "刷新率 高刷 几Hz"),
        "操作系统": _a("text", None, None, "系统 操作系统 什么系统"),
        "颜色": _COLOR,
    },
    "平板电脑": {
        "屏幕尺寸": _a("number", "英寸", None, "屏幕 屏幕多大 尺寸 几寸"),
        "处理器": _a("text", None, None, "芯片 CPU 处理器"),
        "存储容量": _a("text", None, "higher", "存储 存储空间 内存多大 多少G"),
        "运行内存": _a("text", None, "higher", "内存 运存 RAM"),
        "电池容量": _a("number", "mAh", "higher", "电池 续航 电量"),
        "重量": _WEIGHT_G,
        "屏幕刷新率": _a("number", "Hz", "higher", "刷新率 高刷"),
        "支持手写笔": _a("bool", None, "higher", "手写笔 触控笔 能用笔吗 支持笔"),
        "网络": _a("text", None, None, "网络 能插卡吗 WiFi版 蜂窝版"),
        "操作系统": _a("text", None, None, "系统 操作系统"),
        "颜色": _COLOR,
    },
    "耳机": {
        "类型": _a("text", None, None, "类型 款式 佩戴方式 入耳 头戴"),
        "降噪": _a("bool", None, "higher", "降噪 主动降噪 能降噪吗 ANC"),
        "续航": _a("number", "小时", "higher", "续航 电池 能听多久 待机"),
        "蓝牙版本": _a("number", None, "higher", "蓝牙 蓝牙版本 蓝牙几"),
        "防水等级": _a("text", None, None, "防水 防水吗 防汗 防水等级"),
        "连接方式": _a("text", None, None, "连接 有线 无线 连接方式"),
        "重量": _WEIGHT_G,
        "颜色": _COLOR,
    },
    "智能手表": {
        "屏幕尺寸": _a("number", "英寸", None, "屏幕 屏幕多大 尺寸"),
        "表盘尺寸": _a("number", "mm", None, "表盘 表盘大小 多大 表径"),
        "续航": _a("number", "小时", "higher", "续航 电池 能用几天 待机"),
        "防水等级": _a("text", None, None, "防水 防水吗 能游泳吗 防水等级"),
        "心率监测": _a("bool", None, "higher", "心率 测心率"),
        "血氧监测": _a("bool", None, "higher", "血氧 测血氧"),
        "血压监测": _a("bool", None, "higher", "血压 测血压"),
        "GPS": _a("bool", None, "higher", "GPS 定位 独立定位"),
        "eSIM": _a("bool", None, "higher", "eSIM 独立通话 能打电话吗 插卡"),
        "重量": _WEIGHT_G,
        "适配系统": _a("list", None, None, "适配 兼容 支持苹果吗 支持安卓吗"),
        "表带材质": _a("text", None, None, "表带 表带材质"),
        "颜色": _COLOR,
    },
    "手机配件": {
        "类型": _a("text", None, None, "类型 什么配件"),
        "适配机型": _a("list", None, None, "适配 适用 适配机型 兼容 能用吗 哪些手机能用"),
        "功率": _a("number", "W", "higher", "功率 几瓦 快充 充电速度"),
        "容量": _a("number", "mAh", "higher", "容量 多少毫安 电量"),
        "接口": _a("text", None, None, "接口 Type-C 口 什么接口"),
        "长度": _a("number", "米", None, "长度 多长 线长"),
        "材质": _a("text", None, None, "材质 什么材料"),
        "磁吸": _a("bool", None, "higher", "磁吸 MagSafe 支持磁吸吗"),
        "重量": _WEIGHT_G,
        "颜色": _COLOR,
    },
    "跑步鞋": {
        "尺码": _a("list", None, None, "尺码 码数 鞋码 有几码 多大码"),
        "适用场景": _a("list", None, None, "场景 适合什么 用途 适合跑马拉松吗"),
        "缓震": _a("text", None, None, "缓震 脚感 软不软 回弹"),
        "重量": _a("number", "g", "lower", "重量 多重 轻不轻"),
        "颜色": _COLOR,
        "适用人群": _a("text", None, None, "男款 女款 男女 适合谁"),
        "碳板": _a("bool", None, None, "碳板 有碳板吗"),
        "支撑类型": _a("text", None, None, "支撑 稳定 扁平足 足弓"),
        "中底科技": _a("text", None, None, "中底 科技 泡棉"),
    },
    "运动服饰": {
        "款式": _a("text", None, None, "款式 类型 什么衣服"),
        "尺码": _a("list", None, None, "尺码 码数 大小 有几码"),
        "面料": _a("text", None, None, "面料 材质 什么料子 透气吗"),
        "适用场景": _a("list", None, None, "场景 适合什么 用途"),
        "适用人群": _a("text", None, None, "男款 女款 男女 适合谁"),
        "速干": _a("bool", None, "higher", "速干 排汗 快干"),
        "季节": _a("text", None, None, "季节 冬天穿 夏天穿 厚不厚"),
        "颜色": _COLOR,
    },
    "护肤品": {
        "品类": _a("text", None, None, "品类 类型 是什么"),
        "适用肤质": _a("list", None, None, "肤质 适合什么皮肤 敏感肌能用吗 油皮能用吗 干皮能用吗"),
        "功效": _a("list", None, None, "功效 作用 效果 有什么用"),
        "容量": _a("text", None, None, "容量 多少毫升 规格 多大瓶"),
        "主要成分": _a("list", None, None, "成分 主要成分 含什么"),
        "防晒指数": _a("number", None, "higher", "SPF 防晒指数 防晒倍数"),
    },
    "彩妆": {
        "品类": _a("text", None, None, "品类 类型 是什么"),
        "色号": _a("list", None, None, "色号 颜色 有哪些色号 什么色"),
        "质地": _a("text", None, None, "质地 干不干 滋润吗"),
        "妆效": _a("text", None, None, "妆效 哑光 水光 效果"),
        "适用肤质": _a("list", None, None, "肤质 适合什么皮肤 油皮能用吗 干皮能用吗"),
        "净含量": _a("text", None, None, "净含量 容量 规格 多少克"),
        "持妆时长": _a("number", "小时", "higher", "持妆 持久 能保持多久 掉妆吗"),
        "防水": _a("bool", None, "higher", "防水 防汗 会晕吗"),
    },
    "小家电": {
        "品类": _a("text", None, None, "品类 类型 是什么"),
        "功率": _a("number", "W", None, "功率 几瓦 耗电吗"),
        "容量": _a("number", "L", None, "容量 多大 几升"),
        "适用人数": _a("text", None, None, "几个人用 适用人数 够几个人吃"),
        "智能互联": _a("bool", None, "higher", "APP 智能 手机控制 联网"),
        "续航": _a("number", "分钟", "higher", "续航 能用多久 电池"),
        "续航天数": _a("number", "天", "higher", "续航 充一次用几天"),
        "重量": _a("number", "kg", "lower", "重量 多重 重不重"),
        "噪音": _a("number", "dB", "lower", "噪音 吵不吵 声音大吗 静音"),
        "适用面积": _a("number", "㎡", "higher", "面积 适用面积 多大房间"),
        "颜色": _COLOR,
    },
    "零食饮料": {
        "品类": _a("text", None, None, "品类 类型 是什么"),
        "净含量": _a("text", None, None, "净含量 多少克 规格 分量 几瓶"),
        "口味": _a("list", None, None, "口味 味道 什么味 好吃吗"),
        "保质期": _a("number", "天", None, "保质期 能放多久 多久过期"),
        "是否低糖": _a("bool", None, None, "低糖 无糖 含糖吗 糖尿病能吃吗 0糖"),
        "包装": _a("text", None, None, "包装 袋装 箱装 礼盒"),
        "产地": _a("text", None, None, "产地 哪里产的"),
        "储存方式": _a("text", None, None, "储存 保存 要冷藏吗"),
        "热量": _a("number", "kcal/100g", "lower", "热量 卡路里 会胖吗"),
    },
}
