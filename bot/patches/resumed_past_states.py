"""Dialogue states are made from the events new since the last call on the same tracker, not
by replaying the whole conversation five times a turn.

Rasa's policies turn the conversation into dialogue states several times a turn (memoization,
rules twice, TED), and every call replays the whole conversation from its first event onto a
fresh tracker. The replay grows with the conversation, 5 replays a turn. Our tracker store keeps
each live conversation's tracker object across turns, so this keeps, per tracker and per
argument set, the replay tracker, the states made so far and the loop's two variables, and
applies only the events that came since.

The loop is Rasa 3.6.21's `Domain.states_for_tracker_history` (pinned; Rasa 3.6 is the last
open-source release), step for step. It resumes only when the conversation's applied events
start with exactly the event objects it has already replayed. Anything else (a rewind, an undo,
a restart, a new session, a form's happy-path loop collapsing earlier turns, another domain)
starts the replay over, which is what Rasa does every time. Other rule-only data is another
argument set, with a replay of its own.
Callers change the states they get (they delete keys from sub-states), so each call gets its
own copy, with sub-states shared between states exactly where Rasa shares them.
The patch replaces `DialogueStateTracker.past_states`, which those policies call.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from rasa.shared.core.constants import PREVIOUS_ACTION
from rasa.shared.core.domain import Domain, State
from rasa.shared.core.events import ActionExecuted, Event
from rasa.shared.core.trackers import DialogueStateTracker

from bot.patches import base

NAME = "resumed_past_states"
_DOMAIN = "rasa.shared.core.domain:Domain"
_TRACKER = "rasa.shared.core.trackers:DialogueStateTracker"
EXPECTED = (
    base.Signature(
        f"{_TRACKER}.past_states",
        signature="(self, domain, omit_unset_slots=False, ignore_rule_only_turns=False, "
        "rule_only_data=None)",
    ),
    # the loop re-implemented here, and the replay it runs on
    base.Source(f"{_TRACKER}.past_states", digest="81c3776891722b66"),
    base.Source(f"{_DOMAIN}.states_for_tracker_history", digest="5ec51a0ab4399653"),
    base.Source(f"{_TRACKER}.generate_all_prior_trackers", digest="91e311ce1bff035e"),
    base.Signature(f"{_DOMAIN}._get_prev_action_sub_state", signature="(tracker)"),
    base.Signature(
        f"{_DOMAIN}.get_active_state", signature="(self, tracker, omit_unset_slots=False)"
    ),
    base.Signature(f"{_DOMAIN}._remove_rule_only_features", signature="(state, rule_only_data)"),
    base.Signature(
        f"{_DOMAIN}._substitute_rule_only_user_input", signature="(state, last_ml_state)"
    ),
    base.Signature(f"{_DOMAIN}._clean_state", signature="(state)"),
    base.Signature(f"{_TRACKER}.applied_events", signature="(self)"),
    base.Signature(f"{_TRACKER}.init_copy", signature="(self)"),
    base.Signature(f"{_TRACKER}.update", signature="(self, event, domain=None)"),
    base.Exists(f"{_TRACKER}.latest_action_name"),
    base.Exists(f"{_TRACKER}.active_loop_name"),
    base.Contains(f"{_TRACKER}.__init__", snippets=("self.followup_action",)),
)
_ATTRIBUTE = "_daogou_past_states"


def check() -> None:
    base.check(NAME, EXPECTED)


def apply() -> None:
    base.replace(DialogueStateTracker, "past_states", resumed_past_states)


@dataclass
class _Loop:
    """The two variables Rasa's loop carries from one turn to the next."""

    last_ml_action_sub_state: Any = None
    turn_was_hidden: bool = False


@dataclass
class _Replay:
    domain: Domain
    tracker: DialogueStateTracker  # after every event in `applied`
    applied: list[Event] = field(default_factory=list)
    states: list[State] = field(default_factory=list)  # every yield but the final one
    loop: _Loop = field(default_factory=_Loop)


class _Replays(dict):
    """Kept on the tracker object; a copied tracker starts without any."""

    def __copy__(self) -> _Replays:
        return _Replays()

    def __deepcopy__(self, memo: Any) -> _Replays:
        return _Replays()


def _add_state(
    domain: Domain,
    tracker: DialogueStateTracker,
    hide_rule_turn: bool,
    states: list[State],
    loop: _Loop,
    omit_unset_slots: bool,
    ignore_rule_only_turns: bool,
    rule_only_data: dict[str, Any] | None,
) -> None:
    """One pass of the loop in `Domain.states_for_tracker_history`."""
    if ignore_rule_only_turns:
        if not loop.turn_was_hidden:
            loop.last_ml_action_sub_state = domain._get_prev_action_sub_state(tracker)
        if not tracker.followup_action and tracker.latest_action_name != tracker.active_loop_name:
            loop.turn_was_hidden = hide_rule_turn
        if loop.turn_was_hidden:
            return
    state = domain.get_active_state(tracker, omit_unset_slots=omit_unset_slots)
    if ignore_rule_only_turns:
        domain._remove_rule_only_features(state, rule_only_data)
        if states:
            domain._substitute_rule_only_user_input(state, states[-1])
        if loop.last_ml_action_sub_state:
            state[PREVIOUS_ACTION] = loop.last_ml_action_sub_state
    states.append(domain._clean_state(state))


def _extends(applied: list[Event], replayed: list[Event]) -> bool:
    if len(applied) < len(replayed):
        return False
    return all(new is old for new, old in zip(applied, replayed, strict=False))


def replay_key(
    omit_unset_slots: bool, ignore_rule_only_turns: bool, rule_only_data: dict[str, Any] | None
) -> tuple[bool, bool, str | None]:
    """One replay per argument set; rule-only data counts only where rule-only turns are
    ignored, as in Rasa's loop."""
    data = None
    if ignore_rule_only_turns and rule_only_data:
        data = json.dumps(rule_only_data, sort_keys=True, default=str)
    return bool(omit_unset_slots), bool(ignore_rule_only_turns), data


def copy_states(states: list[State]) -> list[State]:
    """States and sub-states copied, a sub-state shared by two states still shared by both
    copies. Values inside sub-states are strings and tuples, never changed in place."""
    copies: dict[int, dict[str, Any]] = {}

    def copy_sub_state(sub_state: Any) -> Any:
        if not isinstance(sub_state, dict):
            return sub_state
        copied = copies.get(id(sub_state))
        if copied is None:
            copied = copies[id(sub_state)] = dict(sub_state)
        return copied

    return [{key: copy_sub_state(value) for key, value in state.items()} for state in states]


def resumed_past_states(
    self: DialogueStateTracker,
    domain: Domain,
    omit_unset_slots: bool = False,
    ignore_rule_only_turns: bool = False,
    rule_only_data: dict[str, Any] | None = None,
) -> list[State]:
    """`DialogueStateTracker.past_states`, replaying only the events new since the last call."""
    replays = self.__dict__.get(_ATTRIBUTE)
    if not isinstance(replays, _Replays):
        replays = self.__dict__[_ATTRIBUTE] = _Replays()
    key = replay_key(omit_unset_slots, ignore_rule_only_turns, rule_only_data)
    applied = self.applied_events()
    replay = replays.get(key)
    if replay is None or replay.domain is not domain or not _extends(applied, replay.applied):
        replay = _Replay(domain, self.init_copy())
        replays[key] = replay
    args = (omit_unset_slots, ignore_rule_only_turns, rule_only_data)
    for event in applied[len(replay.applied) :]:
        if isinstance(event, ActionExecuted):
            _add_state(
                domain, replay.tracker, event.hide_rule_turn, replay.states, replay.loop, *args
            )
        replay.tracker.update(event)
    replay.applied = applied
    # The final yield sees the tracker as it is now; the next call continues from before it.
    states = list(replay.states)
    final_loop = _Loop(replay.loop.last_ml_action_sub_state, replay.loop.turn_was_hidden)
    _add_state(domain, replay.tracker, False, states, final_loop, *args)
    return copy_states(states)
