"""The action server is sent the current turn's events, not the whole conversation's.

Rasa serialises every event of the conversation, with each message's parse data, for every
action call (82 KB at the 15th turn) and the action server decodes it all again. Our actions
read the latest message and the slots, which are sent in full as before; rasa_sdk's form
validation reads the slot events at the end of the turn, which are in it.
`RemoteAction._action_call_format` is re-implemented with only the events changed.
"""

from __future__ import annotations

from typing import Any

import rasa

from bot.patches import base

NAME = "current_turn_events"
EXPECTED = (
    base.Signature(
        "rasa.core.actions.action:RemoteAction._action_call_format",
        signature="(self, tracker, domain)",
    ),
    base.Source(
        "rasa.core.actions.action:RemoteAction._action_call_format", digest="eb6b5667d432df53"
    ),
    base.Signature(
        "rasa.core.actions.action:RemoteAction._is_selective_domain_enabled", signature="(self)"
    ),
    base.Signature(
        "rasa.shared.core.domain:Domain.does_custom_action_explicitly_need_domain",
        signature="(self, action_name)",
    ),
    base.Signature(
        "rasa.shared.core.trackers:DialogueStateTracker.current_state",
        signature="(self, event_verbosity=<EventVerbosity.NONE: 1>)",
    ),
    base.Exists("rasa.shared.core.trackers:EventVerbosity.NONE"),
)


def check() -> None:
    base.check(NAME, EXPECTED)


def apply() -> None:
    from rasa.core.actions.action import RemoteAction

    base.replace(RemoteAction, "_action_call_format", action_call_with_current_turn)


def current_turn_events(events: list[Any]) -> list[Any]:
    """The events from the latest user message on; all of them when there is none yet."""
    from rasa.shared.core.events import UserUttered

    for index in range(len(events) - 1, -1, -1):
        if isinstance(events[index], UserUttered):
            return events[index:]
    return events


def action_call_with_current_turn(self: Any, tracker: Any, domain: Any) -> dict[str, Any]:
    """RemoteAction._action_call_format with only the current turn's events in the tracker."""
    from rasa.shared.core.trackers import EventVerbosity

    state = tracker.current_state(EventVerbosity.NONE)
    state["events"] = [event.as_dict() for event in current_turn_events(list(tracker.events))]
    result = {
        "next_action": self._name,
        "sender_id": tracker.sender_id,
        "tracker": state,
        "version": rasa.__version__,
    }
    if not self._is_selective_domain_enabled() or domain.does_custom_action_explicitly_need_domain(
        self.name()
    ):
        result["domain"] = domain.as_dict()
    return result
