"""Staff review of conversations: the list with filters and search, one conversation's
transcript, and its tags, note and reviewed state. Staff and admins only; every text a shopper
typed is shown with personal data masked.

An admin (only) may reveal one message as typed, giving a reason: the audit log records who,
when, which message of whose conversation and why, before the text is sent, and never the
text itself (``POST /api/conversations/{sender_id}/messages/{event_id}/unmask``; the message
is named by the event id the transcript gives it, as annotations name it).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, replace
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, StringConstraints

from cn_text.pii import mask_pii
from knowledge_graph import conversations as marks
from knowledge_graph.store import CatalogStore
from web.deps import AdminDep, ReviewIndexDep, StaffDep, StoreDep, WebStateDep
from web.errors import ApiError
from web.review.annotations import (
    AnnotationError,
    EntitySpan,
    conversation_test,
    nlu_yaml,
    write_nlu_file,
)
from web.review.masking import mask_summary, mask_transcript, masked_messages, original_text
from web.review.tracker import ConversationIndex, ConversationQuery, ConversationSummary
from web.schemas import (
    AnnotationExportOut,
    AnnotationIn,
    AnnotationList,
    AnnotationOut,
    AnnotationPatch,
    ConversationDetail,
    ConversationList,
    ConversationOut,
    ReviewOut,
    ReviewPatch,
)

router = APIRouter(prefix="/api/conversations", tags=["conversations"])
MAX_LIMIT = 100
UNMASK = "unmask"  # the audit log's kind for a revealed message (knowledge_graph ACCESS_ACTIONS)
log = logging.getLogger(__name__)


def _review_out(review: marks.Review | None) -> ReviewOut:
    if review is None:
        return ReviewOut()
    data = asdict(review)
    data.pop("sender_id")
    return ReviewOut(**data)


@router.get("", response_model=ConversationList)
def list_conversations(
    _: StaffDep,
    store: StoreDep,
    index: ReviewIndexDep,
    per: Literal["sender", "session"] = "sender",
    since: datetime | None = None,
    until: datetime | None = None,
    intent: Annotated[str | None, Query(max_length=64)] = None,
    fallback: bool | None = None,
    handoff: bool | None = None,
    confidence_below: Annotated[float | None, Query(ge=0, le=1)] = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    search_in: Literal["all", "shopper", "bot"] = "all",
    tag: Annotated[str | None, Query(max_length=32)] = None,
    reviewed: bool | None = None,
    negative_feedback: bool | None = None,
    limit: Annotated[int, Query(ge=1)] = 20,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> ConversationList:
    """Newest first. Filters combine with AND; `q` finds conversations containing every word
    (Chinese included: substring search, not tokens)."""
    only = marks.senders_where(
        store, tag=tag, reviewed=True if reviewed else None, negative_feedback=negative_feedback
    )
    excluded = marks.reviewed_senders(store) if reviewed is False else ()
    try:
        query = ConversationQuery(
            per=per, since=since, until=until, intent=intent or None, fallback=fallback,
            handoff=handoff, confidence_below=confidence_below, text=(q or "").strip() or None,
            search_in=search_in, sender_ids=only, exclude_sender_ids=excluded,
            limit=min(limit, MAX_LIMIT), offset=offset,
        )  # fmt: skip
    except ValueError as error:
        raise ApiError(422, "invalid_parameter", str(error)) from None
    page = index.conversations(query)
    senders = [item.sender_id for item in page.items]
    flags = marks.flags_of_many(store, senders)
    reviews = marks.reviews_of(store, senders)
    items = [
        ConversationOut(
            summary=mask_summary(_with_flags(item, flags.get(item.sender_id, []))),
            review=_review_out(reviews.get(item.sender_id)),
        )
        for item in page.items
    ]
    return ConversationList(items=items, total=page.total)


def _with_flags(summary: ConversationSummary, flags: list[dict[str, Any]]) -> ConversationSummary:
    return replace(summary, flags=tuple(flags))


@router.get("/{sender_id}", response_model=ConversationDetail)
def get_conversation(
    sender_id: str,
    _: StaffDep,
    store: StoreDep,
    index: ReviewIndexDep,
    session_id: int | None = None,
) -> ConversationDetail:
    return conversation_detail(sender_id, store, index, session_id)[0]


def conversation_detail(
    sender_id: str, store: CatalogStore, index: ConversationIndex, session_id: int | None = None
) -> tuple[ConversationDetail, frozenset[int]]:
    """The masked detail and the event ids of the messages masking changed (the transcript
    page offers admins to reveal those)."""
    summary = index.summary(sender_id, session_id)
    transcript = index.transcript(sender_id, session_id)
    if summary is None or transcript is None:
        raise ApiError(404, "conversation_not_found", "没有找到这段对话")
    flags = marks.flags_of_many(store, [sender_id]).get(sender_id, [])
    review = marks.reviews_of(store, [sender_id]).get(sender_id)
    masked = mask_transcript(transcript)
    detail = ConversationDetail(
        summary=mask_summary(_with_flags(summary, flags)),
        review=_review_out(review),
        transcript=masked,
    )
    return detail, masked_messages(transcript, masked)


@router.patch("/{sender_id}", response_model=ReviewOut)
def review_conversation(
    sender_id: str, body: ReviewPatch, staff: StaffDep, store: StoreDep, index: ReviewIndexDep
) -> ReviewOut:
    if index.summary(sender_id) is None:
        raise ApiError(404, "conversation_not_found", "没有找到这段对话")
    review = marks.save_review(
        store, sender_id, staff.username, tags=body.tags, note=body.note, reviewed=body.reviewed
    )
    return _review_out(review)


# -- revealing one masked message: admins only, logged ------------------------------------------
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class UnmaskIn(BaseModel):
    reason: Reason  # why the admin needs the message as typed (「客户来电核对手机号」)


class UnmaskOut(BaseModel):
    sender_id: str
    event_id: int
    text: str  # the message as the shopper (or the bot) wrote it
    audit_id: int  # the audit log entry recording this read


class UnmaskRecordOut(BaseModel):
    id: int
    actor: str
    at: datetime
    event_id: int | None
    reason: str


class UnmaskList(BaseModel):
    items: list[UnmaskRecordOut]
    total: int


@router.post("/{sender_id}/messages/{event_id}/unmask", response_model=UnmaskOut)
def unmask_message(
    sender_id: str,
    event_id: int,
    body: UnmaskIn,
    admin: AdminDep,
    store: StoreDep,
    index: ReviewIndexDep,
    response: Response,
) -> UnmaskOut:
    """One message as typed, for an admin who gives a reason. The audit entry is written
    first: if it cannot be, nothing is shown. The reason is kept masked, so a number pasted
    into it is not logged either."""
    transcript = index.transcript(sender_id)
    if transcript is None:
        raise ApiError(404, "conversation_not_found", "没有找到这段对话")
    text = original_text(transcript, event_id)
    if text is None:
        raise ApiError(404, "message_not_found", "这段对话里没有这条消息")
    record = store.record_access(
        admin.username, UNMASK, sender_id, {"event_id": event_id, "reason": mask_pii(body.reason)}
    )
    log.info("%s revealed message %s of conversation %s", admin.username, event_id, sender_id)
    response.headers["Cache-Control"] = "no-store"
    return UnmaskOut(sender_id=sender_id, event_id=event_id, text=text, audit_id=record.id)


@router.get("/{sender_id}/unmasks", response_model=UnmaskList)
def unmask_log(
    sender_id: str,
    _: AdminDep,
    store: StoreDep,
    limit: Annotated[int, Query(ge=1)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> UnmaskList:
    """Who revealed which messages of this conversation, when and why; newest first."""
    return unmask_records(store, sender_id, min(limit, MAX_LIMIT), offset)


def unmask_records(store: CatalogStore, sender_id: str, limit: int, offset: int = 0) -> UnmaskList:
    records, total = store.access_log(action=UNMASK, target=sender_id, limit=limit, offset=offset)
    items = [
        UnmaskRecordOut(
            id=r.id,
            actor=r.actor,
            at=r.ts,
            event_id=r.detail.get("event_id"),
            reason=str(r.detail.get("reason", "")),
        )
        for r in records
    ]
    return UnmaskList(items=items, total=total)


# -- annotations: corrections of the NLU, the inbox, the export ------------------------------
@router.post("/{sender_id}/annotations", response_model=AnnotationOut, status_code=201)
def annotate(
    sender_id: str,
    body: AnnotationIn,
    staff: StaffDep,
    store: StoreDep,
    index: ReviewIndexDep,
    web: WebStateDep,
) -> AnnotationOut:
    """Corrects the intent and entities of one shopper message (by its event id), on the
    message as the console shows it: personal data masked."""
    transcript = index.transcript(sender_id)
    message = next(
        (
            t.shopper
            for t in (transcript.turns if transcript else ())
            if t.shopper is not None and t.shopper.event_id == body.event_id
        ),
        None,
    )
    if message is None:
        raise ApiError(404, "message_not_found", "这段对话里没有这条消息")
    text = mask_pii(message.text)
    spans = [EntitySpan(**e.model_dump()) for e in body.entities]
    try:
        web.domain_names().check(text, body.intent, spans)
    except AnnotationError as error:
        raise ApiError(422, "invalid_annotation", str(error)) from None
    record = marks.add_annotation(
        store, sender_id=sender_id, event_id=body.event_id, text=text,
        predicted_intent=message.intent, intent=body.intent,
        entities=[asdict(s) for s in spans], actor=staff.username,
    )  # fmt: skip
    return AnnotationOut(**asdict(record))


@router.get("/{sender_id}/test-conversation", response_class=PlainTextResponse)
def as_test_conversation(sender_id: str, _: StaffDep, index: ReviewIndexDep) -> str:
    """The conversation as a test conversation (tests/conversations/*.yml), masked, without
    the sender id, for a developer to add to the suite."""
    transcript = index.transcript(sender_id)
    if transcript is None:
        raise ApiError(404, "conversation_not_found", "没有找到这段对话")
    return conversation_test(transcript, f"from the review console ({len(transcript.turns)} turns)")


annotations_router = APIRouter(prefix="/api/annotations", tags=["conversations"])


@annotations_router.get("", response_model=AnnotationList)
def annotation_inbox(
    _: StaffDep,
    store: StoreDep,
    status: Literal["open", "exported", "discarded"] | None = "open",
    limit: Annotated[int, Query(ge=1)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> AnnotationList:
    records, total = marks.annotations(store, status, min(limit, MAX_LIMIT), offset)
    return AnnotationList(items=[AnnotationOut(**asdict(r)) for r in records], total=total)


@annotations_router.patch("/{annotation_id}", response_model=AnnotationOut)
def set_annotation(
    annotation_id: int, body: AnnotationPatch, _: StaffDep, store: StoreDep
) -> AnnotationOut:
    try:
        record = marks.set_annotation_status(store, annotation_id, body.status)
    except LookupError:
        raise ApiError(404, "annotation_not_found", "没有这条标注") from None
    return AnnotationOut(**asdict(record))


@annotations_router.post("/export", response_model=AnnotationExportOut)
def export_annotations(_: StaffDep, store: StoreDep, web: WebStateDep) -> AnnotationExportOut:
    """Writes every kept annotation to the bot's NLU folder as a file of its own; the next
    `make train` (or `daogou bot train`) learns from it."""
    kept = marks.exportable_annotations(store)
    examples = [(a.intent, a.text, [EntitySpan(**e) for e in a.entities]) for a in kept]
    write_nlu_file(web.annotations_file, nlu_yaml(examples))
    marks.mark_exported(store, [a.id for a in kept if a.status == "open"])
    return AnnotationExportOut(path=str(web.annotations_file), examples=len(kept))
