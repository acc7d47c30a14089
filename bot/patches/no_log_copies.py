"""Log arguments are not deep-copied.

Rasa's processor and its memoization and rule policies pass `copy.deepcopy(...)` of events and
dialogue states to `structlogger.debug` on every prediction, also when debug logging is off;
the memoization states cover the whole conversation. structlog renders an event when it is
logged, so the copies protected nothing. In those three modules, where every deepcopy is such
a log argument (the check reads their source to make sure), `copy.deepcopy` hands back its
argument.
"""

from __future__ import annotations

import ast
import copy
import importlib
import inspect
from typing import Any

from bot.patches import base

NAME = "no_log_copies"
LOG_ONLY_DEEPCOPY_MODULES = (
    "rasa.core.processor",
    "rasa.core.policies.memoization",
    "rasa.core.policies.rule_policy",
)
EXPECTED = tuple(base.Exists(f"{module}:copy") for module in LOG_ONLY_DEEPCOPY_MODULES)


class LogArgumentCopy:
    """The `copy` module for Rasa modules whose every deepcopy is a log argument."""

    @staticmethod
    def deepcopy(value: Any, memo: Any = None) -> Any:
        return value

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)


def deepcopy_calls(source: str) -> tuple[int, int]:
    """(all `copy.deepcopy(...)` calls, those inside a `.debug(...)` call) in the source."""
    tree = ast.parse(source)
    in_log_calls: set[int] = set()
    total = 0
    for node in ast.walk(tree):
        is_debug = (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "debug"
        )
        for inner in ast.walk(node) if is_debug else ():
            if isinstance(inner, ast.Call) and ast.unparse(inner.func) == "copy.deepcopy":
                in_log_calls.add(id(inner))
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "copy.deepcopy":
            total += 1
    return total, len(in_log_calls)


def check() -> None:
    base.check(NAME, EXPECTED)
    for name in LOG_ONLY_DEEPCOPY_MODULES:
        module = importlib.import_module(name)
        if base.original(module, "copy") is not copy:
            raise base.PatchMismatch(NAME, f"{name}.copy to be the copy module", repr(module.copy))
        total, logged = deepcopy_calls(inspect.getsource(module))
        if total == 0 or total != logged:
            raise base.PatchMismatch(
                NAME,
                f"every copy.deepcopy in {name} to be an argument of a .debug(...) call",
                f"{logged} of {total}",
            )


def apply() -> None:
    for name in LOG_ONLY_DEEPCOPY_MODULES:
        base.replace(importlib.import_module(name), "copy", LogArgumentCopy())
