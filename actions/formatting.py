"""Turning products into chat messages: the `products` payload (README, JSON API) and short Chinese text.
No rasa_sdk: messages go out through the skill-naming `Reply` (actions/turn.py)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from actions.turn import Reply
from knowledge_graph.product import Product, Suggested

CARD_FIELDS = ("sku", "title", "brand", "category", "price", "rating", "stock", "image")


def card(product: Product) -> dict[str, Any]:
    item = {name: getattr(product, name) for name in CARD_FIELDS}
    if isinstance(product, Suggested) and product.reason:
        item["reason"] = product.reason  # why it is recommended, shown on the card
    return item


def yuan(price: float) -> str:
    return f"{price:.0f}元" if float(price).is_integer() else f"{price:.2f}元"


def send_products(
    dispatcher: Reply,
    text: str,
    products: Sequence[Product],
    buttons: Iterable[tuple[str, str]] = (),
) -> None:
    unique = list({p.sku: p for p in products}.values())  # a card once, first place kept
    dispatcher.utter_message(
        text=text,
        json_message={"type": "products", "items": [card(p) for p in unique]},
        buttons=[{"title": title, "payload": payload} for title, payload in buttons],
    )


def quick_replies(*titles: str) -> list[tuple[str, str]]:
    """Quick replies that send their own text, so NLU handles them like typed messages."""
    return [(t, t) for t in titles]
