"""One conversation as the staff console shows it, read from Rasa's tracker store.

Per shopper message: the text, the predicted intent and how sure the classifier was, the
entities, the actions the bot ran after it and the messages it sent (buttons, custom payloads
such as product cards, and the answering skill our actions name in ``metadata.skill``,
actions/turn.py), and the slots as they stood when the turn ended, so a UI can show "slots at
this turn".

Slots are replayed the way Rasa's ``DialogueStateTracker`` applies events: ``slot`` sets one,
``reset_slots``, ``restart`` and ``session_started`` clear them (the slots a new session carries
over arrive as ``slot`` events right after it), ``rewind`` (UserUtteranceReverted, e.g. after
``action_default_fallback``) undoes everything back to before the last shopper message and the
``action_listen`` before it, ``undo`` (ActionReverted) back to before the last action. Rasa's
replay also drops a form's slot events between two of its executions while a rewind is replayed
(``applied_events``); that corner is not copied. A slot whose value is None is unset, as in Rasa,
and left out of ``Turn.slots``.

Sessions are split as web/review/tracker.py splits them: a ``session_started`` event starts one
(its id is the session's id), ``action_session_start`` (logged just before it) is skipped, and
sessions without a message are left out and not numbered.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from web.review.events import (
    ACTION,
    ACTION_LISTEN,
    ACTION_SESSION_START,
    ACTIVE_LOOP,
    BOT,
    EVENTS,
    FALLBACK_ACTIONS,
    FALLBACK_INTENTS,
    HANDOFF_ACTIONS,
    HANDOFF_INTENTS,
    RESET_SLOTS,
    RESTART,
    REWIND,
    SESSION_STARTED,
    SKILL_KEY,
    SLOT,
    UNDO,
    USER,
    classifier_confidence,
    intent_of,
)

RANKING_SHOWN = 5  # intents of the classifier's ranking kept per message


@dataclass(frozen=True)
class IntentScore:
    name: str
    confidence: float


@dataclass(frozen=True)
class Entity:
    entity: str
    value: Any
    start: int | None = None
    end: int | None = None
    role: str | None = None
    group: str | None = None
    extractor: str | None = None
    confidence: float | None = None


@dataclass(frozen=True)
class ShopperMessage:
    event_id: int
    at: datetime | None
    text: str
    intent: str | None  # with the retrieval intent when there is one: faq/shipping
    confidence: float | None  # the intent's, as Rasa stored it (nlu_fallback: the threshold)
    classifier_confidence: float | None  # events.classifier_confidence: the list's measure
    ranking: tuple[IntentScore, ...]
    entities: tuple[Entity, ...]
    input_channel: str | None
    message_id: str | None
    fallback: bool  # the NLU could not place it (nlu_fallback)
    reverted: bool = False  # a later ``rewind`` took it back (Rasa acts as if never said)


@dataclass(frozen=True)
class Button:
    title: str
    payload: str


@dataclass(frozen=True)
class BotMessage:
    event_id: int
    at: datetime | None
    text: str | None
    buttons: tuple[Button, ...]
    custom: Any  # e.g. {"type": "products", "items": [card, ...]} (actions/formatting.py)
    image: str | None
    attachment: Any
    skill: str | None  # metadata.skill: the skill that answered (actions/turn.py)
    response: str | None  # the domain response uttered (metadata.utter_action), if any

    @property
    def products(self) -> tuple[dict[str, Any], ...]:
        """The product cards shown, in order (empty unless a products payload)."""
        custom = self.custom
        if isinstance(custom, dict) and custom.get("type") == "products":
            return tuple(item for item in custom.get("items") or () if isinstance(item, dict))
        return ()


@dataclass(frozen=True)
class ActionRun:
    event_id: int
    at: datetime | None
    name: str
    policy: str | None
    confidence: float | None


@dataclass(frozen=True)
class Turn:
    """A shopper message and everything until the next one. ``shopper`` is None for what the
    bot did before the first message of a session (a greeting)."""

    index: int  # 0: before the first shopper message; then 1, 2, ...
    shopper: ShopperMessage | None
    actions: tuple[ActionRun, ...]
    bot: tuple[BotMessage, ...]
    slots: dict[str, Any]  # every set slot when the turn ended
    slot_changes: dict[str, Any]  # the slot events of this turn, last value each (None: unset)
    active_loop: str | None  # the form running when the turn ended
    fallback: bool  # nlu_fallback message or a fallback action in this turn
    handoff: bool  # request_human or action_request_human in this turn


@dataclass(frozen=True)
class Session:
    session_id: int  # the id of the event that started it (as in the conversation list)
    number: int  # 1, 2, ... over the sender's sessions with a message
    started_at: datetime | None
    turns: tuple[Turn, ...]


@dataclass(frozen=True)
class Transcript:
    sender_id: str
    sessions: tuple[Session, ...]

    @property
    def turns(self) -> tuple[Turn, ...]:
        return tuple(turn for session in self.sessions for turn in session.turns)


def read_transcript(
    tracker: Engine, sender_id: str, session_id: int | None = None
) -> Transcript | None:
    """The sender's conversation (all sessions, or the one ``session_id`` started), read from
    the tracker store; None if it has no message there."""
    if not _has_events(tracker):
        return None
    with tracker.connect() as conn:
        rows = conn.execute(
            sa.select(EVENTS.c.id, EVENTS.c.data)
            .where(EVENTS.c.sender_id == sender_id)
            .order_by(EVENTS.c.id)
        ).all()
    transcript = build_transcript(
        sender_id, ((row.id, json.loads(row.data or "{}")) for row in rows)
    )
    if session_id is not None:
        sessions = tuple(s for s in transcript.sessions if s.session_id == session_id)
        transcript = Transcript(sender_id, sessions)
    return transcript if transcript.sessions else None


def build_transcript(sender_id: str, events: Iterable[tuple[int, dict[str, Any]]]) -> Transcript:
    """The transcript of one sender's events, given as (event id, event dict) in id order."""
    builder = _Builder()
    for event_id, event in events:
        builder.add(event_id, event)
    return Transcript(sender_id, builder.finish())


# -- building -----------------------------------------------------------------------------------


@dataclass
class _OpenTurn:
    index: int
    shopper: dict[str, Any] | None = None  # ShopperMessage's fields: a rewind may revert it
    actions: list[ActionRun] = field(default_factory=list)
    bot: list[BotMessage] = field(default_factory=list)
    slot_changes: dict[str, Any] = field(default_factory=dict)
    fallback: bool = False
    handoff: bool = False
    slots: dict[str, Any] = field(default_factory=dict)  # set when the turn ends
    active_loop: str | None = None

    def frozen(self) -> Turn:
        return Turn(
            index=self.index,
            shopper=ShopperMessage(**self.shopper) if self.shopper else None,
            actions=tuple(self.actions),
            bot=tuple(self.bot),
            slots=self.slots,
            slot_changes=self.slot_changes,
            active_loop=self.active_loop,
            fallback=self.fallback,
            handoff=self.handoff,
        )


@dataclass
class _OpenSession:
    session_id: int
    started_at: datetime | None
    turns: list[_OpenTurn] = field(default_factory=list)
    has_message: bool = False


class _Builder:
    def __init__(self) -> None:
        self.sessions: list[_OpenSession] = []
        self.session: _OpenSession | None = None
        self.turn: _OpenTurn | None = None
        # The events that decide the state, as Rasa's applied_events keeps them:
        # (USER, its turn), (ACTION, None), (SLOT, (name, value)), (RESET_SLOTS, None),
        # (ACTIVE_LOOP, name).
        self.applied: list[tuple[str, Any]] = []
        self.slots: dict[str, Any] = {}
        self.loop: str | None = None

    def add(self, event_id: int, event: dict[str, Any]) -> None:
        kind = event.get("event")
        at = _datetime(event.get("timestamp"))
        if kind == ACTION and event.get("name") == ACTION_SESSION_START:
            return
        if kind == SESSION_STARTED or self.session is None:
            self._close_session()
            self.session = _OpenSession(event_id, at)
            self.turn = _OpenTurn(index=0)
            if kind == SESSION_STARTED:
                self._reset_state()
                return
        turn, session = self.turn, self.session
        assert turn is not None
        if kind == USER:
            self._close_turn()
            said = sum(1 for t in session.turns if t.shopper is not None)
            turn = self.turn = _OpenTurn(index=said + 1)
            turn.shopper = _shopper(event_id, at, event)
            turn.fallback = turn.shopper["fallback"]
            turn.handoff = (turn.shopper["intent"] or "") in HANDOFF_INTENTS
            session.has_message = True
            self.applied.append((USER, turn))
        elif kind == BOT:
            turn.bot.append(_bot(event_id, at, event))
            session.has_message = True
        elif kind == ACTION:
            name = event.get("name") or ""
            self.applied.append((ACTION, None))
            if name == ACTION_LISTEN:
                return
            turn.actions.append(
                ActionRun(event_id, at, name, event.get("policy"), event.get("confidence"))
            )
            turn.fallback = turn.fallback or name in FALLBACK_ACTIONS
            turn.handoff = turn.handoff or name in HANDOFF_ACTIONS
        elif kind == SLOT:
            name, value = event.get("name"), event.get("value")
            self.applied.append((SLOT, (name, value)))
            turn.slot_changes[name] = value
            self.slots[name] = value
        elif kind == ACTIVE_LOOP:
            self.applied.append((ACTIVE_LOOP, event.get("name")))
            self.loop = event.get("name")
        elif kind == RESET_SLOTS:
            self.applied.append((RESET_SLOTS, None))
            self.slots = {}
        elif kind == RESTART:
            self._reset_state()
        elif kind == REWIND:
            reverted = self._undo_till(USER)
            self._undo_till(ACTION)
            if isinstance(reverted, _OpenTurn) and reverted.shopper is not None:
                reverted.shopper["reverted"] = True
            self._replay()
        elif kind == UNDO:
            self._undo_till(ACTION)
            self._replay()

    def finish(self) -> tuple[Session, ...]:
        self._close_session()
        return tuple(
            Session(s.session_id, number, s.started_at, tuple(t.frozen() for t in s.turns))
            for number, s in enumerate((s for s in self.sessions if s.has_message), start=1)
        )

    def _reset_state(self) -> None:
        self.applied = []
        self.slots = {}
        self.loop = None

    def _undo_till(self, kind: str) -> Any:
        """Removes applied events back to and including the last of ``kind``; its payload."""
        while self.applied:
            removed_kind, payload = self.applied.pop()
            if removed_kind == kind:
                return payload
        return None

    def _replay(self) -> None:
        self.slots, self.loop = {}, None
        for kind, payload in self.applied:
            if kind == SLOT:
                self.slots[payload[0]] = payload[1]
            elif kind == RESET_SLOTS:
                self.slots = {}
            elif kind == ACTIVE_LOOP:
                self.loop = payload

    def _close_turn(self) -> None:
        turn, session = self.turn, self.session
        said_or_did = turn is not None and (turn.shopper is not None or turn.bot or turn.actions)
        if turn is not None and session is not None and said_or_did:
            turn.slots = {k: v for k, v in self.slots.items() if v is not None}
            turn.active_loop = self.loop
            session.turns.append(turn)
        self.turn = None

    def _close_session(self) -> None:
        self._close_turn()
        if self.session is not None:
            self.sessions.append(self.session)
        self.session = None


def _shopper(event_id: int, at: datetime | None, event: dict[str, Any]) -> dict[str, Any]:
    parse = event.get("parse_data") or {}
    intent = parse.get("intent") or {}
    ranking = tuple(
        IntentScore(r["name"], float(r.get("confidence") or 0.0))
        for r in (parse.get("intent_ranking") or ())[:RANKING_SHOWN]
        if r.get("name")
    )
    entities = tuple(
        Entity(
            entity=e.get("entity", ""),
            value=e.get("value"),
            start=e.get("start"),
            end=e.get("end"),
            role=e.get("role"),
            group=e.get("group"),
            extractor=e.get("extractor"),
            confidence=e.get("confidence_entity", e.get("confidence")),
        )
        for e in (parse.get("entities") or ())
        if isinstance(e, dict)
    )
    confidence = intent.get("confidence")
    return {
        "event_id": event_id,
        "at": at,
        "text": event.get("text") or "",
        "intent": intent_of(parse),
        "confidence": float(confidence) if confidence is not None else None,
        "classifier_confidence": classifier_confidence(parse),
        "ranking": ranking,
        "entities": entities,
        "input_channel": event.get("input_channel"),
        "message_id": event.get("message_id"),
        "fallback": intent.get("name") in FALLBACK_INTENTS,
        "reverted": False,
    }


def _bot(event_id: int, at: datetime | None, event: dict[str, Any]) -> BotMessage:
    data = event.get("data") or {}
    metadata = event.get("metadata") or {}
    buttons = tuple(
        Button(str(b.get("title", "")), str(b.get("payload", "")))
        for b in data.get("buttons") or ()
        if isinstance(b, dict)
    )
    return BotMessage(
        event_id=event_id,
        at=at,
        text=event.get("text"),
        buttons=buttons,
        custom=data.get("custom"),
        image=data.get("image"),
        attachment=data.get("attachment"),
        skill=metadata.get(SKILL_KEY),
        response=metadata.get("utter_action"),
    )


def _datetime(ts: Any) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(float(ts), tz=UTC)


def _has_events(tracker: Engine) -> bool:
    try:
        with tracker.connect() as conn:
            return sa.inspect(conn).has_table(EVENTS.name)
    except sa.exc.OperationalError:  # an SQLite file Rasa has not created yet
        return False
