"""Console accounts: creation, password checks and changes (argon2, via argon2-cffi),
disabling, and the admin's one-time reset codes."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from sqlalchemy import select

from knowledge_graph.store import CatalogStore
from knowledge_graph.tables import Account, utcnow

ROLES = ("staff", "merchant", "admin")
MIN_PASSWORD = 8
_hasher = PasswordHasher()


class AccountError(ValueError):
    pass


def create_account(
    store: CatalogStore, username: str, password: str, role: str, merchant_id: str | None = None
) -> None:
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    if role == "merchant" and not merchant_id:
        raise AccountError("a merchant account needs --merchant-id")
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password needs at least {MIN_PASSWORD} characters")
    if not username.strip():
        raise AccountError("the username is empty")
    with store.session() as session:
        if session.scalar(select(Account).where(Account.username == username)):
            raise AccountError(f"user {username!r} exists already")
        session.add(
            Account(
                username=username,
                password_hash=_hasher.hash(password),
                role=role,
                merchant_id=merchant_id,
            )
        )


def verify_password(store: CatalogStore, username: str, password: str) -> Account | None:
    with store.session() as session:
        account = session.scalar(select(Account).where(Account.username == username))
        if account is None:
            return None
        try:
            _hasher.verify(account.password_hash, password)
        except VerificationError:
            return None
        session.expunge(account)
        return account


@dataclass(frozen=True)
class AccountView:
    id: int
    username: str
    role: str
    merchant_id: str | None
    disabled: bool
    created_at: datetime


def _view(account: Account) -> AccountView:
    return AccountView(
        account.id,
        account.username,
        account.role,
        account.merchant_id,
        bool(account.disabled),
        account.created_at,
    )


def list_accounts(store: CatalogStore) -> list[AccountView]:
    with store.session() as session:
        return [_view(a) for a in session.scalars(select(Account).order_by(Account.id))]


def find_account(store: CatalogStore, username: str) -> AccountView | None:
    with store.session() as session:
        account = session.scalar(select(Account).where(Account.username == username))
        return _view(account) if account else None


def set_disabled(store: CatalogStore, account_id: int, disabled: bool) -> AccountView:
    """Disables (or enables) an account; a disabled account's sessions stop working at once,
    since every request checks the account (``web.auth.authenticate``)."""
    with store.session() as session:
        account = session.get(Account, account_id)
        if account is None:
            raise AccountError(f"no account {account_id}")
        account.disabled = disabled
        session.flush()
        return _view(account)


def change_password(store: CatalogStore, account_id: int, old: str, new: str) -> None:
    with store.session() as session:
        account = session.get(Account, account_id)
        if account is None:
            raise AccountError(f"no account {account_id}")
        try:
            _hasher.verify(account.password_hash, old)
        except VerificationError:
            raise AccountError("the current password is wrong") from None
        _set_password(account, new)


def issue_reset_code(store: CatalogStore, account_id: int, hours: int = 24) -> str:
    """A one-time code an admin hands to the user, valid for `hours`."""
    code = secrets.token_urlsafe(12)
    with store.session() as session:
        account = session.get(Account, account_id)
        if account is None:
            raise AccountError(f"no account {account_id}")
        account.reset_code_hash = hashlib.sha256(code.encode()).hexdigest()
        account.reset_expires_at = utcnow() + timedelta(hours=hours)
    return code


def reset_password(store: CatalogStore, username: str, code: str, new: str) -> int:
    """Trades a valid reset code for a new password; returns the account id."""
    hashed = hashlib.sha256(code.encode()).hexdigest()
    with store.session() as session:
        account = session.scalar(select(Account).where(Account.username == username))
        expires = account.reset_expires_at if account else None
        if expires is not None and expires.tzinfo is None:
            expires = expires.replace(tzinfo=utcnow().tzinfo)
        if (
            account is None
            or not account.reset_code_hash
            or not secrets.compare_digest(account.reset_code_hash, hashed)
            or expires is None
            or expires <= utcnow()
        ):
            raise AccountError("the reset code is wrong or has expired")
        _set_password(account, new)
        account.reset_code_hash = None
        account.reset_expires_at = None
        return account.id


def _set_password(account: Account, new: str) -> None:
    if len(new) < MIN_PASSWORD:
        raise AccountError(f"the password needs at least {MIN_PASSWORD} characters")
    account.password_hash = _hasher.hash(new)
