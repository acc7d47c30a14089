"""The people behind the shop: console accounts, their audit trail, conversation flags."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from knowledge_graph.tables.base import Base, utcnow


class Account(Base):
    """Console accounts (staff, merchant, admin). Passwords are argon2 hashes."""

    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    merchant_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # A disabled account cannot log in, and its sessions are revoked when it is disabled.
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    # An admin's password reset: a one-time code (its SHA-256 here) the user trades for a new
    # password before it expires.
    reset_code_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reset_expires_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )


class StaffSession(Base):
    """A console login: the browser holds an opaque token (cookie or Bearer), the database its
    SHA-256, so a leaked table cannot be replayed. Revoked at logout, password change or
    when the account is disabled."""

    __tablename__ = "staff_sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class LoginFailure(Base):
    """Failed logins, kept for the throttle window: shared by every web app replica."""

    __tablename__ = "login_failures"
    __table_args__ = (
        Index("ix_login_failures_username", "username", "ts"),
        Index("ix_login_failures_client", "client", "ts"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64))
    client: Mapped[str] = mapped_column(String(64))
    ts: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AuditEntry(Base):
    """Every catalog or account change: who, when, what, and the record before and after."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_merchant", "merchant_id", "ts"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(128))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    ts: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # The merchant whose product changed: what a merchant may read of the log.
    merchant_id: Mapped[str | None] = mapped_column(String(32), nullable=True)


class ConversationFlag(Base):
    """Marks on a conversation for staff: a handoff request or the shopper's feedback."""

    __tablename__ = "conversation_flags"
    __table_args__ = (Index("ix_flags_sender", "sender_id", "created_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sender_id: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(32))  # handoff | feedback_up | feedback_down
    text: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ConversationReview(Base):
    """Staff's marks on one shopper's conversation: tags, a note, reviewed or not."""

    __tablename__ = "conversation_reviews"
    sender_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    note: Mapped[str] = mapped_column(Text, default="")
    reviewed: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    updated_by: Mapped[str] = mapped_column(String(64), default="")
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class Annotation(Base):
    """A staff correction of what the NLU understood in one shopper message: the message text
    as the console showed it (personal data already masked), the right intent and entities.
    Open ones wait in the inbox; an export writes every kept one as NLU training data."""

    __tablename__ = "annotations"
    __table_args__ = (Index("ix_annotations_status", "status", "id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sender_id: Mapped[str] = mapped_column(String(128))
    event_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    text: Mapped[str] = mapped_column(Text)
    predicted_intent: Mapped[str | None] = mapped_column(String(128), nullable=True)
    intent: Mapped[str] = mapped_column(String(128))
    entities: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open|exported|discarded
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    exported_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Handoff(Base):
    """A shopper's request for a person (knowledge_graph/handoff.py has the state machine):
    waiting -> active -> closed, or waiting -> expired -> left_message | closed. Every change
    is a conditional UPDATE on `status`, so one request has one owner however many staff
    members or web app replicas try at once."""

    __tablename__ = "handoffs"
    __table_args__ = (
        Index("ix_handoffs_status", "status", "id"),
        Index("ix_handoffs_sender", "sender_id", "id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sender_id: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16), default="waiting")
    request_text: Mapped[str] = mapped_column(Text, default="")
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    taken_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    taken_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    closed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Why a waiting request expired: "timeout" or "closed_hours".
    expired_reason: Mapped[str | None] = mapped_column(String(16), nullable=True)
    # The id of the last shopper message (Rasa's tracker table) the web app has handled.
    last_event_id: Mapped[int] = mapped_column(Integer, default=0)
    last_shopper_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    last_shopper_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    acknowledged: Mapped[bool] = mapped_column(Boolean, default=False)
    notified: Mapped[bool] = mapped_column(Boolean, default=False)  # the shop's webhook
    # After expiry the shopper chose 「留言给客服」: their next message is the left message.
    awaiting_message: Mapped[bool] = mapped_column(Boolean, default=False)
    left_message: Mapped[str | None] = mapped_column(Text, nullable=True)
    left_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    rating: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class CannedReply(Base):
    """A reply staff send often during a handoff (「您好，我是客服小王，请问有什么可以帮您？」)."""

    __tablename__ = "canned_replies"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ShopAnswerRow(Base):
    """The shop's own text for one FAQ topic (``faq/shipping``), edited in the console and said
    by the bot at once (knowledge_graph/shop_answers.py). No row: the bot's trained domain
    response (bot/domain/faq.yml) is the answer."""

    __tablename__ = "shop_answers"
    topic: Mapped[str] = mapped_column(String(64), primary_key=True)
    variants: Mapped[list[str]] = mapped_column(JSON, default=list)  # one is picked at random
    # Optimistic concurrency, as products: an edit names the revision it started from.
    revision: Mapped[int] = mapped_column(Integer, default=1)
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class ShopPolicyTerms(Base):
    """One row (id 1): the shop's policy numbers (knowledge_graph.policy.ShopPolicy's fields).
    No row: the defaults."""

    __tablename__ = "shop_policy"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    terms: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class ShopAnswersVersion(Base):
    """One row; its `version` goes up with every change of an answer or of the policy, so each
    process reloads its copy of them (the bot checks it instead of reading them every turn)."""

    __tablename__ = "shop_answers_version"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
