"""Event classes are looked up once per type name.

Rasa walks the whole Event class tree for every event it decodes (stored events, action
responses): 20% of the main thread's time in a long conversation. Each class found is
remembered; no new ones appear after loading, and a name not found yet is looked up again, so a
class imported later is still found.
"""

from __future__ import annotations

from typing import Any

from bot.patches import base

NAME = "event_class_cache"
EXPECTED = (
    base.Signature(
        "rasa.shared.core.events:Event.resolve_by_type", signature="(type_name, default=None)"
    ),
    base.Contains(
        "rasa.shared.core.events:Event.resolve_by_type",
        snippets=("@staticmethod", "if cls.type_name == type_name:"),
    ),
)

_resolve_by_type: Any = None
_event_classes: dict[str, type] = {}


def check() -> None:
    base.check(NAME, EXPECTED)


def apply() -> None:
    global _resolve_by_type
    from rasa.shared.core.events import Event

    _resolve_by_type = base.replace(Event, "resolve_by_type", staticmethod(resolve_event_class))


def resolve_event_class(type_name: str, default: type | None = None) -> type | None:
    """`Event.resolve_by_type`, remembering each class found."""
    found = _event_classes.get(type_name)
    if found is None:
        resolve = _resolve_by_type
        if resolve is None:  # not applied: Rasa's own
            from rasa.shared.core.events import Event

            resolve = base.original(Event, "resolve_by_type")
        found = resolve(type_name, default)
        if found is not None and getattr(found, "type_name", None) == type_name:
            _event_classes[type_name] = found
    return found
