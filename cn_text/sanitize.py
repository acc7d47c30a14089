"""Shopper text as it reaches the NLU: bounded, printable, and unable to drive the bot directly.

The Rasa channels (bot/channels/) clean every message with it before the NLU sees it.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

MAX_MESSAGE = 1000  # characters; shopping questions are short, the rest is pasted noise
# "/restart" would bypass the NLU and lift a paused (handed-off) conversation; other "/intent"
# payloads are what our own buttons send (two-stage fallback), so only these are refused.
RESERVED_COMMANDS = re.compile(
    r"^\s*/(restart|session_start|back|stop|action_\w+)\b", re.IGNORECASE
)


def clean_message(raw: Any) -> str | None:
    """Control and format characters dropped (line breaks and tabs kept), cut to MAX_MESSAGE,
    and a leading "/restart"-like command turned into plain text; None stays None."""
    if raw is None:
        return None
    text = raw if isinstance(raw, str) else str(raw)
    text = "".join(
        ch for ch in text if ch in "\n\t" or not unicodedata.category(ch).startswith("C")
    )
    text = text[:MAX_MESSAGE]
    if RESERVED_COMMANDS.match(text):
        text = text.lstrip().lstrip("/")
    return text
