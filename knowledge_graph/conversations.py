"""Conversation marks for staff review (handoff requests, feedback) and order look-ups."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from knowledge_graph.store import CatalogStore
from knowledge_graph.tables import ConversationFlag

ORDER_ID = re.compile(r"(?<![A-Za-z])DG\s*(\d[\d\s]{12,20}\d)", re.IGNORECASE)
_LOOKS_LIKE_ORDER = re.compile(
    r"(?<![A-Za-z])DG\s*\d+|(?:订单号?|单号)\s*[:：]?\s*[A-Za-z]*\d{4,}", re.IGNORECASE
)
FLAG_KINDS = ("handoff", "feedback_up", "feedback_down")
MAX_FLAG_TEXT = 2000


def find_order_id(text: str) -> tuple[str | None, bool]:
    """(normalised order id or None, whether the text seemed to contain an order number at all)."""
    match = ORDER_ID.search(text or "")
    if match:
        digits = re.sub(r"\s", "", match.group(1))
        if len(digits) == 14:
            return "DG" + digits, True
        return None, True
    return None, bool(_LOOKS_LIKE_ORDER.search(text or ""))


def record_flag(store: CatalogStore, sender_id: str, kind: str, text: str = "") -> None:
    if kind not in FLAG_KINDS:
        raise ValueError(f"unknown flag kind {kind!r}")
    with store.session() as session:
        session.add(
            ConversationFlag(
                sender_id=sender_id[:128], kind=kind, text=(text or "")[:MAX_FLAG_TEXT]
            )
        )


def flags_of(store: CatalogStore, sender_id: str) -> list[dict[str, Any]]:
    with store.session() as session:
        rows = session.scalars(
            select(ConversationFlag)
            .where(ConversationFlag.sender_id == sender_id)
            .order_by(ConversationFlag.id)
        )
        return [
            {
                "kind": r.kind,
                "text": r.text,
                "status": r.status,
                "created_at": r.created_at.isoformat(),
            }
            for r in rows
        ]
