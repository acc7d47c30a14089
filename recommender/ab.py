"""A/B tests of rankers (issue #18): two or more rankers served side by side, each shopper
assigned to one arm for good, every event recording the experiment and the arm, and a report
per arm of one experiment.

**Assignment.** :func:`assign_arm` hashes the experiment's name and the shopper's id with
SHA-256 (never Python's ``hash()``, which is salted per process: the web app and the action
server must agree, today and after a restart). A new experiment name reshuffles everyone.
Shoppers without an id of their own (:data:`~recommender.events.ANONYMOUS`: no consent to
personal recommendations) all go to the first arm, the control; their events still carry it.

**Arms.** Every arm is a :class:`~recommender.cf.served.ServedRanker`, so the shop layer
(intent, boosts, exclusions, reasons) is the same code for all and only the collaborative
blend differs. The arm names are model names of ``recommender/cf`` (``MODEL_NAMES``):
``served`` is today's ranker (its blend tuned at ``daogou recs train``, the saved model);
``session_blend`` is SessionBlend's untuned default blend, ``ease`` plain EASE, ``als`` ALS,
``pop`` popularity alone, each under the same shop layer (:data:`ARM_BLENDS`).
:class:`ArmedRecommendations` is a :class:`RecommendationService` (the served arm, which
trains, saves and loads the model file as before) that hands a shopper of another arm to that
arm's :class:`ArmService`: fitted in the process on the same events with its fixed blend, and
refitted whenever the served model file changes (a retrain, a shopper's data erased).

**Report.** :func:`ab_report` counts, per arm of one experiment (arm names repeat: a shop
may test ``ease`` vs ``als`` twice, and events carry the experiment's name so that the two
stay apart), the shoppers, impressions, clicks and add-to-carts of the period, with CTR =
clicks / impressions and cart rate = add_to_cart / impressions. The intervals are
delta-method (ratio-estimator) intervals clustered by shopper, not Wilson intervals: one
shopper's impressions are not independent trials (some shoppers click a lot), and an
interval that treats them as independent is too narrow. On simulated traffic with such
shoppers (``benchmarks/ab_simulation.py``: 300 runs of 2,000 shoppers, 1-12
impressions each, propensities Beta-distributed around the arm's rate) the 95% Wilson
interval held the true CTR in 77.7% of the 600 arm-runs, this one in 95.5%. The difference of
each arm from the control gets the same kind of interval (arms are independent samples, so
variances add). Visitors without consent are shown apart (``anonymous``): they were not
randomised, so they stay out of the comparison. Events recorded before the experiment was kept
beside the arm (migration 0009: experiment NULL) may mix experiments, so they are reported
only when asked for (``experiment=None``) and otherwise only counted as left out.
:func:`experiments_seen` lists the experiments the events name.
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from statistics import NormalDist
from typing import Any

import sqlalchemy as sa
from sqlalchemy import func, select

from knowledge_graph.product import Product
from knowledge_graph.service import CatalogService
from knowledge_graph.store import CatalogStore
from knowledge_graph.tables import Event
from recommender.cf import SERVED_MODEL
from recommender.cf.served import RERANK_WEIGHT
from recommender.cf.session_blend import DEFAULT_BLEND
from recommender.events import ANONYMOUS, EventStore
from recommender.recommendations import (
    Recommendation,
    RecommendationService,
    TrainedModel,
    nobody,
)

CONFIDENCE = 0.95
# Each arm's collaborative blend under the shared shop layer; None: the served model's own
# (tuned at training). Keys are model names of recommender/cf.
ARM_BLENDS: dict[str, Mapping[str, float] | None] = {
    SERVED_MODEL: None,
    "session_blend": DEFAULT_BLEND,
    "ease": {"ease@1": 1.0},
    "als": {"als": 1.0},
    "pop": {"pop": 1.0},
}


# -- assignment ---------------------------------------------------------------------------


def assign_arm(user_id: str, arms: Sequence[str], experiment: str) -> str:
    """The shopper's arm: stable across processes and restarts; ``""`` (anonymous) gets the
    first arm, the control."""
    if not arms:
        raise ValueError("an experiment needs arms")
    if user_id == ANONYMOUS:
        return arms[0]
    digest = hashlib.sha256(f"{experiment}\x1f{user_id}".encode()).digest()
    return arms[int.from_bytes(digest[:8], "big") % len(arms)]


@dataclass(frozen=True)
class Experiment:
    """A running test: its name (salts the hash) and its arms, the control first."""

    name: str
    arms: tuple[str, ...]

    def __post_init__(self) -> None:
        if not 1 <= len(self.name) <= 64:  # events.experiment holds 64 characters
            raise ValueError(f"an experiment's name has 1 to 64 characters, got {self.name!r}")
        if len(self.arms) < 2 or len(set(self.arms)) != len(self.arms):
            raise ValueError(f"an A/B test needs two or more distinct arms, got {self.arms}")

    @property
    def control(self) -> str:
        return self.arms[0]

    def arm_of(self, user_id: str) -> str:
        """The arm of the id events are kept under (:data:`ANONYMOUS`: the control)."""
        return assign_arm(user_id, self.arms, self.name)


# -- serving ------------------------------------------------------------------------------


class ArmService(RecommendationService):
    """One arm's ranker: a ServedRanker with the arm's fixed ``blend`` (never tuned), fitted
    in this process on every event, refitted when the catalog changes or when the file
    ``follows`` (the served model) changes, so the arms are trained on the same events and a
    shopper's erased data leaves every arm."""

    def __init__(
        self,
        catalog: CatalogService,
        events: EventStore,
        blend: Mapping[str, float],
        *,
        consented: Callable[[str], bool] = nobody,
        follows: Path | None = None,
    ) -> None:
        super().__init__(catalog, events, None, consented=consented)
        self.blend = dict(blend)
        self.follows = follows
        self._followed: float | None = None
        self._follow_lock = threading.Lock()

    def train(self, blend: dict[str, float] | None = None, **options: Any) -> TrainedModel:
        """Fits with the arm's blend, whatever ``blend`` is asked (a refit after a catalog
        change asks for the previous one); ``options``: the service's."""
        return super().train(dict(self.blend), **options)

    def recommend(
        self, user_id: str | None, k: int = 10, context_sku: str | None = None
    ) -> list[Recommendation]:
        self._follow()
        return super().recommend(user_id, k, context_sku)

    def rerank(
        self, user_id: str | None, products: list[Product], weight: float = RERANK_WEIGHT
    ) -> list[Recommendation]:
        self._follow()
        return super().rerank(user_id, products, weight)

    def _follow(self) -> None:
        path = self.follows
        if path is None or not path.exists():
            return
        with self._follow_lock:
            mtime = path.stat().st_mtime
            if mtime != self._followed:
                self._followed = mtime
                self.train()


class ArmedRecommendations(RecommendationService):
    """The recommendation service during an experiment: the served arm itself (training,
    saving and loading ``model_path`` as without one) that hands each shopper of another arm
    to that arm's :class:`ArmService`. The arm is decided from the id the shopper's events are
    kept under (their own with consent, else :data:`ANONYMOUS`), exactly as the
    :class:`EventStore` given the same ``experiment`` records it."""

    def __init__(
        self,
        catalog: CatalogService,
        events: EventStore,
        model_path: Path | None = None,
        *,
        consented: Callable[[str], bool] = nobody,
        experiment: Experiment,
    ) -> None:
        unknown = [arm for arm in experiment.arms if arm not in ARM_BLENDS]
        if unknown:
            raise ValueError(
                f"unknown ranker arm(s) {', '.join(unknown)}; expected {', '.join(ARM_BLENDS)}"
            )
        super().__init__(catalog, events, model_path, consented=consented)
        self.experiment = experiment
        self.variants: dict[str, ArmService] = {
            arm: ArmService(catalog, events, blend, consented=consented, follows=model_path)
            for arm in experiment.arms
            if (blend := ARM_BLENDS[arm]) is not None
        }

    def arm_for(self, user_id: str | None) -> str:
        owner = user_id if user_id and self.consented(user_id) else ANONYMOUS
        return self.experiment.arm_of(owner)

    def recommend(
        self, user_id: str | None, k: int = 10, context_sku: str | None = None
    ) -> list[Recommendation]:
        variant = self.variants.get(self.arm_for(user_id))
        if variant is None:
            return super().recommend(user_id, k, context_sku)
        return variant.recommend(user_id, k, context_sku)

    def rerank(
        self, user_id: str | None, products: list[Product], weight: float = RERANK_WEIGHT
    ) -> list[Recommendation]:
        variant = self.variants.get(self.arm_for(user_id))
        if variant is None:
            return super().rerank(user_id, products, weight)
        return variant.rerank(user_id, products, weight)

    def warm_up(self) -> None:
        """Loads or fits every arm's model now, not in a shopper's turn."""
        super().recommend(None, k=1)
        for variant in self.variants.values():
            variant.recommend(None, k=1)


# -- statistics ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Estimate:
    """A rate (or a difference of rates) with its standard error and interval; None where
    the data cannot tell (no impressions; fewer than two shoppers for an interval)."""

    value: float | None
    low: float | None = None
    high: float | None = None
    se: float | None = None


@dataclass(frozen=True)
class RatioSums:
    """Per-shopper sums behind a ratio of totals sum(y) / sum(x) (y: clicks or carts, x:
    impressions), enough for the delta-method variance clustered by shopper."""

    n: int  # shoppers
    x: float
    y: float
    xx: float
    yy: float
    xy: float

    @classmethod
    def of(cls, xs: Sequence[float], ys: Sequence[float]) -> RatioSums:
        """From one value of x and y per shopper."""
        return cls(
            len(xs),
            float(sum(xs)),
            float(sum(ys)),
            float(sum(x * x for x in xs)),
            float(sum(y * y for y in ys)),
            float(sum(x * y for x, y in zip(xs, ys, strict=True))),
        )

    def estimate(self, confidence: float = CONFIDENCE, floor: float | None = 0.0) -> Estimate:
        """R = y / x; Var(R) = n / (n - 1) * sum((y_i - R x_i)^2) / x^2 (the linearised ratio
        estimator); the interval R +- z se, cut at ``floor``."""
        if self.x <= 0:
            return Estimate(None)
        ratio = self.y / self.x
        if self.n < 2:
            return Estimate(ratio)
        residuals = max(0.0, self.yy - 2 * ratio * self.xy + ratio * ratio * self.xx)
        se = math.sqrt(self.n / (self.n - 1) * residuals) / self.x
        return _interval(ratio, se, confidence, floor)


def difference(a: Estimate, b: Estimate, confidence: float = CONFIDENCE) -> Estimate:
    """b - a for independent samples (two arms): the variances add."""
    if a.value is None or b.value is None:
        return Estimate(None)
    value = b.value - a.value
    if a.se is None or b.se is None:
        return Estimate(value)
    return _interval(value, math.hypot(a.se, b.se), confidence, None)


def _interval(value: float, se: float, confidence: float, floor: float | None) -> Estimate:
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    low = value - z * se
    return Estimate(value, low if floor is None else max(floor, low), value + z * se, se)


# -- report -------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventCounts:
    impressions: int = 0
    clicks: int = 0
    add_to_cart: int = 0


@dataclass(frozen=True)
class ArmReport:
    """One arm over the period: its randomised shoppers' figures, and apart from them the
    events of visitors without consent it served (the control only)."""

    arm: str
    shoppers: int
    impressions: int
    clicks: int
    add_to_cart: int
    ctr: Estimate
    cart_rate: Estimate
    anonymous: EventCounts


@dataclass(frozen=True)
class Difference:
    """``arm`` minus ``control``, in absolute rate points (0.01: one percentage point)."""

    arm: str
    control: str
    ctr: Estimate
    cart_rate: Estimate


@dataclass(frozen=True)
class AbReport:
    """One experiment's arms over [since, until). ``experiment`` None: the events recorded
    before experiments were named, which may mix several. ``unnamed_events``: those of the
    period left out of a named experiment's report."""

    experiment: str | None
    since: datetime | None
    until: datetime | None
    confidence: float
    control: str | None
    arms: tuple[ArmReport, ...]
    differences: tuple[Difference, ...]
    unnamed_events: int = 0


@dataclass(frozen=True)
class ExperimentSeen:
    """An experiment as its events show it (``name`` None: events from before experiments
    were named); ``shoppers``: distinct consenting shoppers, visitors without consent apart."""

    name: str | None
    arms: tuple[str, ...]
    first: datetime
    last: datetime
    shoppers: int
    events: int


@dataclass(frozen=True)
class _ArmSums:
    shoppers: int
    ctr: RatioSums
    cart: RatioSums


def ab_report(
    store: CatalogStore,
    experiment: str | None,
    since: datetime | None = None,
    until: datetime | None = None,
    arms: Sequence[str] = (),
    confidence: float = CONFIDENCE,
) -> AbReport:
    """Every arm of ``experiment`` (None: the arm-only events from before experiments were
    named) with events in [since, until) (None: unbounded). ``arms`` (the configured
    experiment's) give the order and the control; without them (a past experiment) the arm
    that served visitors without consent comes first, since :func:`assign_arm` gives them the
    control; arms found only in the data follow by name."""
    sums = _arm_sums(store, experiment, since, until)
    anonymous = _anonymous_counts(store, experiment, since, until)
    order = _order(set(sums) | set(anonymous), arms, anonymous)
    reports = tuple(_arm_report(arm, sums.get(arm), anonymous, confidence) for arm in order)
    control = reports[0] if reports else None
    differences = tuple(
        Difference(
            r.arm,
            control.arm,
            difference(control.ctr, r.ctr, confidence),
            difference(control.cart_rate, r.cart_rate, confidence),
        )
        for r in reports[1:]
        if control is not None
    )
    unnamed = _unnamed_count(store, since, until) if experiment is not None else 0
    return AbReport(
        experiment,
        since,
        until,
        confidence,
        control.arm if control else None,
        reports,
        differences,
        unnamed,
    )


def _order(found: set[str], arms: Sequence[str], anonymous: Mapping[str, EventCounts]) -> list[str]:
    """The configured arms first; else the one arm that served visitors without consent (the
    control), if the data show exactly one; the rest by name."""
    first = [a for a in arms if a in found]
    if not arms and len(anonymous) == 1:
        first = list(anonymous)
    return first + sorted(found - set(first))


def _arm_report(
    arm: str,
    sums: _ArmSums | None,
    anonymous: Mapping[str, EventCounts],
    confidence: float,
) -> ArmReport:
    empty = RatioSums(0, 0.0, 0.0, 0.0, 0.0, 0.0)
    ctr, cart = (sums.ctr, sums.cart) if sums else (empty, empty)
    return ArmReport(
        arm=arm,
        shoppers=sums.shoppers if sums else 0,
        impressions=int(ctr.x),
        clicks=int(ctr.y),
        add_to_cart=int(cart.y),
        ctr=ctr.estimate(confidence),
        cart_rate=cart.estimate(confidence),
        anonymous=anonymous.get(arm, EventCounts()),
    )


def _in_period(
    experiment: str | None, since: datetime | None, until: datetime | None
) -> list[sa.ColumnElement[bool]]:
    """The experiment's arm events in [since, until); ``experiment`` None: the unnamed ones."""
    named = Event.experiment == experiment if experiment is not None else Event.experiment.is_(None)
    conditions = [Event.arm.is_not(None), named]
    if since is not None:
        conditions.append(Event.ts >= since.astimezone(UTC))
    if until is not None:
        conditions.append(Event.ts < until.astimezone(UTC))
    return conditions


def _count(kind: str) -> sa.ColumnElement[int]:
    return func.sum(sa.case((Event.type == kind, 1), else_=0))


def _arm_sums(
    store: CatalogStore, experiment: str | None, since: datetime | None, until: datetime | None
) -> dict[str, _ArmSums]:
    """The database sums per shopper, then per arm: one row per arm reaches Python."""
    shopper = (
        select(
            Event.arm.label("arm"),
            _count("impression").label("x"),
            _count("click").label("clicks"),
            _count("add_to_cart").label("carts"),
        )
        .where(Event.user_id != ANONYMOUS, *_in_period(experiment, since, until))
        .group_by(Event.arm, Event.user_id)
        .subquery()
    )
    x, clicks, carts = shopper.c.x, shopper.c.clicks, shopper.c.carts
    query = select(
        shopper.c.arm,
        func.count().label("n"),
        func.sum(x).label("x"),
        func.sum(x * x).label("xx"),
        func.sum(clicks).label("clicks"),
        func.sum(clicks * clicks).label("clicks2"),
        func.sum(x * clicks).label("x_clicks"),
        func.sum(carts).label("carts"),
        func.sum(carts * carts).label("carts2"),
        func.sum(x * carts).label("x_carts"),
    ).group_by(shopper.c.arm)
    with store.session() as session:
        rows = session.execute(query).mappings().all()
    found = {}
    for row in rows:
        n, value = int(row["n"]), {k: float(v or 0) for k, v in row.items() if k != "arm"}
        found[row["arm"]] = _ArmSums(
            n,
            RatioSums(
                n, value["x"], value["clicks"], value["xx"], value["clicks2"], value["x_clicks"]
            ),
            RatioSums(
                n, value["x"], value["carts"], value["xx"], value["carts2"], value["x_carts"]
            ),
        )
    return found


def _anonymous_counts(
    store: CatalogStore, experiment: str | None, since: datetime | None, until: datetime | None
) -> dict[str, EventCounts]:
    with store.session() as session:
        rows = session.execute(
            select(Event.arm, Event.type, func.count())
            .where(Event.user_id == ANONYMOUS, *_in_period(experiment, since, until))
            .group_by(Event.arm, Event.type)
        ).all()
    by_arm: dict[str, Counter[str]] = {}
    for arm, kind, count in rows:
        by_arm.setdefault(arm, Counter())[kind] += int(count)
    return {
        arm: EventCounts(c["impression"], c["click"], c["add_to_cart"]) for arm, c in by_arm.items()
    }


def _unnamed_count(store: CatalogStore, since: datetime | None, until: datetime | None) -> int:
    with store.session() as session:
        found = session.scalar(
            select(func.count()).select_from(Event).where(*_in_period(None, since, until))
        )
    return int(found or 0)


# -- experiments --------------------------------------------------------------------------


def experiments_seen(store: CatalogStore) -> list[ExperimentSeen]:
    """Every experiment the events name, and the unnamed arm events (``name`` None) if any,
    oldest first event first."""
    shopper = sa.case((Event.user_id != ANONYMOUS, Event.user_id))  # NULL: not counted
    with store.session() as session:
        rows = session.execute(
            select(
                Event.experiment,
                func.min(Event.ts),
                func.max(Event.ts),
                func.count(sa.distinct(shopper)),
                func.count(),
            )
            .where(Event.arm.is_not(None))
            .group_by(Event.experiment)
        ).all()
        pairs = session.execute(
            select(Event.experiment, Event.arm)
            .where(Event.arm.is_not(None))
            .group_by(Event.experiment, Event.arm)
            .order_by(Event.arm)
        ).all()
    arms: dict[str | None, list[str]] = {}
    for name, arm in pairs:
        arms.setdefault(name, []).append(arm)
    seen = [
        ExperimentSeen(name, tuple(arms[name]), _utc(first), _utc(last), int(n), int(events))
        for name, first, last, n, events in rows
    ]
    return sorted(seen, key=lambda e: (e.first, e.name or ""))


def _utc(moment: datetime) -> datetime:
    """SQLite gives back naive times; they were stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
