"""The loaded model is frozen out of the garbage collector.

A loaded model is millions of long-lived Python objects (TensorFlow, Keras, the graph); a full
collection walked all of them in 700 ms (measured here), during which no shopper was answered,
and it came round often enough to set the 95th percentile. Frozen once after loading
(gc.freeze), later collections take under 1 ms. This runs after every other step on the loaded
model (the warm-up's objects are frozen too), and also when loading failed.
"""

from __future__ import annotations

import gc
from typing import Any

from bot.patches import base

NAME = "freeze_gc"
EXPECTED = (*base.LOAD_AGENT, base.Exists("gc:freeze"))


def check() -> None:
    base.check(NAME, EXPECTED)


def apply() -> None:
    base.run_after_loading(apply_to_agent)


def apply_to_agent(agent: Any) -> None:
    gc.collect()
    gc.freeze()
