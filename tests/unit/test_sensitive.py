"""The shop's sensitive-word list: the shipped file parses, dodges are caught, ordinary
shopping text is not touched."""

from __future__ import annotations

from pathlib import Path

import pytest

from cn_text.sensitive import SensitiveWords

LIST = Path(__file__).resolve().parents[2] / "data" / "moderation" / "sensitive_words.txt"


@pytest.fixture(scope="module")
def words() -> SensitiveWords:
    return SensitiveWords.load(LIST)


@pytest.mark.parametrize(
    ("text", "category", "found"),
    [
        ("你们这个客服就是个傻逼", "abuse", "傻逼"),
        ("ＳＢ客服半天不回", "abuse", "ＳＢ客服"),
        ("可以帮忙刷 单吗，有佣金", "fraud", "刷 单"),
        ("加微信领红包，返现50", "fraud", "加微信领"),
        ("点击链接马上领取优惠", "fraud", "点击链接马上领取"),
        ("把银行卡号和验证码发我", "fraud", "银行卡号和验证码"),
    ],
)
def test_hits_with_their_category_and_place(words, text, category, found):
    [hit] = words.find(text)
    assert (hit.category, hit.text) == (category, found)
    assert text[hit.start : hit.end] == found


@pytest.mark.parametrize(
    "text",
    [
        "滚筒洗衣机有吗",
        "刷新一下单品页",
        "货到付款可以吗",
        "这个代码怎么用",
        "傻傻分不清哪款好",
        "小米14多少钱",
    ],
)
def test_ordinary_shopping_text_is_untouched(words, text):
    assert words.find(text) == []
    assert words.mask(text) == text


def test_mask_keeps_the_length(words):
    assert words.mask("加微信转账更便宜") == "＊＊＊＊＊更便宜"


def test_a_broken_pattern_names_its_line():
    with pytest.raises(ValueError, match="line 2"):
        SensitiveWords.parse("[x]\nre:(unclosed\n")
    assert SensitiveWords.parse("").find("任何文字") == []
