from __future__ import annotations

import pytest

from daogou import cli
from daogou.db import migrate
from daogou.settings import get_settings
from knowledge_graph.store import CatalogStore
from web.accounts import verify_password


@pytest.fixture()
def db_url(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'accounts.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("DAOGOU_VAR", str(tmp_path))
    get_settings.cache_clear()
    migrate(url)
    yield url
    get_settings.cache_clear()


def test_create_user_and_verify(db_url, capsys):
    code = cli.main(["users", "create", "--role", "merchant", "--username", "shop1",
                     "--password", "s3cret-pass", "--merchant-id", "m001"])  # fmt: skip
    assert code == 0
    store = CatalogStore.from_url(db_url)
    account = verify_password(store, "shop1", "s3cret-pass")
    assert account is not None and account.role == "merchant" and account.merchant_id == "m001"
    assert account.password_hash.startswith("$argon2")
    assert verify_password(store, "shop1", "wrong-password") is None


@pytest.mark.parametrize(
    "args",
    [
        ["--role", "merchant", "--username", "m", "--password", "longenough1"],  # no merchant id
        ["--role", "staff", "--username", "s", "--password", "short"],
    ],
)
def test_bad_accounts_are_refused_with_exit_2(db_url, args, capsys):
    assert cli.main(["users", "create", *args]) == 2
    assert "error:" in capsys.readouterr().err


def test_duplicate_username_refused(db_url):
    args = ["users", "create", "--role", "staff", "--username", "amy", "--password", "password123"]
    assert cli.main(args) == 0
    assert cli.main(args) == 2
