"""Simulated A/B traffic for the ranker test (issue #18), with known true rates per arm.

Shoppers ``sim-000000`` ... are assigned to arms by :func:`recommender.ab.assign_arm`, exactly
as the shop does. Each sees 1 to ``max_impressions`` products (or what a real ranker showed
them, ``shown``), clicks each with a propensity of their own drawn from
Beta(c * ctr, c * (1 - ctr)) (mean: the arm's true CTR; ``c`` = ``concentration``: the smaller,
the more shoppers differ, the more one shopper's events hang together) and puts a clicked
product in the cart with probability cart_rate / ctr, so that the arm's true add-to-cart rate
per impression is ``cart_rate``.

    .venv/bin/python benchmarks/ab_simulation.py [--shoppers 2000] [--runs 300] [--seed 42]
        [--database sqlite:///var/ab-simulation.db]

Prints how often the 95% intervals hold the true CTR over ``--runs`` simulated experiments:
the report's delta-method interval clustered by shopper (recommender/ab.py) and, for
comparison, a Wilson interval that counts every impression as an independent trial. With
``--database``, also writes one simulated experiment's events into that (migrated) database
through the EventStore and prints the report, as
``DATABASE_URL=... DAOGOU_AB_ARMS=served,session_blend daogou ab report`` would.
Exits 1 when the clustered interval's coverage is below 90%.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from statistics import NormalDist
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from recommender.ab import CONFIDENCE, Experiment, RatioSums, assign_arm  # noqa: E402

START = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
SKUS = tuple(f"SIM-{i:03d}" for i in range(40))
MIN_COVERAGE = 0.90


@dataclass(frozen=True)
class ArmTruth:
    """An arm's true rates per impression (``cart_rate`` at most ``ctr``)."""

    ctr: float
    cart_rate: float


DEFAULT_TRUTH = {
    "served": ArmTruth(ctr=0.08, cart_rate=0.02),
    "session_blend": ArmTruth(ctr=0.10, cart_rate=0.025),
}


@dataclass(frozen=True)
class SimulatedShopper:
    user_id: str
    arm: str
    shown: tuple[str, ...]
    clicked: tuple[bool, ...]  # per product shown
    carted: tuple[bool, ...]  # per product shown (only clicked ones)


def simulate_shoppers(
    truth: Mapping[str, ArmTruth],
    n_shoppers: int,
    *,
    experiment: str = "ranker",
    seed: int = 42,
    max_impressions: int = 12,
    concentration: float = 4.0,
    shown: Callable[[str], Sequence[str]] | None = None,
) -> list[SimulatedShopper]:
    """``truth``: the arms in order (the control first) with their true rates. ``shown(id)``:
    the products a ranker showed that shopper (default: 1 to ``max_impressions`` random ones)."""
    arms = list(truth)
    rng = np.random.default_rng(seed)
    shoppers = []
    for i in range(n_shoppers):
        user_id = f"sim-{i:06d}"
        arm = assign_arm(user_id, arms, experiment)
        rates = truth[arm]
        if shown is None:
            products = tuple(rng.choice(SKUS, size=int(rng.integers(1, max_impressions + 1))))
        else:
            products = tuple(shown(user_id))
        propensity = rng.beta(concentration * rates.ctr, concentration * (1 - rates.ctr))
        clicked = rng.random(len(products)) < propensity
        carted = clicked & (rng.random(len(products)) < rates.cart_rate / rates.ctr)
        shoppers.append(
            SimulatedShopper(
                user_id, arm, products, tuple(clicked.tolist()), tuple(carted.tolist())
            )
        )
    return shoppers


def simulate_traffic(
    truth: Mapping[str, ArmTruth],
    n_shoppers: int,
    *,
    experiment: str = "ranker",
    seed: int = 42,
    start: datetime = START,
    **options: Any,
) -> list[dict[str, Any]]:
    """The shoppers' events as rows for :meth:`EventStore.record_many` (no arm: the store
    records the experiment's assignment). ``options``: those of :func:`simulate_shoppers`."""
    rows: list[dict[str, Any]] = []
    for number, shopper in enumerate(
        simulate_shoppers(truth, n_shoppers, experiment=experiment, seed=seed, **options)
    ):
        at = start + timedelta(seconds=10 * number)
        for sku, clicked, carted in zip(
            shopper.shown, shopper.clicked, shopper.carted, strict=True
        ):
            rows.append(_row(shopper.user_id, sku, "impression", at))
            if clicked:
                rows.append(_row(shopper.user_id, sku, "click", at + timedelta(seconds=2)))
            if carted:
                rows.append(_row(shopper.user_id, sku, "add_to_cart", at + timedelta(seconds=5)))
    return rows


def _row(user_id: str, sku: str, kind: str, at: datetime) -> dict[str, Any]:
    return {"user_id": user_id, "sku": sku, "type": kind, "source": "widget", "ts": at}


# -- coverage ---------------------------------------------------------------------------


def wilson(successes: int, trials: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Wilson score interval, every trial independent (the comparison, not the report's)."""
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p = successes / trials
    centre = (p + z * z / (2 * trials)) / (1 + z * z / trials)
    half = z / (1 + z * z / trials) * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials**2))
    return centre - half, centre + half


def coverage(
    truth: Mapping[str, ArmTruth], n_shoppers: int, runs: int, seed: int = 42
) -> dict[str, float]:
    """Share of (run, arm) pairs whose CTR interval holds the true CTR, per method."""
    held = {"clustered": 0, "wilson": 0}
    trials = 0
    for run in range(runs):
        shoppers = simulate_shoppers(truth, n_shoppers, seed=seed + run)
        for arm, rates in truth.items():
            mine = [s for s in shoppers if s.arm == arm]
            xs = [len(s.shown) for s in mine]
            ys = [sum(s.clicked) for s in mine]
            estimate = RatioSums.of(xs, ys).estimate()
            assert estimate.low is not None and estimate.high is not None
            held["clustered"] += estimate.low <= rates.ctr <= estimate.high
            low, high = wilson(sum(ys), sum(xs))
            held["wilson"] += low <= rates.ctr <= high
            trials += 1
    return {method: count / trials for method, count in held.items()}


def write_experiment(database_url: str, truth: Mapping[str, ArmTruth], n_shoppers: int) -> int:
    """One simulated experiment's events into a migrated database, through the EventStore."""
    from daogou.db import migrate
    from knowledge_graph.store import CatalogStore
    from recommender.events import EventStore

    migrate(database_url)
    experiment = Experiment("ranker", tuple(truth))
    events = EventStore(CatalogStore.from_url(database_url), experiment=experiment)
    start = datetime.now(UTC) - timedelta(days=1)
    return events.record_many(simulate_traffic(truth, n_shoppers, start=start))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shoppers", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--database", help="also write one experiment into this database URL")
    args = parser.parse_args(argv)
    found = coverage(DEFAULT_TRUTH, args.shoppers, args.runs, args.seed)
    print(
        f"95% interval held the true CTR ({args.runs} runs x {len(DEFAULT_TRUTH)} arms, "
        f"{args.shoppers} shoppers): clustered by shopper {found['clustered']:.1%}, "
        f"Wilson per impression {found['wilson']:.1%}"
    )
    if args.database:
        from daogou.ab_cli import format_report
        from knowledge_graph.store import CatalogStore
        from recommender.ab import ab_report

        written = write_experiment(args.database, DEFAULT_TRUTH, args.shoppers)
        print(f"{written} events written to {args.database}")
        store = CatalogStore.from_url(args.database)
        print(format_report(ab_report(store, "ranker", arms=tuple(DEFAULT_TRUTH))))
    return 0 if found["clustered"] >= MIN_COVERAGE else 1


if __name__ == "__main__":
    sys.exit(main())
