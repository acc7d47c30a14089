"""`daogou backup` and `daogou restore`: the shop's data in one archive, and back.

What goes in (``manifest.json`` lists every member with its sha256):
- the catalog database (catalog, shopper events, orders, accounts, console data, audit log);
- Rasa's tracker store (the conversations);
- the console's index of the tracker (``var/review_index.db`` on SQLite; on PostgreSQL its
  ``review_*`` tables are in the catalog's dump anyway). It is derived, but it is backed up
  *before* the tracker, so a restored pair is never ahead of the tracker and the console only
  folds the newer events, instead of a full rebuild or, worse, missing conversations that were
  erased after the backup and come back with the tracker;
- merchants' product images (``var/media``) and the secrets ``var/shopper_key`` (losing it
  logs every shopper out) and ``var/rasa_token``. The archive therefore holds personal data
  and keys: it is written readable by its owner only (0600) and must be kept like the database.
Left out, because they are rebuilt from the above: the FAISS indexes, the embedding model
cache, the trained Rasa model, the recommender's saved model (it is keyed by catalog version,
and a restore moves the version, so a running process refits it anyway), logs.

Why one ``.tar.gz``: one file to copy off the machine, to protect (0600) and to verify; gzip
shrinks SQLite pages several times (PostgreSQL dumps are written uncompressed into it, so they
are compressed once).

Consistency while the services run: SQLite files are read with SQLite's online backup API in
one step (one read transaction: a consistent copy even in WAL mode, never a file copy that can
tear a page or miss the WAL); PostgreSQL is dumped with ``pg_dump --format=custom`` inside a
REPEATABLE READ transaction whose exported snapshot the dump uses, so the row counts in the
manifest are exactly the dump's.

Restore refuses while the web app, Rasa or the action server answers on its port (``--force``
overrides), verifies every checksum before it changes anything, then replaces each database
whole:
- SQLite: the verified copy is written into the live file with the backup API, in one write
  transaction (readers see the old or the new database, and the file's own WAL stays
  consistent). ``os.replace`` of the file is used only when the target is missing or not a
  readable database: replacing a healthy file would leave its ``-wal``/``-shm`` beside the new
  one, and SQLite would replay that old WAL onto it.
- PostgreSQL: ``DROP SCHEMA public CASCADE``, ``CREATE SCHEMA public`` and the archive's SQL
  (``pg_restore --file=-``) in one ``psql --single-transaction``: all or nothing. Plain
  ``pg_restore --clean`` would leave tables the archive does not know (those of a newer
  migration), and ``alembic upgrade head`` would then fail on them.
Then the catalog is migrated forward if the archive is older than the code, and the catalog's
and the shop answers' version rows are set above both their restored and their previous value,
so every running process reloads its copy (knowledge_graph/service.py and shop_answers.py
reload when the version differs from the one they hold). Last, shoppers erased since the backup
(``daogou privacy erase`` or the console; the audit log being replaced names them by pseudonym)
are erased again: restoring a backup must not undo a PIPL erasure. Data that the retention job
removed since the backup comes back and goes again at its next run.

Cross-engine restore (a SQLite archive into PostgreSQL or back) is not supported: export and
import through the catalog's own API for that.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy.engine import Connection, make_url

from daogou import privacy
from daogou.container import build_services
from daogou.db import alembic_config, migrate
from daogou.settings import Settings
from knowledge_graph.privacy import owned_tables, pseudonym
from knowledge_graph.store import CatalogStore
from knowledge_graph.tables import AuditEntry, CatalogVersion
from knowledge_graph.tables.staff import ShopAnswersVersion

FORMAT = 1
MANIFEST = "manifest.json"
ARCHIVE_SUFFIXES = (".tar.gz", ".tgz")
# Backed up in this order: the console's index before the tracker it indexes (module docstring).
ROLES = ("catalog", "review_index", "tracker")
COUNTED = {
    "catalog": (
        "products", "relations", "brands", "categories", "merchants", "orders", "events",
        "accounts", "audit_log", "conversation_flags", "conversation_reviews", "annotations",
        "handoffs", "shopper_consents", "shop_answers",
    ),
    "review_index": ("review_sessions", "review_messages"),
    "tracker": ("events",),
}  # fmt: skip
SECRETS = ("shopper_key", "rasa_token")
VERSION_ROWS = (CatalogVersion, ShopAnswersVersion)
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")
ERASURE = "privacy_erase"  # the audit action of daogou/privacy.py's erase_shopper


class BackupError(RuntimeError):
    """A backup or restore that cannot be done; the message says why and what to do."""


class ServicesRunning(BackupError):
    pass


class ChecksumMismatch(BackupError):
    pass


@dataclass(frozen=True)
class Database:
    role: str
    url: str

    @property
    def engine(self) -> str:
        return make_url(self.url).get_backend_name()

    @property
    def path(self) -> Path:
        """The file of a SQLite database."""
        return Path(make_url(self.url).database or "").resolve()

    @property
    def location(self) -> str:
        """The same for two URLs that name one database (whatever the driver or password)."""
        if self.engine == "sqlite":
            return f"sqlite:{self.path}"
        url = make_url(self.url)
        return f"postgresql://{url.host or ''}:{url.port or 5432}/{url.database}"

    @property
    def member(self) -> str:
        suffix = "sqlite3" if self.engine == "sqlite" else "pgdump"
        return f"databases/{self.role}.{suffix}"


@dataclass(frozen=True)
class RestoreResult:
    manifest: dict[str, Any]
    migrated_from: str | None
    migrated_to: str | None
    catalog_version: int
    erased_again: int  # shoppers erased since the backup, whom the archive brought back
    notes: list[str]


def databases(settings: Settings) -> list[Database]:
    urls = {
        "catalog": settings.database_url,
        "review_index": settings.review_index_url,
        "tracker": settings.tracker_db_url,
    }
    return [Database(role, urls[role]) for role in ROLES]


# -- backup -------------------------------------------------------------------------------------
def backup(settings: Settings, dest: Path | None = None) -> Path:
    """Writes one archive of the shop's data and returns its path.

    `dest`: the archive's path (``*.tar.gz``), or a folder to write it in (default
    ``settings.backup_dir``, else ``var/backups``)."""
    archive = _archive_path(settings, dest)
    archive.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=archive.parent, prefix=".daogou-backup-") as tmp:
        staging = Path(tmp)
        manifest = _new_manifest()
        manifest["databases"] = _dump_databases(settings, staging)
        manifest["notes"] = _copy_files(settings, staging)
        manifest["members"] = {
            name: {"sha256": _sha256(staging / name), "bytes": (staging / name).stat().st_size}
            for name in _files_under(staging)
        }
        (staging / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2))
        _write_archive(staging, sorted(manifest["members"]), archive)
    return archive


def _archive_path(settings: Settings, dest: Path | None) -> Path:
    """`dest` if it names a ``.tar.gz`` file, else a new name in the folder `dest` (or the
    settings' backup folder)."""
    if dest is not None and dest.name.endswith(ARCHIVE_SUFFIXES):
        return dest.resolve()
    folder = dest or settings.backup_dir or settings.var_dir / "backups"
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    path, n = folder / f"daogou-{stamp}.tar.gz", 1
    while path.exists():
        n += 1
        path = folder / f"daogou-{stamp}-{n}.tar.gz"
    return path.resolve()


def _new_manifest() -> dict[str, Any]:
    try:
        version = metadata.version("daogou")
    except metadata.PackageNotFoundError:
        version = "unknown"
    return {
        "format": FORMAT,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "daogou_version": version,
    }


def _dump_databases(settings: Settings, staging: Path) -> dict[str, dict[str, Any]]:
    entries: dict[str, dict[str, Any]] = {}
    dumped: dict[str, str] = {}  # location -> the role whose member holds it
    for database in databases(settings):
        entry: dict[str, Any] = {"engine": database.engine, "source": redacted_url(database.url)}
        if database.location in dumped:
            entry["same_as"] = dumped[database.location]
        elif database.engine == "sqlite" and not database.path.exists():
            entry["absent"] = True  # e.g. no conversation yet, or the console never opened
        else:
            (staging / database.member).parent.mkdir(parents=True, exist_ok=True)
            entry["member"] = database.member
            entry.update(_dump(database, staging / database.member))
            dumped[database.location] = database.role
        entries[database.role] = entry
    if entries["catalog"].get("absent"):
        raise BackupError(f"no catalog database at {entries['catalog']['source']}")
    return entries


def _dump(database: Database, target: Path) -> dict[str, Any]:
    if database.engine == "sqlite":
        journal_mode = _sqlite_copy(database.path, target)
        engine = sa.create_engine(f"sqlite:///{target}")
        try:
            with engine.connect() as conn:
                return _describe(conn, database.role) | {"journal_mode": journal_mode}
        finally:
            engine.dispose()
    if database.engine == "postgresql":
        return _pg_dump(database, target)
    raise BackupError(f"{database.role}: engine {database.engine} is not supported")


def _sqlite_copy(source: Path, target: Path) -> str:
    """A consistent copy of a live SQLite database (one read transaction), in rollback-journal
    mode so that the copy is one self-contained file; returns the live file's journal mode."""
    uri = f"file:{quote(str(source))}?mode=rw"  # rw, not rwc: never creates a missing file
    with (
        closing(sqlite3.connect(uri, uri=True, timeout=15)) as live,
        closing(sqlite3.connect(target)) as copy,
    ):
        live.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")
        return str(live.execute("PRAGMA journal_mode").fetchone()[0])


def _pg_dump(database: Database, target: Path) -> dict[str, Any]:
    pg_dump = _pg_tool("pg_dump")
    conninfo, env = _libpq(database.url)
    engine = sa.create_engine(database.url)
    try:
        connection = engine.connect().execution_options(isolation_level="REPEATABLE READ")
        with connection as conn, conn.begin():
            snapshot = conn.scalar(sa.text("SELECT pg_export_snapshot()"))
            described = _describe(conn, database.role)
            # The dump reads the same snapshot as the counts, while this transaction lives.
            _run(
                [pg_dump, "--format=custom", "--compress=0", f"--snapshot={snapshot}",
                 f"--file={target}", f"--dbname={conninfo}"],
                env,
            )  # fmt: skip
    finally:
        engine.dispose()
    return described


def _describe(conn: Connection, role: str) -> dict[str, Any]:
    """Row counts of the role's key tables, and the catalog's Alembic revision."""
    present = set(sa.inspect(conn).get_table_names())
    rows = {
        name: int(conn.scalar(sa.select(sa.func.count()).select_from(sa.table(name))) or 0)
        for name in COUNTED[role]
        if name in present
    }
    described: dict[str, Any] = {"rows": rows}
    if role == "catalog":
        described["alembic_revision"] = (
            conn.scalar(sa.text("SELECT version_num FROM alembic_version"))
            if "alembic_version" in present
            else None
        )
    return described


def _copy_files(settings: Settings, staging: Path) -> list[str]:
    """Media and secrets into the staging folder; returns notes for the manifest."""
    media = settings.var_dir / "media"
    if media.is_dir():
        shutil.copytree(media, staging / "media", copy_function=_link_or_copy)
    notes = []
    for name in SECRETS:
        source = settings.var_dir / name
        if not source.exists():
            continue
        in_use = settings.shopper_key if name == "shopper_key" else settings.rasa_token
        if source.read_text().strip() != in_use:
            notes.append(f"{name}: set by the environment, not var/{name}; not in the archive")
            continue
        (staging / "secrets").mkdir(mode=0o700, exist_ok=True)
        shutil.copyfile(source, staging / "secrets" / name)
    return notes


def _link_or_copy(source: str, target: str) -> None:
    """Hard link when the archive is on the same disk (media files are replaced, never
    rewritten in place, so a link is a stable copy); a copy otherwise."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _write_archive(staging: Path, members: list[str], archive: Path) -> None:
    """The manifest first (cheap to read), then the members; created 0600 and moved into
    place only when complete."""
    partial = archive.with_name(f".{archive.name}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with (
            os.fdopen(fd, "wb") as file,
            tarfile.open(fileobj=file, mode="w:gz", compresslevel=6) as tar,
        ):
            for name in [MANIFEST, *members]:
                tar.add(staging / name, arcname=name, recursive=False)
        os.replace(partial, archive)
    finally:
        partial.unlink(missing_ok=True)


# -- restore ------------------------------------------------------------------------------------
def read_manifest(archive: Path) -> dict[str, Any]:
    """The manifest of an archive (not verified: :func:`restore` checks every member)."""
    try:
        with tarfile.open(archive, "r:gz") as tar:
            member = tar.extractfile(MANIFEST)
            if member is None:
                raise KeyError(MANIFEST)
            return json.loads(member.read())
    except (OSError, KeyError, EOFError, zlib.error, tarfile.TarError, ValueError) as error:
        raise BackupError(f"{archive}: not a daogou backup archive ({error})") from None


def running_services(settings: Settings) -> list[str]:
    """The services that answer on this machine's ports, e.g. ``["web app (port 8000)"]``."""
    ports = {
        "web app": settings.web_port,
        "Rasa": settings.rasa_port,
        "action server": settings.action_port,
    }
    return [f"{name} (port {port})" for name, port in ports.items() if _listening(port)]


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def restore(settings: Settings, archive: Path, *, force: bool = False) -> RestoreResult:
    """Replaces the shop's databases, media and secrets with the archive's.

    Nothing is changed unless the services are stopped (or `force`), every checksum matches
    and every database of the archive fits the settings' engines."""
    running = running_services(settings)
    if running and not force:
        raise ServicesRunning(
            f"stop the services first ({', '.join(running)} answering), or use --force"
        )
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=settings.var_dir, prefix=".daogou-restore-") as tmp:
        staging = Path(tmp)
        manifest = _unpack_verified(archive, staging)
        plan = _plan(settings, manifest, staging)
        versions_before = _version_rows(settings.database_url)
        erased = _erased_shoppers(settings.database_url)
        _restore_databases(plan, staging)
        _restore_files(settings, staging)
    revision = manifest["databases"]["catalog"].get("alembic_revision")
    migrate(settings.database_url)
    catalog_version = _move_versions(settings.database_url, versions_before)
    notes = [] if erased is not None else [UNKNOWN_ERASURES]
    return RestoreResult(
        manifest=manifest,
        migrated_from=revision,
        migrated_to=_head(settings.database_url),
        catalog_version=catalog_version,
        erased_again=_erase_again(settings, erased or set()),
        notes=notes,
    )


def _unpack_verified(archive: Path, staging: Path) -> dict[str, Any]:
    manifest = read_manifest(archive)
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{archive}: archive format {manifest.get('format')} is not {FORMAT}")
    try:
        with tarfile.open(archive, "r:gz") as tar:
            names = {m.name for m in tar.getmembers() if m.isfile()}
            tar.extractall(staging, filter="data")  # no path outside staging, no devices
    except (OSError, EOFError, zlib.error, tarfile.TarError) as error:
        raise BackupError(f"{archive}: damaged archive ({error}); nothing was changed") from None
    expected = manifest["members"]
    damaged = sorted(set(expected) ^ (names - {MANIFEST}))
    damaged += [
        name
        for name, entry in sorted(expected.items())
        if name in names and _sha256(staging / name) != entry["sha256"]
    ]
    if damaged:
        raise ChecksumMismatch(
            f"{archive}: checksum mismatch or missing/unexpected member: {', '.join(damaged)}; "
            "nothing was changed"
        )
    return manifest


Plan = list[tuple[Database, dict[str, Any]]]


def _plan(settings: Settings, manifest: dict[str, Any], staging: Path) -> Plan:
    """What to restore where; raises before anything is changed if it cannot fit."""
    plan = []
    for database in databases(settings):
        entry = manifest["databases"].get(database.role, {"absent": True})
        if "member" in entry and entry["engine"] != database.engine:
            raise BackupError(
                f"{database.role}: the archive holds a {entry['engine']} database but "
                f"{redacted_url(database.url)} is {database.engine}; cross-engine restore is not "
                "supported"
            )
        member = entry.get("member")
        if member and database.engine == "sqlite" and not _sqlite_ok(staging / member):
            raise BackupError(f"{member}: fails SQLite's integrity check; nothing was changed")
        plan.append((database, entry))
    _check_revision_known(settings.database_url, manifest["databases"]["catalog"])
    if any(db.engine == "postgresql" and "member" in entry for db, entry in plan):
        for tool in ("pg_restore", "psql"):
            _pg_tool(tool)
    return plan


def _check_revision_known(url: str, entry: dict[str, Any]) -> None:
    revision = entry.get("alembic_revision")
    if revision is None:
        raise BackupError("the archive's catalog has no Alembic revision: not a daogou database")
    try:
        ScriptDirectory.from_config(alembic_config(url)).get_revision(revision)
    except CommandError:
        raise BackupError(
            f"the archive's catalog is at migration {revision}, which this version of daogou "
            "does not know (a newer daogou made it): upgrade daogou first"
        ) from None


def _restore_databases(plan: Plan, staging: Path) -> None:
    """One database after the other: each is replaced whole or not at all, but together they
    are not one transaction, so a failure says which ones are restored already."""
    done: list[str] = []
    for database, entry in plan:
        try:
            _restore_database(database, entry, staging)
        except (BackupError, OSError, sqlite3.Error) as error:
            if not done:
                raise
            raise BackupError(
                f"{error}; restored already: {', '.join(done)}: fix the cause and restore again"
            ) from error
        done.append(database.role)


def _restore_database(database: Database, entry: dict[str, Any], staging: Path) -> None:
    if "same_as" in entry:
        return  # restored with the role that holds it
    if entry.get("absent"):
        if database.role == "review_index" and database.engine == "sqlite":
            _remove_sqlite(database.path)  # derived: the console rebuilds it from the tracker
        return  # the tracker did not exist yet: the current one stays
    staged = staging / entry["member"]
    if database.engine == "sqlite":
        _restore_sqlite(staged, database.path, entry.get("journal_mode", "wal"))
    else:
        _restore_postgres(staged, database.url)


def _restore_sqlite(staged: Path, target: Path, journal_mode: str) -> None:
    if _sqlite_ok(target):
        uri = f"file:{quote(str(target))}?mode=rw"
        with (
            closing(sqlite3.connect(staged)) as source,
            closing(sqlite3.connect(uri, uri=True, timeout=15)) as live,
        ):
            source.backup(live)  # one write transaction on the live file
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.restoring")
    shutil.copyfile(staged, temporary)
    with closing(sqlite3.connect(temporary)) as conn:
        conn.execute(f"PRAGMA journal_mode={_journal_mode(journal_mode)}")  # as it was live
    _remove_sqlite(target, keep_main=True)
    os.replace(temporary, target)


def _journal_mode(name: str) -> str:
    modes = ("delete", "truncate", "persist", "memory", "wal", "off")
    if name.lower() not in modes:
        raise BackupError(f"unknown SQLite journal mode {name!r} in the manifest")
    return name.lower()


def _sqlite_ok(path: Path) -> bool:
    if not path.is_file():
        return False
    try:
        with closing(sqlite3.connect(f"file:{quote(str(path))}?mode=rw", uri=True)) as conn:
            return conn.execute("PRAGMA quick_check").fetchone() == ("ok",)
    except sqlite3.DatabaseError:
        return False


def _remove_sqlite(path: Path, *, keep_main: bool = False) -> None:
    """A SQLite file's journal and WAL (they belong to that file only), and the file."""
    for suffix in SQLITE_SIDE_FILES:
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    if not keep_main:
        path.unlink(missing_ok=True)


def _restore_postgres(staged: Path, url: str) -> None:
    """The dump's SQL is written out first: were it piped, a pg_restore failing halfway (say,
    a dump from a newer pg_dump) would leave psql committing the dropped schema."""
    script = staged.with_suffix(".sql")
    _run([_pg_tool("pg_restore"), "--no-owner", "--no-privileges", f"--file={script}", str(staged)])
    conninfo, env = _libpq(url)
    _run(
        [_pg_tool("psql"), "--no-psqlrc", "--quiet", "--set=ON_ERROR_STOP=1",
         "--single-transaction", f"--dbname={conninfo}",
         "--command=DROP SCHEMA IF EXISTS public CASCADE", "--command=CREATE SCHEMA public",
         f"--file={script}"],
        env,
        failure=f"restoring {redacted_url(url)} failed, the database was left as it was",
    )  # fmt: skip


def _restore_files(settings: Settings, staging: Path) -> None:
    """var/media becomes the archive's (none in it: no media); secrets in the archive replace
    the current ones, readable by the owner only."""
    _mirror(staging / "media", settings.var_dir / "media")
    for name in SECRETS:
        source = staging / "secrets" / name
        if source.exists():
            source.chmod(0o600)
            shutil.move(source, settings.var_dir / name)


def _mirror(incoming: Path, folder: Path) -> None:
    """Makes `folder` hold exactly the files of `incoming`, file by file (the folder itself may
    be a mount shared by several web apps, so it is never replaced)."""
    wanted = set(_files_under(incoming)) if incoming.is_dir() else set()
    for name in set(_files_under(folder)) - wanted if folder.is_dir() else ():
        (folder / name).unlink()
    for name in sorted(wanted):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.move(incoming / name, folder / name)
    for path in sorted(folder.rglob("*"), reverse=True) if folder.is_dir() else ():
        if path.is_dir() and not any(path.iterdir()):
            path.rmdir()


# -- erasures made since the backup -------------------------------------------------------------
UNKNOWN_ERASURES = (
    "the catalog could not be read before the restore, so shoppers erased since the backup "
    "are not known: run `daogou privacy erase` again for every erasure request since then"
)


def _erased_shoppers(url: str) -> set[str] | None:
    """The pseudonyms of every shopper erased so far, from the audit log of the catalog about
    to be replaced (None: it cannot be read)."""
    if not _readable(url):
        return None
    try:
        with _store(url) as store, store.session() as session:
            query = sa.select(AuditEntry.target).where(AuditEntry.action == ERASURE)
            return set(session.scalars(query))
    except sa.exc.SQLAlchemyError:
        return None


def _erase_again(settings: Settings, erased: set[str]) -> int:
    """Erases again every shopper of the restored data whose erasure the archive predates: a
    backup must not undo a PIPL erasure. The audit log names them by pseudonym only, so the
    restored shoppers' ids are hashed to find them."""
    if not erased:
        return 0
    found = [u for u in _shopper_ids(settings) if pseudonym(u) in erased]
    services = build_services(settings)
    for user_id in found:
        privacy.erase_shopper(services, user_id, actor="restore")
    return len(found)


def _shopper_ids(settings: Settings) -> set[str]:
    ids: set[str] = set()
    places = [(settings.database_url, [(t.name, c.name) for t, c in owned_tables()])]
    places.append((settings.tracker_db_url, [(privacy.TRACKER_TABLE, "sender_id")]))
    for url, columns in places:
        if not _readable(url):
            continue
        with _store(url) as store, store.engine.connect() as conn:
            present = set(sa.inspect(conn).get_table_names())
            for table, column in columns:
                if table in present:
                    query = sa.select(sa.column(column)).select_from(sa.table(table)).distinct()
                    ids.update(conn.scalars(query))
    return ids


# -- versions and migrations --------------------------------------------------------------------
def _version_rows(url: str) -> dict[str, int]:
    """The catalog's version rows before a restore (none if the database is missing or broken)."""
    if not _readable(url):
        return {}
    try:
        with _store(url) as store, store.session() as session:
            return {
                table.__tablename__: row.version
                for table in VERSION_ROWS
                if (row := session.get(table, 1)) is not None
            }
    except sa.exc.SQLAlchemyError:
        return {}


def _readable(url: str) -> bool:
    """False for a SQLite file that is missing or broken (opening it would create or fail)."""
    return make_url(url).get_backend_name() != "sqlite" or _sqlite_ok(Database("", url).path)


def _move_versions(url: str, before: dict[str, int]) -> int:
    """Sets each version row above both its restored and its previous value: a running process
    holds the previous one and reloads on any difference; above both, no later edit can bring
    the number back to one a process already holds for other content. Returns the catalog's."""
    with _store(url) as store, store.session() as session:
        for table in VERSION_ROWS:
            row = session.get(table, 1)
            restored = row.version if row is not None else 0
            version = max(restored, before.get(table.__tablename__, 0)) + 1
            if row is None:
                session.add(table(id=1, version=version))
            else:
                row.version = version
                if isinstance(row, CatalogVersion):
                    row.updated_at = datetime.now(UTC)
    with _store(url) as store:
        return store.version()


def _head(url: str) -> str | None:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.scalar(sa.text("SELECT version_num FROM alembic_version"))
    finally:
        engine.dispose()


@contextmanager
def _store(url: str) -> Iterator[CatalogStore]:
    store = CatalogStore.from_url(url)
    try:
        yield store
    finally:
        store.engine.dispose()


# -- helpers ------------------------------------------------------------------------------------
def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _files_under(folder: Path) -> list[str]:
    return sorted(
        path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file()
    )


def redacted_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} is not installed: install the PostgreSQL client tools of the server's "
            "major version (Debian: apt-get install postgresql-client-15)"
        )
    return path


def _libpq(url: str) -> tuple[str, dict[str, str] | None]:
    """A libpq connection URI without the password, and the environment that carries it (a
    password on the command line would show in ``ps``)."""
    parsed = make_url(url)
    conninfo = parsed.set(drivername="postgresql", password=None)
    env = None if parsed.password is None else {**os.environ, "PGPASSWORD": str(parsed.password)}
    return conninfo.render_as_string(hide_password=False), env


def _run(command: list[str], env: dict[str, str] | None = None, *, failure: str = "") -> None:
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise BackupError(f"{failure or Path(command[0]).name + ' failed'}: {done.stderr.strip()}")
