"""A shopper's data, everywhere it is kept: export (PIPL access) and erasure, and the
`daogou privacy` commands.

Places: the catalog database (shopper events, orders, staff marks, handoffs, the consent to
personal recommendations: found from the table classes, `knowledge_graph/privacy.py`), Rasa's tracker store (the conversation's events),
the console's conversation index (`web/review`: a copy of the messages for search), and the
served recommender (fitted on everyone's events: refitted without the shopper's). Rasa's
in-memory trackers are not a copy to clean: `bot/tracker_store.py` trusts its copy only while
the conversation's latest event id in the database is unchanged, and after erasure there is none.
Every request is written to the audit log (who asked, for whom, what was found), without the
data itself.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from daogou.container import Services, build_services
from daogou.settings import Settings, get_settings
from knowledge_graph import privacy
from knowledge_graph.tables import AuditEntry

TRACKER_TABLE = "events"
INDEX_TABLES = ("review_messages", "review_intents", "review_sessions", "review_senders")
ID_CHUNK = 500  # ids per IN list: well under SQLite's limit of bound parameters


def export_shopper(services: Services, user_id: str, actor: str) -> dict[str, Any]:
    document = {
        "user_id": user_id,
        "catalog": privacy.export_user(services.store, user_id),
        "conversation": _tracker_events(services.settings, user_id),
    }
    _log(services, actor, "privacy_export", user_id, _counts(document))
    return document


def erase_shopper(services: Services, user_id: str, actor: str) -> dict[str, int]:
    """Removes the shopper everywhere; returns what was removed per place."""
    removed = {f"catalog.{k}": v for k, v in privacy.erase_user(services.store, user_id).items()}
    services.consent.forget(user_id)  # the consent row went too: no personal answers from a copy
    removed["tracker.events"] = delete_rows(
        services.settings.tracker_db_url, [TRACKER_TABLE], [user_id]
    )
    index_url = review_index_url(services.settings)
    if index_url:
        removed["review_index"] = delete_rows(index_url, INDEX_TABLES, [user_id])
    if refit_recommender(services):
        removed["recommender.refitted"] = 1
    _log(services, actor, "privacy_erase", user_id, removed)
    return {k: v for k, v in removed.items() if v}


class ShopperRequests:
    """Export and erasure as the web app offers them (web/routes/privacy.py)."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def export(self, user_id: str, actor: str) -> dict[str, Any]:
        return export_shopper(self.services, user_id, actor)

    def erase(self, user_id: str, actor: str) -> dict[str, int]:
        return erase_shopper(self.services, user_id, actor)


def review_index_url(settings: Settings) -> str | None:
    """The console's index, if it exists (a SQLite file appears at the console's first use)."""
    exists = (settings.var_dir / "review_index.db").exists()
    if settings.database_url.startswith("sqlite") and not exists:
        return None
    return settings.review_index_url


def _tracker_events(settings: Settings, user_id: str) -> list[dict[str, Any]]:
    engine = sa.create_engine(settings.tracker_db_url)
    try:
        if not sa.inspect(engine).has_table(TRACKER_TABLE):
            return []
        events = sa.Table(TRACKER_TABLE, sa.MetaData(), autoload_with=engine)
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(events.c.data).where(events.c.sender_id == user_id).order_by(events.c.id)
            ).all()
        return [json.loads(data or "{}") for (data,) in rows]
    finally:
        engine.dispose()


def delete_rows(
    url: str, tables: Sequence[str], user_ids: Collection[str], *, compact: bool = True
) -> int:
    """Deletes the rows of `user_ids` (their `sender_id`) from the tables that exist, in one
    transaction; `compact` then reclaims the bytes (a caller that writes more first reclaims
    itself). Also used by the retention job (daogou/retention.py)."""
    engine = sa.create_engine(url)
    deleted = 0
    ids = sorted(set(user_ids))
    try:
        inspector = sa.inspect(engine)
        with engine.begin() as conn:
            for name in tables:
                if not inspector.has_table(name):
                    continue
                table = sa.Table(name, sa.MetaData(), autoload_with=engine)
                for start in range(0, len(ids), ID_CHUNK):
                    chunk = ids[start : start + ID_CHUNK]
                    deleted += conn.execute(
                        sa.delete(table).where(table.c.sender_id.in_(chunk))
                    ).rowcount
        if compact:
            privacy.reclaim(engine)
    finally:
        engine.dispose()
    return deleted


def refit_recommender(services: Services) -> bool:
    """Refits the served recommender on the events left, when one is saved (other processes
    pick the new file up on their next request); whether it did."""
    if not _recommender_saved(services.settings):
        return False
    from recommender.gate import discard_candidates
    from recommender.recommendations import default_model_path

    services.recommendations().save()
    # Refused candidates of the gated retrain were fitted on the erased events too.
    discard_candidates(default_model_path(services.settings.var_dir).parent)
    return True


def _recommender_saved(settings: Settings) -> bool:
    from recommender.recommendations import default_model_path

    return default_model_path(settings.var_dir).exists()


def _counts(document: dict[str, Any]) -> dict[str, int]:
    counts = {f"catalog.{k}": len(v) for k, v in document["catalog"].items()}
    counts["tracker.events"] = len(document["conversation"])
    return counts


def _log(services: Services, actor: str, action: str, user_id: str, detail: dict[str, int]) -> None:
    # The shopper is named by a pseudonym: the log must not keep what was erased.
    audit(services, actor, action, privacy.pseudonym(user_id), detail)


def audit(services: Services, actor: str, action: str, target: str, detail: dict[str, int]) -> None:
    """One audit log entry: counts only, never the data itself."""
    with services.store.session() as session:
        session.add(AuditEntry(actor=actor[:64], action=action, target=target[:128], detail=detail))


# -- the commands -------------------------------------------------------------------------------
def _export(args: argparse.Namespace) -> int:
    document = export_shopper(build_services(get_settings()), args.user, args.actor)
    text = json.dumps(document, ensure_ascii=False, indent=2, default=str)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
        print(f"exported to {args.out}")
    else:
        print(text)
    return 0


def _erase(args: argparse.Namespace) -> int:
    if not args.yes:
        print("erasure cannot be undone: add --yes", file=sys.stderr)
        return 2
    removed = erase_shopper(build_services(get_settings()), args.user, args.actor)
    print(json.dumps({"user_id": args.user, "removed": removed}, ensure_ascii=False))
    return 0


def add_privacy_parser(subparsers: argparse._SubParsersAction) -> None:
    group = subparsers.add_parser(
        "privacy", help="shoppers' data: export, erase, retention (PIPL)"
    ).add_subparsers(dest="action", required=True)
    export = group.add_parser("export", help="everything stored about a shopper, as JSON")
    export.add_argument("--user", required=True, help="the shopper's id (their sender id)")
    export.add_argument("--out", help="write to this file instead of standard output")
    export.add_argument("--actor", default="cli", help="who asked (for the audit log)")
    export.set_defaults(func=_export)
    erase = group.add_parser("erase", help="remove a shopper's data everywhere")
    erase.add_argument("--user", required=True)
    erase.add_argument("--yes", action="store_true", help="confirm: this cannot be undone")
    erase.add_argument("--actor", default="cli")
    erase.set_defaults(func=_erase)
    from daogou.retention import add_retain_parser  # here: daogou.retention imports this module

    add_retain_parser(group)
