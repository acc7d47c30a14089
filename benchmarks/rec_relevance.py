"""Do the shop's recommendations fit the shopper?

Builds the seed catalog and its seeded behaviour exactly as `daogou db init` does, into a
private database (var/bench/rec_relevance/, never var/ or var/test), and serves
`RecommendationService.recommend(user, k=10)` from it, as the web app and the action server do.

1. New shoppers, every category: N shoppers per category (seeded) each view 3-5 in-stock
   products of that category, half of them the views of a real seeded browsing session, half
   picks from one price band; then ask for 10 recommendations. Reported per category: the
   share of items in the viewed category or accessories of a viewed item (category 手机配件,
   COMPATIBLE_WITH/ACCESSORY_OF a viewed product), items the shopper had already viewed, and
   whether each reason states something true: a graph relation to a viewed product, a
   co-view that happened in the events, the same category and price band, the same kind.
2. Held-out next views: every seeded user's last browsing session with >= 4 views loses its
   last view and everything after it (deleted from the events table, so the model never
   trains on it); HR@10 / NDCG@10 of the hidden view for the personalised ranker against the
   category constraint alone (the most viewed, then best rated, in-stock products of the
   session's category) and against the ranker's collaborative part alone (no constraint).

    .venv/bin/python benchmarks/rec_relevance.py [--shoppers 30] [--seed 42]

Exits 1 when the in-category share is below 0.8, an already-viewed item is recommended, a
reason states something false, or the personalised ranker does not beat the category
constraint alone on the held-out next views (HR@10 and NDCG@10).
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import random
import re
import shutil
import sys
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sqlalchemy import delete, select  # noqa: E402

from daogou.db import init_database  # noqa: E402
from daogou.settings import load_settings  # noqa: E402
from knowledge_graph.service import CatalogService, CatalogView  # noqa: E402
from knowledge_graph.tables import Event  # noqa: E402
from recommender.events import EventStore  # noqa: E402
from recommender.recommendations import RecommendationService, everyone  # noqa: E402

K = 10
ACCESSORY_CATEGORY = "手机配件"
ACCESSORY_RELATIONS = ("COMPATIBLE_WITH", "ACCESSORY_OF")
KIND_KEYS = ("品类", "类型", "款式")
PRICE_BAND = 1.5  # "price band": within a factor 1.5 either way
SESSION_GAP = timedelta(minutes=15)  # the seed's sessions start >= 20 min after the last one
MIN_IN_CATEGORY = 0.8


# -- set-up ------------------------------------------------------------------------------


def build_database(folder: Path) -> tuple[CatalogService, EventStore]:
    """The seed catalog and behaviour in a fresh SQLite database, as `daogou db init` makes it."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    os.environ["DAOGOU_VAR"] = str(folder)
    os.environ.pop("DATABASE_URL", None)
    settings = dataclasses.replace(
        load_settings(), database_url=f"sqlite:///{folder / 'daogou.db'}"
    )
    store = init_database(settings)
    return CatalogService(store, check_interval=3600.0), EventStore(store)


@dataclasses.dataclass
class Row:
    id: int
    user_id: str
    sku: str
    type: str
    ts: datetime


def sessions_of(rows: list[Row]) -> list[list[Row]]:
    """One user's rows (time order) split where nothing happened for SESSION_GAP."""
    sessions: list[list[Row]] = []
    for row in rows:
        if not sessions or row.ts - sessions[-1][-1].ts > SESSION_GAP:
            sessions.append([])
        sessions[-1].append(row)
    return sessions


def read_rows(events: EventStore) -> dict[str, list[Row]]:
    with events.store.session() as session:
        result = session.execute(
            select(Event.id, Event.user_id, Event.sku, Event.type, Event.ts)
            .where(Event.type != "impression")
            .order_by(Event.user_id, Event.ts, Event.id)
        ).all()
    by_user: dict[str, list[Row]] = defaultdict(list)
    for r in result:
        ts = r.ts if r.ts.tzinfo else r.ts.replace(tzinfo=UTC)
        by_user[r.user_id].append(Row(r.id, r.user_id, r.sku, r.type, ts))
    return by_user


@dataclasses.dataclass
class HeldOut:
    user_id: str
    hidden: str
    category: str  # the session's category: most of its visible views
    seen: set[str]  # every product in the visible history


def hold_out(events: EventStore, view: CatalogView) -> list[HeldOut]:
    """Each user's last session with >= 4 views loses its last view and all that follows."""
    products = view.graph.products
    cases, doomed = [], []
    for user_id, rows in read_rows(events).items():
        chosen = None
        for session in sessions_of(rows):
            if sum(r.type == "view" for r in session) >= 4:
                chosen = session
        if chosen is None:
            continue
        hidden = [r for r in chosen if r.type == "view"][-1]
        cut = rows.index(hidden)
        visible = rows[:cut]
        session_views = [r.sku for r in chosen if r.type == "view" and r.id != hidden.id]
        counts = Counter(products[s].category for s in session_views)
        latest = {products[s].category: i for i, s in enumerate(session_views)}
        category = max(counts, key=lambda c: (counts[c], latest[c]))
        cases.append(HeldOut(user_id, hidden.sku, category, {r.sku for r in visible}))
        doomed += [r.id for r in rows[cut:]]
    with events.store.session() as session:
        for start in range(0, len(doomed), 500):
            session.execute(delete(Event).where(Event.id.in_(doomed[start : start + 500])))
    return cases


# -- new shoppers ------------------------------------------------------------------------


def viewed_sets(
    view: CatalogView, rows_by_user: dict[str, list[Row]], rng: random.Random, n: int
) -> dict[str, list[list[str]]]:
    """For each category, n sets of 3-5 in-stock products one shopper would view together."""
    products = view.graph.products
    by_category: dict[str, list[str]] = defaultdict(list)
    for sku, p in sorted(products.items()):
        if p.stock > 0:
            by_category[p.category].append(sku)
    from_sessions: dict[str, list[list[str]]] = defaultdict(list)
    for rows in rows_by_user.values():
        for session in sessions_of(rows):
            skus = list(dict.fromkeys(r.sku for r in session if r.type == "view"))
            for category in {products[s].category for s in skus}:
                mine = [s for s in skus if products[s].category == category]
                mine = [s for s in mine if products[s].stock > 0]
                if len(mine) >= 3:
                    from_sessions[category].append(mine[:5])
    result: dict[str, list[list[str]]] = {}
    for category, skus in sorted(by_category.items()):
        sets = []
        for i in range(n):
            pool = from_sessions.get(category)
            if pool and i % 2 == 0:
                sets.append(list(rng.choice(pool)))
                continue
            anchor = products[rng.choice(skus)]
            band = [
                s
                for s in skus
                if s != anchor.sku
                and anchor.price / PRICE_BAND <= products[s].price <= anchor.price * PRICE_BAND
            ]
            if len(band) < 2:
                band = [s for s in skus if s != anchor.sku]
            picks = rng.sample(band, min(len(band), rng.randint(2, 4)))
            sets.append([anchor.sku, *picks])
        result[category] = sets
    return result


def display_names(p: dict[str, Any]) -> set[str]:
    names = {p.title}
    if p.model:
        names |= {p.model, f"{p.brand} {p.model}", f"{p.brand}{p.model}"}
    return names


def kind(p: dict[str, Any]) -> Any:
    attrs = p.attributes
    return next((attrs[k] for k in KIND_KEYS if attrs.get(k)), None)


class ReasonJudge:
    """Says whether a reason is true of (shopper, product): the claim each template makes is
    checked against the graph, the events, prices and attributes."""

    # (pattern, claim). {name} is a product the shopper viewed (or bought).
    TEMPLATES = [
        (r"和你看过的(?P<name>.+)同系列", "SAME_SERIES"),
        (r"(?P<name>.+)的配件", "ACCESSORY"),
        (r"适配你看过的(?P<name>.+)", "ACCESSORY"),
        (r"你看过的(?P<name>.+)适配这款", "DEVICE"),
        (r"常和(?P<name>.+)一起买", "BUNDLE_WITH"),
        (r"(?P<name>.+)的同级替代款", "ALTERNATIVE_TO"),
        (r"和(?P<name>.+)相关", "ANY_RELATION"),
        (r"看过(?P<name>.+)的人也看了", "CO_VIEW"),
        (r"买了(?P<name>.+)的人也买了", "CO_BUY"),
        (r"和你看过的(?P<name>.+)同类，价位相近", "KIND_AND_PRICE"),
        (r"和你看过的(?P<name>.+)价位相近", "PRICE_BAND"),
        (r"和你看过的(?P<name>.+)同类", "KIND"),
        (r"(?P<category>.+)里好评率很高（(?P<rating>[0-9.]+)分）", "GENERIC_RATING"),
        (r"近期热销的(?P<category>.+)", "GENERIC_POPULAR"),
    ]

    def __init__(self, view: CatalogView, rows_by_user: dict[str, list[Row]]) -> None:
        self.view = view
        self.viewers: dict[str, set[str]] = defaultdict(set)
        self.buyers: dict[str, set[str]] = defaultdict(set)
        for user_id, rows in rows_by_user.items():
            for r in rows:
                self.viewers[r.sku].add(user_id)
                if r.type == "purchase":
                    self.buyers[r.sku].add(user_id)

    def _related(self, a: str, b: str, types: tuple[str, ...] | None) -> bool:
        return any(other == b for other, _ in self.view.graph.related(a, types))

    def _accessory_of(self, accessory: str, device: str) -> bool:
        products = self.view.graph.products
        return products[accessory].category == ACCESSORY_CATEGORY and self._related(
            device, accessory, ACCESSORY_RELATIONS
        )

    def judge(self, reason: str, sku: str, viewed: list[str], bought: list[str]) -> str:
        """'relation' (a true relation to the shopper's products), 'generic' (a true statement
        about the product alone), or 'false'."""
        products = self.view.graph.products
        p = products[sku]
        for pattern, claim in self.TEMPLATES:
            match = re.fullmatch(pattern, reason)
            if not match:
                continue
            if claim == "GENERIC_RATING":
                ok = match["category"] == p.category and float(match["rating"]) == p.rating
                return "generic" if ok else "false"
            if claim == "GENERIC_POPULAR":
                return "generic" if match["category"] == p.category else "false"
            anchors = bought if claim == "CO_BUY" else viewed
            named = [a for a in anchors if match["name"] in display_names(products[a])]
            return "relation" if any(self._holds(claim, sku, a) for a in named) else "false"
        return "false"  # a reason nobody can check

    def _holds(self, claim: str, sku: str, anchor: str) -> bool:
        products = self.view.graph.products
        p, a = products[sku], products[anchor]
        if sku == anchor:
            return False
        same_category = p.category == a.category
        in_band = a.price / PRICE_BAND <= p.price <= a.price * PRICE_BAND
        same_kind = same_category and kind(p) is not None and kind(p) == kind(a)
        if claim in ("SAME_SERIES", "BUNDLE_WITH", "ALTERNATIVE_TO"):
            return self._related(anchor, sku, (claim,))
        if claim == "ACCESSORY":
            return self._accessory_of(sku, anchor)
        if claim == "DEVICE":
            return self._accessory_of(anchor, sku)
        if claim == "ANY_RELATION":
            return self._related(anchor, sku, None)
        if claim in ("CO_VIEW", "CO_BUY"):
            who = self.buyers if claim == "CO_BUY" else self.viewers
            together = bool(who[sku] & who[anchor])
            return together and (same_category or self._accessory_of(sku, anchor))
        if claim == "KIND_AND_PRICE":
            return same_kind and in_band
        if claim == "PRICE_BAND":
            return same_category and in_band
        if claim == "KIND":
            return same_kind
        return False


@dataclasses.dataclass
class CategoryStats:
    shoppers: int = 0
    items: int = 0
    in_category: int = 0
    already_viewed: int = 0
    relation: int = 0
    generic: int = 0
    false: int = 0


def run_new_shoppers(
    service: RecommendationService,
    events: EventStore,
    judge: ReasonJudge,
    sets: dict[str, list[list[str]]],
) -> tuple[dict[str, CategoryStats], list[str]]:
    view = service.catalog.current()
    products = view.graph.products
    now = datetime.now(UTC)
    stats: dict[str, CategoryStats] = {}
    false_examples: list[str] = []
    for c_index, (category, shoppers) in enumerate(sorted(sets.items())):
        s = stats[category] = CategoryStats()
        for n, viewed in enumerate(shoppers):
            user = f"bench-new-{c_index}-{n}"
            start = now - timedelta(minutes=2 * len(viewed))
            events.record_many(
                {
                    "user_id": user,
                    "sku": sku,
                    "type": "view",
                    "ts": start + timedelta(minutes=2 * i),
                }
                for i, sku in enumerate(viewed)
            )
            recs = service.recommend(user, k=K)
            s.shoppers += 1
            for r in recs:
                sku = r.product.sku
                s.items += 1
                s.in_category += r.product.category == category or any(
                    judge._accessory_of(sku, v) for v in viewed
                )
                s.already_viewed += sku in viewed
                verdict = judge.judge(r.reason, sku, viewed, [])
                setattr(s, verdict, getattr(s, verdict) + 1)
                if verdict == "false" and len(false_examples) < 8:
                    false_examples.append(
                        f"  viewed {[products[v].model or v for v in viewed]} -> "
                        f"{sku} ({r.product.category}): 「{r.reason}」"
                    )
    return stats, false_examples


# -- held-out next views -----------------------------------------------------------------


def rank_metrics(ranked: list[str], hidden: str) -> tuple[float, float]:
    if hidden in ranked[:K]:
        return 1.0, 1.0 / math.log2(ranked.index(hidden) + 2)
    return 0.0, 0.0


def run_held_out(
    service: RecommendationService, events: EventStore, cases: list[HeldOut]
) -> dict[str, tuple[float, float]]:
    view = service.catalog.current()
    products = view.graph.products
    rows = [r for rs in read_rows(events).values() for r in rs]
    viewers: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        viewers[r.sku].add(r.user_id)
    # Category constraint alone: most viewed, then best rated, in-stock products of the category.
    by_category: dict[str, list[str]] = defaultdict(list)
    for sku in sorted(products, key=lambda s: (-len(viewers[s]), -products[s].rating, s)):
        if products[sku].stock > 0:
            by_category[products[sku].category].append(sku)
    model = service.train()  # on everything but the held-out views
    totals: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for case in cases:
        ranked = {
            "personalised ranker": [r.product.sku for r in service.recommend(case.user_id, K)],
            "category constraint alone": [
                s for s in by_category[case.category] if s not in case.seen
            ][:K],
        }
        history = [e for e in events.history(case.user_id) if e.sku in model.index]
        request = service._request(model, history, None, with_intent=False)
        scores = model.ranker.collaborative_scores([request])[0]
        order = [model.skus[i] for i in np.argsort(-scores, kind="stable")]
        ranked["collaborative part alone"] = [
            s for s in order if s not in case.seen and products[s].stock > 0
        ][:K]
        for name, items in ranked.items():
            hr, ndcg = rank_metrics(items, case.hidden)
            totals[name][0] += hr
            totals[name][1] += ndcg
    n = max(1, len(cases))
    return {name: (hr / n, ndcg / n) for name, (hr, ndcg) in totals.items()}


# -- report ------------------------------------------------------------------------------


def hair_dryer_example(service: RecommendationService, events: EventStore) -> list[str]:
    view = service.catalog.current()
    dryers = [
        p.sku
        for p in sorted(view.graph.products.values(), key=lambda p: p.sku)
        if p.category == "小家电" and kind(p) == "吹风机" and p.stock > 0
    ][:4]
    now = datetime.now(UTC)
    events.record_many(
        {"user_id": "bench-dryers", "sku": s, "type": "view", "ts": now - timedelta(minutes=9 - i)}
        for i, s in enumerate(dryers)
    )
    lines = [f"example: viewed 4 hair dryers {dryers}"]
    for r in service.recommend("bench-dryers", K):
        p = r.product
        lines.append(f"  {p.sku:<26} {p.category}/{kind(p) or '-'}  「{r.reason}」")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shoppers", type=int, default=30, help="new shoppers per category")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--dir", type=Path, default=REPO / "var" / "bench" / "rec_relevance")
    args = parser.parse_args(argv)
    started = time.perf_counter()

    catalog, events = build_database(args.dir)
    view = catalog.current()
    # Simulated shoppers who agreed to personal recommendations (issue #19).
    service = RecommendationService(catalog, events, consented=everyone)
    cases = hold_out(events, view)
    rows_by_user = read_rows(events)
    print(
        f"# seed catalog: {len(view.graph.products)} products, "
        f"{sum(len(r) for r in rows_by_user.values())} events after holding out {len(cases)} "
        f"next views ({time.perf_counter() - started:.1f} s)",
        flush=True,
    )
    held_out = run_held_out(service, events, cases)
    judge = ReasonJudge(view, rows_by_user)
    sets = viewed_sets(view, rows_by_user, random.Random(args.seed), args.shoppers)
    stats, false_examples = run_new_shoppers(service, events, judge, sets)
    example = hair_dryer_example(service, events)

    header = (
        f"{'category':<11}{'shoppers':>6}{'items':>7}{'in-cat/acc':>11}{'viewed':>8}"
        f"{'relation':>10}{'generic':>9}{'false':>7}"
    )
    print(f"\nNew shoppers: {args.shoppers} per category view 3-5 products, then recommend(k={K})")
    print(header)
    print("-" * len(header))
    total = CategoryStats()
    for s in stats.values():
        for f in dataclasses.fields(CategoryStats):
            setattr(total, f.name, getattr(total, f.name) + getattr(s, f.name))
    for label, s in [*stats.items(), ("overall", total)]:
        items = max(1, s.items)
        width = sum(2 if ord(ch) > 0x2E80 else 1 for ch in label)  # CJK is two columns wide
        label_cell = label + " " * max(1, 11 - width)
        print(
            f"{label_cell}{s.shoppers:>6}{s.items:>7}{s.in_category / items:>11.3f}"
            f"{s.already_viewed:>8}{s.relation / items:>10.3f}{s.generic / items:>9.3f}"
            f"{s.false:>7}"
        )
    print("(in-cat/acc: share in the viewed category or its accessories; viewed: items already")
    print(" viewed; relation/generic: shares of true reasons naming a relation / a plain fact;")
    print(" false: reasons stating something untrue)")
    if false_examples:
        print("false reasons, for example:")
        print("\n".join(false_examples))
    print()
    print("\n".join(example))

    print(f"\nHeld-out next views: {len(cases)} sessions with >= 4 views, last view hidden")
    print(f"{'ranker':<30}{'HR@10':>8}{'NDCG@10':>9}")
    for name, (hr, ndcg) in held_out.items():
        print(f"{name:<30}{hr:>8.4f}{ndcg:>9.4f}")

    items = max(1, total.items)
    ours = held_out["personalised ranker"]
    base = held_out["category constraint alone"]
    checks = [
        (f"in-category share {total.in_category / items:.3f} >= {MIN_IN_CATEGORY}",
         total.in_category / items >= MIN_IN_CATEGORY),
        (f"already-viewed items recommended: {total.already_viewed} == 0",
         total.already_viewed == 0),
        (f"false reasons: {total.false} == 0", total.false == 0),
        (f"every shopper got {K} items: {total.items} == {K * total.shoppers}",
         total.items == K * total.shoppers),
        (f"held-out HR@10 {ours[0]:.4f} > category constraint alone {base[0]:.4f}",
         ours[0] > base[0]),
        (f"held-out NDCG@10 {ours[1]:.4f} > category constraint alone {base[1]:.4f}",
         ours[1] > base[1]),
    ]  # fmt: skip
    print()
    for text, passed in checks:
        print(f"{'PASS' if passed else 'FAIL'}  {text}")
    print(f"total {time.perf_counter() - started:.0f} s")
    return 0 if all(passed for _, passed in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
