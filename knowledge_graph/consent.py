"""A shopper's consent to personal recommendations (issue #19), kept per signed shopper id.

The widget asks once; the answer is a row of ``shopper_consents``
(knowledge_graph/tables/shoppers.py) with the time it was given, changeable later. No row means
the shopper has not answered, which counts as no: until they agree, recommendations use no
history of theirs (recommender/recommendations.py) and their events are kept without their id
(recommender/events.py).

The chat asks on every turn that shows products, so :class:`ConsentLookup` keeps each answer
for a few seconds: a turn then costs a dictionary read, and a change made in another process
(the web app, where the shopper answers) reaches the action server within ``ttl`` seconds. The
process where the change is made forgets its copy at once.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from knowledge_graph.store import CatalogStore
from knowledge_graph.tables import ShopperConsent, utcnow

MAX_SENDER = 128
DEFAULT_TTL_SECONDS = 5.0
MAX_CACHED = 10_000  # shoppers remembered per process (a few hundred kilobytes)


@dataclass(frozen=True)
class Consent:
    sender_id: str
    granted: bool
    decided_at: datetime


def decision(store: CatalogStore, sender_id: str) -> Consent | None:
    """The shopper's answer, or None if they have not given one."""
    with store.session() as session:
        row = session.get(ShopperConsent, sender_id)
        return _record(row) if row is not None else None


def is_granted(store: CatalogStore, sender_id: str) -> bool:
    """True only if the shopper agreed (and has not withdrawn since)."""
    with store.session() as session:
        return bool(
            session.scalar(
                select(ShopperConsent.granted).where(ShopperConsent.sender_id == sender_id)
            )
        )


def decide(
    store: CatalogStore,
    sender_id: str,
    granted: bool,
    clock: Callable[[], datetime] = utcnow,
) -> Consent:
    """Stores the shopper's answer (a later answer replaces an earlier one) with its time."""
    if not 1 <= len(sender_id) <= MAX_SENDER:
        raise ValueError(f"sender_id must have 1 to {MAX_SENDER} characters")
    now = clock()
    values = {"granted": granted, "decided_at": now}
    if not _update(store, sender_id, values):
        try:
            with store.session() as session:
                session.add(ShopperConsent(sender_id=sender_id, **values))
        except IntegrityError:  # the same shopper answered twice at once: the later one wins
            _update(store, sender_id, values)
    return Consent(sender_id, granted, _aware(now))


def _update(store: CatalogStore, sender_id: str, values: dict[str, object]) -> bool:
    with store.session() as session:
        result = session.execute(
            update(ShopperConsent)
            .where(ShopperConsent.sender_id == sender_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount == 1


class ConsentLookup:
    """``lookup(sender_id) -> bool``: whether the shopper agreed, each answer kept ``ttl``
    seconds (least recently used shoppers forgotten beyond ``max_cached``)."""

    def __init__(
        self,
        store: CatalogStore,
        ttl: float = DEFAULT_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        max_cached: int = MAX_CACHED,
    ) -> None:
        self.store = store
        self.ttl = ttl
        self.clock = clock
        self.max_cached = max_cached
        self._cached: OrderedDict[str, tuple[float, bool]] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, sender_id: str) -> bool:
        now = self.clock()
        with self._lock:
            hit = self._cached.get(sender_id)
            if hit is not None and now - hit[0] < self.ttl:
                self._cached.move_to_end(sender_id)
                return hit[1]
        granted = is_granted(self.store, sender_id)
        with self._lock:
            self._cached[sender_id] = (now, granted)
            self._cached.move_to_end(sender_id)
            while len(self._cached) > self.max_cached:
                self._cached.popitem(last=False)
        return granted

    def forget(self, sender_id: str) -> None:
        """After a change in this process: the next lookup reads the table."""
        with self._lock:
            self._cached.pop(sender_id, None)

    def decide(self, sender_id: str, granted: bool) -> Consent:
        """:func:`decide`, then this process sees the new answer at once."""
        consent = decide(self.store, sender_id, granted)
        self.forget(sender_id)
        return consent


def _record(row: ShopperConsent) -> Consent:
    return Consent(row.sender_id, bool(row.granted), _aware(row.decided_at))


def _aware(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; they were written in UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)
