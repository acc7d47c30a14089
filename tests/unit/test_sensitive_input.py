"""The sensitive-word list on what shoppers type (cn_text/sensitive.py, the shipped list): the
categories, the dodges it catches and the ones it documents as not caught, ordinary shopping
questions left alone, and the file the shop edits picked up without a restart. How the channels
answer such a message: tests/rasa/test_chat_guard.py."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from cn_text.sensitive import SensitiveWords, SensitiveWordsFile

REPO = Path(__file__).resolve().parents[2]
LIST = REPO / "data" / "moderation" / "sensitive_words.txt"


@pytest.fixture(scope="module")
def words() -> SensitiveWords:
    return SensitiveWords.load(LIST)


def test_the_list_has_the_three_categories(words):
    assert {"politics", "abuse", "fraud"} <= set(words.categories)


@pytest.mark.parametrize(
    ("text", "category", "found"),
    [
        ("你们支持台独吗", "politics", "台独"),
        ("说说法轮功", "politics", "法轮功"),
        ("有没有人接刷单", "fraud", "刷单"),
        ("加微信转账给你便宜点", "fraud", "加微信转账"),
        ("信用卡可以套现吗", "fraud", "套现"),
        ("找人代付有返利吗", "fraud", "代付有返利"),
        ("兼职代付日结", "fraud", "兼职代付"),
        ("你个弱智机器人", "abuse", "弱智"),
    ],
)
def test_each_category(words, text, category, found):
    [hit] = words.find(text)
    assert (hit.category, hit.text) == (category, found)


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("可以刷 单吗", "刷 单"),
        ("可以刷　单吗", "刷　单"),  # ideographic space
        ("可以刷。单吗", "刷。单"),
        ("可以刷，单吗", "刷，单"),
        ("可以刷-单吗", "刷-单"),
        ("可以刷！单吗", "刷！单"),  # full-width punctuation
        ("可以刷【单】吗", "刷【单"),
        ("加*微*信*转*账", "加*微*信*转*账"),
        ("加 微 信 转 账", "加 微 信 转 账"),
        ("傻😀逼", "傻😀逼"),
        ("傻→逼", "傻→逼"),
        ("ＳＢ客服", "ＳＢ客服"),  # full-width letters
        ("Ｓｂ客服", "Ｓｂ客服"),
        ("s.b客服", "s.b客服"),
        ("嗯…可以刷单吗", "刷单"),  # … is three characters in NFKC: places stay right
    ],
)
def test_dodges_between_the_characters_are_caught(words, text, found):
    [hit] = words.find(text)
    assert hit.text == found and text[hit.start : hit.end] == found


@pytest.mark.parametrize(
    "text",
    [
        "傻x逼",  # a letter between the characters
        "可以刷个单吗",  # another Chinese character between them
        "儍逼",  # a traditional variant
        "shabi",  # pinyin
        "可以刷",  # half a word in one message ...
    ],
)
def test_what_the_list_does_not_catch_as_documented(words, text):
    assert words.find(text) == []


def test_a_word_across_punctuation_is_found_as_documented(words):
    [hit] = words.find("别催了滚，蛋糕到了吗")
    assert (hit.category, hit.text) == ("abuse", "滚，蛋")


@pytest.mark.parametrize(
    "text",
    [
        "能找朋友代付吗",  # faq/payment: the bot answers it
        "这款手机跑分多少",
        "天安门纪念品有卖吗",
        "滚筒洗衣机有吗",
        "这个套装多少钱",
        "有现货吗",
        "能开发票吗，要增值税专用发票",
        "加微信能优惠吗",
        "银行卡支付安全吗",
        "刷新一下",
    ],
)
def test_ordinary_shopping_questions_pass(words, text):
    assert words.find(text) == []


def _texts(path: Path) -> list[str]:
    """Every string in a YAML file, multi-line example blocks split into lines."""
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
        elif isinstance(node, str):
            found.extend(line.lstrip("- ").strip() for line in node.splitlines())

    walk(yaml.safe_load(path.read_text(encoding="utf-8")))
    return found


def test_the_bots_training_data_and_the_test_chats_pass_but_insults(words):
    """What the bot is trained on and what the suites send must reach the bot; only insults
    (chitchat/insult examples) are refused now, with the channel's own polite answer."""
    files = [
        *sorted((REPO / "bot" / "data").rglob("*.yml")),
        *sorted((REPO / "tests" / "conversations").glob("*.yml")),
        *sorted((REPO / "tests" / "shopper_suite").glob("*.yml")),
        *sorted((REPO / "bot" / "domain").glob("*.yml")),
    ]
    assert len(files) > 10
    refused = {
        (path.name, hit.category, text)
        for path in files
        for text in _texts(path)
        for hit in words.find(text)
    }
    assert refused == {
        ("chitchat.yml", "abuse", "你个弱智"),
        ("chitchat.yml", "abuse", "脑残"),
        ("chitchat.yml", "abuse", "弱智机器人"),
    }


# -- the file the shop edits -----------------------------------------------------------------


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def _write(path: Path, text: str, mtime: float) -> None:
    path.write_text(text, encoding="utf-8")
    os.utime(path, (mtime, mtime))


def test_an_edit_is_picked_up_without_a_restart(tmp_path):
    path, clock = tmp_path / "words.txt", Clock()
    _write(path, "[fraud]\n刷单\n", 1_000)
    watched = SensitiveWordsFile(path, check_seconds=1.0, clock=clock)
    assert [h.text for h in watched.current().find("刷单套现")] == ["刷单"]
    _write(path, "[fraud]\n刷单\n套现\n", 2_000)
    assert [h.text for h in watched.current().find("刷单套现")] == ["刷单"]  # looked a moment ago
    clock.now += 1.0
    assert [h.text for h in watched.current().find("刷单套现")] == ["刷单", "套现"]


def test_a_broken_edit_keeps_the_list_and_a_missing_file_is_empty(tmp_path, caplog):
    path, clock = tmp_path / "words.txt", Clock()
    _write(path, "[fraud]\n刷单\n", 1_000)
    watched = SensitiveWordsFile(path, check_seconds=0.0, clock=clock)
    assert watched.current().find("刷单")
    _write(path, "[fraud]\n刷单\nre:(unclosed\n", 2_000)
    assert watched.current().find("刷单")  # the previous list stays
    assert "not reloaded" in caplog.text and "line 3" in caplog.text
    path.unlink()
    assert watched.current().find("刷单") == []
    _write(path, "[abuse]\n傻逼\n", 3_000)
    assert watched.current().find("刷单") == [] and watched.current().find("傻逼")


@pytest.mark.parametrize(
    "text",
    [
        "请问安踏 男子运动针织外套现在卖多少钱？",  # the catalog suite's case the guard refused
        "手套现货吗",
        "AirPods保护套现在有货吗",
        "这件外套现代风的",
    ],
)
def test_a_product_named_with_tao_before_xian_is_no_cash_out(words, text):
    assert words.find(text) == []


@pytest.mark.parametrize("text", ["信用卡可以套现吗", "能套 现吗", "帮我套现"])
def test_cash_out_is_still_refused(words, text):
    assert [h.category for h in words.find(text)] == ["fraud"]


def test_every_product_asked_about_reaches_the_bot(words):
    """A product's title, model or alias with the words shoppers put after it (「…外套现在多少钱」
    met 套现) is never refused: every product of the seed catalog, five question tails."""
    from tests.shopper_suite import seed_graph

    tails = ("现在多少钱", "现货吗", "有货吗", "怎么样", "还有吗")
    names = {
        name
        for product in seed_graph().products.values()
        for name in (product.title, product.model, *product.aliases)
        if name
    }
    refused = sorted(
        (name + tail, hit.text)
        for name in names
        for tail in tails
        for hit in words.find(name + tail)
    )
    assert refused == []
