"""The handoff to a person: staff take a shopper's request, talk to them, hand back to the bot.

Staff and admins only (merchants 403), except the shopper's rating. A request has one owner:
``take`` is a conditional UPDATE (knowledge_graph/handoff.py), and whoever comes second gets 409
naming the owner. What staff send goes through Rasa (web/handoff_loop.py, ``RasaPush``): into the
transcript as a ``bot`` event with ``metadata.staff``, and to the shopper's open widgets.

- ``GET /api/handoffs?status=open|all|waiting|active|expired|left_message|closed``: the queue,
  oldest first, with place, waiting time, owner and the last shopper message (masked).
- ``GET /api/handoffs/stream``: Server-Sent Events ``request``, ``message``, ``taken``,
  ``expired``, ``closed`` (JSON data), a ``: keep-alive`` comment every 15 s.
- ``POST /api/handoffs/{id}/take``, ``/messages`` (``{"text"}`` or ``{"sku"}``), ``/release``.
- ``POST /api/handoffs/{id}/close``: a left message was dealt with (left_message -> closed).
- ``POST /api/widget/handoff-rating`` ``{"rating": 1-5}``: the shopper (cookie or Bearer, as
  web/routes/widget.py) rates their latest released handoff, once.
- ``GET/POST /api/canned-replies``, ``DELETE /api/canned-replies/{id}``: staff's stock replies.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import StreamingResponse

from cn_text.pii import mask_pii
from knowledge_graph import handoff as handoffs
from knowledge_graph.handoff import HandoffConflict, HandoffNotFound, HandoffRecord
from knowledge_graph.store import NotFound
from web.deps import StaffDep, StoreDep, WebStateDep, refuse_sensitive
from web.errors import ApiError
from web.handoff_loop import RESUME, HandoffDesk, HandoffFeed, PushFailed, feed_item
from web.routes.widget import KnownShopperDep
from web.schemas import (
    CannedReplyIn,
    CannedReplyList,
    CannedReplyOut,
    HandoffList,
    HandoffMessageIn,
    HandoffMessageOut,
    HandoffOut,
    HandoffRatingIn,
)

router = APIRouter(prefix="/api/handoffs", tags=["handoff"])
widget_router = APIRouter(prefix="/api/widget", tags=["widget"])
canned_router = APIRouter(prefix="/api/canned-replies", tags=["handoff"])

log = logging.getLogger(__name__)
KEEP_ALIVE_SECONDS = 15.0
MAX_LIMIT = 100
_desk_lock = threading.Lock()


# -- the desk of this process -------------------------------------------------------------------


def desk_of(app: FastAPI) -> HandoffDesk:
    """The app's handoff desk, built on first use from its services' settings."""
    desk = getattr(app.state, "handoff_desk", None)
    if desk is None:
        with _desk_lock:
            desk = getattr(app.state, "handoff_desk", None)
            if desk is None:
                services = app.state.web.services
                settings = services.settings
                desk = HandoffDesk.build(
                    services.store,
                    rasa_url=settings.rasa_url,
                    rasa_token=settings.rasa_token,
                    tracker_db_url=settings.tracker_db_url,
                    wait_seconds=settings.handoff_wait_seconds,
                    service_hours=settings.service_hours,
                    webhook_url=settings.handoff_webhook_url,
                )
                app.state.handoff_desk = desk
    return desk


def start(app: FastAPI) -> None:
    """The background loop (holding messages, expiry, the live feed): the app's lifespan."""
    desk_of(app).loop.start()


def stop(app: FastAPI) -> None:
    desk = getattr(app.state, "handoff_desk", None)
    if desk is not None:
        desk.loop.stop()


def get_desk(request: Request) -> HandoffDesk:
    return desk_of(request.app)


DeskDep = Annotated[HandoffDesk, Depends(get_desk)]


# -- the queue ----------------------------------------------------------------------------------


def _out(record: HandoffRecord, positions: dict[int, int], now: datetime) -> HandoffOut:
    until = record.taken_at or record.closed_at or now
    return HandoffOut(
        id=record.id,
        sender_id=record.sender_id,
        status=record.status,
        requested_at=record.requested_at,
        waiting_seconds=round(max(0.0, (until - record.requested_at).total_seconds()), 1),
        position=positions.get(record.id),
        taken_by=record.taken_by,
        taken_at=record.taken_at,
        closed_at=record.closed_at,
        expired_reason=record.expired_reason,
        request_text=mask_pii(record.request_text),
        last_shopper_message=mask_pii(record.last_shopper_text or "") or None,
        last_shopper_at=record.last_shopper_at,
        left_message=mask_pii(record.left_message or "") or None,
        left_at=record.left_at,
        rating=record.rating,
        conversation=f"/api/conversations/{record.sender_id}",
    )


def _one(desk: HandoffDesk, handoff_id: int) -> HandoffOut:
    record = desk.queue.get(handoff_id)
    return _out(record, desk.queue.positions(), datetime.now(UTC))


@router.get("", response_model=HandoffList)
def list_handoffs(
    _: StaffDep,
    desk: DeskDep,
    status: Annotated[str, Query(max_length=16)] = "open",
    limit: Annotated[int, Query(ge=0)] = 20,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> HandoffList:
    if status == "open":
        statuses: tuple[str, ...] | None = handoffs.OPEN
    elif status == "all":
        statuses = None
    elif status in handoffs.STATUSES:
        statuses = (status,)
    else:
        raise ApiError(
            422, "bad_status", f"status 应为 open、all 或 {'、'.join(handoffs.STATUSES)} 之一"
        )
    records, total = desk.queue.list(statuses, limit=min(limit, MAX_LIMIT), offset=offset)
    positions, now = desk.queue.positions(), datetime.now(UTC)
    return HandoffList(items=[_out(r, positions, now) for r in records], total=total)


async def sse_stream(
    feed: HandoffFeed,
    disconnected: Callable[[], Awaitable[bool]],
    keep_alive: float = KEEP_ALIVE_SECONDS,
    poll: float = 1.0,
) -> AsyncIterator[str]:
    """The console's event stream: one SSE event per queue change, a comment when quiet."""
    queue = feed.subscribe()
    try:
        yield "retry: 3000\n\n"
        quiet_since = time.monotonic()
        while not await disconnected():
            try:
                event, data = await asyncio.wait_for(queue.get(), timeout=poll)
            except TimeoutError:
                if time.monotonic() - quiet_since >= keep_alive:
                    quiet_since = time.monotonic()
                    yield ": keep-alive\n\n"
                continue
            quiet_since = time.monotonic()
            yield f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"
    finally:
        feed.unsubscribe(queue)


@router.get("/stream")
async def stream(_: StaffDep, request: Request) -> StreamingResponse:
    desk = desk_of(request.app)
    return StreamingResponse(
        sse_stream(desk.feed, request.is_disconnected),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def _record(desk: HandoffDesk, handoff_id: int) -> HandoffRecord:
    try:
        return desk.queue.get(handoff_id)
    except HandoffNotFound:
        raise ApiError(404, "not_found", "没有这个转人工请求") from None


def _conflict(exc: HandoffConflict) -> ApiError:
    return ApiError(
        409, "handoff_conflict", exc.message,
        {"status": exc.record.status, "taken_by": exc.record.taken_by},
    )  # fmt: skip


@router.post("/{handoff_id}/take", response_model=HandoffOut)
def take(handoff_id: int, staff: StaffDep, desk: DeskDep) -> HandoffOut:
    before = _record(desk, handoff_id)
    try:
        record = desk.queue.take(handoff_id, staff.username)
    except HandoffConflict as exc:
        raise _conflict(exc) from None
    if before.status != handoffs.ACTIVE:  # not a second click of the owner
        started = {"type": "handoff", "state": "started", "agent": staff.username}
        try:
            desk.push.deliver(record.sender_id, {"custom": started}, {"staff": staff.username})
        except PushFailed:
            # Still the owner: their first message will say whether Rasa is back.
            log.warning("handoff %s: could not tell the shopper it was taken", handoff_id)
    return _one(desk, handoff_id)


def _owned(desk: HandoffDesk, handoff_id: int, staff: str) -> HandoffRecord:
    record = _record(desk, handoff_id)
    if record.status != handoffs.ACTIVE:
        raise ApiError(409, "not_active", "该会话不在人工接待中", {"status": record.status})
    if record.taken_by != staff:
        raise ApiError(
            409, "not_owner", f"该会话由 {record.taken_by} 接待", {"taken_by": record.taken_by}
        )
    return record


@router.post("/{handoff_id}/messages", response_model=HandoffMessageOut)
def send_message(
    handoff_id: int,
    body: HandoffMessageIn,
    staff: StaffDep,
    desk: DeskDep,
    store: StoreDep,
    web: WebStateDep,
) -> HandoffMessageOut:
    if (body.text is None) == (body.sku is None):
        raise ApiError(422, "bad_message", "请发送 text 或 sku 其中之一")
    record = _owned(desk, handoff_id, staff.username)
    if body.sku is not None:
        try:
            product = store.get_product(body.sku).product
        except NotFound:
            raise ApiError(404, "not_found", f"没有商品 {body.sku}") from None
        message: dict[str, Any] = handoffs.product_message(product)
    else:
        text = (body.text or "").strip()
        if not text:
            raise ApiError(422, "bad_message", "消息不能为空")
        refuse_sensitive(web, text)
        message = {"text": text}
    try:
        desk.push.deliver(record.sender_id, message, {"staff": staff.username})
    except PushFailed as exc:
        log.warning("handoff %s: message not delivered: %s", handoff_id, exc)
        raise ApiError(502, "push_failed", "消息没有发送成功，请稍后重试") from None
    return HandoffMessageOut(handoff_id=handoff_id, sender_id=record.sender_id, message=message)


@router.post("/{handoff_id}/release", response_model=HandoffOut)
def release(handoff_id: int, staff: StaffDep, desk: DeskDep) -> HandoffOut:
    """Hands the conversation back to the bot: Rasa resumes first (if that fails nothing
    changed and staff may retry), then the request closes."""
    admin = staff.role == "admin"
    record = _record(desk, handoff_id)
    if record.status != handoffs.ACTIVE or (record.taken_by != staff.username and not admin):
        raise _conflict(HandoffConflict(record, "只有接待中的客服可以结束该会话"))
    ended = {"type": "handoff", "state": "ended", "handoff_id": handoff_id}
    try:
        desk.push.deliver(
            record.sender_id,
            {"text": handoffs.ENDED_TEXT, "custom": ended},
            {"staff": record.taken_by or staff.username},
            before=RESUME[:1],
            after=RESUME[1:],
        )
    except PushFailed as exc:
        log.warning("handoff %s: could not resume the bot: %s", handoff_id, exc)
        raise ApiError(502, "push_failed", "暂时无法交还给智能助手，请稍后重试") from None
    try:
        desk.queue.release(handoff_id, staff.username, any_owner=admin)
    except HandoffConflict as exc:
        raise _conflict(exc) from None
    return _one(desk, handoff_id)


@router.post("/{handoff_id}/close", response_model=HandoffOut)
def close_left_message(handoff_id: int, staff: StaffDep, desk: DeskDep) -> HandoffOut:
    _record(desk, handoff_id)
    try:
        record = desk.queue.close_left_message(handoff_id, staff.username)
    except HandoffConflict as exc:
        raise _conflict(exc) from None
    # The loop watches open requests only: this replica's consoles hear of it here.
    desk.feed.publish("closed", feed_item(record))
    return _one(desk, handoff_id)


# -- the shopper's rating -----------------------------------------------------------------------


@widget_router.post("/handoff-rating", response_model=HandoffOut)
def rate(body: HandoffRatingIn, shopper: KnownShopperDep, desk: DeskDep) -> HandoffOut:
    try:
        record = desk.queue.rate(shopper.sender_id, body.rating)
    except HandoffNotFound:
        raise ApiError(404, "no_handoff", "没有可以评价的人工服务") from None
    except HandoffConflict as exc:
        raise ApiError(409, "already_rated", exc.message) from None
    return _out(record, {}, datetime.now(UTC))


# -- canned replies -----------------------------------------------------------------------------


def _canned_out(record: handoffs.CannedReplyRecord) -> CannedReplyOut:
    return CannedReplyOut(
        id=record.id, title=record.title, text=record.text,
        created_by=record.created_by, created_at=record.created_at,
    )  # fmt: skip


@canned_router.get("", response_model=CannedReplyList)
def list_canned(_: StaffDep, store: StoreDep) -> CannedReplyList:
    items = [_canned_out(r) for r in handoffs.canned_replies(store)]
    return CannedReplyList(items=items, total=len(items))


@canned_router.post("", response_model=CannedReplyOut, status_code=201)
def add_canned(
    body: CannedReplyIn, staff: StaffDep, store: StoreDep, web: WebStateDep
) -> CannedReplyOut:
    refuse_sensitive(web, body.title, body.text)
    try:
        record = handoffs.add_canned_reply(store, body.title, body.text, staff.username)
    except ValueError as exc:
        raise ApiError(422, "too_many", str(exc)) from None
    return _canned_out(record)


@canned_router.delete("/{reply_id}", status_code=204)
def delete_canned(reply_id: int, _: StaffDep, store: StoreDep) -> None:
    if not handoffs.delete_canned_reply(store, reply_id):
        raise ApiError(404, "not_found", "没有这条快捷回复")
