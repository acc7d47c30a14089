"""`rasa` as the Rasa CLI runs it, with twelve fixes for turn latency.

1. The loaded model is frozen out of the garbage collector. A loaded model is millions of
   long-lived Python objects (TensorFlow, Keras, the graph); a full collection walked all of them
   in 700 ms (measured here), during which no shopper was answered, and it came round often
   enough to set the 95th percentile. Frozen once after loading (gc.freeze), later collections
   take under 1 ms.
2. JSON schemas are checked once, not on every call. `jsonschema.validate` first validates the
   *schema* against its meta-schema; Rasa calls it on every action server response, and that
   check was half the CPU time of Rasa's prediction loop. The instance is still validated
   exactly as before.
3. The model answers a few messages before the first shopper: TensorFlow traces its functions
   for each new input shape, which made the first real messages after a start take seconds.
4. The NLU runs in its own thread (see `parse_message_in_nlu_thread`).
5. Event classes are looked up once per type name. Rasa walks the whole Event class tree for
   every event it decodes (stored events, action responses): 20% of the main thread's time in a
   long conversation.
6. The action server is sent the current turn's events, not the whole conversation's. Rasa
   serialises every event of the conversation, with each message's parse data, for every action
   call (82 KB at the 15th turn) and the action server decodes it all again. Our actions read the
   latest message and the slots, which are sent in full as before; rasa_sdk's form validation
   reads the slot events at the end of the turn, which are in it.
7. Log arguments are not deep-copied. Rasa's processor and its memoization and rule policies pass
   `copy.deepcopy(...)` of events and dialogue states to `structlogger.debug` on every prediction,
   also when debug logging is off; the memoization states cover the whole conversation. structlog
   renders an event when it is logged, so the copies protected nothing. In those three modules,
   where every deepcopy is such a log argument, `copy.deepcopy` hands back its argument.
8. Dialogue states are made from the events new since the last call on the same tracker, not
   by replaying the whole conversation five times a turn (see `bot/past_states.py`).
9. Sparse transformer weights are masked once after loading, not on every call. Rasa's
   `RandomlyConnectedDense` writes `kernel * mask` back into the kernel each time it runs (a
   multiply and a variable write per layer, 13 layers in DIET alone); the kernel is already
   masked after the first call, so every later write stores the same values. Folded, the
   layers run as plain dense layers on the same weights and give identical outputs.
10. The RegexFeaturizer's patterns are compiled once (`CompiledPatterns`), not whenever they
    have dropped out of `re`'s process-wide cache.
11. `Domain.is_empty`, asked on every message, compares with an empty domain made once.
12. The NLU and policy graphs run their nodes in a fixed order instead of through dask's
    scheduler (see `bot/graph_order.py`).

Rasa 3.6 is the last open-source release, so the names patched here will not move.
Run with the Rasa environment's Python: `python -m bot.serve run --model ...` takes the same
arguments as `rasa`.
"""

from __future__ import annotations

import asyncio
import copy
import functools
import gc
import importlib
import json
import logging
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import jsonschema
import rasa
from jsonschema import exceptions, validators
from rasa.core import agent as rasa_agent
from rasa.core.actions.action import RemoteAction
from rasa.core.processor import MessageProcessor
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity

from bot.graph_order import run_in_order
from bot.past_states import resumed_past_states

logger = logging.getLogger(__name__)
_load_agent = rasa_agent.load_agent
_validate = jsonschema.validate


# Messages of different lengths and kinds: TensorFlow traces DIET, the selector and TED for the
# shapes it meets, which took seconds on the first real messages after a start.
WARM_UP_TEXTS = (
    "你好", "第二个", "😊", "华为Mate60 Pro多少钱", "有没有三千以内的华为手机", "运费怎么算",
    "对比一下前两个哪个续航好一点", "订单DG20261105000123到哪了", "这个壳iPhone 15能用吗",
    "想给我妈买个大屏幕字体大续航长的手机，预算两千左右，拍照也还行的，有什么推荐吗",
)  # fmt: skip


async def warm_up(agent: rasa_agent.Agent) -> None:
    """Runs the NLU and the policies once per shape, on trackers that are never stored."""
    from rasa.shared.core.events import ActionExecuted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    for text in WARM_UP_TEXTS:
        parse_data = await agent.parse_message(text)
        events = [ActionExecuted("action_listen"), UserUttered(text, parse_data=parse_data)]
        tracker = DialogueStateTracker.from_events("__warm_up__", events, slots=agent.domain.slots)
        agent.processor.predict_next_with_tracker(tracker)


def fold_kernel_masks(agent: rasa_agent.Agent) -> int:
    """Masks every sparse layer's kernel once and makes the layer a plain dense one; the models
    are traced again at their next call. Returns how many layers were folded."""
    from rasa.utils.tensorflow.layers import RandomlyConnectedDense
    from rasa.utils.tensorflow.models import RasaModel

    nodes = getattr(agent.processor.graph_runner, "_instantiated_nodes", {})
    folded = 0
    for node in nodes.values():
        model = getattr(getattr(node, "_component", None), "model", None)
        if not isinstance(model, RasaModel):
            continue
        layers = [
            layer
            for layer in model._flatten_layers(include_self=False)
            if isinstance(layer, RandomlyConnectedDense) and layer.density < 1.0
        ]
        for layer in layers:
            layer.kernel.assign(layer.kernel * layer.kernel_mask)
            layer.density = 1.0  # `call` checks it while tracing: no more mask and write
        if layers:
            model._tf_predict_step = None  # Rasa traces it again on the next prediction
        folded += len(layers)
    return folded


async def load_agent_then_freeze(*args: Any, **kwargs: Any) -> rasa_agent.Agent:
    loaded = await _load_agent(*args, **kwargs)
    if loaded is not None and loaded.is_ready():
        try:
            fold_kernel_masks(loaded)
        except Exception:  # the model as Rasa loaded it still answers correctly
            logger.exception("could not fold the kernel masks")
        try:
            await warm_up(loaded)
        except Exception:  # a slower first message, never a server that does not start
            logger.exception("warm-up failed")
    gc.collect()
    gc.freeze()
    return loaded


@functools.lru_cache(maxsize=64)
def _checked_validator(schema_json: str) -> Any:
    schema = json.loads(schema_json)
    cls = validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def validate_with_checked_schema(instance: Any, schema: Any, *args: Any, **kwargs: Any) -> None:
    """`jsonschema.validate` with the schema's own check cached per distinct schema."""
    if args or kwargs:
        return _validate(instance, schema, *args, **kwargs)
    try:
        key = json.dumps(schema, sort_keys=True)
    except (TypeError, ValueError):
        return _validate(instance, schema)
    error = exceptions.best_match(_checked_validator(key).iter_errors(instance))
    if error is not None:
        raise error


# One thread runs the NLU, so the event loop keeps serving other shoppers meanwhile: their
# tracker loads and saves, policy predictions and action calls overlap this message's NLU, and
# the E5 engine (ctypes) and TensorFlow's kernels run without the GIL. A single thread keeps
# the NLU components used by one message at a time, as before.
_nlu_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nlu")
_parse_message = MessageProcessor.parse_message


async def parse_message_in_nlu_thread(
    self: MessageProcessor,
    message: Any,
    tracker: Any = None,
    only_output_properties: bool = True,
) -> dict[str, Any]:
    """MessageProcessor.parse_message with the NLU graph run in the NLU thread."""
    if self.http_interpreter:
        return await _parse_message(self, message, tracker, only_output_properties)
    if tracker is None:
        tracker = DialogueStateTracker.from_events(message.sender_id, [])
    parse_data = await asyncio.get_running_loop().run_in_executor(
        _nlu_thread, self._parse_message_with_graph, message, tracker, only_output_properties
    )
    self._update_full_retrieval_intent(parse_data)
    self._check_for_unseen_features(parse_data)
    return parse_data


_resolve_by_type = Event.resolve_by_type
_event_classes: dict[str, type] = {}


def resolve_event_class(type_name: str, default: type | None = None) -> type | None:
    """`Event.resolve_by_type`, remembering each class found (no new ones appear after loading;
    a name not found yet is looked up again, so a class imported later is still found)."""
    found = _event_classes.get(type_name)
    if found is None:
        found = _resolve_by_type(type_name, default)
        if found is not None and getattr(found, "type_name", None) == type_name:
            _event_classes[type_name] = found
    return found


def current_turn_events(events: list[Event]) -> list[Event]:
    """The events from the latest user message on; all of them when there is none yet."""
    for index in range(len(events) - 1, -1, -1):
        if isinstance(events[index], UserUttered):
            return events[index:]
    return events


def action_call_with_current_turn(
    self: RemoteAction, tracker: DialogueStateTracker, domain: Domain
) -> dict[str, Any]:
    """RemoteAction._action_call_format with only the current turn's events in the tracker."""
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


class LogArgumentCopy:
    """The `copy` module for Rasa modules whose every deepcopy is a log argument."""

    @staticmethod
    def deepcopy(value: Any, memo: Any = None) -> Any:
        return value

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)


# Checked against Rasa 3.6.21 (pinned): in these modules `copy.deepcopy` appears only inside
# structlogger.debug(...) calls.
LOG_ONLY_DEEPCOPY_MODULES = (
    "rasa.core.processor",
    "rasa.core.policies.memoization",
    "rasa.core.policies.rule_policy",
)


def skip_log_argument_copies() -> None:
    for name in LOG_ONLY_DEEPCOPY_MODULES:
        importlib.import_module(name).copy = LogArgumentCopy()  # type: ignore[attr-defined]


class CompiledPatterns:
    """The `re` module for Rasa's RegexFeaturizer, its patterns compiled once and kept.

    The featurizer calls `re.finditer(pattern, text)` for every lookup table on every message
    and relies on `re`'s own cache of 512 compiled patterns. That cache is shared by the whole
    process and was full here, so the tables' patterns (the catalog's names, one of them 44 KB)
    were compiled again on many messages: 3% of Rasa's CPU, and up to a few hundred ms for
    the message that recompiled the largest.
    """

    def __init__(self) -> None:
        self._compiled: dict[tuple[str, int], re.Pattern[str]] = {}

    def finditer(self, pattern: str, string: str, flags: int = 0) -> Iterator[re.Match[str]]:
        key = (pattern, int(flags))
        compiled = self._compiled.get(key)
        if compiled is None:
            if len(self._compiled) >= 4096:  # the patterns are the model's, a few dozen
                self._compiled.clear()
            compiled = self._compiled[key] = re.compile(pattern, flags)
        return compiled.finditer(string)

    def __getattr__(self, name: str) -> Any:
        return getattr(re, name)


REGEX_FEATURIZER_MODULE = "rasa.nlu.featurizers.sparse_featurizer.regex_featurizer"


def keep_regex_patterns_compiled() -> None:
    importlib.import_module(REGEX_FEATURIZER_MODULE).re = CompiledPatterns()  # type: ignore[attr-defined]


def domain_is_empty(self: Domain) -> bool:
    """`Domain.is_empty` comparing against an empty domain's dict made once. Rasa builds a new
    empty Domain for the comparison on every message (5% of Rasa's CPU)."""
    return self.as_dict() == _empty_domain_dict()


@functools.lru_cache(maxsize=1)
def _empty_domain_dict() -> dict[str, Any]:
    return Domain.empty().as_dict()


def main() -> None:
    # Both names are looked up at call time: rasa.core.run calls agent.load_agent, and Rasa
    # imports `validate` from jsonschema inside the functions that use it.
    rasa_agent.load_agent = load_agent_then_freeze
    jsonschema.validate = validate_with_checked_schema
    MessageProcessor.parse_message = parse_message_in_nlu_thread
    Event.resolve_by_type = staticmethod(resolve_event_class)  # type: ignore[method-assign]
    RemoteAction._action_call_format = action_call_with_current_turn  # type: ignore[method-assign]
    skip_log_argument_copies()
    DialogueStateTracker.past_states = resumed_past_states  # type: ignore[method-assign]
    keep_regex_patterns_compiled()
    Domain.is_empty = domain_is_empty  # type: ignore[method-assign]
    DaskGraphRunner.run = run_in_order  # type: ignore[method-assign]
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
