"""Orders, for after-sales answers (status, carrier, tracking): kept apart from the catalog,
whose version they never change."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from knowledge_graph.store import CatalogStore
from knowledge_graph.tables import Order


class OrderStore:
    """The orders table, in the catalog's database."""

    def __init__(self, store: CatalogStore) -> None:
        self._store = store

    def load(self, orders: Iterable[dict[str, Any]]) -> None:
        """Adds orders in the seed catalog's shape (``created_at`` as ISO text)."""
        with self._store.session() as session:
            session.add_all(
                Order(
                    order_id=o["order_id"],
                    user_id=o["user_id"],
                    items=o["items"],
                    status=o["status"],
                    created_at=datetime.fromisoformat(o["created_at"]),
                    carrier=o.get("carrier"),
                    tracking_no=o.get("tracking_no"),
                    eta=o.get("eta"),
                    address_city=o.get("address_city"),
                )
                for o in orders
            )

    def get(self, order_id: str) -> dict[str, Any] | None:
        with self._store.session() as session:
            order = session.get(Order, order_id)
            if order is None:
                return None
            return {
                "order_id": order.order_id,
                "user_id": order.user_id,
                "items": order.items,
                "status": order.status,
                "created_at": order.created_at.isoformat(),
                "carrier": order.carrier,
                "tracking_no": order.tracking_no,
                "eta": order.eta,
                "address_city": order.address_city,
            }
