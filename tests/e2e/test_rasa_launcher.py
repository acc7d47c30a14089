"""bot/serve.py, the launcher Rasa runs under: its schema check must reject exactly what
jsonschema.validate rejects, the model must come out of loading frozen out of the GC, event
classes are found as Rasa finds them, the action server gets the current turn's events with
everything else Rasa sends unchanged, and only log arguments skip their deep copies."""

from __future__ import annotations

from tests.e2e.rasa_script import run_rasa_script

CHECK = r"""
import json, jsonschema
from rasa.core.actions.action import RemoteAction
from bot.serve import validate_with_checked_schema

schema = RemoteAction.action_response_format_spec()
cases = [
    {"events": [{"event": "slot", "name": "shown_products", "value": ["A"]}], "responses": []},
    {"events": [], "responses": [{"text": "您好", "buttons": [{"title": "a", "payload": "a"}]}]},
    {"events": [{"no_event_key": 1}], "responses": []},
    {"events": "not a list", "responses": []},
    {"events": [], "responses": "not a list"},
]
verdicts = []
for case in cases:
    outcome = []
    for validate in (jsonschema.validate, validate_with_checked_schema):
        try:
            validate(case, schema)
            outcome.append("valid")
        except jsonschema.ValidationError as error:
            outcome.append("invalid: " + error.message)
    verdicts.append(outcome)

import asyncio, gc
import bot.serve as serve

class NotReady:
    def is_ready(self):
        return False

async def load_stub(*args, **kwargs):
    return loaded

loaded = NotReady()

serve._load_agent = load_stub
frozen_before = gc.get_freeze_count()
assert asyncio.run(serve.load_agent_then_freeze(model_path="m")) is loaded
from rasa.shared.core.events import ActionExecuted, Event, UserUttered
events = []
for name, default in (("user", None), ("action", None), ("user", None), ("no_such", ActionExecuted)):
    events.append(serve.resolve_event_class(name, default))
try:
    serve.resolve_event_class("no_such")
    unknown = "accepted"
except ValueError:
    unknown = "rejected"
same_classes = events == [UserUttered, ActionExecuted, UserUttered, ActionExecuted]

from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, SessionStarted, SlotSet
from rasa.shared.core.trackers import DialogueStateTracker
domain = Domain.load("bot/domain")
action = RemoteAction("action_search_products", None)
def call(tracker):
    return action._action_call_format(tracker, domain)
turn_one = [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen"),
            UserUttered("有没有三千以内的华为手机", {"name": "search_product", "confidence": 0.9}),
            ActionExecuted("action_search_products"), SlotSet("shown_products", ["A", "B"]),
            BotUttered("为您找到这些手机"), ActionExecuted("action_listen")]
turn_two = [UserUttered("第二个多少钱", {"name": "ask_attribute", "confidence": 0.9}),
            SlotSet("requested_slot", None)]
payloads = {}
for name, tracker_events in (("fresh", []), ("long", turn_one + turn_two)):
    tracker = DialogueStateTracker.from_events("s", tracker_events, slots=domain.slots)
    theirs = call(tracker)
    ours = serve.action_call_with_current_turn(action, tracker, domain)
    their_events = theirs["tracker"].pop("events")
    our_events = ours["tracker"].pop("events")
    payloads[name] = {"same_rest": theirs == ours, "theirs": len(their_events),
                      "ours": [e["event"] for e in our_events],
                      "tail_matches": their_events[len(their_events) - len(our_events):] == our_events}
import ast, importlib, inspect
copies = {}
for name in serve.LOG_ONLY_DEEPCOPY_MODULES:
    tree = ast.parse(inspect.getsource(importlib.import_module(name)))
    in_log_calls, total = set(), 0
    for node in ast.walk(tree):
        is_debug = (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "debug")
        for inner in ast.walk(node) if is_debug else ():
            if isinstance(inner, ast.Call) and ast.unparse(inner.func) == "copy.deepcopy":
                in_log_calls.add(id(inner))
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "copy.deepcopy":
            total += 1
    copies[name] = [total, len(in_log_calls)]
serve.skip_log_argument_copies()
value = {"a": [1]}
patched = [importlib.import_module(n).copy.deepcopy(value) is value
           and importlib.import_module(n).copy.copy(value) is not value
           for n in serve.LOG_ONLY_DEEPCOPY_MODULES]
import re
patterns = serve.CompiledPatterns()
texts = ["华为Mate60 Pro多少钱", "IPHONE15 pro和iphone 15", ""]
cases = [("mate\\d+", re.IGNORECASE), ("iphone ?\\d+", re.IGNORECASE), ("华为|小米", 0)]
same_matches = all(
    [m.span() for m in re.finditer(p, t, f)] == [m.span() for m in patterns.finditer(p, t, f)]
    for p, f in cases for t in texts) and patterns.IGNORECASE == re.IGNORECASE
serve.keep_regex_patterns_compiled()
regex_module = importlib.import_module(serve.REGEX_FEATURIZER_MODULE).re
empty = [serve.domain_is_empty(Domain.empty()), serve.domain_is_empty(domain),
         Domain.empty().is_empty(), domain.is_empty()]
print(json.dumps({"same_matches": same_matches, "regex_module": type(regex_module).__name__,
                  "empty": empty, "verdicts": verdicts, "frozen": gc.get_freeze_count() - frozen_before,
                  "event_classes": same_classes, "unknown_event": unknown, "payloads": payloads,
                  "copies": copies, "patched": patched}))
"""


def test_schema_check_agrees_with_jsonschema():
    report = run_rasa_script(CHECK, timeout=300)
    verdicts = report["verdicts"]
    assert report["frozen"] > 100_000  # rasa and tensorflow, imported, are now out of the GC
    assert [theirs == ours for theirs, ours in verdicts] == [True] * 5
    assert [v[0] == "valid" for v in verdicts] == [True, True, False, False, False]
    assert report["event_classes"] is True and report["unknown_event"] == "rejected"
    long, fresh = report["payloads"]["long"], report["payloads"]["fresh"]
    assert long["same_rest"] and long["tail_matches"] and long["theirs"] == 10
    assert long["ours"] == ["user", "slot"]  # from the latest message on
    assert fresh == {"same_rest": True, "theirs": 0, "ours": [], "tail_matches": True}
    # every deepcopy in the patched modules is a log argument, and only deepcopy changed
    assert all(total > 0 and total == logged for total, logged in report["copies"].values())
    assert report["patched"] == [True, True, True]
    # the regex featurizer's `re` finds the same matches; the empty-domain check agrees
    assert report["same_matches"] is True and report["regex_module"] == "CompiledPatterns"
    assert report["empty"] == [True, False, True, False]
