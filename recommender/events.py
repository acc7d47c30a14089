"""Shopper events (impressions, views, clicks, carts, purchases): recording and reading them
as weighted, time-decayed interactions for the recommenders.

Both processes (web app and action server) read the same table, so an event posted to the
API changes the next chat recommendation too.

Consent (issue #19): a store given ``consented`` (the composition root's, for real shoppers)
keeps the events of a shopper who has not agreed to personal recommendations under
:data:`ANONYMOUS` instead of their id. The shop still counts them (the staff dashboard's
impressions, clicks and carts per source need only the type, source and time), but they are
nobody's history, are left out of the collaborative model's training and are not personal
data to export or erase: the simplest way to keep statistics without a profile. Events from
before the shopper agreed stay anonymous; personalisation starts from the answer on. A store
without ``consented`` records ids as given (the seed catalog's and the benchmarks' simulated
shoppers).

A/B tests (issue #18): a store given ``experiment`` (the running
:class:`recommender.ab.Experiment`) records on every event the experiment's name and the arm
of the id the event is kept under, by the same function that picks the ranker serving that
shopper (:class:`recommender.ab.ArmedRecommendations`), so the web app's and the action
server's events name the arm that served them without carrying it through the widget. The
name goes with the arm because arm names repeat: a shop that ends ``ease`` vs ``als`` and
starts another ``ease`` vs ``als`` must not have one report of both.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import func, insert, select

from knowledge_graph.store import CatalogStore
from knowledge_graph.tables import Event

EVENT_TYPES = ("impression", "view", "click", "add_to_cart", "purchase")
SOURCES = ("chat", "widget", "storefront")
# How much each event says about what the shopper wants; impressions say nothing by themselves.
EVENT_WEIGHTS = {"impression": 0.0, "view": 1.0, "click": 2.0, "add_to_cart": 4.0, "purchase": 8.0}
HALF_LIFE_DAYS = 30.0
HISTORY_LIMIT = 50
# Stands in for the shopper on the events of one who has not agreed to personal
# recommendations; never a shopper id (those have 1 to 64 characters).
ANONYMOUS = ""


class InvalidEvent(ValueError):
    pass


class ArmAssignment(Protocol):
    """What the store needs of an A/B test (:class:`recommender.ab.Experiment`, which this
    module cannot import: it imports the store)."""

    @property
    def name(self) -> str: ...

    def arm_of(self, user_id: str) -> str: ...


@dataclass(frozen=True)
class Interaction:
    user_id: str
    sku: str
    type: str
    ts: datetime

    @property
    def weight(self) -> float:
        return EVENT_WEIGHTS[self.type]


def decay(ts: datetime, now: datetime) -> float:
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    age_days = max(0.0, (now - ts).total_seconds() / 86400)
    return math.pow(0.5, age_days / HALF_LIFE_DAYS)


class EventStore:
    """`consented(user_id)`: whether the shopper agreed to personal recommendations; None
    records every id as given. `experiment`: the running A/B test, whose name and the arm of
    the id an event is kept under (:data:`ANONYMOUS` included) every event records; None (no
    experiment) records neither."""

    def __init__(
        self,
        store: CatalogStore,
        consented: Callable[[str], bool] | None = None,
        experiment: ArmAssignment | None = None,
    ) -> None:
        self.store = store
        self.consented = consented
        self.experiment = experiment

    def _owner(self, user_id: str) -> str:
        """The id an event is kept under: the shopper's only with their consent."""
        if self.consented is None or self.consented(user_id):
            return user_id
        return ANONYMOUS

    def _arm(self, owner: str) -> str | None:
        return self.experiment.arm_of(owner) if self.experiment is not None else None

    @property
    def _experiment_name(self) -> str | None:
        return self.experiment.name if self.experiment is not None else None

    def record(
        self,
        user_id: str,
        sku: str,
        type: str,
        source: str = "storefront",
        ts: datetime | None = None,
    ) -> None:
        if type not in EVENT_TYPES:
            raise InvalidEvent(f"type must be one of {', '.join(EVENT_TYPES)}")
        if source not in SOURCES:
            raise InvalidEvent(f"source must be one of {', '.join(SOURCES)}")
        if not user_id or len(user_id) > 64:
            raise InvalidEvent("user_id must have 1 to 64 characters")
        owner = self._owner(user_id)
        with self.store.session() as session:
            session.add(
                Event(
                    user_id=owner,
                    sku=sku,
                    type=type,
                    source=source,
                    ts=ts or datetime.now(UTC),
                    arm=self._arm(owner),
                    experiment=self._experiment_name,
                )
            )

    def record_many(self, rows: Iterable[dict[str, Any]]) -> int:
        """One multi-row INSERT in one transaction. Core, not ORM objects: the action server
        calls this on the reply path, where the ORM's unit of work cost a third of its time.
        A row may name its ``arm`` (and ``experiment``, else the store's); otherwise the
        experiment's assignment is recorded. An arm without an experiment is refused: it could
        not be told apart from the same arm name in another experiment."""
        rows = [r for r in rows if r["type"] in EVENT_TYPES]
        ids = {r["user_id"] for r in rows}
        owners = {i: self._owner(i) for i in ids}  # one consent lookup per shopper
        arms = {owner: self._arm(owner) for owner in set(owners.values())}
        values = [
            {
                "user_id": owners[r["user_id"]],
                "sku": r["sku"],
                "type": r["type"],
                "source": r.get("source", "storefront"),
                "ts": datetime.fromisoformat(r["ts"]) if isinstance(r["ts"], str) else r["ts"],
                **self._test_of(r, arms[owners[r["user_id"]]]),
            }
            for r in rows
        ]
        if values:
            with self.store.session() as session:
                session.connection().execute(insert(Event.__table__), values)
        return len(values)

    def _test_of(self, row: dict[str, Any], assigned: str | None) -> dict[str, str | None]:
        """The row's own arm and experiment (the store's when the row names only the arm),
        else the store's assignment."""
        if not row.get("arm"):
            return {"arm": assigned, "experiment": self._experiment_name}
        experiment = row.get("experiment") or self._experiment_name
        if experiment is None:
            raise InvalidEvent(f"arm {row['arm']!r} without the experiment it belongs to")
        return {"arm": row["arm"], "experiment": experiment}

    def history(self, user_id: str, limit: int = HISTORY_LIMIT) -> list[Interaction]:
        """The shopper's latest meaningful events, oldest first."""
        if user_id == ANONYMOUS:
            return []
        with self.store.session() as session:
            rows = session.execute(
                select(Event.user_id, Event.sku, Event.type, Event.ts)
                .where(Event.user_id == user_id, Event.type != "impression")
                .order_by(Event.ts.desc(), Event.id.desc())
                .limit(limit)
            ).all()
        return [Interaction(*row) for row in reversed(rows)]

    def all_interactions(self) -> list[Interaction]:
        with self.store.session() as session:
            rows = session.execute(
                select(Event.user_id, Event.sku, Event.type, Event.ts)
                .where(Event.type != "impression", Event.user_id != ANONYMOUS)
                .order_by(Event.user_id, Event.ts, Event.id)
            ).all()
        return [Interaction(*row) for row in rows]

    def count(self) -> int:
        with self.store.session() as session:
            return int(session.scalar(select(func.count()).select_from(Event)) or 0)
