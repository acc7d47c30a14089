"""Chinese and Arabic numerals (cn_text/numbers.py), and what every cn_text module may import."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

import cn_text
from cn_text.numbers import parse_chinese_number

# ------------------------------------------------------------------ parse_chinese_number

NUMBERS = [
    ("三千", 3000),
    ("一千五", 1500),
    ("1.5万", 15000),
    ("两百", 200),
    ("2k", 2000),
    ("3K", 3000),
    ("五百", 500),
    ("十", 10),
    ("十五", 15),
    ("二十五", 25),
    ("一万二", 12000),
    ("两千五百", 2500),
    ("3w", 30000),
    ("1.5W", 15000),
    ("零", 0),
    ("〇", 0),
    ("３０００", 3000),
    ("3000", 3000),
    ("3,000", 3000),
    ("299.9", 299.9),
    ("一千零五", 1005),
    ("两百五", 250),
    ("三千五", 3500),
    ("一万五千", 15000),
    ("一万二千五", 12500),
    ("1万2", 12000),
    ("3千", 3000),
    ("1千5", 1500),
    ("十万", 100000),
    ("一百一十", 110),
    ("兩千", 2000),
    ("壹仟贰佰", 1200),
    ("一亿", 100000000),
    ("2.5k", 2500),
    ("3000元", 3000),
    ("¥299", 299),
    ("五百块", 500),
    (" 800 ", 800),
    ("1w2", 12000),
    ("2k5", 2500),
    ("八百八", 880),
]

NOT_NUMBERS = [
    "",
    "手机",
    "千",
    "百",
    "两三千",
    "二零二四",
    "五百三千",
    "三千以内",
    "2kg",
    "abc",
    "一千两千",
    "iPhone15",
]


@pytest.mark.parametrize(("text", "expected"), NUMBERS)
def test_parse_chinese_number(text: str, expected: float) -> None:
    assert parse_chinese_number(text) == pytest.approx(expected)


@pytest.mark.parametrize("text", NOT_NUMBERS)
def test_parse_chinese_number_refuses_non_numbers(text: str) -> None:
    assert parse_chinese_number(text) is None


# ------------------------------------------------------------------ the package


@pytest.mark.parametrize(
    "path", sorted(Path(cn_text.__file__).parent.glob("*.py")), ids=lambda path: path.name
)
def test_cn_text_imports_only_the_standard_library(path: Path) -> None:
    # The Rasa server (Python 3.10, no numpy) and the action server (3.11, no rasa) import it.
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported = {
        (node.module or "").split(".")[0]
        if isinstance(node, ast.ImportFrom)
        else alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert imported <= set(sys.stdlib_module_names) | {"__future__", "cn_text"}
