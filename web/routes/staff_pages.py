"""The staff console's pages: the conversation list (filters, search, saved views), one
transcript (review, tags, corrections of the NLU), the annotation inbox with its export, and the
dashboard. Server-rendered (templates/console/staff/), htmx for the list's filters, and
static/console/staff.js for the rest; every page goes through ``StaffPageDep``.

The pages call the JSON API's own functions (web/routes/conversations.py, analytics.py), never
HTTP to this process, so what a page shows is what the API answers. Shoppers' and the bot's
texts reach the templates as data and are escaped by Jinja's autoescape.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from web.deps import ReviewIndexDep, StaffDep, StaffPageDep, StoreDep, WebStateDep
from web.errors import ApiError
from web.review.analytics import SHOP_TZ
from web.review.events import BOT, EVENTS
from web.routes import conversations as api
from web.routes.console import page_context, render
from web.routes.storefront import stock_text, yuan

router = APIRouter(tags=["console"], include_in_schema=False)

PAGE_SIZE = 20
LOW_CONFIDENCE = 0.7  # a shopper message classified below this is shown as doubtful
STATUSES = {"open": "待处理", "exported": "已导出", "discarded": "已丢弃"}
CHOICES = {"": "不限", "1": "是", "0": "否"}
SEARCH_IN = {"all": "全部消息", "shopper": "顾客的话", "bot": "机器人的话"}
UNMASKS_SHOWN = 20  # the transcript's list of revealed messages (admins)


# -- helpers ------------------------------------------------------------------------------------


def _flag(value: str) -> bool | None:
    return {"1": True, "0": False}.get(value)


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _number(value: str) -> float | None:
    try:
        number = float(value) if value else None
    except ValueError:
        return None
    return number if number is not None and 0 <= number <= 1 else None


def _shop_start(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=SHOP_TZ)


def shop_time(moment: datetime | None) -> str:
    return moment.astimezone(SHOP_TZ).strftime("%Y-%m-%d %H:%M") if moment else ""


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _confidence_class(confidence: float | None, fallback: bool = False) -> str:
    if fallback:
        return "bad"
    if confidence is None:
        return ""
    return "warn" if confidence < LOW_CONFIDENCE else "ok"


def _filters_of(request: Request) -> dict[str, str]:
    keys = ("since", "until", "intent", "fallback", "handoff", "confidence_below", "q")
    keys += ("search_in", "tag", "reviewed", "negative_feedback", "page")
    return {key: request.query_params.get(key, "").strip()[:100] for key in keys}


def _intent_options(web: Any) -> list[str]:
    names = web.domain_names()
    return sorted(names.intents) + sorted(names.retrieval)


TEMPLATE_HELPERS = {
    "shop_time": shop_time,
    "yuan": yuan,
    "stock_text": stock_text,
    "percent": _percent,
    "confidence_class": _confidence_class,
    "low_confidence": LOW_CONFIDENCE,
}


# -- the conversation list ----------------------------------------------------------------------


@router.get("/console/conversations", response_class=HTMLResponse)
def conversation_list(
    request: Request, principal: StaffPageDep, store: StoreDep, index: ReviewIndexDep,
    web: WebStateDep,
) -> Response:  # fmt: skip
    """The list; an htmx request (the filter form) gets only the results part."""
    filters = _filters_of(request)
    since, until = _day(filters["since"]), _day(filters["until"])
    page = max(1, int(filters["page"])) if filters["page"].isdigit() else 1
    error = ""
    try:
        result = api.list_conversations(
            principal, store, index,
            since=_shop_start(since) if since else None,
            until=_shop_start(until + timedelta(days=1)) if until else None,
            intent=filters["intent"] or None,
            fallback=_flag(filters["fallback"]),
            handoff=_flag(filters["handoff"]),
            confidence_below=_number(filters["confidence_below"]),
            q=filters["q"] or None,
            search_in=filters["search_in"] if filters["search_in"] in SEARCH_IN else "all",
            tag=filters["tag"] or None,
            reviewed=_flag(filters["reviewed"]),
            negative_feedback=True if filters["negative_feedback"] == "1" else None,
            limit=PAGE_SIZE,
            offset=(page - 1) * PAGE_SIZE,
        )  # fmt: skip
        items, total = result.items, result.total
    except ApiError as problem:
        items, total, error = [], 0, problem.message
    pages = max(1, -(-total // PAGE_SIZE))
    query = {k: v for k, v in filters.items() if v and k != "page"}
    context = page_context(
        request, principal, "/console/conversations",
        items=items, total=total, page=page, pages=pages, filters=filters, error=error,
        query=query, intents=_intent_options(web), choices=CHOICES, search_in=SEARCH_IN,
        **TEMPLATE_HELPERS,
    )  # fmt: skip
    # htmx's filter requests get the results part; a history restore wants the whole page.
    partial = request.headers.get("HX-Request") == "true" and not request.headers.get(
        "HX-History-Restore-Request"
    )
    name = "results.html" if partial else "conversations.html"
    response = render(f"console/staff/{name}", context)
    response.headers["Vary"] = "HX-Request"
    return response


# -- one transcript -----------------------------------------------------------------------------


def staff_messages(index: Any, sender_id: str) -> dict[int, str]:
    """Event id -> the staff member, for the bot events staff sent (metadata.staff)."""
    try:
        with index.tracker.connect() as conn:
            rows = conn.execute(
                sa.select(EVENTS.c.id, EVENTS.c.data).where(
                    EVENTS.c.sender_id == sender_id,
                    EVENTS.c.type_name == BOT,
                    EVENTS.c.data.contains('"staff"'),
                )
            ).all()
    except sa.exc.SQLAlchemyError:
        return {}
    found = {}
    for event_id, data in rows:
        staff = (json.loads(data or "{}").get("metadata") or {}).get("staff")
        if staff:
            found[event_id] = str(staff)
    return found


def _slots_text(slots: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (name, value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))
        for name, value in sorted(slots.items())
    ]


@router.get("/console/conversations/{sender_id}", response_class=HTMLResponse)
def transcript_page(
    sender_id: str, request: Request, principal: StaffPageDep, store: StoreDep,
    index: ReviewIndexDep,
) -> Response:  # fmt: skip
    try:
        detail, masked = api.conversation_detail(sender_id, store, index)
    except ApiError as problem:
        context = page_context(
            request, principal, "/console/conversations", message=problem.message
        )
        return render("console/staff/not_found.html", context, status_code=problem.status)
    # Admins may reveal a masked message (logged); they see who did so here, newest first.
    admin = principal.role == "admin"
    unmasks = api.unmask_records(store, sender_id, UNMASKS_SHOWN).items if admin else []
    context = page_context(
        request, principal, "/console/conversations",
        sender_id=sender_id, summary=detail.summary, review=detail.review,
        transcript=detail.transcript, staff_messages=staff_messages(index, sender_id),
        slots_text=_slots_text, can_unmask=admin, masked=masked if admin else frozenset(),
        unmasks=unmasks, **TEMPLATE_HELPERS,
    )  # fmt: skip
    return render("console/staff/transcript.html", context)


@router.get("/api/domain/names")
def domain_names(_: StaffDep, web: WebStateDep) -> dict[str, Any]:
    """The bot's intents, retrieval intents (faq/shipping ...) and entities with their roles:
    what a correction may use."""
    names = web.domain_names()
    return {
        "intents": sorted(names.intents),
        "retrieval_intents": sorted(names.retrieval),
        "entities": sorted(names.entities),
        "roles": {entity: sorted(roles) for entity, roles in sorted(names.roles.items())},
    }


# -- annotations ----------------------------------------------------------------------------


@router.get("/console/annotations", response_class=HTMLResponse)
def annotations_page(
    request: Request, principal: StaffPageDep, store: StoreDep, web: WebStateDep,
    status: Annotated[str, Query(max_length=16)] = "open",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:  # fmt: skip
    status = status if status in STATUSES else "open"
    limit = 50
    inbox = api.annotation_inbox(principal, store, status, limit, (page - 1) * limit)  # type: ignore[arg-type]
    counts = {s: api.annotation_inbox(principal, store, s, 1, 0).total for s in STATUSES}  # type: ignore[arg-type]
    context = page_context(
        request, principal, "/console/annotations",
        status=status, statuses=STATUSES, counts=counts, items=inbox.items, total=inbox.total,
        page=page, pages=max(1, -(-inbox.total // limit)), export_path=str(web.annotations_file),
        marked=_marked, **TEMPLATE_HELPERS,
    )  # fmt: skip
    return render("console/staff/annotations.html", context)


def _marked(text: str, entities: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
    """The text in pieces, each with the entity it is (None: plain text), for highlighting."""
    pieces, at = [], 0
    for span in sorted(entities, key=lambda e: e.get("start", 0)):
        start, end = int(span.get("start", 0)), int(span.get("end", 0))
        if start < at or end > len(text):
            continue
        if start > at:
            pieces.append((text[at:start], None))
        label = span.get("entity", "")
        if span.get("role"):
            label += f"·{span['role']}"
        if span.get("value"):
            label += f"={span['value']}"
        pieces.append((text[start:end], label))
        at = end
    if at < len(text):
        pieces.append((text[at:], None))
    return pieces


# -- the dashboard --------------------------------------------------------------------------


@router.get("/console/dashboard", response_class=HTMLResponse)
def dashboard_page(request: Request, principal: StaffPageDep) -> Response:
    today = datetime.now(SHOP_TZ).date()
    context = page_context(
        request, principal, "/console/dashboard",
        since=(today - timedelta(days=13)).isoformat(), until=today.isoformat(),
    )  # fmt: skip
    return render("console/staff/dashboard.html", context)
