"""What the chat channels check before a shopper's message reaches the bot: the rate limits per
shopper and per client address, and the shop's sensitive words. Free of Rasa and Sanic, so the
REST and Socket.IO channels share it and unit tests drive it with a fake clock.

Order: the limits first (a flood of sensitive messages is still a flood), then the words. A
message refused by either never reaches the bot or the tracker; the channel answers it itself:
- too fast: 「您发送得有点快，请稍等几秒再发哦～」 (REST: 429 with Retry-After; Socket.IO: once per
  throttled burst). One shopper's flood uses up only their own bucket, never their address's,
  so others behind the same NAT are unaffected.
- a sensitive word: a polite refusal (for an insult, an apology and the way to a person, as
  the bot's own answer to one), and one log line with the shopper id and the word's
  category, never the text (the logs must not hold what shoppers type: tests/e2e/test_logs_masked.py).

Credentials (each channel's; the launcher renders them from the settings, daogou/settings.py):
  rate_per_shopper  "N/S": N messages at once, N more every S seconds, per verified shopper id
                    (DAOGOU_CHAT_RATE_PER_SHOPPER, default 10/10: a person types at most about
                    one a second, quick-reply clicks come in short runs); "off" for none
  rate_per_ip       the same per client address (DAOGOU_CHAT_RATE_PER_IP, default 60/10: one
                    address may be a shop floor, an office or a carrier's NAT full of shoppers)
  trusted_proxies   addresses or networks whose X-Forwarded-For is believed (DAOGOU_TRUSTED_PROXIES,
                    default none: the peer is the client); see cn_text.ratelimit.client_address
  proxy_token       a caller sending it as X-Daogou-Proxy is trusted as a proxy whatever its
                    address: the web app's /api/chat (web/routes/chat.py), which forwards its
                    client's address; the launcher gives it the Rasa token
  sensitive_words   the word list file (DAOGOU_SENSITIVE_WORDS, default
                    data/moderation/sensitive_words.txt), read again when it changes
"""

from __future__ import annotations

import hmac
import json
import logging
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cn_text.ratelimit import (
    Clock,
    Rate,
    RateLimiter,
    TrustedProxies,
    acquire_all,
    client_address,
)
from cn_text.sensitive import SensitiveWordsFile

logger = logging.getLogger(__name__)

PROXY_HEADER = "X-Daogou-Proxy"
SENSITIVE_WORDS = (
    Path(__file__).resolve().parents[2] / "data" / "moderation" / "sensitive_words.txt"
)
DEFAULT_PER_SHOPPER = "10/10"
DEFAULT_PER_IP = "60/10"

THROTTLED_TEXT = "您发送得有点快，请稍等几秒再发哦～"
BLOCKED_TEXT = "抱歉，这个话题我无法回答。有购物方面的问题，我很乐意帮您～"
# An angry shopper should still find a person: the bot's own answer to an insult says the same.
ABUSE_TEXT = "抱歉没能让您满意，咱们文明交流哦～告诉我您想找的商品，或者说「转人工」找客服帮您。"


@dataclass(frozen=True)
class Refusal:
    """Why a message does not reach the bot, and what the shopper is told instead."""

    reason: str  # "throttled" or "blocked"
    text: str
    retry_after: float = 0.0  # seconds, when throttled
    category: str = ""  # the word's category, when blocked

    @property
    def retry_after_header(self) -> str:
        """Whole seconds, at least 1 (HTTP's Retry-After)."""
        return str(max(1, math.ceil(self.retry_after)))


class ChatGuard:
    def __init__(
        self,
        per_shopper: Rate | None = Rate.parse(DEFAULT_PER_SHOPPER),
        per_ip: Rate | None = Rate.parse(DEFAULT_PER_IP),
        trusted_proxies: TrustedProxies | None = None,
        proxy_token: str | None = None,
        words_file: Path = SENSITIVE_WORDS,
        clock: Clock = time.monotonic,
    ) -> None:
        self.shoppers = RateLimiter.of(per_shopper, clock=clock) if per_shopper else None
        self.addresses = RateLimiter.of(per_ip, clock=clock) if per_ip else None
        self.trusted = trusted_proxies or TrustedProxies()
        self.proxy_token = str(proxy_token) if proxy_token else None
        self.words = SensitiveWordsFile(words_file, clock=clock)
        self.words.current()  # read at start: a missing or broken list shows in Rasa's log now

    @classmethod
    def from_credentials(cls, credentials: Mapping[str, Any] | None) -> ChatGuard:
        """From a channel's credentials (module docstring); a bad value fails Rasa's start."""
        credentials = credentials or {}
        return cls(
            _rate(credentials.get("rate_per_shopper"), DEFAULT_PER_SHOPPER),
            _rate(credentials.get("rate_per_ip"), DEFAULT_PER_IP),
            TrustedProxies.parse(credentials.get("trusted_proxies")),
            credentials.get("proxy_token"),
            Path(credentials.get("sensitive_words") or SENSITIVE_WORDS),
        )

    def client_address(
        self, peer: str, forwarded_for: str | None, proxy_token: str | None = None
    ) -> str:
        """The client of a request from `peer` (cn_text.ratelimit.client_address), with a
        caller that shows the proxy token trusted like a configured proxy."""
        shown = bool(self.proxy_token and proxy_token) and hmac.compare_digest(
            str(proxy_token).encode(), str(self.proxy_token).encode()
        )
        return client_address(peer, forwarded_for, self.trusted, peer_trusted=shown)

    def check(self, sender: str, address: str, text: str | None) -> Refusal | None:
        """None if the message may go to the bot, else what to answer instead (module docstring).
        A message that passes has used a token of both limits."""
        limits = [(self.shoppers, sender), (self.addresses, address)]
        wait = acquire_all((limiter, key) for limiter, key in limits if limiter is not None)
        if wait > 0:
            logger.debug("chat: %s at %s is sending too fast", sender, address)
            return Refusal("throttled", THROTTLED_TEXT, retry_after=wait)
        hits = self.words.current().find(text or "")
        if hits:
            category = hits[0].category
            logger.warning("moderation: a message from %s was refused (%s)", sender, category)
            return Refusal(
                "blocked", ABUSE_TEXT if category == "abuse" else BLOCKED_TEXT, 0.0, category
            )
        return None


def _rate(value: object, default: str) -> Rate | None:
    """A credential's rate: unset is the default; YAML reads a bare `off` as false."""
    if value is None or value == "":
        return Rate.parse(default)
    return None if value is False else Rate.parse(str(value))


SHOPPER_METADATA = {"product_sku": 64}  # what a page may tell the bot, with its longest value


def shopper_metadata(value: Any) -> dict[str, str]:
    """The message metadata a shopper's page may send (a JSON object or its text), reduced to
    the known keys with short string values: it is stored with every message in the tracker,
    and the actions read ``product_sku`` (「这款」 on a product page, actions/state.py)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    if not isinstance(value, Mapping):
        return {}
    return {
        key: item
        for key, longest in SHOPPER_METADATA.items()
        if isinstance(item := value.get(key), str) and 0 < len(item) <= longest
    }
