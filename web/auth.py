"""Console logins: server-side sessions, the login throttle and the one role check.

A login gives the browser an opaque token in an HttpOnly, SameSite=Lax cookie and a second,
readable `csrf_token` cookie; scripts send the same token as `Authorization: Bearer`. The
database keeps only the token's SHA-256, so a copy of the table opens nothing. A new token is
issued at every login (the old one is revoked), and every session of an account ends when it
logs out, changes its password or is disabled.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update

from knowledge_graph.store import CatalogStore
from knowledge_graph.tables import Account, LoginFailure, StaffSession, utcnow
from web.accounts import verify_password

SESSION_LIFETIME = timedelta(hours=12)
IDLE_TIMEOUT = timedelta(hours=2)
# last_seen_at is written at most this often: a console page makes several requests a second.
SEEN_RESOLUTION = timedelta(minutes=1)
# Five wrong passwords for one username, or twenty from one client, in fifteen minutes.
THROTTLE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_USER = 5
MAX_FAILURES_PER_CLIENT = 20


class LoginRefused(Exception):
    """Wrong username or password, or a disabled account: one answer for all three."""


class LoginThrottled(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed logins; retry in {retry_after} s")
        self.retry_after = retry_after


@dataclass(frozen=True)
class Principal:
    """The signed-in console user of one request."""

    account_id: int
    username: str
    role: str
    merchant_id: str | None
    csrf_token: str
    token_hash: str


@dataclass(frozen=True)
class Ticket:
    token: str
    principal: Principal


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes for timezone-aware columns; they were stored in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=utcnow().tzinfo)


def login(
    store: CatalogStore, username: str, password: str, client: str, replaces: str | None = None
) -> Ticket:
    """Checks the password (throttled) and opens a session; `replaces` is the browser's old
    session token, revoked so that a login always rotates the cookie."""
    username = username.strip()[:64]
    client = client[:64]
    check_throttle(store, username, client)
    account = verify_password(store, username, password)
    if account is None or account.disabled:
        record_failure(store, username, client)
        raise LoginRefused()
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    now = utcnow()
    with store.session() as session:
        session.execute(delete(LoginFailure).where(LoginFailure.username == username))
        if replaces:
            _revoke(session, StaffSession.token_hash == token_hash(replaces))
        session.add(
            StaffSession(
                token_hash=token_hash(token),
                account_id=account.id,
                csrf_token=csrf,
                created_at=now,
                expires_at=now + SESSION_LIFETIME,
                last_seen_at=now,
            )
        )
    principal = Principal(
        account.id, account.username, account.role, account.merchant_id, csrf, token_hash(token)
    )
    return Ticket(token, principal)


def record_failure(store: CatalogStore, username: str, client: str) -> None:
    with store.session() as session:
        session.add(LoginFailure(username=username.strip()[:64], client=client[:64]))


def check_throttle(store: CatalogStore, username: str, client: str) -> None:
    """Raises LoginThrottled while the username or the client has too many recent failures."""
    username, client = username.strip()[:64], client[:64]
    since = utcnow() - THROTTLE_WINDOW
    with store.session() as session:
        session.execute(delete(LoginFailure).where(LoginFailure.ts < since))
        for column, value, limit in (
            (LoginFailure.username, username, MAX_FAILURES_PER_USER),
            (LoginFailure.client, client, MAX_FAILURES_PER_CLIENT),
        ):
            count, oldest = session.execute(
                select(func.count(), func.min(LoginFailure.ts)).where(
                    column == value, LoginFailure.ts >= since
                )
            ).one()
            if count >= limit:
                wait = _aware(oldest) + THROTTLE_WINDOW - utcnow()
                raise LoginThrottled(max(1, int(wait.total_seconds()) + 1))


def authenticate(store: CatalogStore, token: str) -> Principal | None:
    """The session's user, or None when the token is unknown, expired, idle or revoked."""
    hashed = token_hash(token)
    now = utcnow()
    with store.session() as session:
        row = session.execute(
            select(StaffSession, Account)
            .join(Account, Account.id == StaffSession.account_id)
            .where(StaffSession.token_hash == hashed)
        ).first()
        if row is None:
            return None
        staff_session, account = row
        if (
            staff_session.revoked_at is not None
            or account.disabled
            or _aware(staff_session.expires_at) <= now
            or _aware(staff_session.last_seen_at) + IDLE_TIMEOUT <= now
        ):
            return None
        if now - _aware(staff_session.last_seen_at) >= SEEN_RESOLUTION:
            staff_session.last_seen_at = now
        return Principal(
            account.id,
            account.username,
            account.role,
            account.merchant_id,
            staff_session.csrf_token,
            hashed,
        )


def logout(store: CatalogStore, principal: Principal) -> None:
    with store.session() as session:
        _revoke(session, StaffSession.token_hash == principal.token_hash)


def revoke_all(store: CatalogStore, account_id: int, keep: str | None = None) -> None:
    """Ends every session of the account (but `keep`, a token hash: the one changing the
    password stays signed in)."""
    with store.session() as session:
        condition = StaffSession.account_id == account_id
        if keep:
            condition = condition & (StaffSession.token_hash != keep)
        _revoke(session, condition)


def _revoke(session, condition) -> None:  # type: ignore[no-untyped-def]
    session.execute(
        update(StaffSession)
        .where(condition, StaffSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
