"""What the patches change, against Rasa's own: the schema check rejects exactly what
jsonschema.validate rejects, the model comes out of loading frozen out of the GC, event classes
are found as Rasa finds them, the action server gets the current turn's events with everything
else Rasa sends unchanged, only log arguments skip their deep copies, the regex featurizer finds
the same matches, and the empty-domain check agrees."""

from __future__ import annotations

import asyncio
import gc
import importlib
import inspect
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot import patches
from bot.patches import (
    checked_schema,
    compiled_regex,
    current_turn_events,
    empty_domain,
    event_class_cache,
    no_log_copies,
)

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(REPO_ROOT / "bot" / "domain"))


def test_schema_check_agrees_with_jsonschema():
    schema = RemoteAction.action_response_format_spec()
    cases = [
        {"events": [{"event": "slot", "name": "shown_products", "value": ["A"]}], "responses": []},
        {
            "events": [],
            "responses": [{"text": "您好", "buttons": [{"title": "a", "payload": "a"}]}],
        },
        {"events": [{"no_event_key": 1}], "responses": []},
        {"events": "not a list", "responses": []},
        {"events": [], "responses": "not a list"},
    ]
    verdicts = []
    for case in cases:
        outcome = []
        for validate in (jsonschema.validate, checked_schema.validate_with_checked_schema):
            try:
                validate(case, schema)
                outcome.append("valid")
            except jsonschema.ValidationError as error:
                outcome.append("invalid: " + error.message)
        verdicts.append(outcome)
    assert [theirs == ours for theirs, ours in verdicts] == [True] * 5
    assert [v[0] == "valid" for v in verdicts] == [True, True, False, False, False]


def test_schema_check_reaches_rasas_action_response_validation():
    action = RemoteAction("action_search_products", None)
    bad = {"events": "not a list", "responses": []}
    patches.apply_all()
    assert jsonschema.validate is checked_schema.validate_with_checked_schema
    with pytest.raises(jsonschema.ValidationError):
        action._validate_action_result(bad)
    assert action._validate_action_result({"events": [], "responses": []}) is True


class NotReady:
    def is_ready(self) -> bool:
        return False


def test_loading_freezes_the_model_out_of_the_gc(monkeypatch):
    from rasa.core import agent as rasa_agent

    loaded = NotReady()

    async def load_stub(*args: Any, **kwargs: Any) -> Any:
        return loaded

    monkeypatch.setattr(rasa_agent, "load_agent", load_stub)
    patches.apply_all()
    gc.unfreeze()  # another test may have frozen everything already
    frozen_before = gc.get_freeze_count()
    assert asyncio.run(rasa_agent.load_agent(model_path="m")) is loaded
    # rasa and tensorflow, imported, are now out of the GC
    assert gc.get_freeze_count() - frozen_before > 100_000


def test_event_classes_are_found_as_rasa_finds_them():
    events = [
        event_class_cache.resolve_event_class(name, default)
        for name, default in (
            ("user", None),
            ("action", None),
            ("user", None),
            ("no_such", ActionExecuted),
        )
    ]
    assert events == [UserUttered, ActionExecuted, UserUttered, ActionExecuted]
    with pytest.raises(ValueError):
        event_class_cache.resolve_event_class("no_such")
    patches.apply_all()
    from rasa.shared.core.events import Event

    assert Event.resolve_by_type("slot") is SlotSet
    message = UserUttered("你好", {"name": "greet", "confidence": 0.9})
    assert Event.from_parameters(message.as_dict()) == message


def test_action_server_gets_the_current_turn_and_everything_else_unchanged(domain):
    action = RemoteAction("action_search_products", None)
    turn_one = [
        ActionExecuted("action_session_start"),
        SessionStarted(),
        ActionExecuted("action_listen"),
        UserUttered("有没有三千以内的华为手机", {"name": "search_product", "confidence": 0.9}),
        ActionExecuted("action_search_products"),
        SlotSet("shown_products", ["A", "B"]),
        BotUttered("为您找到这些手机"),
        ActionExecuted("action_listen"),
    ]
    turn_two = [
        UserUttered("第二个多少钱", {"name": "ask_attribute", "confidence": 0.9}),
        SlotSet("requested_slot", None),
    ]
    payloads = {}
    for name, tracker_events in (("fresh", []), ("long", turn_one + turn_two)):
        tracker = DialogueStateTracker.from_events("s", tracker_events, slots=domain.slots)
        theirs = action._action_call_format(tracker, domain)
        ours = current_turn_events.action_call_with_current_turn(action, tracker, domain)
        their_events = theirs["tracker"].pop("events")
        our_events = ours["tracker"].pop("events")
        payloads[name] = {
            "same_rest": theirs == ours,
            "theirs": len(their_events),
            "ours": [e["event"] for e in our_events],
            "tail_matches": their_events[len(their_events) - len(our_events) :] == our_events,
        }
    long, fresh = payloads["long"], payloads["fresh"]
    assert long["same_rest"] and long["tail_matches"] and long["theirs"] == 10
    assert long["ours"] == ["user", "slot"]  # from the latest message on
    assert fresh == {"same_rest": True, "theirs": 0, "ours": [], "tail_matches": True}
    patches.apply_all()
    tracker = DialogueStateTracker.from_events("s", turn_one + turn_two, slots=domain.slots)
    sent = action._action_call_format(tracker, domain)
    assert [e["event"] for e in sent["tracker"]["events"]] == ["user", "slot"]


def test_only_log_arguments_skip_their_deep_copies():
    copies = {}
    for name in no_log_copies.LOG_ONLY_DEEPCOPY_MODULES:
        module = importlib.import_module(name)
        copies[name] = list(no_log_copies.deepcopy_calls(inspect.getsource(module)))
    # every deepcopy in the patched modules is a log argument, and only deepcopy changed
    assert all(total > 0 and total == logged for total, logged in copies.values())
    patches.apply_all()
    value = {"a": [1]}
    patched = [
        importlib.import_module(n).copy.deepcopy(value) is value
        and importlib.import_module(n).copy.copy(value) is not value
        for n in no_log_copies.LOG_ONLY_DEEPCOPY_MODULES
    ]
    assert patched == [True, True, True]


def test_regex_featurizer_finds_the_same_matches():
    patterns = compiled_regex.CompiledPatterns()
    texts = ["华为Mate60 Pro多少钱", "IPHONE15 pro和iphone 15", ""]
    cases = [("mate\\d+", re.IGNORECASE), ("iphone ?\\d+", re.IGNORECASE), ("华为|小米", 0)]
    same_matches = all(
        [m.span() for m in re.finditer(p, t, f)]
        == [m.span() for m in patterns.finditer(p, t, flags=f)]
        for p, f in cases
        for t in texts
    )
    assert same_matches is True and patterns.IGNORECASE == re.IGNORECASE
    patches.apply_all()
    regex_module = importlib.import_module(compiled_regex.REGEX_FEATURIZER_MODULE).re
    assert type(regex_module).__name__ == "CompiledPatterns"


def test_empty_domain_check_agrees(domain):
    empty = [
        empty_domain.domain_is_empty(Domain.empty()),
        empty_domain.domain_is_empty(domain),
        Domain.empty().is_empty(),
        domain.is_empty(),
    ]
    assert empty == [True, False, True, False]
    patches.apply_all()
    assert [Domain.empty().is_empty(), domain.is_empty()] == [True, False]
