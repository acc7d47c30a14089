"""Rasa's tracker store as the staff console reads it: the ``events`` table and what its rows mean.

The table is Rasa's (``SQLTrackerStore.SQLEvent`` in rasa/core/tracker_store.py, written by our
subclass bot/tracker_store.py): one row per event, ``id`` increasing in the order the events
were saved, ``data`` the event's ``as_dict()`` as JSON. Nothing here writes to it; the table is
declared (not reflected) with exactly Rasa's seven columns, so a read costs no inspection round
trip, and :func:`readonly_engine` opens the database so that a write would fail.

The names below are this project's (bot/config.yml, bot/domain/, bot/data/rules.yml,
actions/after_sales.py, actions/turn.py), not guesses about any Rasa bot.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine, make_url

metadata = sa.MetaData()

# Rasa's SQLEvent, column for column (the index is Rasa's ``index=True`` on sender_id).
EVENTS = sa.Table(
    "events",
    metadata,
    sa.Column("id", sa.Integer, sa.Sequence("events_seq", optional=True), primary_key=True),
    sa.Column("sender_id", sa.String(255), nullable=False, index=True),
    sa.Column("type_name", sa.String(255), nullable=False),
    sa.Column("timestamp", sa.Float),
    sa.Column("intent_name", sa.String(255)),
    sa.Column("action_name", sa.String(255)),
    sa.Column("data", sa.Text),
)

# Event type names (``type_name``; rasa/shared/core/events.py).
USER = "user"
BOT = "bot"
ACTION = "action"
SLOT = "slot"
SESSION_STARTED = "session_started"
RESTART = "restart"
RESET_SLOTS = "reset_slots"
REWIND = "rewind"  # UserUtteranceReverted: the last shopper message and what followed it
UNDO = "undo"  # ActionReverted: the last action
ACTIVE_LOOP = "active_loop"

ACTION_LISTEN = "action_listen"
# Rasa logs it just before ``session_started``, with the new session's time: it belongs to the
# session it opens, not to the one before it, so both readers skip it.
ACTION_SESSION_START = "action_session_start"

# A shopper message the NLU could not place: the FallbackClassifier's intent (bot/config.yml).
FALLBACK_INTENTS = frozenset({"nlu_fallback"})
# Actions that answer a message the bot did not understand: RulePolicy's core fallback
# (``core_fallback_action_name`` in bot/config.yml), our nlu_fallback answer
# (actions/fallback.py, rule "low NLU confidence" in bot/data/rules.yml), and Rasa's two-stage
# fallback should a later config use it.
FALLBACK_ACTIONS = frozenset(
    {"action_default_fallback", "action_default_ask_affirmation", "action_two_stage_fallback"}
)
# The shopper asked for a person: intent ``request_human`` (bot/domain/core.yml), answered by
# ``action_request_human`` (actions/after_sales.py, which also records a "handoff" flag).
HANDOFF_INTENTS = frozenset({"request_human"})
HANDOFF_ACTIONS = frozenset({"action_request_human"})

# The key our actions add to every bot message they send, naming the answering skill
# (actions/turn.py, SKILL_KEY); Rasa keeps it in the BotUttered event's ``metadata``.
SKILL_KEY = "skill"


def readonly_engine(url: str | URL) -> Engine:
    """An engine on Rasa's tracker database that cannot write to it.

    SQLite: the file opened with ``mode=ro`` (Rasa writes it in WAL mode, so reading never waits
    for a turn being saved); PostgreSQL: every transaction ``READ ONLY``.
    """
    url = make_url(url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        path = quote(str(Path(url.database).resolve()))
        return sa.create_engine(
            URL.create(url.drivername, database=f"file:{path}", query={"mode": "ro", "uri": "true"})
        )
    if url.get_backend_name() == "postgresql":
        return sa.create_engine(
            url, execution_options={"postgresql_readonly": True}, pool_pre_ping=True
        )
    return sa.create_engine(url)


def intent_of(parse_data: dict[str, Any]) -> str | None:
    """The predicted intent, with its retrieval intent when the response selector named one
    (``faq/shipping`` rather than ``faq``)."""
    intent = (parse_data.get("intent") or {}).get("name")
    if not intent:
        return None
    for prediction in (parse_data.get("response_selector") or {}).values():
        if not isinstance(prediction, dict):
            continue
        key = (prediction.get("response") or {}).get("intent_response_key")
        if isinstance(key, str) and key.startswith(intent + "/"):
            return key
    return intent


def classifier_confidence(parse_data: dict[str, Any]) -> float | None:
    """How sure the intent classifier was of a shopper message.

    For ``nlu_fallback`` the intent's own confidence is only the FallbackClassifier's threshold
    (rasa/nlu/classifiers/fallback_classifier.py puts it there), so the classifier's real best
    guess, the first other intent of the ranking, is taken instead: 「这个呢呢」 at 0.21 shows as
    0.21, not as the threshold 0.4.
    """
    intent = parse_data.get("intent") or {}
    confidence = intent.get("confidence")
    if intent.get("name") in FALLBACK_INTENTS:
        for ranked in parse_data.get("intent_ranking") or ():
            if ranked.get("name") not in FALLBACK_INTENTS and ranked.get("confidence") is not None:
                confidence = ranked["confidence"]
                break
    return float(confidence) if confidence is not None else None


def fold(text: str) -> str:
    """The form searched: full-width letters and digits as ASCII (NFKC), case folded, no
    whitespace, so 「ＭＡＴＥ 60」 finds 「mate60」 and the reverse."""
    return "".join(unicodedata.normalize("NFKC", text).casefold().split())
