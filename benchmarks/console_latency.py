"""Console latency: every staff, merchant and admin console page and its API under 10 concurrent
console users, warm, over 10,000 conversations in Rasa's tracker store and 10,000 products.

Target (issue #16): p95 <= 300 ms per page and per API call. Beside it, in the same run and
under the same load, the floor: a static file and /health from the same web app.

The data is this benchmark's own, in var/bench/console/ (never var/ or var/test): the seed
catalog grown to 10,000 products across its real categories (variants of its products with
their attributes varied), audit entries from merchants' edits, Rasa's ``events`` table with
10,000 shop conversations (web/review/fake_history.py, a few shoppers leaving phone numbers and
addresses), tags, reviews, negative feedback, annotations and handoffs, and staff, merchant and
admin accounts. It is built once and reused (``--rebuild`` builds it again); the first run also
embeds the 10,000 products for the web app's search index (minutes), as the app does at start.

The web app runs as `make run` runs it (uvicorn ``web.app:app_factory``, one process), without
Rasa (the console reads Rasa's tables, not Rasa); ``--stand-in-encoder`` gives its search index
the tests' cheap encoder instead of E5, for a quick run on a busy machine (the console's pages
never search by meaning, but the first E5 start embeds 10,000 products). Each user signs in with their own session and
goes through their role's pages in a shuffled order, a page view at a time: the page, then the
API calls its script makes, then ``--think`` seconds. Exits 1 when any p95 is above the target
or any request failed.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import random
import secrets
import signal
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from daogou.db import migrate  # noqa: E402
from daogou.launcher import Service, free_port, start, stop_all, wait_healthy  # noqa: E402
from daogou.settings import Settings, load_settings  # noqa: E402
from data.generate_catalog import build_catalog  # noqa: E402
from knowledge_graph import conversations as marks  # noqa: E402
from knowledge_graph.handoff import HandoffQueue  # noqa: E402
from knowledge_graph.store import CatalogStore  # noqa: E402
from recommender.events import EventStore  # noqa: E402
from web.accounts import create_account  # noqa: E402
from web.review.fake_history import END, append_events, create_events_table, fake_history  # noqa: E402

TARGET_MS = 300.0
PRODUCTS = 10_000
CONVERSATIONS = 10_000
DATA_VERSION = 2  # bump when the generated data changes: a stale folder is then rebuilt
NOWHERE = "http://127.0.0.1:9"  # no Rasa, no action server: the console does not need them
DAY = 86_400.0
FLOOR = ("static file (floor)", "/health (floor)")
ROLES = ["staff"] * 4 + ["merchant"] * 4 + ["admin"] * 2  # ten users at once
MERCHANTS = ["m001", "m002", "m003", "m004"]
SEARCHES = ["耳机", "七天无理由退换", "华为 耳机", "送女朋友", "手机号", "退"]
PRODUCT_SEARCHES = ["华为", "耳机", "保湿", "跑步鞋 缓震", "礼盒装", "Pro"]


# -- the data ------------------------------------------------------------------------------------


def bench_settings(base: Settings, folder: Path) -> Settings:
    return dataclasses.replace(
        base,
        var_dir=folder,
        database_url=f"sqlite:///{folder / 'daogou.db'}",
        tracker_db_url=f"sqlite:///{folder / 'tracker.db'}",
        rasa_url=NOWHERE,
        action_server_url=f"{NOWHERE}/webhook",
        web_port=free_port(),
    )


def grown_catalog(size: int, seed: int = 16) -> dict[str, Any]:
    """The seed catalog with variants of its products up to `size`: each a new SKU of the same
    category, brand and merchant, with another edition in the title and its numbers, colours,
    price, stock and rating varied, so lists, filters and searches see realistic rows."""
    catalog = build_catalog()
    rng = random.Random(seed)
    base = catalog["products"]
    editions = ["2025款", "升级版", "礼盒装", "官方标配", "限定色", "青春版", "套装", "旗舰款"]
    grown = list(base)
    for i in range(size - len(base)):
        p = base[i % len(base)]
        edition = rng.choice(editions)
        attributes = {k: _varied(v, rng) for k, v in p["attributes"].items()}
        grown.append(
            p
            | {
                "sku": f"{p['sku']}-V{i:05d}",
                "title": f"{p['title']} {edition}",
                "aliases": [],
                "price": round(p["price"] * rng.uniform(0.8, 1.25)),
                "attributes": attributes,
                "stock": rng.choice([0, rng.randint(1, 20), rng.randint(20, 800)]),
                "rating": round(rng.uniform(3.6, 5.0), 1),
                "description": f"{p['description']}（{edition}）",
            }
        )
    catalog["products"] = grown
    return catalog


def _varied(value: Any, rng: random.Random) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float | list):
        return value
    if isinstance(value, list):
        return rng.sample(value, len(value))
    varied = value * rng.uniform(0.9, 1.1)
    return round(varied) if isinstance(value, int) else round(varied, 2)


def with_personal_data(
    history: list[tuple[str, dict[str, Any]]], rng: random.Random
) -> list[tuple[str, dict[str, Any]]]:
    """About one shopper message in 25 carries a phone number or a street address (what the
    console masks), in the message text and its parse data alike."""
    roads = ["建国路", "中山北路", "人民大道", "文三路", "南京西路", "解放大街"]
    for _sender, event in history:
        if event["event"] != "user" or rng.random() > 0.04:
            continue
        if rng.random() < 0.6:
            extra = f"，我的手机号是1{rng.choice('3456789')}{rng.randint(0, 10**9 - 1):09d}"
        else:
            extra = (
                f"，送到{rng.choice(['杭州市西湖区', '上海市静安区', '北京市朝阳区'])}"
                f"{rng.choice(roads)}{rng.randint(1, 300)}号{rng.randint(1, 20)}栋"
                f"{rng.randint(1, 6)}单元{rng.randint(101, 2802)}"
            )
        event["text"] += extra
        event["parse_data"]["text"] = event["text"]
    return history


@dataclass
class BenchData:
    folder: Path
    password: str
    usernames: dict[str, list[str]]  # role -> accounts
    senders: list[str]
    skus: dict[str, list[str]]  # merchant id -> its SKUs
    categories: list[str]
    brands: list[str]


def build_data(settings: Settings, seed: int = 0) -> dict[str, Any]:
    """Fills the folder's catalog and tracker databases from nothing; returns the stamp."""
    folder = settings.var_dir
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.db*"):
        old.unlink()
    started = time.perf_counter()
    migrate(settings.database_url)
    store = CatalogStore.from_url(settings.database_url)
    catalog = grown_catalog(PRODUCTS)
    store.load_catalog(catalog)
    EventStore(store).record_many(catalog["interactions"])
    rng = random.Random(seed)
    password = secrets.token_urlsafe(16)
    usernames: dict[str, list[str]] = defaultdict(list)
    for number, role in enumerate(ROLES):
        name = f"bench-{role}-{number}"
        merchant = MERCHANTS[number % len(MERCHANTS)] if role == "merchant" else None
        create_account(store, name, password, role, merchant)
        usernames[role].append(name)
    _merchant_edits(store, catalog["products"], rng)
    print(f"catalog: {len(catalog['products'])} products in {time.perf_counter() - started:.0f}s")

    started = time.perf_counter()
    tracker = sa.create_engine(settings.tracker_db_url)
    create_events_table(tracker)
    history = with_personal_data(fake_history(CONVERSATIONS, seed=seed), rng)
    written = append_events(tracker, history)
    tracker.dispose()
    senders = sorted({sender for sender, _ in history})
    _staff_marks(store, senders, usernames["staff"], rng)
    print(
        f"tracker: {CONVERSATIONS} conversations, {written} events in {time.perf_counter() - started:.0f}s"
    )
    store.engine.dispose()
    stamp = {"version": DATA_VERSION, "password": password, "usernames": usernames}
    stamp_file = folder / "stamp.json"
    stamp_file.write_text(json.dumps(stamp, ensure_ascii=False))
    os.chmod(stamp_file, 0o600)  # holds the accounts' password
    return stamp


def _merchant_edits(
    store: CatalogStore, products: list[dict[str, Any]], rng: random.Random
) -> None:
    """Price and stock edits, as merchants make them: the audit log's entries."""
    for product in rng.sample(products, 400):
        changes = {"price": round(product["price"] * 0.95), "stock": product["stock"] + 10}
        store.update_product(product["sku"], changes, actor=f"merchant-{product['merchant_id']}")


def _staff_marks(
    store: CatalogStore, senders: list[str], staff: list[str], rng: random.Random
) -> None:
    """Reviews with tags, negative feedback, annotations and handoffs over the conversations."""
    tags = ["需跟进", "推荐不准", "物流问题", "好评", "价格咨询"]
    for sender in rng.sample(senders, 600):
        marks.save_review(
            store, sender, rng.choice(staff), tags=rng.sample(tags, rng.randint(1, 2)),
            note="已回访" if rng.random() < 0.3 else None, reviewed=rng.random() < 0.7,
        )  # fmt: skip
    for sender in rng.sample(senders, 250):
        marks.record_flag(store, sender, "feedback_down", "答非所问")
    for number, sender in enumerate(rng.sample(senders, 300)):
        record = marks.add_annotation(
            store, sender_id=sender, event_id=None, text=rng.choice(SEARCHES) + "有吗",
            predicted_intent="out_of_scope", intent="search_product", entities=[],
            actor=rng.choice(staff),
        )  # fmt: skip
        if number % 4 == 0:
            marks.set_annotation_status(store, record.id, "discarded")
    # Taken, released and expired requests: a waiting one would have the web app's handoff
    # loop speak to the shopper through Rasa, which this benchmark does not run.
    queue = HandoffQueue(store)
    for number, sender in enumerate(rng.sample(senders, 60)):
        record = queue.request(sender, "转人工")
        if number % 3 == 0:
            queue.take(record.id, rng.choice(staff))
        elif number % 3 == 1:
            queue.release(queue.take(record.id, rng.choice(staff)).id, "", any_owner=True)
        else:
            queue.expire(record.id, "timeout")


def load_data(settings: Settings, rebuild: bool) -> BenchData:
    folder = settings.var_dir
    stamp_file = folder / "stamp.json"
    stamp = json.loads(stamp_file.read_text()) if stamp_file.exists() else {}
    if rebuild or stamp.get("version") != DATA_VERSION:
        stamp = build_data(settings)
    store = CatalogStore.from_url(settings.database_url)
    with store.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT sku, merchant_id, category, brand FROM products")).all()
    store.engine.dispose()
    skus: dict[str, list[str]] = defaultdict(list)
    for sku, merchant, _category, _brand in rows:
        skus[merchant].append(sku)
    tracker = sa.create_engine(settings.tracker_db_url)
    with tracker.connect() as conn:
        senders = [r[0] for r in conn.execute(sa.text("SELECT DISTINCT sender_id FROM events"))]
    tracker.dispose()
    return BenchData(
        folder=folder,
        password=stamp["password"],
        usernames=stamp["usernames"],
        senders=sorted(senders),
        skus=dict(skus),
        categories=sorted({r[2] for r in rows}),
        brands=sorted({r[3] for r in rows}),
    )


def share_model_cache(base: Settings, settings: Settings) -> None:
    """The converted embedding model of `make models` (var/models), linked, not copied."""
    mine, theirs = settings.models_dir, base.models_dir
    if not mine.exists() and theirs.exists():
        mine.symlink_to(theirs, target_is_directory=True)


# -- the web app ---------------------------------------------------------------------------------


def web_app(settings: Settings, stand_in_encoder: bool) -> Service:
    """`make run`'s web app on the bench data; with `stand_in_encoder`, the same app with the
    tests' hashed-bigram encoder for its search index instead of E5 (the console never
    searches by meaning; embedding 10,000 products first takes many minutes on a busy
    machine)."""
    env = dict(os.environ)
    env.update(
        PYTHONPATH=str(ROOT),
        DAOGOU_VAR=str(settings.var_dir),
        DATABASE_URL=settings.database_url,
        TRACKER_DB_URL=settings.tracker_db_url,
        RASA_URL=settings.rasa_url,
        ACTION_SERVER_URL=settings.action_server_url,
        DAOGOU_WEB_PORT=str(settings.web_port),
    )
    if stand_in_encoder:
        args = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--serve-with-stand-in-encoder",
            str(settings.web_port),
        ]
    else:
        args = [str(ROOT / ".venv" / "bin" / "uvicorn"), "--factory", "web.app:app_factory",
                "--host", "127.0.0.1", "--port", str(settings.web_port), "--log-level", "warning"]  # fmt: skip
    return Service("web app", args, f"http://127.0.0.1:{settings.web_port}/health", env)


def serve_with_stand_in_encoder(port: int) -> None:
    """``web.app:app_factory`` with the stand-in encoder (tests/fixtures.py), under uvicorn."""
    import uvicorn

    from cn_text.pii import mask_log_records
    from daogou.container import build_services
    from tests.fixtures import BigramEncoder
    from web.app import create_app

    mask_log_records()
    app = create_app(build_services(load_settings(), "web", encoder=BigramEncoder()))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


# -- the users -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    name: str
    method: str
    path: str
    params: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    json: dict[str, Any] | None = None


PageView = Callable[[random.Random, "User"], list[Call]]


@dataclass
class User:
    username: str
    role: str
    merchant_id: str | None
    client: httpx.AsyncClient
    data: BenchData

    def sku(self, rng: random.Random) -> str:
        merchants = [self.merchant_id] if self.merchant_id else sorted(self.data.skus)
        return rng.choice(self.data.skus[rng.choice(merchants)])

    def csrf(self) -> dict[str, str]:
        return {"X-CSRF-Token": self.client.cookies.get("csrf_token") or ""}


def _data_day(days_before_end: float) -> str:
    return datetime.fromtimestamp(END - days_before_end * DAY, UTC).date().isoformat()


def _list_filters(rng: random.Random) -> dict[str, Any]:
    choices = [
        {"fallback": "1"},
        {"handoff": "1"},
        {"intent": rng.choice(["search_product", "faq", "request_human", "ask_attribute"])},
        {"confidence_below": "0.6"},
        {"negative_feedback": "1"},
        {"tag": "需跟进"},
        {"reviewed": "0"},
        {"since": _data_day(20), "until": _data_day(13)},
        {"fallback": "1", "since": _data_day(30), "until": _data_day(0)},
    ]
    return rng.choice(choices)


def _api_filters(rng: random.Random) -> dict[str, Any]:
    filters = _list_filters(rng)
    for key in ("since", "until"):
        if key in filters:
            filters[key] = f"{filters[key]}T00:00:00+08:00"
    return filters


def staff_views() -> dict[str, PageView]:
    """A staff member's page views: the page and the API calls its script makes."""
    since, until = _data_day(13), _data_day(0)
    return {
        "conversation list": lambda rng, u: [
            Call("list page", "GET", "/console/conversations", {"page": rng.randint(1, 60)}),
        ],
        "list, filtered": lambda rng, u: [
            Call(
                "list page, filters (htmx)",
                "GET",
                "/console/conversations",
                _list_filters(rng),
                {"HX-Request": "true"},
            ),
            Call("API list, filters", "GET", "/api/conversations", _api_filters(rng)),
        ],  # fmt: skip
        "list, search": lambda rng, u: [
            Call(
                "list page, search (htmx)",
                "GET",
                "/console/conversations",
                {"q": rng.choice(SEARCHES)},
                {"HX-Request": "true"},
            ),
            Call(
                "API list, search",
                "GET",
                "/api/conversations",
                {"q": rng.choice(SEARCHES), "offset": rng.choice([0, 20, 40])},
            ),
        ],  # fmt: skip
        "API list, paging": lambda rng, u: [
            Call(
                "API list, paging",
                "GET",
                "/api/conversations",
                {"limit": 20, "offset": 20 * rng.randint(0, 400)},
            ),
        ],  # fmt: skip
        "transcript": lambda rng, u: _transcript(rng, u),
        "annotations": lambda rng, u: [
            Call("annotation inbox page", "GET", "/console/annotations"),
            Call("API annotations", "GET", "/api/annotations"),
        ],
        "dashboard": lambda rng, u: [
            Call("dashboard page", "GET", "/console/dashboard"),
            Call(
                "API analytics (14 days)", "GET", "/api/analytics", {"since": since, "until": until}
            ),
        ],  # fmt: skip
        "handoff queue": lambda rng, u: [
            Call(
                "API handoff queue", "GET", "/api/handoffs", {"status": rng.choice(["open", "all"])}
            ),
        ],  # fmt: skip
    }


def _transcript(rng: random.Random, user: User) -> list[Call]:
    sender = rng.choice(user.data.senders)
    calls = [
        Call("transcript page", "GET", f"/console/conversations/{sender}"),
        Call("API transcript", "GET", f"/api/conversations/{sender}"),
        Call("API domain names", "GET", "/api/domain/names"),
    ]
    if rng.random() < 0.3:
        review = {"tags": ["已回访"], "reviewed": True}
        calls.append(
            Call("API review (PATCH)", "PATCH", f"/api/conversations/{sender}", json=review)
        )
    return calls


def merchant_views() -> dict[str, PageView]:
    return {
        "product list": lambda rng, u: [
            Call("product list page", "GET", "/console/products", {"page": rng.randint(1, 50)}),
        ],
        "product list, filtered": lambda rng, u: [
            Call(
                "product list page, filter/search",
                "GET",
                "/console/products",
                rng.choice(
                    [
                        {"q": rng.choice(PRODUCT_SEARCHES)},
                        {"category": rng.choice(u.data.categories)},
                        {"brand": rng.choice(u.data.brands), "page": 1},
                    ]
                ),
            ),
            Call(
                "API products, filter/search",
                "GET",
                "/api/products",
                rng.choice(
                    [
                        {"q": rng.choice(PRODUCT_SEARCHES)},
                        {
                            "category": rng.choice(u.data.categories),
                            "offset": 20 * rng.randint(0, 20),
                        },
                        {"brand": rng.choice(u.data.brands), "max_price": 3000},
                    ]
                ),
            ),
        ],  # fmt: skip
        "product form": lambda rng, u: [
            Call("product form page", "GET", f"/console/products/{u.sku(rng)}"),
            Call("API categories", "GET", "/api/categories"),
        ],
        "new product": lambda rng, u: [
            Call("new product form page", "GET", "/console/products/new"),
        ],
        "product": lambda rng, u: [
            Call("API product", "GET", f"/api/products/{u.sku(rng)}"),
        ],
        "audit": lambda rng, u: [
            Call("audit log page", "GET", "/console/audit", {"page": rng.randint(1, 5)}),
            Call("API audit", "GET", "/api/audit", {"offset": 50 * rng.randint(0, 5)}),
        ],
        "import": lambda rng, u: [
            Call("import page", "GET", "/console/import"),
            Call(
                "API template CSV",
                "GET",
                "/api/products/template",
                {"category": rng.choice(u.data.categories)},
            ),
        ],  # fmt: skip
        "export": lambda rng, u: [
            # A merchant's own products (about 2,000), or an admin's whole catalog (10,000,
            # 5.7 MB of CSV): reported apart.
            Call(
                "API export CSV, all (admin)" if u.role == "admin" else "API export CSV",
                "GET",
                "/api/products/export",
            ),
        ],  # fmt: skip
    }


def admin_views() -> dict[str, PageView]:
    return {
        "accounts": lambda rng, u: [
            Call("accounts page", "GET", "/console/accounts"),
            Call("API accounts", "GET", "/api/accounts"),
        ],
    }


def floor_view(rng: random.Random, user: User) -> list[Call]:
    return [
        Call(FLOOR[0], "GET", "/static/console/console.css"),
        Call(FLOOR[1], "GET", "/health"),
    ]


def views_of(role: str, extra: dict[str, PageView]) -> dict[str, PageView]:
    views: dict[str, PageView] = {"floor": floor_view}
    if role in ("staff", "admin"):
        views |= staff_views() | extra
    if role in ("merchant", "admin"):
        views |= merchant_views()
    if role == "admin":
        views |= admin_views()
    return views


def optional_pages(base_url: str, cookies: httpx.Cookies) -> dict[str, PageView]:
    """Console pages that may not exist yet in this checkout (the handoff queue's page)."""
    found: dict[str, PageView] = {}
    with httpx.Client(base_url=base_url, cookies=cookies, timeout=60) as client:
        if client.get("/console/handoffs").status_code == 200:
            found["handoff queue page"] = lambda rng, u: [
                Call("handoff queue page", "GET", "/console/handoffs")
            ]
    return found


# -- measuring -----------------------------------------------------------------------------------


@dataclass
class Results:
    times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))


async def perform(user: User, call: Call, results: Results | None) -> None:
    headers = dict(call.headers)
    if call.method != "GET":
        headers |= user.csrf()
    started = time.perf_counter()
    try:
        response = await user.client.request(
            call.method, call.path, params=call.params, headers=headers, json=call.json
        )
        await response.aread()
        problem = None if response.status_code == 200 else f"{response.status_code} {call.path}"
    except httpx.HTTPError as error:
        problem = f"{type(error).__name__} {call.path}"
    elapsed = (time.perf_counter() - started) * 1000
    if results is None:
        return
    results.times[call.name].append(elapsed)
    if problem:
        results.errors[call.name].append(problem)


async def sign_in(base_url: str, username: str, password: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=base_url, timeout=60, follow_redirects=False)
    response = await client.post(
        "/api/auth/login", json={"username": username, "password": password}
    )
    response.raise_for_status()
    return client


async def run_user(
    user: User, views: dict[str, PageView], seed: int, deadline: float, think: float,
    results: Results,
) -> None:  # fmt: skip
    rng = random.Random(seed)
    names = sorted(views)
    await asyncio.sleep(rng.random() * max(think, 0.2))  # users do not start in step
    while time.monotonic() < deadline:
        rng.shuffle(names)
        for name in names:
            if time.monotonic() >= deadline:
                return
            for call in views[name](rng, user):
                await perform(user, call, results)
            await asyncio.sleep(think * rng.uniform(0.5, 1.5))


async def measure(
    base_url: str, data: BenchData, seconds: float, think: float, users: int
) -> Results:
    roles = (ROLES * (users // len(ROLES) + 1))[:users]
    counters: dict[str, int] = defaultdict(int)
    team: list[User] = []
    for role in roles:
        username = data.usernames[role][counters[role] % len(data.usernames[role])]
        counters[role] += 1
        merchant = MERCHANTS[int(username.rsplit("-", 1)[1]) % len(MERCHANTS)]
        client = await sign_in(base_url, username, data.password)
        team.append(User(username, role, merchant if role == "merchant" else None, client, data))
    admin = next(u for u in team if u.role == "admin")
    extra = optional_pages(base_url, admin.client.cookies)
    plans = [views_of(u.role, extra) for u in team]
    # Warm-up, untimed: every call once per user (templates, caches, the conversation index).
    await asyncio.gather(
        *(
            _each_once(user, plan, random.Random(n))
            for n, (user, plan) in enumerate(zip(team, plans, strict=True))
        )
    )
    results = Results()
    deadline = time.monotonic() + seconds
    await asyncio.gather(
        *(
            run_user(user, plan, 1000 + n, deadline, think, results)
            for n, (user, plan) in enumerate(zip(team, plans, strict=True))
        )
    )
    for user in team:
        await user.client.aclose()
    return results


async def _each_once(user: User, plan: dict[str, PageView], rng: random.Random) -> None:
    for view in plan.values():
        for call in view(rng, user):
            await perform(user, call, None)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def report(results: Results, target: float) -> bool:
    """Prints the table; True when every page and API call met the target without an error."""
    print(
        f"{'':36}{'n':>6}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'errors':>8}  vs {target:.0f} ms"
    )
    passed = True
    names = [n for n in FLOOR if n in results.times]
    names += sorted(n for n in results.times if n not in FLOOR)
    for name in names:
        values = results.times[name]
        errors = len(results.errors.get(name, []))
        p95 = pct(values, 0.95)
        if name in FLOOR:
            verdict = "floor"
        else:
            ok = p95 <= target and not errors
            passed &= ok
            verdict = "PASS" if ok else "FAIL"
        print(
            f"{name:36}{len(values):6d}{pct(values, 0.5):9.1f}{p95:9.1f}{max(values):9.1f}"
            f"{errors:8d}  {verdict}"
        )
    every = [v for n, vs in results.times.items() if n not in FLOOR for v in vs]
    print(
        f"{'all console requests':36}{len(every):6d}{pct(every, 0.5):9.1f}"
        f"{pct(every, 0.95):9.1f}{max(every):9.1f}"
    )
    for name, problems in sorted(results.errors.items()):
        print(f"errors of {name}: {', '.join(sorted(set(problems))[:3])}")
    return passed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60, help="measured time (default 60)")
    parser.add_argument("--users", type=int, default=10, help="concurrent console users")
    parser.add_argument(
        "--think", type=float, default=1.0,
        help="seconds a user reads a page before the next one (mean; 0: back to back)",
    )  # fmt: skip
    parser.add_argument("--rebuild", action="store_true", help="build the data again")
    parser.add_argument(
        "--stand-in-encoder", action="store_true",
        help="the web app's search index with a cheap stand-in encoder, not E5 (no embedding)",
    )  # fmt: skip
    parser.add_argument("--serve-with-stand-in-encoder", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_with_stand_in_encoder:
        serve_with_stand_in_encoder(args.serve_with_stand_in_encoder)
        return 0
    # A `kill` ends the run like Ctrl-C: the web app is stopped, not left behind.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    base = load_settings()
    settings = bench_settings(base, base.var_dir / "bench" / "console")
    data = load_data(settings, args.rebuild)
    share_model_cache(base, settings)
    service = web_app(settings, args.stand_in_encoder)
    started = time.perf_counter()
    process = start(service, settings.var_dir / "logs")
    try:
        # The first run with E5 embeds the 10,000 products for the search index (minutes).
        wait_healthy(service, process, timeout=3600)
        encoder = "stand-in encoder" if args.stand_in_encoder else "E5"
        print(f"web app ({encoder}) ready in {time.perf_counter() - started:.0f}s", flush=True)
        base_url = f"http://127.0.0.1:{settings.web_port}"
        results = asyncio.run(measure(base_url, data, args.seconds, args.think, args.users))
    finally:
        stop_all([process])
    print(
        f"\nconsole latency: {args.users} users ({', '.join(f'{ROLES.count(r)} {r}' for r in ('staff', 'merchant', 'admin'))}),"
        f" {args.seconds:.0f} s, think {args.think:g} s; {len(data.senders)} conversations,"
        f" {sum(len(s) for s in data.skus.values())} products"
    )
    passed = report(results, TARGET_MS)
    print(f"target: p95 <= {TARGET_MS:.0f} ms for every page and API call, no errors")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
