"""Console accounts: creation and password checks (argon2, via argon2-cffi)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from sqlalchemy import select

from knowledge_graph.store import CatalogStore
from knowledge_graph.tables import Account

ROLES = ("staff", "merchant", "admin")
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
    if len(password) < 8:
        raise AccountError("the password needs at least 8 characters")
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
