"""`PUT /model` loads the new model beside the serving one, off the event loop, then frees the old.

Rasa loads the model of a `PUT /model` on its event loop: about 35 s for our model on 2 cores,
during which no conversation is answered and every Socket.IO widget misses its pings and drops.
Here the load, the after-loading steps (masks folded, warm-up, GC freeze) included, runs in a
thread of its own while the serving model keeps answering; the warm-up runs the new model's NLU
in that thread too, not in the shared NLU thread (`nlu_thread`), so that no shopper's message
waits behind the new model's first, slow TensorFlow traces; the loading thread runs at the
lowest CPU priority, so that on a busy machine the scheduler prefers the event loop. Rasa's own
route then switches `app.ctx.agent` in one assignment on the event loop, with the lock store
handed over as before.

The replaced model is then freed. `freeze_gc` froze it into the permanent generation, where no
collection ever looks again: each swap would have kept a whole model (hundreds of MB) for the
life of the process. So, once it is no longer served: `gc.unfreeze()`, a full collection,
`gc.freeze()` again. That collection walks every object of the process, a pause of the order of
the 700 ms `freeze_gc` measured for a full pass; a turn still running on the old model keeps it
alive, and the collection is tried again a little later (`FREE_RETRY_DELAYS`) until the
processor and every component of its graph are gone: the processor itself is in no cycle and
goes when that turn ends, while its components' Keras models, frozen again by the first
collection, wait for the next (found by CI: the old DIET kept for good). Before it, every
thread's frames have their locals read again: TensorFlow's tracing snapshots the locals of the
frames on its stack, and the NLU thread's never-ending worker loop kept in such a snapshot the
last parse it ran, a method of the replaced model (which then survived every collection).

Measured here (tests/rasa/test_model_swap.py: the NLU gate's fixture model replaced while a
client parses a message every 50 ms, on this 2-core machine shared with other jobs, load 3-4):
the swap took 32-39 s (since fast_model_load: 1.8-1.9 s quiet, 4.7 s under CI's load), the
longest wait for a parse was 0.6-0.8 s, and that wait was the collection freeing the old model
(0.6-1.0 s); the GC freeze of the new one took 0.2 s. Before
the loading thread had the lower priority, at a load of 5-8, the longest wait was 1.5-1.6 s, at
the start of the load (not compared at the same load: the machine's load is not ours to set).

The API stays Rasa's: 204 once the new model is served, 400 for a model that cannot be loaded,
500 for a failed load; a `PUT /model` while another load is running gets 409 (two models
loading at once would double the memory and the pause). A model server or an event broker in
the endpoints bind background jobs to the event loop that loads them: such loads stay on the
event loop, as in Rasa.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import sys
import threading
import time
import types
import weakref
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from http import HTTPStatus
from typing import Any

from bot.patches import base

NAME = "model_swap"
logger = logging.getLogger(__name__)

APP_NAME = "rasa_server"  # rasa.server.create_app's Sanic app, found again by this name
# The replaced model is collected at once, then, while turns that started on it still run (an
# action call waits at most 2.5 s), again after each of these delays in seconds.
FREE_RETRY_DELAYS = (3.0, 15.0, 45.0)
LOADER_NICENESS = 19

EXPECTED = (
    base.Contains(
        "rasa.server:create_app",
        snippets=(
            f'app = Sanic("{APP_NAME}")',
            "new_agent = await _load_agent(",
            "new_agent.lock_store = app.ctx.agent.lock_store",
            "app.ctx.agent = new_agent",
        ),
    ),
    base.Signature(
        "rasa.server:_load_agent",
        signature="(model_path=None, model_server=None, remote_storage=None, endpoints=None)",
    ),
    base.Source("rasa.server:_load_agent", digest="a9f77df6bc59de8e"),  # re-implemented below
    base.Signature(
        "rasa.server:ErrorResponse.__init__",
        signature="(self, status, reason, message, details=None, help_url=None)",
    ),
    base.Signature("sanic:Sanic.get_app", signature="(name=None, *, force_create=False)"),
    base.LOAD_AGENT[0],  # rasa.core.agent:load_agent, called in the loading thread
    base.Signature("rasa.core.agent:Agent.is_ready", signature="(self)"),
    base.Contains("rasa.core.agent:Agent.load_model", snippets=("self.processor = ",)),
    # the warm-up's parse goes agent -> processor.parse_message, run here in the loading thread
    base.Contains(
        "rasa.core.agent:Agent.parse_message",
        snippets=("return await self.processor.parse_message(message)",),
    ),
    base.Signature(
        "rasa.core.processor:MessageProcessor.parse_message",
        signature="(self, message, tracker=None, only_output_properties=True)",
    ),
    base.Exists("sys:_current_frames"),
    base.Exists("gc:unfreeze"),
    base.Exists("gc:freeze"),
)

_loader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="model-load")
_loading = threading.Lock()  # held from a PUT's start until the replaced model's first freeing
_freeing: set[asyncio.Task] = set()


def check() -> None:
    base.check(NAME, EXPECTED)


def apply() -> None:
    import rasa.server

    base.replace(rasa.server, "_load_agent", load_agent_beside)


async def load_agent_beside(
    model_path: str | None = None,
    model_server: Any = None,
    remote_storage: str | None = None,
    endpoints: Any = None,
) -> Any:
    """rasa.server._load_agent, loading in the loading thread; frees the replaced model after
    Rasa's route has switched to the new one."""
    from rasa.server import ErrorResponse

    if not _loading.acquire(blocking=False):
        raise ErrorResponse(
            HTTPStatus.CONFLICT,
            "Conflict",
            "Another model is being loaded. Try again once it is served.",
        )
    try:
        agent = await _load(model_path, model_server, remote_storage, endpoints)
    except BaseException:
        _loading.release()
        raise
    serving = _serving_processor()
    if serving is None:
        _loading.release()
    else:  # runs once the route, which continues without awaiting, has switched
        task = asyncio.get_running_loop().create_task(_free_when_replaced(_parts_of(serving)))
        _freeing.add(task)  # the loop keeps only a weak reference to a task
        task.add_done_callback(_freeing.discard)
    return agent


async def _load(
    model_path: str | None, model_server: Any, remote_storage: str | None, endpoints: Any
) -> Any:
    """A ready agent (Rasa's errors: 500 when loading raised, 400 when nothing was loaded)."""
    from rasa.server import ErrorResponse

    bound_to_loop = model_server is not None or (
        endpoints is not None and (endpoints.model or endpoints.event_broker)
    )
    started = time.perf_counter()
    try:
        if bound_to_loop:
            from rasa.core import agent as rasa_agent

            loaded = await rasa_agent.load_agent(
                model_path=model_path, model_server=model_server,
                remote_storage=remote_storage, endpoints=endpoints,
            )  # fmt: skip
        else:
            loaded = await asyncio.get_running_loop().run_in_executor(
                _loader, _load_in_this_thread, model_path, remote_storage, endpoints
            )
    except Exception as error:
        logger.debug("loading %s failed", model_path, exc_info=True)
        raise ErrorResponse(
            HTTPStatus.INTERNAL_SERVER_ERROR,
            "LoadingError",
            f"An unexpected error occurred. Error: {error}",
        ) from None
    if not base.is_ready(loaded):
        raise ErrorResponse(
            HTTPStatus.BAD_REQUEST,
            "BadRequest",
            f"Agent with name '{model_path}' could not be loaded.",
            {"parameter": "model", "in": "query"},
        )
    logger.info("model %s loaded beside the serving one in %.1f s", model_path, _since(started))
    return loaded


def _load_in_this_thread(model_path: str | None, remote_storage: str | None, endpoints: Any) -> Any:
    """Rasa's load_agent and the after-loading steps, on an event loop of this thread's own."""
    _yield_to_the_event_loop()
    return asyncio.run(_load_and_prepare(model_path, remote_storage, endpoints))


def _yield_to_the_event_loop() -> None:
    """The loading thread at the lowest CPU priority (Linux schedules threads one by one): on a
    busy machine the event loop's thread is then the one the scheduler runs first."""
    if sys.platform.startswith("linux"):
        with suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), LOADER_NICENESS)


async def _load_and_prepare(
    model_path: str | None, remote_storage: str | None, endpoints: Any
) -> Any:
    from rasa.core import agent as rasa_agent

    load = base.original(rasa_agent, "load_agent")  # Rasa's own, without the steps
    agent = await load(model_path=model_path, remote_storage=remote_storage, endpoints=endpoints)
    with _nlu_in_this_thread(agent):
        await base.after_loading(agent)
    return agent


@contextmanager
def _nlu_in_this_thread(agent: Any) -> Iterator[None]:
    """The agent's own NLU runs in the calling thread while the block runs (Rasa's parse_message
    set on its processor), not queued in the NLU thread the serving model answers shoppers in."""
    processor = getattr(agent, "processor", None)
    if processor is None:
        yield
        return
    from rasa.core.processor import MessageProcessor

    rasas_parse = base.original(MessageProcessor, "parse_message")
    processor.parse_message = types.MethodType(rasas_parse, processor)
    try:
        yield
    finally:
        del processor.parse_message  # the class's again: the NLU thread, once it serves


def _serving_processor() -> Any:
    """The served model: the agent's processor (the agent itself is in no reference cycle and
    goes as soon as it is replaced; its processor, graph and TensorFlow models are)."""
    from sanic import Sanic

    try:
        return Sanic.get_app(APP_NAME).ctx.agent.processor
    except Exception:  # no API app: then nobody could have asked for a new model
        return None


def _parts_of(processor: Any) -> list[weakref.ref]:
    """Weak references to the processor and to every component of its graph. The processor may
    go by its reference count, once the last turn on it ends, while its TensorFlow models, in
    reference cycles and frozen, wait for a collection: the model is freed when all are gone."""
    nodes = getattr(getattr(processor, "graph_runner", None), "_instantiated_nodes", {})
    parts = [processor, *(getattr(node, "_component", None) for node in nodes.values())]
    references = []
    for part in parts:
        with suppress(TypeError):  # None, or a type without weak references
            references.append(weakref.ref(part))
    return references


async def _free_when_replaced(replaced: list[weakref.ref]) -> None:
    """Collects the replaced model once nothing uses it any more, trying for about a minute.
    The next load may start after the first try: later ones wait for turns, not for a load."""
    try:
        freed = _free(replaced)
    finally:
        _loading.release()
    for delay in FREE_RETRY_DELAYS:
        if freed:
            return
        await asyncio.sleep(delay)
        freed = _free(replaced)
    logger.warning("the replaced model is still referenced: it stays in memory")


def _free(replaced: list[weakref.ref]) -> bool:
    """True when every part of the replaced model is gone (or it was not replaced: an
    evaluation's model)."""
    if _all_gone(replaced):
        return True
    if replaced[0]() is not None and _serving_processor() is replaced[0]():
        return True
    _refresh_frame_locals()
    pause = collect_frozen()
    if _all_gone(replaced):
        logger.info("replaced model freed (full collection: %.0f ms)", pause * 1000)
        return True
    return False


def _all_gone(references: list[weakref.ref]) -> bool:
    return all(reference() is None for reference in references)


def _refresh_frame_locals() -> None:
    """Reads every thread's frames' locals again. TensorFlow's tracing takes a snapshot of the
    locals of every frame on its thread's stack; the NLU thread's worker loop, which never
    returns, then kept the last parse it ran, a method of the replaced model, for good (found
    here: the old processor survived every collection until its locals were read again)."""
    for frame in sys._current_frames().values():
        while frame is not None:
            frame.f_locals  # noqa: B018 (the read is the point: it replaces the stale snapshot)
            frame = frame.f_back


def collect_frozen() -> float:
    """A full collection including the frozen objects, which are frozen again after it; returns
    its duration in seconds (the pause every other thread sees)."""
    started = time.perf_counter()
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    return _since(started)


def _since(started: float) -> float:
    return time.perf_counter() - started
