"""Patches to Rasa 3.6.21's internals for turn latency, a failing action server and a model swap
without a pause, one checked module each.

Every module in `PATCHES` has a docstring with the evidence for it, `check()`, which raises
`PatchMismatch` when the Rasa internals it relies on are not what it was written against
(a name missing or renamed, another signature, changed source, another Rasa version), and
`apply()`. Those that act on the loaded model also have `apply_to_agent(agent)`: their
`apply()` makes Rasa's `load_agent` run it on every model it loads, in the order of `PATCHES`
(the masks folded, then the warm-up traces the folded layers, then everything is frozen out of
the garbage collector). `bot/serve.py` checks them all, applies them all, then runs Rasa.

Rasa 3.6 is the last open-source release, so the names patched here should not move; the checks
make sure of it at every start rather than trusting it. The tests in `tests/rasa/` go through
this one list, so a patch added here is checked, broken on purpose and compared with Rasa's own
results on the trained model like the others.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from bot.patches import (
    action_timeout,
    base,
    checked_schema,
    compiled_regex,
    current_turn_events,
    empty_domain,
    event_class_cache,
    fast_model_load,
    fold_kernel_masks,
    freeze_gc,
    graph_order,
    model_swap,
    nlu_thread,
    no_log_copies,
    resumed_past_states,
    warm_up,
)
from bot.patches.base import RASA_VERSION, PatchMismatch

__all__ = [
    "PATCHES",
    "RASA_VERSION",
    "PatchMismatch",
    "after_loading",
    "apply_all",
    "check_all",
    "revert_all",
]

PATCHES: tuple[ModuleType, ...] = (
    checked_schema,
    nlu_thread,
    event_class_cache,
    current_turn_events,
    action_timeout,
    no_log_copies,
    resumed_past_states,
    compiled_regex,
    empty_domain,
    graph_order,
    fast_model_load,
    model_swap,
    # on the loaded model, in this order
    fold_kernel_masks,
    warm_up,
    freeze_gc,
)


def check_all() -> None:
    """Raises PatchMismatch for the first patch whose expectations Rasa does not meet."""
    base.check_version("bot.patches")
    for patch in PATCHES:
        patch.check()


def apply_all() -> None:
    for patch in PATCHES:
        patch.apply()


async def after_loading(agent: Any) -> None:
    """The applied patches' steps on a loaded model, as `load_agent` runs them; for a model
    loaded another way (`Agent.load`)."""
    await base.after_loading(agent)


def revert_all() -> None:
    """Rasa as it was before `apply_all()` (tests compare the two in one process)."""
    base.revert_all()
