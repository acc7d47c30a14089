"""The model answers a few messages before the first shopper.

TensorFlow traces its functions for each new input shape, which made the first real messages
after a start take seconds. Messages of different lengths and kinds are parsed and predicted on
trackers that are never stored, after the kernel masks are folded (so the folded layers are the
ones traced). A failure only makes the first message slower: it is logged, never fatal.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.patches import base

NAME = "warm_up"
logger = logging.getLogger(__name__)

# TensorFlow traces DIET, the selector and TED for the shapes it meets.
WARM_UP_TEXTS = (
    "你好", "第二个", "😊", "华为Mate60 Pro多少钱", "有没有三千以内的华为手机", "运费怎么算",
    "对比一下前两个哪个续航好一点", "订单DG20261105000123到哪了", "这个壳iPhone 15能用吗",
    "想给我妈买个大屏幕字体大续航长的手机，预算两千左右，拍照也还行的，有什么推荐吗",
)  # fmt: skip

EXPECTED = (
    *base.LOAD_AGENT,
    base.Signature("rasa.core.agent:Agent.parse_message", signature="(self, message_data)"),
    base.Contains(
        "rasa.core.agent:Agent.load_model",
        snippets=("self.processor = ", "self.domain = self.processor.domain"),
    ),
    base.Signature(
        "rasa.core.processor:MessageProcessor.predict_next_with_tracker",
        signature="(self, tracker, verbosity=<EventVerbosity.AFTER_RESTART: 3>)",
    ),
    base.Signature(
        "rasa.shared.core.trackers:DialogueStateTracker.from_events",
        signature="(sender_id, evts, slots=None, max_event_history=None, sender_source=None, "
        "domain=None)",
    ),
    base.Signature(
        "rasa.shared.core.events:UserUttered.__init__",
        signature="(self, text=None, intent=None, entities=None, parse_data=None, "
        "timestamp=None, input_channel=None, message_id=None, metadata=None, "
        "use_text_for_featurization=None)",
    ),
)


def check() -> None:
    base.check(NAME, EXPECTED)


def apply() -> None:
    base.run_after_loading(apply_to_agent)


async def apply_to_agent(agent: Any) -> None:
    if not base.is_ready(agent):
        return
    try:
        await warm_up(agent)
    except Exception:  # a slower first message, never a server that does not start
        logger.exception("warm-up failed")


async def warm_up(agent: Any) -> None:
    """Runs the NLU and the policies once per shape, on trackers that are never stored."""
    from rasa.shared.core.events import ActionExecuted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    for text in WARM_UP_TEXTS:
        parse_data = await agent.parse_message(text)
        events = [ActionExecuted("action_listen"), UserUttered(text, parse_data=parse_data)]
        tracker = DialogueStateTracker.from_events("__warm_up__", events, slots=agent.domain.slots)
        agent.processor.predict_next_with_tracker(tracker)
