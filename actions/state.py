"""Reading and writing the conversation's shopping state (slots) in one place, without
rasa_sdk: events are the action server's JSON, as rasa_sdk.events builds them."""

from __future__ import annotations

from typing import Any

import numpy as np

from actions import runtime
from actions.turn import Events, Turn
from knowledge_graph.qa import SearchFilters
from search.embeddings import vector_from_message

PAGE_PRODUCT_KEY = "product_sku"  # message metadata the widget sends on a product page


def slot(name: str, value: Any) -> dict[str, Any]:
    """rasa_sdk's ``SlotSet(name, value)``."""
    return {"event": "slot", "timestamp": None, "name": name, "value": value}


def followup(action: str) -> dict[str, Any]:
    """rasa_sdk's ``FollowupAction(action)``: Rasa runs ``action`` next (a form, here)."""
    return {"event": "followup", "timestamp": None, "name": action}


def text_of(tracker: Turn) -> str:
    return tracker.latest_message.get("text") or ""


def intent_of(tracker: Turn) -> str:
    return (tracker.latest_message.get("intent") or {}).get("name") or ""


def message_vector(tracker: Turn) -> np.ndarray | None:
    """The E5 vector Rasa computed for this message, so search need not embed it again."""
    return vector_from_message(tracker.latest_message.get("text_embedding"))


def entities(tracker: Turn) -> list[dict[str, Any]]:
    return tracker.latest_message.get("entities") or []


def entity_values(tracker: Turn, name: str) -> list[str]:
    return [str(e.get("value")) for e in entities(tracker) if e.get("entity") == name]


def shown(tracker: Turn) -> list[str]:
    return list(tracker.get_slot("shown_products") or [])


def focus(tracker: Turn) -> str | None:
    """The product 「这款」 means: the one on the page the shopper is looking at, unless the
    conversation settled on a product while they were on this page; else the conversation's."""
    page = page_product(tracker)
    if page and tracker.get_slot("focus_page") != page:
        return page
    return tracker.get_slot("product_focus")


def page_product(tracker: Turn) -> str | None:
    """The product page the widget sits on (its ``product_sku`` metadata), if it is a product
    of the catalog: the metadata comes from the browser, so an unknown SKU is ignored."""
    metadata = tracker.latest_message.get("metadata")
    sku = metadata.get(PAGE_PRODUCT_KEY) if isinstance(metadata, dict) else None
    if not isinstance(sku, str) or not 0 < len(sku) <= 64:
        return None
    try:
        return sku if sku in runtime.view().graph.products else None
    except RuntimeError:  # no catalog installed (logic tests without services)
        return None


def previous_focus(tracker: Turn) -> str | None:
    """The product before the focus: while the page's product is the focus, the one the
    conversation was about before the shopper opened the page."""
    slot_focus = tracker.get_slot("product_focus")
    if slot_focus and focus(tracker) != slot_focus:
        return slot_focus
    return tracker.get_slot("previous_focus")


def last_filters(tracker: Turn) -> SearchFilters | None:
    data = tracker.get_slot("last_filters")
    if not isinstance(data, dict):
        return None
    known = {k: v for k, v in data.items() if k in SearchFilters.__dataclass_fields__}
    known["attributes"] = {
        key: _requirement_from_json(value) for key, value in (known.get("attributes") or {}).items()
    }
    return SearchFilters(**known)


def filters_slot(filters: SearchFilters) -> dict[str, Any]:
    data = dict(filters.__dict__)
    data["attributes"] = {k: _requirement_to_json(v) for k, v in filters.attributes.items()}
    return slot("last_filters", data)


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


def slots_for_shown(skus: list[str], tracker: Turn, focus_sku: str | None = None) -> Events:
    """Slot events after products were shown; the focus moves when one product is talked about.
    Only the slots: the shown products are recorded for the recommender by the caller
    (``runtime.record_chat_events``)."""
    events: Events = [slot("shown_products", skus)]
    current = focus(tracker)
    if focus_sku and focus_sku != tracker.get_slot("product_focus"):
        # Answering about the page's product makes it the conversation's focus too, so that
        # it stays 「这款」 after the shopper leaves the page.
        before = tracker.get_slot("product_focus") if current == focus_sku else current
        events += [slot("previous_focus", before), slot("product_focus", focus_sku)]
    if focus_sku and tracker.get_slot("focus_page") != page_product(tracker):
        # The page this focus was chosen on: another product named in chat while the shopper
        # stays on this page keeps being 「这款」 (the action server sees one turn's events).
        events.append(slot("focus_page", page_product(tracker)))
    return events
