"""`daogou backup` / `daogou restore` on the SQLite default (daogou/backup.py): the seed shop with
an event, an order, a product edit, a conversation, the console's index, media and secrets is
backed up, changed everywhere (products deleted, events added, the tracker file overwritten with
garbage), restored, and every table row, file and secret equals its state at backup time."""

from __future__ import annotations

import dataclasses
import io
import socket
import sqlite3
import tarfile
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.script import ScriptDirectory

from daogou import cli
from daogou.backup import (
    BackupError,
    ChecksumMismatch,
    ServicesRunning,
    backup,
    read_manifest,
    restore,
)
from daogou.container import build_services
from daogou.db import alembic_config, init_database
from daogou.privacy import erase_shopper
from daogou.settings import Settings, get_settings, load_settings
from knowledge_graph.orders import OrderStore
from knowledge_graph.privacy import pseudonym
from knowledge_graph.service import CatalogService
from knowledge_graph.store import CatalogStore, make_engine
from recommender.events import EventStore
from tests.fixtures import mini_catalog
from tests.unit.test_review_tracker import History
from web.review.fake_history import append_events, create_events_table
from web.review.tracker import ConversationIndex

SHOPPER = "s-backup-li4"
LATER = "s-backup-zhou9"  # writes only after the backup
VERSION_TABLES = ("catalog_version", "shop_answers_version")
ORDER = {
    "order_id": "DG20261205000777",
    "user_id": SHOPPER,
    "items": [{"sku": "PLACEHOLDER", "qty": 1, "price": 1999.0}],
    "status": "已发货",
    "created_at": "2026-12-05T10:00:00+08:00",
    "carrier": "顺丰",
    "tracking_no": "SF1234567890",
}
IMAGE = b"RIFF\x10\x00\x00\x00WEBPVP8 fake image bytes"
HEAD = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _settings(var: Path) -> Settings:
    """A private var/ and ports nobody listens on (other work on this machine may use 8000)."""
    return dataclasses.replace(
        load_settings(),
        var_dir=var,
        database_url=f"sqlite:///{var / 'daogou.db'}",
        tracker_db_url=f"sqlite:///{var / 'tracker.db'}",
        backup_dir=var.parent / "backups",
        web_port=_free_port(),
        rasa_port=_free_port(),
        action_port=_free_port(),
        rasa_url="http://127.0.0.1:9",
        action_server_url="http://127.0.0.1:9/webhook",
    )


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> Path:
    """The seed catalog, migrated and loaded once (about a second); each test copies it."""
    var = tmp_path_factory.mktemp("seed") / "var"
    init_database(_settings(var)).engine.dispose()
    return var / "daogou.db"


@pytest.fixture()
def shop(seeded, tmp_path) -> Settings:
    """The seed shop plus an event, an order, a product edit, a conversation in the tracker,
    the console's index of it, a product image and both secrets (`_populate`)."""
    settings = _settings(tmp_path / "var")
    settings.var_dir.mkdir()
    with (
        closing(sqlite3.connect(seeded)) as source,
        closing(sqlite3.connect(settings.var_dir / "daogou.db")) as copy,
    ):
        source.backup(copy)
    _populate(settings)
    return settings


def _populate(settings: Settings) -> None:
    """Adds to a seeded catalog what a shop day leaves everywhere a backup must cover."""
    with _store(settings) as store:
        sku = store.list_products(category="手机", limit=1).items[0].sku
        EventStore(store).record(SHOPPER, sku, "add_to_cart", "chat")
        OrderStore(store).load([{**ORDER, "items": [{**ORDER["items"][0], "sku": sku}]}])
        revision = store.get_product(sku).product.revision
        store.update_product(sku, {"price": 1999.0}, expected_revision=revision, actor="m-test")
    _chat(settings, SHOPPER, 1_764_900_000.0, "有没有三千以内拍照好的华为手机")
    media = settings.var_dir / "media" / "products"
    media.mkdir(parents=True)
    (media / "ab12cd-800.webp").write_bytes(IMAGE)
    assert settings.shopper_key and settings.rasa_token  # generated into var/


@contextmanager
def _store(settings: Settings) -> Iterator[CatalogStore]:
    store = CatalogStore.from_url(settings.database_url)
    try:
        yield store
    finally:
        store.engine.dispose()


def _chat(settings: Settings, sender: str, ts: float, text: str) -> None:
    """A session with one exchange in Rasa's tracker table, folded into the console's index."""
    history = History()
    history.session(sender, ts)
    history.user(sender, ts + 1, text, "search_product", 0.93)
    history.bot(sender, ts + 2, "为您找到这些华为手机：")
    tracker = make_engine(settings.tracker_db_url)  # WAL, as Rasa's (bot/tracker_store.py)
    create_events_table(tracker)
    append_events(tracker, history.events)
    tracker.dispose()
    index = ConversationIndex(settings.tracker_db_url, settings.review_index_url)
    index.catch_up()
    index.dispose()


def _tables(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of a SQLite file, sorted (the file's bytes if it is none)."""
    try:
        return _rows(path)
    except sqlite3.DatabaseError:
        return {"not a database": [(path.read_bytes(),)]}


def _rows(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    with closing(sqlite3.connect(path)) as conn:
        names = [
            name
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        return {
            name: sorted(conn.execute(f'SELECT * FROM "{name}"').fetchall(), key=repr)
            for name in sorted(names)
        }


def _state(settings: Settings) -> dict[str, Any]:
    """Everything a backup covers, without the version rows (a restore moves them on)."""
    var = settings.var_dir
    catalog = _tables(var / "daogou.db")
    return {
        "catalog": {k: v for k, v in catalog.items() if k not in VERSION_TABLES},
        "tracker": _tables(var / "tracker.db"),
        "review_index": _tables(var / "review_index.db"),
        "media": {
            p.relative_to(var).as_posix(): p.read_bytes()
            for p in sorted((var / "media").rglob("*"))
            if p.is_file()
        },
        "secrets": {name: (var / name).read_text() for name in ("shopper_key", "rasa_token")},
    }


def _versions(settings: Settings) -> dict[str, int]:
    tables = _tables(settings.var_dir / "daogou.db")
    return {name: tables[name][0][1] if tables[name] else 0 for name in VERSION_TABLES}


def _change_everything(settings: Settings) -> None:
    _change_shop(settings)
    (settings.var_dir / "tracker.db").write_bytes(b"not a database, a disk gone bad " * 512)


def _change_shop(settings: Settings) -> None:
    """Products deleted, an event, an order and a conversation added, media and key changed."""
    with _store(settings) as store:
        for product in store.list_products(category="耳机", limit=3).items:
            store.delete_product(product.sku, actor="m-test")
        sku = store.list_products(category="手机", limit=1).items[0].sku
        EventStore(store).record(LATER, sku, "purchase", "storefront")
        OrderStore(store).load([{**ORDER, "order_id": "DG20261206000001", "user_id": LATER}])
    _chat(settings, LATER, 1_765_000_000.0, "这款有蓝色的吗")
    media = settings.var_dir / "media" / "products"
    (media / "ab12cd-800.webp").unlink()
    (media / "ff00ee-800.webp").write_bytes(b"uploaded after the backup")
    (settings.var_dir / "shopper_key").write_text("a key made after the backup")


def test_round_trip_restores_every_row_file_and_secret(shop):
    at_backup, versions_at_backup = _state(shop), _versions(shop)
    archive = backup(shop)

    assert archive.parent == shop.backup_dir and archive.name.endswith(".tar.gz")
    assert archive.stat().st_mode & 0o777 == 0o600
    manifest = read_manifest(archive)
    catalog = manifest["databases"]["catalog"]
    assert catalog["alembic_revision"] == HEAD
    assert catalog["rows"]["products"] == len(at_backup["catalog"]["products"])
    assert catalog["rows"]["events"] == len(at_backup["catalog"]["events"])
    assert catalog["rows"]["orders"] == len(at_backup["catalog"]["orders"])
    assert manifest["databases"]["tracker"]["rows"] == {"events": 5}
    assert manifest["databases"]["review_index"]["rows"]["review_sessions"] == 1
    assert catalog["source"] == shop.database_url
    assert sorted(manifest["members"]) == [
        "databases/catalog.sqlite3",
        "databases/review_index.sqlite3",
        "databases/tracker.sqlite3",
        "media/products/ab12cd-800.webp",
        "secrets/rasa_token",
        "secrets/shopper_key",
    ]

    _change_everything(shop)
    assert _state(shop)["catalog"] != at_backup["catalog"]
    versions_before = _versions(shop)
    with _store(shop) as store:
        running = CatalogService(store, check_interval=0.0)  # a web app's live view
        assert running.current().version == versions_before["catalog_version"]
        deleted = at_backup["catalog"]["products"][0][0]

        result = restore(shop, archive)

        assert _state(shop) == at_backup
        expected = {
            name: max(versions_at_backup[name], versions_before[name]) + 1
            for name in VERSION_TABLES
        }
        assert _versions(shop) == expected
        assert result.catalog_version == expected["catalog_version"]
        assert (result.migrated_from, result.migrated_to) == (HEAD, HEAD)
        view = running.current()  # the running process sees the new version and reloads
        assert view.version == expected["catalog_version"]
        assert len(view.graph.products) == len(at_backup["catalog"]["products"])
        assert deleted in view.graph.products
    assert (shop.var_dir / "shopper_key").stat().st_mode & 0o777 == 0o600
    for name in ("daogou.db", "tracker.db"):  # the garbage tracker was replaced by a file
        with closing(sqlite3.connect(shop.var_dir / name)) as conn:
            assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert not list(shop.var_dir.glob(".daogou-restore-*"))


def test_a_shopper_erased_since_the_backup_stays_erased(shop):
    archive = backup(shop)
    erase_shopper(build_services(shop), SHOPPER, actor="staff-wang")
    assert restore(shop, archive).erased_again == 1

    tables = _state(shop)
    assert [r for r in tables["catalog"]["events"] if SHOPPER in r] == []
    assert [r for r in tables["tracker"]["events"] if SHOPPER in r] == []
    assert [r for r in tables["review_index"]["review_senders"] if SHOPPER in r] == []
    orders = {r[0]: r[1] for r in tables["catalog"]["orders"]}
    assert orders[ORDER["order_id"]] == pseudonym(SHOPPER)  # kept for the books, unnamed
    erasures = [r for r in tables["catalog"]["audit_log"] if r[2] == "privacy_erase"]
    assert [(r[1], r[3]) for r in erasures] == [("restore", pseudonym(SHOPPER))]


def test_a_damaged_member_is_refused_and_nothing_changes(shop, tmp_path):
    archive = backup(shop)
    tampered = _with_member(archive, tmp_path / "tampered.tar.gz", "databases/catalog.sqlite3")
    _change_everything(shop)
    before = _state(shop) | {"versions": _versions(shop)}

    with pytest.raises(ChecksumMismatch, match=r"databases/catalog\.sqlite3.*nothing was changed"):
        restore(shop, tampered)

    assert _state(shop) | {"versions": _versions(shop)} == before
    assert not list(shop.var_dir.glob(".daogou-restore-*"))


def _with_member(archive: Path, out: Path, name: str) -> Path:
    """A copy of `archive` whose member `name` has one byte changed (the manifest kept)."""
    with tarfile.open(archive, "r:gz") as source, tarfile.open(out, "w:gz") as copy:
        for member in source.getmembers():
            data = source.extractfile(member).read()
            if member.name == name:
                data = data[:100] + bytes([data[100] ^ 1]) + data[101:]
            copy.addfile(member, io.BytesIO(data))
    return out


def test_restore_is_refused_while_a_service_listens_unless_forced(shop):
    archive = backup(shop)
    _change_everything(shop)
    before = _state(shop)
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", shop.web_port))
        listener.listen()
        with pytest.raises(ServicesRunning, match=rf"web app \(port {shop.web_port}\).*--force"):
            restore(shop, archive)
        assert _state(shop) == before

        restore(shop, archive, force=True)
    assert _state(shop)["catalog"]["products"] != before["catalog"]["products"]


def test_an_archive_of_an_older_schema_is_migrated_forward(tmp_path):
    settings = _settings(tmp_path / "var")
    settings.var_dir.mkdir()
    command.upgrade(alembic_config(settings.database_url), "0006")
    with _store(settings) as store:
        store.load_catalog(mini_catalog())
    archive = backup(settings)
    at_backup = _tables(settings.var_dir / "daogou.db")
    assert "shop_answers" not in at_backup
    command.upgrade(alembic_config(settings.database_url), "head")
    with _store(settings) as store:
        store.delete_product("PH-XM-14-256")

    result = restore(settings, archive)

    assert (result.migrated_from, result.migrated_to) == ("0006", HEAD)
    restored = _tables(settings.var_dir / "daogou.db")
    assert restored["alembic_version"] == [(HEAD,)]
    assert restored["shop_answers"] == []
    assert restored["products"] == at_backup["products"]


def test_a_sqlite_archive_is_not_restored_into_postgresql(shop, tmp_path):
    archive = backup(shop, tmp_path / "named.tar.gz")
    assert archive == tmp_path / "named.tar.gz"
    pg = dataclasses.replace(shop, database_url="postgresql+psycopg://postgres@127.0.0.1/x")
    with pytest.raises(BackupError, match="catalog: .*sqlite.*cross-engine restore"):
        restore(pg, archive)


def test_cli_backup_prints_path_and_counts_and_restore_asks(shop, monkeypatch, capsys):
    for name, value in {
        "DAOGOU_VAR": shop.var_dir,
        "DATABASE_URL": shop.database_url,
        "TRACKER_DB_URL": shop.tracker_db_url,
        "DAOGOU_BACKUP_DIR": shop.backup_dir,
        "DAOGOU_WEB_PORT": shop.web_port,
        "DAOGOU_RASA_PORT": shop.rasa_port,
        "DAOGOU_ACTION_PORT": shop.action_port,
    }.items():
        monkeypatch.setenv(name, str(value))
    get_settings.cache_clear()
    try:
        assert cli.main(["backup"]) == 0
        out, err = capsys.readouterr()
        path, counts = out.splitlines()[0], out.splitlines()[1:]
        assert Path(path).parent == shop.backup_dir and Path(path).exists()
        products = len(_tables(shop.var_dir / "daogou.db")["products"])
        assert counts[0].startswith(f"catalog: products {products}, relations ")
        assert counts[1:] == [
            "review_index: review_sessions 1, review_messages 2",
            "tracker: events 5",
        ]
        assert "0600" in err

        _change_everything(shop)
        monkeypatch.setattr("builtins.input", lambda prompt: "n")
        assert cli.main(["restore", path]) == 1
        assert "restore cancelled" in capsys.readouterr().out
        assert len(_tables(shop.var_dir / "daogou.db")["products"]) == products - 3

        assert cli.main(["restore", path, "--yes"]) == 0
        assert f"restored the backup of {read_manifest(Path(path))['created_at']}" in (
            capsys.readouterr().out
        )
        assert len(_tables(shop.var_dir / "daogou.db")["products"]) == products
    finally:
        get_settings.cache_clear()
