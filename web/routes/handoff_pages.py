"""The staff console's live handoff desk (「人工接待」): the queue on the left (waiting requests
first, then the conversations being served, then left messages), the selected conversation on
the right (recent transcript, take, messages, canned replies and product cards, hand back).

The page is rendered here with the queue as it stands, so it is complete without JavaScript;
static/console/handoffs.js then keeps it live over ``GET /api/handoffs/stream`` and does the
rest through the handoff API (web/routes/handoff.py). The same script keeps the navigation's
badge of waiting requests live on every staff page (templates/console/base.html).

``GET /api/handoffs/{id}/transcript`` is the page's read of the conversation: the transcript of
the review index (web/review/transcript.py), masked, flattened into lines, with the messages
staff sent told apart from the bot's (``metadata.staff``), and ``after`` an event id so that a
new shopper message costs the page only the lines after the last one it shows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field

from knowledge_graph import handoff as handoffs
from web.deps import ReviewIndexDep, StaffDep, StaffPageDep
from web.errors import ApiError
from web.review.masking import mask_transcript
from web.review.transcript import BotMessage, Transcript
from web.routes import handoff as handoff_api
from web.routes.console import page_context, render
from web.routes.handoff import DeskDep
from web.routes.staff_pages import shop_time, staff_messages
from web.schemas import HandoffOut

router = APIRouter(tags=["console"], include_in_schema=False)

QUEUE_LIMIT = 100  # per group: a longer queue is a staffing problem, not a paging one
HOLDING_SKILL = "handoff"  # metadata.skill of the web app's holding messages (handoff_loop.py)


# -- the page -----------------------------------------------------------------------------------


def wait_text(seconds: float) -> str:
    """「45 秒」「3 分 05 秒」「1 小时 02 分」 (static/console/handoffs.js says it the same way)."""
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} 小时 {minutes:02d} 分"
    if minutes:
        return f"{minutes} 分 {secs:02d} 秒"
    return f"{secs} 秒"


def place_text(item: HandoffOut) -> str:
    if item.status == handoffs.WAITING:
        return f"第 {item.position} 位" if item.position else "等待中"
    if item.status == handoffs.EXPIRED:
        return "非服务时间" if item.expired_reason == "closed_hours" else "等待超时"
    if item.status == handoffs.LEFT_MESSAGE:
        return "留言"
    return "接待中"


def owner_text(item: HandoffOut, me: str) -> str:
    if not item.taken_by:
        return ""
    return "我在接待" if item.taken_by == me else f"由 {item.taken_by} 接待"


def shopper_label(sender_id: str) -> str:
    """A short handle for the list; the panel shows the whole id."""
    return f"顾客 {sender_id[-6:]}"


def last_text(item: HandoffOut) -> str:
    if item.status == handoffs.LEFT_MESSAGE:
        return item.left_message or ""
    return item.last_shopper_message or item.request_text or ""


def queue_groups(me: str, items: list[HandoffOut]) -> list[dict[str, Any]]:
    """The queue's three groups in the order staff work through them."""
    waiting = [i for i in items if i.status == handoffs.WAITING]
    expired = [i for i in items if i.status == handoffs.EXPIRED]
    active = [i for i in items if i.status == handoffs.ACTIVE]
    mine = [i for i in active if i.taken_by == me]
    others = [i for i in active if i.taken_by != me]
    left = [i for i in items if i.status == handoffs.LEFT_MESSAGE]
    return [
        {"key": "waiting", "title": "等待接待", "items": waiting + expired},
        {"key": "active", "title": "接待中", "items": mine + others},
        {"key": "left", "title": "留言", "items": left},
    ]


@router.get("/console/handoffs", response_class=HTMLResponse)
def handoffs_page(request: Request, principal: StaffPageDep, desk: DeskDep) -> Response:
    def listed(status: str) -> list[HandoffOut]:
        return handoff_api.list_handoffs(
            principal, desk, status=status, limit=QUEUE_LIMIT, offset=0
        ).items

    items = listed("open") + listed(handoffs.LEFT_MESSAGE)
    context = page_context(
        request, principal, "/console/handoffs",
        groups=queue_groups(principal.username, items), wait_text=wait_text,
        place_text=place_text, owner_text=owner_text, shopper_label=shopper_label,
        last_text=last_text, shop_time=shop_time,
    )  # fmt: skip
    return render("console/staff/handoffs.html", context)


# -- the conversation, as lines -----------------------------------------------------------------


class ProductLine(BaseModel):
    sku: str
    title: str
    price: float | None = None
    stock: int | None = None


class TranscriptLine(BaseModel):
    event_id: int
    at: datetime | None
    speaker: Literal["shopper", "bot", "holding", "staff"]  # holding: the web app, while waiting
    staff: str | None = None  # who, when a staff member sent it
    text: str | None = None  # masked
    note: str | None = None  # 「staff1 已接入」, 「已交还智能助手」
    products: list[ProductLine] = Field(default_factory=list)
    buttons: list[str] = Field(default_factory=list)  # quick replies' titles


class TranscriptLines(BaseModel):
    items: list[TranscriptLine]
    total: int  # lines after `after`; items are the last `limit` of them


def _handoff_note(custom: Any, staff: str | None) -> str | None:
    if not (isinstance(custom, dict) and custom.get("type") == "handoff"):
        return None
    if custom.get("state") == "started":
        return f"{custom.get('agent') or staff or '客服'} 已接入"
    return "已交还智能助手" if custom.get("state") == "ended" else None


def _product_line(card: dict[str, Any]) -> ProductLine:
    """A card as stored in the tracker: numbers that are not numbers are left out, not a 500."""
    price, stock = card.get("price"), card.get("stock")
    return ProductLine(
        sku=str(card.get("sku", "")), title=str(card.get("title", "")),
        price=price if isinstance(price, int | float) else None,
        stock=stock if isinstance(stock, int) else None,
    )  # fmt: skip


def _bot_line(message: BotMessage, staff: str | None) -> TranscriptLine:
    speaker = "staff" if staff else "holding" if message.skill == HOLDING_SKILL else "bot"
    return TranscriptLine(
        event_id=message.event_id, at=message.at, speaker=speaker, staff=staff,
        text=message.text, note=_handoff_note(message.custom, staff),
        products=[_product_line(card) for card in message.products],
        buttons=[b.title for b in message.buttons],
    )  # fmt: skip


def transcript_lines(transcript: Transcript, staff: dict[int, str]) -> list[TranscriptLine]:
    """Every message in order: the shopper's (taken-back ones left out) and the bot's."""
    lines = []
    for turn in transcript.turns:
        shopper = turn.shopper
        if shopper is not None and not shopper.reverted:
            lines.append(
                TranscriptLine(
                    event_id=shopper.event_id, at=shopper.at, speaker="shopper", text=shopper.text
                )
            )
        lines.extend(_bot_line(m, staff.get(m.event_id)) for m in turn.bot)
    return lines


@router.get("/api/handoffs/{handoff_id}/transcript", response_model=TranscriptLines)
def handoff_transcript(
    handoff_id: int, _: StaffDep, desk: DeskDep, index: ReviewIndexDep,
    after: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 60,
) -> TranscriptLines:  # fmt: skip
    try:
        record = desk.queue.get(handoff_id)
    except handoffs.HandoffNotFound:
        raise ApiError(404, "not_found", "没有这个转人工请求") from None
    transcript = index.transcript(record.sender_id)
    if transcript is None:
        return TranscriptLines(items=[], total=0)
    lines = transcript_lines(mask_transcript(transcript), staff_messages(index, record.sender_id))
    lines = [line for line in lines if line.event_id > after]
    return TranscriptLines(items=lines[-limit:], total=len(lines))
