"""Who a purchase is for and what it is for, in shoppers' words, and the catalog tags they imply."""

from __future__ import annotations

import re

# Who it is for and what it is for; each maps to catalog tags the search boosts.
SCENES: dict[str, tuple[str, ...]] = {
    "送妈妈": ("老人", "送礼", "大屏"),
    "送爸爸": ("老人", "送礼", "大屏"),
    "送长辈": ("老人", "送礼"),
    "送女朋友": ("女生", "送礼", "拍照"),
    "送男朋友": ("送礼", "游戏"),
    "送礼": ("送礼",),
    "学生": ("学生", "性价比"),
    "打游戏": ("游戏",),
    "拍照": ("拍照",),
    "办公": ("办公", "商务", "轻薄"),
    "上班通勤": ("通勤", "轻薄", "降噪"),
    "运动": ("运动",),
}
_SCENE_WORDS = {
    "送妈妈": ("我妈", "妈妈", "母亲", "老妈"),
    "送爸爸": ("我爸", "爸爸", "父亲", "老爸"),
    "送长辈": ("长辈", "老人", "爷爷", "奶奶", "外婆", "姥姥"),
    "送女朋友": ("女朋友", "女友", "老婆", "媳妇"),
    "送男朋友": ("男朋友", "男友", "老公"),
    "送礼": ("送人", "送礼", "礼物"),
    "学生": ("学生", "上学", "网课", "宿舍"),
    "打游戏": ("游戏", "吃鸡", "王者", "原神", "电竞"),
    "拍照": ("拍照", "摄影", "自拍", "拍视频"),
    "办公": ("办公", "工作", "商务", "写代码"),
    "上班通勤": ("通勤", "地铁", "上班路上"),
    "运动": (
        "运动",
        "跑步",
        "健身",
        "篮球",
        "足球",
        "打球",
        "羽毛球",
        "游泳",
        "骑行",
        "爬山",
        "徒步",
    ),
}


_LIKES = re.compile(
    r"^(?:他|她|我妈|我爸|妈妈|爸爸|对方|孩子|女朋友|男朋友|老婆|老公)?\s*(?:平时|平常|一般|特别|很)?"
    r"(?:喜欢|爱|爱好是?|热爱)\s*(.+?)[。！!~～]*$"
)


def hobby_of(text: str) -> str | None:
    """「她平时喜欢做饭」 → "做饭": what someone likes, without the words around it (they pull
    a search towards whatever mentions 喜欢)."""
    match = _LIKES.match(text.strip())
    return match.group(1) if match else None


def scene_of(text: str) -> str | None:
    for scene, words in _SCENE_WORDS.items():
        if any(w in text for w in words):
            return scene
    return None


def is_gift(scene: str | None) -> bool:
    """Buying for someone else: the shopper usually has not decided what exactly."""
    return bool(scene) and scene.startswith("送")
