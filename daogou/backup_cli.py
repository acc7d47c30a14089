"""`daogou backup [--to PATH]` and `daogou restore PATH [--force] [--yes]` (daogou/backup.py)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from daogou.backup import BackupError, backup, read_manifest, redacted_url, restore
from daogou.settings import Settings, get_settings

PROTECT_WARNING = (
    "warning: the archive holds shoppers' personal data and the key that signs their identities;"
    " it is readable by you only (0600): keep every copy as private as the database"
)


def add_backup_parser(subparsers: argparse._SubParsersAction) -> None:
    make = subparsers.add_parser("backup", help="archive the catalog, events, tracker and media")
    make.add_argument(
        "--to",
        type=Path,
        metavar="PATH",
        help="the archive (*.tar.gz) or a folder for it (default: DAOGOU_BACKUP_DIR or var/backups)",
    )
    make.set_defaults(func=_backup)
    back = subparsers.add_parser("restore", help="replace the shop's data with an archive's")
    back.add_argument("archive", type=Path)
    back.add_argument("--force", action="store_true", help="even while the services run")
    back.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    back.set_defaults(func=_restore)


def _backup(args: argparse.Namespace) -> int:
    try:
        archive = backup(get_settings(), args.to)
    except BackupError as error:
        print(f"daogou backup: error: {error}", file=sys.stderr)
        return 2
    manifest = read_manifest(archive)
    print(archive)
    print(_counts(manifest))
    for note in manifest.get("notes", []):
        print(f"note: {note}")
    print(PROTECT_WARNING, file=sys.stderr)
    return 0


def _restore(args: argparse.Namespace) -> int:
    settings = get_settings()
    try:
        manifest = read_manifest(args.archive)
        if not args.yes and not _confirmed(manifest, settings):
            print("restore cancelled, nothing was changed")
            return 1
        result = restore(settings, args.archive, force=args.force)
    except BackupError as error:
        print(f"daogou restore: error: {error}", file=sys.stderr)
        return 2
    print(f"restored the backup of {manifest['created_at']}")
    print(_counts(manifest))
    if result.migrated_from != result.migrated_to:
        print(f"catalog migrated from {result.migrated_from} to {result.migrated_to}")
    if result.erased_again:
        print(f"erased again {result.erased_again} shopper(s) erased since the backup")
    for note in result.notes:
        print(f"warning: {note}", file=sys.stderr)
    print(f"catalog version {result.catalog_version}: running services reload the catalog")
    return 0


def _confirmed(manifest: dict[str, Any], settings: Settings) -> bool:
    print(
        f"This replaces the catalog, events, conversations and media of\n"
        f"  {redacted_url(settings.database_url)}\n  {redacted_url(settings.tracker_db_url)}\n"
        f"with the backup of {manifest['created_at']} (daogou {manifest['daogou_version']}).\n"
        "Everything written since then is lost."
    )
    try:
        answer = input("Restore? [y/N] ")
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")


def _counts(manifest: dict[str, Any]) -> str:
    """One line per database: ``catalog: products 838, events 19006, ...``."""
    lines = []
    for role, entry in manifest["databases"].items():
        if "rows" in entry:
            counts = ", ".join(f"{table} {n}" for table, n in entry["rows"].items())
            lines.append(f"{role}: {counts}")
        elif "same_as" in entry:
            lines.append(f"{role}: in the {entry['same_as']} database")
        else:
            lines.append(f"{role}: none yet")
    return "\n".join(lines)
