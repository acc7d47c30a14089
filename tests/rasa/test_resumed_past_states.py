"""bot/patches/resumed_past_states.py: the resumed dialogue states must equal Rasa's own replay
after every event of long random conversations (slots that shape the dialogue, a form that
loops, hidden rule turns, follow-ups, rewinds, undos, restarts, new sessions), for every
argument set Rasa's policies use, and through the featurizer that deletes keys from the states
it is given."""

from __future__ import annotations

import copy
import random
from pathlib import Path

import pytest
from rasa.core.featurizers.single_state_featurizer import SingleStateFeaturizer
from rasa.core.featurizers.tracker_featurizers import MaxHistoryTrackerFeaturizer
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActionReverted,
    ActiveLoop,
    FollowupAction,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot.patches.resumed_past_states import replay_key, resumed_past_states

REPO_ROOT = Path(__file__).resolve().parents[2]

SYNTHETIC = """
version: "3.1"
intents: [greet, search_product, ask_attribute, inform, affirm, deny]
entities: [brand, category, price]
slots:
  category: {type: categorical, values: [手机, 耳机], mappings: [{type: from_entity, entity: category}]}
  budget: {type: float, min_value: 0, max_value: 10000, mappings: [{type: custom}]}
  gift: {type: bool, mappings: [{type: custom}]}
  brand: {type: text, mappings: [{type: from_entity, entity: brand}]}
  hidden: {type: text, influence_conversation: false, mappings: [{type: custom}]}
forms:
  needs_form: {required_slots: [category, budget]}
actions: [action_search_products, action_answer_attribute, action_recommend]
responses:
  utter_greet: [{text: 您好}]
"""

ARGS = [
    dict(omit_unset_slots=o, ignore_rule_only_turns=i) for o in (False, True) for i in (False, True)
]
ORIGINAL = DialogueStateTracker.past_states


def random_event(rng, domain, slots):
    kind = rng.choice(["turn", "turn", "action", "action", "slot", "loop", "followup",
                       "user_reverted", "action_reverted", "restart", "session"])  # fmt: skip
    if kind == "turn":
        entities = [
            {"entity": e, "value": "x", **({"role": "max"} if rng.random() < 0.3 else {})}
            for e in rng.sample(list(domain.entities), rng.randint(0, 2))
        ]
        return [
            ActionExecuted("action_listen"),
            UserUttered(
                "话" * rng.randint(1, 5),
                {"name": rng.choice(domain.intents), "confidence": 0.9},
                entities,
            ),
        ]
    if kind == "action":
        names = [a for a in domain.action_names_or_texts if a != "action_listen"]
        return [ActionExecuted(rng.choice(names), hide_rule_turn=rng.random() < 0.4)]
    if kind == "slot":
        slot = rng.choice(slots)
        values = {"categorical": getattr(slot, "values", [None]) + [None],
                  "float": [0.0, 2999.0, None], "bool": [True, False, None],
                  "list": [["A"], [], None]}  # fmt: skip
        return [SlotSet(slot.name, rng.choice(values.get(slot.type_name, ["值", None])))]
    if kind == "loop":
        name = rng.choice(list(domain.form_names) + [None])
        return [ActiveLoop(name)] + ([ActionExecuted(name)] if name and rng.random() < 0.7 else [])
    if kind == "followup":
        return [FollowupAction(rng.choice(domain.action_names_or_texts))]
    return [{"user_reverted": UserUtteranceReverted, "action_reverted": ActionReverted,
             "restart": Restarted, "session": SessionStarted}[kind]()]  # fmt: skip


def check(domain, rule_only_data, seed, length):
    rng = random.Random(seed)
    tracker = DialogueStateTracker("s", domain.slots)
    featurizer = MaxHistoryTrackerFeaturizer(SingleStateFeaturizer(), max_history=5)
    compared = mismatches = resumed = 0
    while len(tracker.events) < length:
        for event in random_event(rng, domain, domain.slots):
            tracker.update(event)
        for args in ARGS:
            for data in (None, rule_only_data):
                theirs = domain.states_for_tracker_history(tracker, rule_only_data=data, **args)
                key = replay_key(rule_only_data=data, **args)
                before = tracker.__dict__.get("_daogou_past_states", {}).get(key)
                ours = resumed_past_states(tracker, domain, rule_only_data=data, **args)
                replay = tracker.__dict__["_daogou_past_states"][key]
                resumed += replay is before
                compared += 1
                mismatches += theirs != ours
                # callers delete keys from what they get: the next call must not see that
                for state in ours:
                    for sub_state in state.values():
                        sub_state.clear()
        # the featurizer path the policies take, with Rasa's own past_states and with ours
        for use_text in (False, True):
            for ignore in (False, True):
                kwargs = dict(use_text_for_last_user_input=use_text, ignore_rule_only_turns=ignore,
                              rule_only_data=rule_only_data, ignore_action_unlikely_intent=ignore)  # fmt: skip
                DialogueStateTracker.past_states = ORIGINAL
                theirs = featurizer.prediction_states([tracker], domain, **kwargs)
                DialogueStateTracker.past_states = resumed_past_states
                ours = featurizer.prediction_states([tracker], domain, **kwargs)
                DialogueStateTracker.past_states = ORIGINAL
                compared += 1
                mismatches += theirs != ours
    return compared, mismatches, resumed


@pytest.fixture(autouse=True)
def rasas_own_past_states(monkeypatch):
    """The test switches DialogueStateTracker.past_states: put Rasa's own back afterwards."""
    monkeypatch.setattr(DialogueStateTracker, "past_states", ORIGINAL)


@pytest.mark.parametrize(
    "name, rule_only_data",
    [
        ("synthetic", {"rule_only_slots": ["gift"], "rule_only_loops": ["needs_form"]}),
        ("real", {"rule_only_slots": ["requested_slot"], "rule_only_loops": ["needs_form"]}),
    ],
)
def test_resumed_states_equal_rasas_replay_after_every_event(name, rule_only_data):
    if name == "synthetic":
        domain = Domain.from_yaml(SYNTHETIC)
    else:
        domain = Domain.load(str(REPO_ROOT / "bot" / "domain"))
    totals = [0, 0, 0]
    for seed in range(12):
        for index, value in enumerate(check(domain, rule_only_data, seed, 60)):
            totals[index] += value
    compared, mismatches, resumed = totals
    assert compared > 1000, name
    assert mismatches == 0, name
    # most calls continue the replay instead of starting over: the point of the module
    assert resumed > compared // 4, name


def test_a_copied_tracker_starts_without_replays():
    synthetic = Domain.from_yaml(SYNTHETIC)
    copied = DialogueStateTracker("c", synthetic.slots)
    resumed_past_states(copied, synthetic)
    assert copy.deepcopy(copied).__dict__["_daogou_past_states"] == {}
