"""Handoff to a person: the queue of requests and what the shopper hears while nobody answers.

States of a request (table ``handoffs``, knowledge_graph/tables/staff.py)::

    waiting --take--> active --release--> closed
       |  \\--(shopper: 继续问智能助手)--> closed
       \\--(no one took it in `wait_seconds`, or outside service hours)--> expired
    expired --take--> active
    expired --(shopper: 继续问智能助手)--> closed
    expired --(shopper: 留言给客服, then their message)--> left_message
    left_message --(staff: 已处理)--> closed

``action_request_human`` (actions/after_sales.py) opens a request and pauses Rasa. While Rasa is
paused it runs no action at all, so everything the shopper hears until a person answers comes
from :class:`Holding`, which the web app's loop (web/handoff_loop.py) steps about once a second
with the shopper messages that arrived. Every change of a request is a conditional UPDATE
(``WHERE status = ...``, or on the message cursor ``last_event_id``): of two staff members, or
two web app replicas, exactly one wins, and only the winner speaks to the shopper, so the
holding message is said once however many replicas run the loop.

No Rasa and no HTTP here: :class:`Channel` is what Holding needs of the outside (the web app
implements it over Rasa's HTTP API and the Socket.IO channel's push route).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, timezone
from typing import Any, Protocol

from sqlalchemy import delete, func, select, update

from knowledge_graph.product import Product
from knowledge_graph.store import CatalogStore
from knowledge_graph.tables import CannedReply, Handoff, utcnow

WAITING, ACTIVE, EXPIRED, LEFT_MESSAGE, CLOSED = (
    "waiting",
    "active",
    "expired",
    "left_message",
    "closed",
)
STATUSES = (WAITING, ACTIVE, EXPIRED, LEFT_MESSAGE, CLOSED)
OPEN = (WAITING, ACTIVE, EXPIRED)  # Rasa is paused for the shopper
TAKEABLE = (WAITING, EXPIRED)

# Quick replies offered when nobody can answer; each sends its own title.
LEAVE_MESSAGE = "留言给客服"
BACK_TO_BOT = "继续问智能助手"
CHOICES = ({"title": LEAVE_MESSAGE, "payload": LEAVE_MESSAGE},
           {"title": BACK_TO_BOT, "payload": BACK_TO_BOT})  # fmt: skip

# The shop's time (the same as web/review/analytics.py: China Standard Time, no DST).
SHOP_TZ = timezone(timedelta(hours=8), "CST")
DEFAULT_HANDLING_SECONDS = 180.0  # assumed per request until closed handoffs say otherwise
MAX_TEXT = 2000

# What the shopper hears (Simplified Chinese, polite, short).
ENDED_TEXT = (
    "本次人工服务已结束，感谢您的耐心等待。接下来由智能助手继续为您服务，欢迎为本次服务打个分。"
)
BACK_TO_BOT_TEXT = "好的，智能助手继续为您服务。请问还有什么可以帮您？"
LEAVE_PROMPT_TEXT = "请直接输入您想留给客服的话（问题和方便联系您的方式），发送后客服会尽快处理。"
LEFT_TEXT = "留言已收到，客服上班后会联系您。智能助手继续为您服务，有其他问题也可以直接问我。"
REMIND_TEXT = "您可以选择「留言给客服」，或者「继续问智能助手」。"


def acknowledgement(ahead: int, minutes: int) -> str:
    """The one holding message of a waiting request: its place in the queue and the wait."""
    place = f"您前面还有 {ahead} 位" if ahead else "您已排在第一位"
    return f"已收到，{place}，预计等待约 {minutes} 分钟，请稍候，客服接入后会第一时间回复您。"


def expired_text(reason: str, hours: ServiceHours | None) -> str:
    if reason == "closed_hours" and hours is not None:
        return (
            f"抱歉，现在不在人工客服的服务时间（每天 {hours}），暂时无法为您接通。"
            "您可以留言给客服，客服上班后会联系您；也可以继续问智能助手。"
        )
    return (
        "抱歉，客服暂时都在忙，还没能为您接通。"
        "您可以留言给客服，客服有空后会联系您；也可以继续问智能助手。"
    )


# -- service hours ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceHours:
    """When staff answer, in shop time: ``09:00-21:00``; ``22:00-06:00`` runs past midnight."""

    start: time
    end: time

    @classmethod
    def parse(cls, text: str | None) -> ServiceHours | None:
        """None for an empty value (always open); ValueError for a malformed one."""
        text = (text or "").strip()
        if not text:
            return None
        try:
            start, end = (time.fromisoformat(part.strip()) for part in text.split("-"))
        except ValueError as exc:
            raise ValueError(f"service hours must look like 09:00-21:00, not {text!r}") from exc
        return cls(start, end)

    def is_open(self, now: datetime) -> bool:
        local = _aware(now).astimezone(SHOP_TZ).time()
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


# -- records ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HandoffRecord:
    id: int
    sender_id: str
    status: str
    request_text: str
    requested_at: datetime
    taken_by: str | None
    taken_at: datetime | None
    closed_at: datetime | None
    closed_by: str | None
    expired_reason: str | None
    last_event_id: int
    last_shopper_text: str | None
    last_shopper_at: datetime | None
    acknowledged: bool
    notified: bool
    awaiting_message: bool
    left_message: str | None
    left_at: datetime | None
    rating: int | None
    rated_at: datetime | None

    @classmethod
    def of(cls, row: Handoff) -> HandoffRecord:
        values = {name: getattr(row, name) for name in cls.__dataclass_fields__}
        for name, value in values.items():
            if isinstance(value, datetime):
                values[name] = _aware(value)
        return cls(**values)

    def as_json(self) -> dict[str, Any]:
        return {
            name: value.isoformat() if isinstance(value, datetime) else value
            for name, value in self.__dict__.items()
        }


@dataclass(frozen=True)
class ShopperMessage:
    """A shopper message of a paused conversation (a ``user`` event of Rasa's tracker)."""

    event_id: int
    text: str
    at: datetime


class HandoffConflict(Exception):
    """The request is not in a state that allows the change (someone else owns it, it is
    closed ...); ``record`` is its state now."""

    def __init__(self, record: HandoffRecord, message: str) -> None:
        super().__init__(message)
        self.record = record
        self.message = message


class HandoffNotFound(LookupError):
    pass


# -- the queue ----------------------------------------------------------------------------------


class HandoffQueue:
    """The requests in the catalog database. ``clock`` returns an aware UTC datetime."""

    def __init__(self, store: CatalogStore, clock: Callable[[], datetime] = utcnow) -> None:
        self.store = store
        self.clock = clock

    # -- reading ----------------------------------------------------------------------------

    def get(self, handoff_id: int) -> HandoffRecord:
        with self.store.session() as session:
            row = session.get(Handoff, handoff_id)
            if row is None:
                raise HandoffNotFound(handoff_id)
            return HandoffRecord.of(row)

    def open_for(self, sender_id: str) -> HandoffRecord | None:
        with self.store.session() as session:
            row = session.scalars(
                select(Handoff)
                .where(Handoff.sender_id == sender_id, Handoff.status.in_(OPEN))
                .order_by(Handoff.id.desc())
                .limit(1)
            ).first()
            return HandoffRecord.of(row) if row else None

    def open_requests(self) -> list[HandoffRecord]:
        return self.list(OPEN, limit=None)[0]

    def list(
        self, statuses: Iterable[str] | None = None, limit: int | None = 20, offset: int = 0
    ) -> tuple[list[HandoffRecord], int]:
        """Requests in these states (all if None), oldest first (the queue's order)."""
        where = [] if statuses is None else [Handoff.status.in_(tuple(statuses))]
        with self.store.session() as session:
            total = session.scalar(select(func.count()).select_from(Handoff).where(*where)) or 0
            query = select(Handoff).where(*where).order_by(Handoff.id).offset(offset)
            if limit is not None:
                query = query.limit(limit)
            return [HandoffRecord.of(r) for r in session.scalars(query)], total

    def ahead_of(self, record: HandoffRecord) -> int:
        """Waiting requests made before this one."""
        with self.store.session() as session:
            return (
                session.scalar(
                    select(func.count())
                    .select_from(Handoff)
                    .where(Handoff.status == WAITING, Handoff.id < record.id)
                )
                or 0
            )

    def positions(self) -> dict[int, int]:
        """Place of every waiting request: 1 is the next to be taken."""
        with self.store.session() as session:
            ids = session.scalars(
                select(Handoff.id).where(Handoff.status == WAITING).order_by(Handoff.id)
            )
            return {handoff_id: place for place, handoff_id in enumerate(ids, start=1)}

    def handling_seconds(self, recent: int = 20) -> float:
        """Mean time staff spent on the last `recent` handoffs they closed (a default before
        there are any)."""
        with self.store.session() as session:
            rows = session.execute(
                select(Handoff.taken_at, Handoff.closed_at)
                .where(Handoff.status == CLOSED, Handoff.taken_at.is_not(None))
                .order_by(Handoff.id.desc())
                .limit(recent)
            ).all()
        spans = [
            (_aware(closed) - _aware(taken)).total_seconds() for taken, closed in rows if closed
        ]
        return sum(spans) / len(spans) if spans else DEFAULT_HANDLING_SECONDS

    def latest_closed(self, sender_id: str) -> HandoffRecord | None:
        """The shopper's last handoff a person answered and released."""
        with self.store.session() as session:
            row = session.scalars(
                select(Handoff)
                .where(
                    Handoff.sender_id == sender_id,
                    Handoff.status == CLOSED,
                    Handoff.taken_by.is_not(None),
                )
                .order_by(Handoff.id.desc())
                .limit(1)
            ).first()
            return HandoffRecord.of(row) if row else None

    # -- changes ----------------------------------------------------------------------------

    def request(self, sender_id: str, text: str = "") -> HandoffRecord:
        """Opens a request for the shopper, or returns the one already open."""
        found = self.open_for(sender_id)
        if found is not None:
            return found
        with self.store.session() as session:
            row = Handoff(
                sender_id=sender_id[:128],
                status=WAITING,
                request_text=(text or "")[:MAX_TEXT],
                requested_at=self.clock(),
                last_event_id=0,
                acknowledged=False,
                notified=False,
                awaiting_message=False,
            )
            session.add(row)
            session.flush()
            return HandoffRecord.of(row)

    def take(self, handoff_id: int, staff: str) -> HandoffRecord:
        """Makes `staff` the owner; taking one's own request again changes nothing."""
        won = self._change(
            handoff_id,
            [Handoff.status.in_(TAKEABLE)],
            status=ACTIVE,
            taken_by=staff[:64],
            taken_at=self.clock(),
            awaiting_message=False,
        )
        record = self.get(handoff_id)
        if won or (record.status == ACTIVE and record.taken_by == staff):
            return record
        if record.status == ACTIVE:
            raise HandoffConflict(record, f"已由 {record.taken_by} 接待")
        raise HandoffConflict(record, "该请求已结束，无法接入")

    def release(self, handoff_id: int, staff: str, *, any_owner: bool = False) -> HandoffRecord:
        """Closes an active request: its owner (or, `any_owner`, an admin) hands back to the bot."""
        owner = [] if any_owner else [Handoff.taken_by == staff]
        if self._change(
            handoff_id,
            [Handoff.status == ACTIVE, *owner],
            status=CLOSED,
            closed_at=self.clock(),
            closed_by=staff[:64],
        ):
            return self.get(handoff_id)
        record = self.get(handoff_id)
        if record.status == ACTIVE:
            raise HandoffConflict(record, f"该会话由 {record.taken_by} 接待，只有接待人可以结束")
        raise HandoffConflict(record, "该会话不在人工接待中")

    def advance(
        self, record: HandoffRecord, messages: Sequence[ShopperMessage]
    ) -> HandoffRecord | None:
        """Claims the shopper messages after the cursor: the caller that moves the cursor handles
        them (None: another replica did)."""
        last = messages[-1]
        if not self._change(
            record.id,
            [Handoff.last_event_id == record.last_event_id],
            last_event_id=last.event_id,
            last_shopper_text=last.text[:MAX_TEXT],
            last_shopper_at=last.at,
        ):
            return None
        return self.get(record.id)

    def acknowledge(self, handoff_id: int) -> bool:
        return self._change(
            handoff_id, [Handoff.status == WAITING, Handoff.acknowledged.is_(False)],
            acknowledged=True,
        )  # fmt: skip

    def claim_notice(self, handoff_id: int) -> bool:
        return self._change(handoff_id, [Handoff.notified.is_(False)], notified=True)

    def expire(self, handoff_id: int, reason: str) -> bool:
        return self._change(
            handoff_id, [Handoff.status == WAITING], status=EXPIRED, expired_reason=reason
        )

    def await_message(self, handoff_id: int) -> bool:
        return self._change(
            handoff_id, [Handoff.status == EXPIRED, Handoff.awaiting_message.is_(False)],
            awaiting_message=True,
        )  # fmt: skip

    def leave_message(self, handoff_id: int, text: str) -> bool:
        now = self.clock()
        return self._change(
            handoff_id, [Handoff.status == EXPIRED, Handoff.awaiting_message.is_(True)],
            status=LEFT_MESSAGE, left_message=text[:MAX_TEXT], left_at=now, closed_at=now,
            awaiting_message=False,
        )  # fmt: skip

    def back_to_bot(self, handoff_id: int) -> bool:
        """The shopper gave up waiting (「继续问智能助手」)."""
        return self._change(
            handoff_id, [Handoff.status.in_(TAKEABLE)],
            status=CLOSED, closed_at=self.clock(), closed_by="shopper", awaiting_message=False,
        )  # fmt: skip

    def close_left_message(self, handoff_id: int, staff: str) -> HandoffRecord:
        """Staff have read and dealt with a left message: it leaves the list of messages."""
        if self._change(
            handoff_id, [Handoff.status == LEFT_MESSAGE],
            status=CLOSED, closed_at=self.clock(), closed_by=staff[:64],
        ):  # fmt: skip
            return self.get(handoff_id)
        raise HandoffConflict(self.get(handoff_id), "这条留言已经处理过了")

    def rate(self, sender_id: str, rating: int) -> HandoffRecord:
        """Rates the shopper's latest released handoff, once."""
        if not 1 <= rating <= 5:
            raise ValueError("rating must be 1-5")
        record = self.latest_closed(sender_id)
        if record is None:
            raise HandoffNotFound(sender_id)
        if not self._change(
            record.id, [Handoff.rating.is_(None)], rating=rating, rated_at=self.clock()
        ):
            raise HandoffConflict(self.get(record.id), "您已经评价过了，感谢您的反馈")
        return self.get(record.id)

    def _change(self, handoff_id: int, conditions: list[Any], **values: Any) -> bool:
        """One conditional UPDATE; True if this call changed the row."""
        with self.store.session() as session:
            result = session.execute(
                update(Handoff)
                .where(Handoff.id == handoff_id, *conditions)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            return result.rowcount == 1


# -- while nobody answers -----------------------------------------------------------------------


class Channel(Protocol):
    """What :class:`Holding` needs of the outside."""

    def say(self, sender_id: str, text: str, buttons: Sequence[dict[str, str]] = ()) -> None:
        """A message to the shopper (also written into the conversation's transcript)."""

    def resume(self, sender_id: str) -> None:
        """The bot answers the shopper again (Rasa's ``resume`` event)."""

    def notify(self, payload: dict[str, Any]) -> None:
        """The shop's webhook (a new request, a left message); never raises."""


class Holding:
    """What the shopper hears while their request waits, and what their choices do.

    :meth:`step` is called for each open request with the shopper messages that arrived since
    the last step (maybe none), by every replica of the web app: each change is claimed by a
    conditional UPDATE first and only the claimant speaks.
    """

    def __init__(
        self,
        queue: HandoffQueue,
        channel: Channel,
        *,
        wait_seconds: float = 180.0,
        hours: ServiceHours | None = None,
    ) -> None:
        self.queue = queue
        self.channel = channel
        self.wait_seconds = wait_seconds
        self.hours = hours

    def step(self, record: HandoffRecord, messages: Sequence[ShopperMessage] = ()) -> None:
        if messages:
            claimed = self.queue.advance(record, messages)
            if claimed is None:
                return  # another replica handles these messages
            record = claimed
        if not record.notified and self.queue.claim_notice(record.id):
            self.channel.notify(_notice("request", record))
        if record.status == WAITING:
            self._waiting(record, messages)
        elif record.status == EXPIRED:
            self._expired(record, messages)
        # ACTIVE: staff answer; the messages only show in the console.

    def _waiting(self, record: HandoffRecord, messages: Sequence[ShopperMessage]) -> None:
        if any(m.text.strip() == BACK_TO_BOT for m in messages):
            self._back_to_bot(record)
            return
        now = self.queue.clock()
        reason = None
        if self.hours is not None and not self.hours.is_open(now):
            reason = "closed_hours"
        elif (now - record.requested_at).total_seconds() >= self.wait_seconds:
            reason = "timeout"
        if reason is not None:
            if self.queue.expire(record.id, reason):
                self.channel.say(record.sender_id, expired_text(reason, self.hours), CHOICES)
            return
        if messages and not record.acknowledged and self.queue.acknowledge(record.id):
            ahead = self.queue.ahead_of(record)
            minutes = self.expected_minutes(ahead)
            self.channel.say(record.sender_id, acknowledgement(ahead, minutes))

    def expected_minutes(self, ahead: int) -> int:
        """About how long until a person answers: the requests ahead and this one at the recent
        handling time, never beyond the time after which the shopper is offered to leave a
        message."""
        seconds = (ahead + 1) * self.queue.handling_seconds()
        return max(1, math.ceil(min(seconds, self.wait_seconds) / 60))

    def _expired(self, record: HandoffRecord, messages: Sequence[ShopperMessage]) -> None:
        awaiting = record.awaiting_message
        reminded = False
        for message in messages:
            text = message.text.strip()
            if text == BACK_TO_BOT:
                self._back_to_bot(record)
                return
            if text == LEAVE_MESSAGE:
                if self.queue.await_message(record.id) or awaiting:
                    awaiting = True
                    self.channel.say(record.sender_id, LEAVE_PROMPT_TEXT)
            elif awaiting and text:
                if self.queue.leave_message(record.id, text):
                    self.channel.say(record.sender_id, LEFT_TEXT)
                    self.channel.resume(record.sender_id)
                    self.channel.notify(_notice("left_message", self.queue.get(record.id)))
                return
            elif not reminded:
                reminded = True
                self.channel.say(record.sender_id, REMIND_TEXT, CHOICES)

    def _back_to_bot(self, record: HandoffRecord) -> None:
        if self.queue.back_to_bot(record.id):
            self.channel.say(record.sender_id, BACK_TO_BOT_TEXT)
            self.channel.resume(record.sender_id)


# -- what staff send ----------------------------------------------------------------------------

# The fields of a product card, as the actions send them (actions/formatting.py CARD_FIELDS;
# tests/unit/test_handoff.py keeps the two equal).
CARD_FIELDS = ("sku", "title", "brand", "category", "price", "rating", "stock", "image")


def product_message(product: Product) -> dict[str, Any]:
    """A product card in the payload the actions send: {"type": "products", "items": [card]}."""
    card = {name: getattr(product, name) for name in CARD_FIELDS}
    return {"custom": {"type": "products", "items": [card]}}


@dataclass(frozen=True)
class CannedReplyRecord:
    id: int
    title: str
    text: str
    created_by: str
    created_at: datetime


MAX_CANNED = 200


def canned_replies(store: CatalogStore) -> list[CannedReplyRecord]:
    with store.session() as session:
        rows = session.scalars(select(CannedReply).order_by(CannedReply.id))
        return [_canned(r) for r in rows]


def add_canned_reply(store: CatalogStore, title: str, text: str, actor: str) -> CannedReplyRecord:
    with store.session() as session:
        if (session.scalar(select(func.count()).select_from(CannedReply)) or 0) >= MAX_CANNED:
            raise ValueError(f"at most {MAX_CANNED} canned replies")
        row = CannedReply(title=title[:64], text=text[:MAX_TEXT], created_by=actor[:64])
        session.add(row)
        session.flush()
        return _canned(row)


def delete_canned_reply(store: CatalogStore, reply_id: int) -> bool:
    with store.session() as session:
        result = session.execute(
            delete(CannedReply)
            .where(CannedReply.id == reply_id)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount == 1


def _canned(row: CannedReply) -> CannedReplyRecord:
    return CannedReplyRecord(row.id, row.title, row.text, row.created_by, _aware(row.created_at))


def _notice(kind: str, record: HandoffRecord) -> dict[str, Any]:
    """The shop's webhook body."""
    return {
        "type": kind,  # request | left_message
        "handoff_id": record.id,
        "sender_id": record.sender_id,
        "status": record.status,
        "requested_at": record.requested_at.isoformat(),
        "text": record.left_message if kind == "left_message" else record.request_text,
    }


def _aware(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; they were written in UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)
