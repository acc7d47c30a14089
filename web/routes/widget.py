"""The chat widget's identity and history (web/identity.py says how a shopper is identified).

`GET /api/widget/session`: the shopper's id and a fresh token for Rasa's channels,
`{"sender_id", "token", "expires_in"}`. The id comes from the shop's token in
`Authorization: Bearer` (a signed-in customer), else from the `daogou_shopper` cookie, else
it is made here and the cookie set. A GET, so the widget simply fetches it at start and again
before its token runs out; it is answered `Cache-Control: no-store`, and no other site can
read the answer (no CORS here), while SameSite=Lax keeps the cookie off other sites' requests.

`GET /api/widget/history?limit=`: the caller's own conversation (shopper messages and bot
messages with buttons, product cards and times), read from Rasa's tracker store as the staff
console reads it; only ever for the cookie's or the Bearer token's id, never one named in the
request. `rating_due` names the shopper's latest released handoff while it is unrated, so a
reloaded widget asks for the rating (issue #16) only then.

`GET /api/widget/consent`, `POST /api/widget/consent` `{"granted": bool}`: the shopper's answer
to the consent notice (issue #19: may their browsing and chat history here personalise
recommendations?), stored per shopper id (knowledge_graph/consent.py) so a reload or a second
device does not ask again; `granted` is null until they answer, which counts as no. The answer
can be changed at any time; it reaches the chat within seconds (the lookup's short cache).
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel
from sqlalchemy.engine import Engine

from knowledge_graph import consent
from knowledge_graph.handoff import HandoffQueue
from web import identity
from web.deps import ServicesDep, SettingsDep, StoreDep
from web.errors import ApiError
from web.identity import Shopper
from web.review.events import readonly_engine
from web.review.transcript import read_transcript
from web.schemas import ConsentIn, ConsentOut

router = APIRouter(prefix="/api/widget", tags=["widget"])


def _known_shopper(request: Request, key: str) -> Shopper | None:
    """The shopper a request proves to be: a Bearer token (which must then be valid), else a
    signed cookie; None if neither."""
    token = identity.bearer_token(request.headers.get("authorization"))
    if token is not None:
        sender = identity.verify_shopper_token(key, token)
        if sender is None:
            raise ApiError(401, "invalid_token", "登录状态已失效，请刷新页面后重试")
        return Shopper(sender, "bearer")
    sender = identity.sender_of_cookie(key, request.cookies.get(identity.COOKIE))
    return Shopper(sender, "cookie") if sender else None


def known_shopper(request: Request, settings: SettingsDep) -> Shopper:
    """The shopper, who must already have an identity (401 otherwise)."""
    shopper = _known_shopper(request, settings.shopper_key)
    if shopper is None:
        raise ApiError(401, "no_shopper", "请先打开聊天窗口（GET /api/widget/session）")
    return shopper


def shopper(request: Request, response: Response, settings: SettingsDep) -> Shopper:
    """The shopper, given a new identity (and the cookie that keeps it) if they have none."""
    key = settings.shopper_key
    found = _known_shopper(request, key)
    if found is not None:
        return found
    new = Shopper(identity.new_sender_id(), "new")
    response.set_cookie(
        identity.COOKIE, identity.cookie_value(key, new.sender_id),
        max_age=identity.COOKIE_MAX_AGE, httponly=True, samesite="lax",
        secure=request.url.scheme == "https", path="/",
    )  # fmt: skip
    return new


ShopperDep = Annotated[Shopper, Depends(shopper)]
KnownShopperDep = Annotated[Shopper, Depends(known_shopper)]


class WidgetSession(BaseModel):
    sender_id: str
    token: str  # send to Rasa: Socket.IO `auth: {token}`, REST `Authorization: Bearer`
    expires_in: int  # seconds


@router.get("/session", response_model=WidgetSession)
def session(shopper: ShopperDep, settings: SettingsDep, response: Response) -> WidgetSession:
    response.headers["Cache-Control"] = "no-store"
    token = identity.mint_shopper_token(settings.shopper_key, shopper.sender_id)
    return WidgetSession(sender_id=shopper.sender_id, token=token, expires_in=identity.TOKEN_TTL)


class HistoryButton(BaseModel):
    title: str
    payload: str


class HistoryMessage(BaseModel):
    sender: Literal["user", "bot"]
    text: str | None = None
    # A shopper message sent by a button: the payload the bot got (`text` is the title shown).
    payload: str | None = None
    buttons: list[HistoryButton] = []
    custom: Any = None  # product cards: {"type": "products", "items": [...]}
    image: str | None = None
    timestamp: datetime | None = None


class HistoryOut(BaseModel):
    sender_id: str
    items: list[HistoryMessage]  # the latest `limit` messages, oldest first
    total: int  # every message of the conversation
    # The shopper's latest handoff a person answered and released, while it is not rated.
    rating_due: int | None = None


@lru_cache(maxsize=4)
def _tracker(url: str) -> Engine:
    return readonly_engine(url)


def conversation(tracker: Engine, sender_id: str) -> list[HistoryMessage]:
    """Every message of the sender's conversation (all sessions), in order."""
    transcript = read_transcript(tracker, sender_id)
    messages: list[HistoryMessage] = []
    titles: dict[str, str] = {}  # payload -> title of the buttons last shown
    for turn in transcript.turns if transcript else ():
        said = turn.shopper
        if said is not None:
            title = titles.get(said.text)
            messages.append(
                HistoryMessage(
                    sender="user",
                    text=title or said.text,
                    payload=said.text if title else None,
                    timestamp=said.at,
                )
            )
        for bot in turn.bot:
            buttons = [HistoryButton(title=b.title, payload=b.payload) for b in bot.buttons]
            if buttons:
                titles = {b.payload: b.title for b in buttons}
            messages.append(
                HistoryMessage(
                    sender="bot",
                    text=bot.text,
                    buttons=buttons,
                    custom=bot.custom,
                    image=bot.image,
                    timestamp=bot.at,
                )
            )
    return messages


@router.get("/history", response_model=HistoryOut)
def history(
    shopper: KnownShopperDep,
    settings: SettingsDep,
    store: StoreDep,
    response: Response,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> HistoryOut:
    response.headers["Cache-Control"] = "no-store"
    messages = conversation(_tracker(settings.tracker_db_url), shopper.sender_id)
    released = HandoffQueue(store).latest_closed(shopper.sender_id)
    return HistoryOut(
        sender_id=shopper.sender_id,
        items=messages[-limit:],
        total=len(messages),
        rating_due=released.id if released and released.rating is None else None,
    )


# -- consent to personal recommendations --------------------------------------------------------


def _consent_out(found: consent.Consent | None) -> ConsentOut:
    if found is None:
        return ConsentOut()
    return ConsentOut(granted=found.granted, decided_at=found.decided_at)


@router.get("/consent", response_model=ConsentOut)
def get_consent(shopper: KnownShopperDep, store: StoreDep, response: Response) -> ConsentOut:
    response.headers["Cache-Control"] = "no-store"
    return _consent_out(consent.decision(store, shopper.sender_id))


@router.post("/consent", response_model=ConsentOut)
def set_consent(
    body: ConsentIn, shopper: KnownShopperDep, services: ServicesDep, response: Response
) -> ConsentOut:
    response.headers["Cache-Control"] = "no-store"
    # Through the process's cached lookup, so this process's next recommendation already obeys.
    return _consent_out(services.consent.decide(shopper.sender_id, body.granted))
