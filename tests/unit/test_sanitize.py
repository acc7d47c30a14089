from __future__ import annotations

import pytest

from cn_text.sanitize import MAX_MESSAGE, clean_message


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("华为Mate60多少钱", "华为Mate60多少钱"),
        ("/restart", "restart"),
        ("  /session_start", "session_start"),
        ("/action_request_human", "action_request_human"),
        ("/ask_attribute", "/ask_attribute"),  # our own fallback buttons still work
        ("a\x00b\x1bc\u200bd", "abcd"),
        ("第一行\n第二行", "第一行\n第二行"),
        (12345, "12345"),
        (None, None),
    ],
)
def test_clean_message(raw, expected):
    assert clean_message(raw) == expected


def test_long_messages_are_cut():
    assert len(clean_message("很" * 10_000)) == MAX_MESSAGE
