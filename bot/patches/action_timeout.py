"""A custom action call is bounded in time, and an action server that is down, slow or failing
gets the shopper a polite reply instead of silence.

Rasa 3.6.21's `RemoteAction.run` posts to the action server with `DEFAULT_REQUEST_TIMEOUT`, 300 s,
and turns every failure into a `RasaException`; the processor logs it and the turn ends with
nothing sent. So a dead action server left the shopper without an answer, and a slow one kept
them waiting up to five minutes. Here the original `run` is awaited under the endpoint's
`timeout` (endpoints.yml `action_endpoint.timeout`, rendered from `DAOGOU_ACTION_TIMEOUT_SECONDS`;
2.5 s when missing, so the whole reply arrives within 3 s). When the call times out, is refused,
or the server answers with an error status, the action's events are one `BotUttered` saying what
cannot be done right now (`WORDING`, by action name) and `FollowupAction("action_listen")`: the
failed action is logged as executed with no half-applied slot, the bot listens, and the next
message is predicted as usual. A 400 (the action rejected itself) and bugs (an invalid answer)
are Rasa's as before.

The wording is a table here, not responses in the domain: the domain is part of the trained
model, so new responses would need a retraining, and this reply must not depend on anything the
action server provides.

After `FAILURES_TO_OPEN` failures in a row on one endpoint, calls fail fast for `OPEN_SECONDS`
(the shopper gets the same reply at once instead of after the timeout); the first call after
that goes through again, and one success closes the breaker. No restart is needed either way.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.patches import base

NAME = "action_timeout"
_ACTION = "rasa.core.actions.action"
EXPECTED = (
    base.Signature(
        f"{_ACTION}:RemoteAction.run", signature="(self, output_channel, nlg, tracker, domain)"
    ),
    # How the original reports failures, which `unavailable_reason` reads: a 400 becomes
    # ActionExecutionRejection, other statuses a RasaException `from` the ClientResponseError,
    # a refused connection a RasaException raised while handling the ClientConnectionError.
    base.Source(f"{_ACTION}:RemoteAction.run", digest="f0cfd283c7b099c2"),
    base.Exists(f"{_ACTION}:ActionExecutionRejection"),
    base.Exists("rasa.utils.endpoints:ClientResponseError"),
    base.Contains(
        "rasa.utils.endpoints:EndpointConfig.__init__", snippets=("self.kwargs = kwargs",)
    ),
    # The processor logs the action with the events it returned, then honours a FollowupAction.
    base.Contains(
        "rasa.core.processor:MessageProcessor._run_action",
        snippets=(
            "events = await action.run(",
            "self._log_action_on_tracker(tracker, action, events",
        ),
    ),
    base.Contains(
        "rasa.core.processor:MessageProcessor._predict_next_with_tracker",
        snippets=("followup_action = tracker.followup_action",),
    ),
    base.Signature(
        "rasa.shared.core.events:BotUttered.__init__",
        signature="(self, text=None, data=None, metadata=None, timestamp=None)",
    ),
    base.Signature(
        "rasa.shared.core.events:FollowupAction.__init__",
        signature="(self, name, timestamp=None, metadata=None)",
    ),
)

DEFAULT_TIMEOUT_SECONDS = 2.5
FAILURES_TO_OPEN = 3
OPEN_SECONDS = 5.0

_PRODUCTS = "抱歉，商品查询暂时有点忙，请稍后再试一次～ 您也可以输入“转人工”联系客服。"
WORDING: dict[str, str] = {
    "action_search_products": _PRODUCTS,
    "action_refine_search": _PRODUCTS,
    "action_show_similar": _PRODUCTS,
    "action_needs_results": _PRODUCTS,
    "validate_needs_form": _PRODUCTS,
    "action_answer_attribute": _PRODUCTS,
    "action_check_compatibility": _PRODUCTS,
    "action_compare_products": "抱歉，商品对比暂时有点忙，请稍后再试一次～ 您也可以输入“转人工”联系客服。",
    "action_recommend": "抱歉，商品推荐暂时有点忙，请稍后再试一次～ 您也可以输入“转人工”联系客服。",
    "action_order_status": "抱歉，订单查询暂时不可用，请稍后再试一次～ 您也可以输入“转人工”联系客服。",
    "action_answer_faq": "抱歉，售后与常见问题的解答暂时有点忙，请稍后再试一次～ 您也可以输入“转人工”联系客服。",
    "action_record_feedback": "谢谢您的反馈！系统暂时有点忙，这条反馈可能没有记下，方便的话请稍后再说一次～",
    # Queuing a person is the action server's job too: never claim it happened.
    "action_request_human": "抱歉，人工客服转接暂时不可用，请稍后再输入一次“转人工”～",
}
DEFAULT_WORDING = "抱歉，系统暂时有点忙，请稍后再试一次～ 您也可以输入“转人工”联系客服。"

log = logging.getLogger(__name__)


def check() -> None:
    base.check(NAME, EXPECTED)


def apply() -> None:
    from rasa.core.actions.action import RemoteAction

    base.replace(RemoteAction, "run", run_bounded)


def wording(action_name: str) -> str:
    return WORDING.get(action_name, DEFAULT_WORDING)


def timeout_of(endpoint: Any) -> float:
    """The endpoint's `timeout` (seconds) from endpoints.yml, else the default."""
    value = (getattr(endpoint, "kwargs", None) or {}).get("timeout")
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return DEFAULT_TIMEOUT_SECONDS
    return seconds if seconds > 0 else DEFAULT_TIMEOUT_SECONDS


def unavailable_reason(error: BaseException) -> str | None:
    """Why the action server could not answer (timed out, refused, an error status), or None
    for a failure that is not an outage (a rejection, an invalid answer, no endpoint)."""
    import aiohttp
    from rasa.core.actions.action import ActionExecutionRejection
    from rasa.utils.endpoints import ClientResponseError

    if isinstance(error, ActionExecutionRejection):
        return None
    if isinstance(error, asyncio.TimeoutError):
        return "timed out"
    for cause in (error, error.__cause__, error.__context__):
        if isinstance(cause, ClientResponseError):
            return f"answered {cause.status}"
        if isinstance(cause, aiohttp.ClientConnectionError):
            return f"unreachable ({type(cause).__name__})"
        if isinstance(cause, aiohttp.ClientError):
            return f"failed ({type(cause).__name__})"
    return None


@dataclass
class Breaker:
    """Consecutive failures of one endpoint; open (fail fast) for `open_seconds` once they reach
    `failures_to_open`. After that, calls go through; the next failure opens it again at once."""

    failures_to_open: int = FAILURES_TO_OPEN
    open_seconds: float = OPEN_SECONDS
    clock: Callable[[], float] = time.monotonic
    failures: int = 0
    open_until: float = 0.0

    def is_open(self) -> bool:
        return self.clock() < self.open_until

    def failed(self) -> None:
        self.failures += 1
        if self.failures >= self.failures_to_open:
            self.open_until = self.clock() + self.open_seconds

    def succeeded(self) -> None:
        self.failures = 0
        self.open_until = 0.0


_breakers: dict[str, Breaker] = {}


def breaker_for(endpoint: Any) -> Breaker:
    url = str(getattr(endpoint, "url", None))
    if url not in _breakers:
        _breakers[url] = Breaker(FAILURES_TO_OPEN, OPEN_SECONDS)
    return _breakers[url]


def reset_breakers() -> None:
    _breakers.clear()


def unavailable_events(action_name: str) -> list[Any]:
    """What the failed action leaves: the polite reply, then listening."""
    from rasa.shared.core.constants import ACTION_LISTEN_NAME
    from rasa.shared.core.events import BotUttered, FollowupAction

    reply = BotUttered(wording(action_name), data={}, metadata={"action_unavailable": action_name})
    return [reply, FollowupAction(ACTION_LISTEN_NAME)]


async def run_bounded(
    self: Any, output_channel: Any, nlg: Any, tracker: Any, domain: Any
) -> list[Any]:
    """RemoteAction.run within the endpoint's timeout; a polite reply when the server is out."""
    run = _original_run()
    if self.action_endpoint is None:
        return await run(self, output_channel, nlg, tracker, domain)
    breaker = breaker_for(self.action_endpoint)
    if breaker.is_open():
        log.warning("action server still failing: %s answered without calling it", self.name())
        return unavailable_events(self.name())
    try:
        events = await asyncio.wait_for(
            run(self, output_channel, nlg, tracker, domain), timeout_of(self.action_endpoint)
        )
    except Exception as error:
        reason = unavailable_reason(error)
        if reason is None:
            raise
        breaker.failed()
        log.warning("custom action %s: the action server %s", self.name(), reason)
        return unavailable_events(self.name())
    breaker.succeeded()
    return events


def _original_run() -> Any:
    from rasa.core.actions.action import RemoteAction

    return base.original(RemoteAction, "run")
