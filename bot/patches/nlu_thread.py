"""The NLU runs in its own thread.

One thread runs the NLU, so the event loop keeps serving other shoppers meanwhile: their
tracker loads and saves, policy predictions and action calls overlap this message's NLU, and
the E5 engine (ctypes) and TensorFlow's kernels run without the GIL. A single thread keeps the
NLU components used by one message at a time, as before. `MessageProcessor.parse_message` is
re-implemented step for step (without its debug log line), the graph call moved to the thread.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bot.patches import base

NAME = "nlu_thread"
_PROCESSOR = "rasa.core.processor:MessageProcessor"
EXPECTED = (
    base.Signature(
        f"{_PROCESSOR}.parse_message",
        signature="(self, message, tracker=None, only_output_properties=True)",
    ),
    base.Source(f"{_PROCESSOR}.parse_message", digest="716084ea5371a0de"),
    base.Signature(
        f"{_PROCESSOR}._parse_message_with_graph",
        signature="(self, message, tracker, only_output_properties=True)",
    ),
    base.Signature(f"{_PROCESSOR}._update_full_retrieval_intent", signature="(self, parse_data)"),
    base.Signature(f"{_PROCESSOR}._check_for_unseen_features", signature="(self, parse_data)"),
    base.Contains(f"{_PROCESSOR}.__init__", snippets=("self.http_interpreter = ",)),
)

_nlu_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nlu")
_parse_message: Any = None


def check() -> None:
    base.check(NAME, EXPECTED)


def apply() -> None:
    global _parse_message
    from rasa.core.processor import MessageProcessor

    _parse_message = base.replace(MessageProcessor, "parse_message", parse_message_in_nlu_thread)


async def parse_message_in_nlu_thread(
    self: Any,
    message: Any,
    tracker: Any = None,
    only_output_properties: bool = True,
) -> dict[str, Any]:
    """MessageProcessor.parse_message with the NLU graph run in the NLU thread."""
    if self.http_interpreter:
        return await _parse_message(self, message, tracker, only_output_properties)
    if tracker is None:
        from rasa.shared.core.trackers import DialogueStateTracker

        tracker = DialogueStateTracker.from_events(message.sender_id, [])
    parse_data = await asyncio.get_running_loop().run_in_executor(
        _nlu_thread, self._parse_message_with_graph, message, tracker, only_output_properties
    )
    self._update_full_retrieval_intent(parse_data)
    self._check_for_unseen_features(parse_data)
    return parse_data
