"""Conversation marks for staff review (handoff requests, feedback) and order look-ups."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from knowledge_graph.store import CatalogStore, newest_page
from knowledge_graph.tables import Annotation, ConversationFlag, ConversationReview, utcnow

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


# -- staff review: tags, a note, reviewed ----------------------------------------------------
MAX_TAGS = 20
MAX_TAG = 32
MAX_NOTE = 5000


@dataclass(frozen=True)
class Review:
    sender_id: str
    tags: tuple[str, ...] = ()
    note: str = ""
    reviewed: bool = False
    updated_by: str = ""
    updated_at: datetime | None = None


def reviews_of(store: CatalogStore, sender_ids: Iterable[str]) -> dict[str, Review]:
    """The reviews of these senders (senders never reviewed are left out), in one query."""
    ids = list(dict.fromkeys(sender_ids))
    if not ids:
        return {}
    with store.session() as session:
        rows = session.scalars(
            select(ConversationReview).where(ConversationReview.sender_id.in_(ids))
        )
        return {r.sender_id: _review(r) for r in rows}


def save_review(
    store: CatalogStore,
    sender_id: str,
    actor: str,
    *,
    tags: Sequence[str] | None = None,
    note: str | None = None,
    reviewed: bool | None = None,
) -> Review:
    """Changes what is given, keeps the rest; tags are trimmed, deduplicated and bounded."""
    with store.session() as session:
        row = session.get(ConversationReview, sender_id[:128])
        if row is None:
            row = ConversationReview(sender_id=sender_id[:128], tags=[], note="", reviewed=False)
            session.add(row)
        if tags is not None:
            cleaned = [t.strip()[:MAX_TAG] for t in tags if t and t.strip()]
            row.tags = list(dict.fromkeys(cleaned))[:MAX_TAGS]
        if note is not None:
            row.note = note[:MAX_NOTE]
        if reviewed is not None:
            row.reviewed = reviewed
        row.updated_by = actor[:64]
        row.updated_at = utcnow()
        session.flush()
        return _review(row)


def senders_where(
    store: CatalogStore,
    *,
    tag: str | None = None,
    reviewed: bool | None = None,
    negative_feedback: bool | None = None,
) -> set[str] | None:
    """The senders that meet the catalog-side filters (None: no such filter was asked).
    `reviewed=False` cannot be answered here (a conversation nobody opened has no row): the
    caller lists the reviewed ones and excludes them."""
    found: set[str] | None = None

    def narrow(ids: Iterable[str]) -> None:
        nonlocal found
        ids = set(ids)
        found = ids if found is None else found & ids

    with store.session() as session:
        if tag is not None:
            rows = session.scalars(select(ConversationReview))
            narrow(r.sender_id for r in rows if tag in (r.tags or []))
        if reviewed:
            narrow(
                session.scalars(
                    select(ConversationReview.sender_id).where(ConversationReview.reviewed)
                )
            )
        if negative_feedback:
            narrow(
                session.scalars(
                    select(ConversationFlag.sender_id).where(
                        ConversationFlag.kind == "feedback_down"
                    )
                )
            )
    return found


def reviewed_senders(store: CatalogStore) -> set[str]:
    with store.session() as session:
        return set(
            session.scalars(select(ConversationReview.sender_id).where(ConversationReview.reviewed))
        )


def flags_of_many(
    store: CatalogStore, sender_ids: Iterable[str]
) -> dict[str, list[dict[str, Any]]]:
    """Every flag of these senders, oldest first, in one query."""
    ids = list(dict.fromkeys(sender_ids))
    found: dict[str, list[dict[str, Any]]] = {}
    if not ids:
        return found
    with store.session() as session:
        rows = session.scalars(
            select(ConversationFlag)
            .where(ConversationFlag.sender_id.in_(ids))
            .order_by(ConversationFlag.id)
        )
        for r in rows:
            found.setdefault(r.sender_id, []).append(
                {
                    "kind": r.kind,
                    "text": r.text,
                    "status": r.status,
                    "created_at": r.created_at.isoformat(),
                }  # fmt: skip
            )
    return found


def _review(row: ConversationReview) -> Review:
    return Review(
        row.sender_id, tuple(row.tags or ()), row.note or "", bool(row.reviewed),
        row.updated_by or "", row.updated_at,
    )  # fmt: skip


# -- annotations: staff corrections of the NLU, the inbox and what is exported ---------------
ANNOTATION_STATUSES = ("open", "exported", "discarded")


@dataclass(frozen=True)
class AnnotationRecord:
    id: int
    sender_id: str
    event_id: int | None
    text: str
    predicted_intent: str | None
    intent: str
    entities: tuple[dict[str, Any], ...]
    status: str
    created_by: str
    created_at: datetime
    exported_at: datetime | None


def add_annotation(
    store: CatalogStore,
    *,
    sender_id: str,
    event_id: int | None,
    text: str,
    predicted_intent: str | None,
    intent: str,
    entities: Sequence[dict[str, Any]],
    actor: str,
) -> AnnotationRecord:
    with store.session() as session:
        row = Annotation(
            sender_id=sender_id[:128], event_id=event_id, text=text,
            predicted_intent=predicted_intent, intent=intent, entities=list(entities),
            status="open", created_by=actor[:64],
        )  # fmt: skip
        session.add(row)
        session.flush()
        return _annotation(row)


def annotations(
    store: CatalogStore, status: str | None = None, limit: int = 50, offset: int = 0
) -> tuple[list[AnnotationRecord], int]:
    """Newest first; `status` None: every annotation."""
    conditions = [Annotation.status == status] if status else []
    with store.session() as session:
        rows, total = newest_page(session, Annotation, conditions, limit, offset)
        return [_annotation(r) for r in rows], total


def set_annotation_status(store: CatalogStore, annotation_id: int, status: str) -> AnnotationRecord:
    if status not in ANNOTATION_STATUSES:
        raise ValueError(f"unknown status {status!r}")
    with store.session() as session:
        row = session.get(Annotation, annotation_id)
        if row is None:
            raise LookupError(annotation_id)
        row.status = status
        session.flush()
        return _annotation(row)


def exportable_annotations(store: CatalogStore) -> list[AnnotationRecord]:
    """Every annotation staff kept (open or exported before), oldest first: an export rewrites
    the whole file, so a later correction of the same text comes last and wins nothing."""
    with store.session() as session:
        rows = session.scalars(
            select(Annotation).where(Annotation.status != "discarded").order_by(Annotation.id)
        )
        return [_annotation(r) for r in rows]


def mark_exported(store: CatalogStore, ids: Sequence[int]) -> None:
    if not ids:
        return
    with store.session() as session:
        session.execute(
            update(Annotation)
            .where(Annotation.id.in_(list(ids)), Annotation.status == "open")
            .values(status="exported", exported_at=utcnow())
        )


def _annotation(row: Annotation) -> AnnotationRecord:
    return AnnotationRecord(
        row.id, row.sender_id, row.event_id, row.text, row.predicted_intent, row.intent,
        tuple(row.entities or ()), row.status, row.created_by, row.created_at, row.exported_at,
    )  # fmt: skip
