"""Reading and writing the conversation's shopping state (slots) in one place."""

from __future__ import annotations

from typing import Any

import numpy as np
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet

from knowledge_graph.qa import SearchFilters
from search.embeddings import vector_from_message


def text_of(tracker: Tracker) -> str:
    return tracker.latest_message.get("text") or ""


def intent_of(tracker: Tracker) -> str:
    return (tracker.latest_message.get("intent") or {}).get("name") or ""


def message_vector(tracker: Tracker) -> np.ndarray | None:
    """The E5 vector Rasa computed for this message, so search need not embed it again."""
    return vector_from_message(tracker.latest_message.get("text_embedding"))


def entities(tracker: Tracker) -> list[dict[str, Any]]:
    return tracker.latest_message.get("entities") or []


def entity_values(tracker: Tracker, name: str) -> list[str]:
    return [str(e.get("value")) for e in entities(tracker) if e.get("entity") == name]


def shown(tracker: Tracker) -> list[str]:
    return list(tracker.get_slot("shown_products") or [])


def focus(tracker: Tracker) -> str | None:
    return tracker.get_slot("product_focus")


def previous_focus(tracker: Tracker) -> str | None:
    return tracker.get_slot("previous_focus")


def last_filters(tracker: Tracker) -> SearchFilters | None:
    data = tracker.get_slot("last_filters")
    if not isinstance(data, dict):
        return None
    known = {k: v for k, v in data.items() if k in SearchFilters.__dataclass_fields__}
    known["attributes"] = {
        key: _requirement_from_json(value) for key, value in (known.get("attributes") or {}).items()
    }
    return SearchFilters(**known)


def filters_slot(filters: SearchFilters) -> SlotSet:
    data = dict(filters.__dict__)
    data["attributes"] = {k: _requirement_to_json(v) for k, v in filters.attributes.items()}
    return SlotSet("last_filters", data)


def _requirement_to_json(wanted: Any) -> Any:
    """Slots travel as JSON: a set of value words and a number range get a tagged form."""
    if isinstance(wanted, frozenset | set):
        return {"any": sorted(wanted)}
    if isinstance(wanted, tuple):
        return {"range": list(wanted)}
    return wanted


def _requirement_from_json(value: Any) -> Any:
    if isinstance(value, dict) and "any" in value:
        return frozenset(value["any"])
    if isinstance(value, dict) and "range" in value:
        return tuple(value["range"])
    return value


def showing(
    skus: list[str], tracker: Tracker, focus_sku: str | None = None
) -> list[dict[str, Any]]:
    """Slot events after products were shown; the focus moves when one product is talked about."""
    from actions import runtime

    runtime.record_chat_events(tracker.sender_id, skus, focus_sku)
    events: list[dict[str, Any]] = [SlotSet("shown_products", skus)]
    if focus_sku and focus_sku != focus(tracker):
        events += [SlotSet("previous_focus", focus(tracker)), SlotSet("product_focus", focus_sku)]
    return events
