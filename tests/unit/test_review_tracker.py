"""The staff console's conversation list over Rasa's tracker store (web/review/tracker.py):
exact summaries of known conversations, every filter, paging and totals, Chinese search, and the
side index kept in step with the events table, on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from web.review.events import EVENTS, readonly_engine
from web.review.fake_history import append_events, create_events_table
from web.review.tracker import ConversationIndex, ConversationQuery

PG_ADMIN = os.environ.get("DAOGOU_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
DAY = 86_400.0
T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC).timestamp()


# -- Rasa's events, as SQLTrackerStore stores them ------------------------------------------------


class History:
    """(sender_id, event) pairs of hand-written conversations, each event at a given time."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    def add(self, sender: str, ts: float, event: dict[str, Any]) -> None:
        self.events.append((sender, {"event": event.pop("event"), "timestamp": ts} | event))

    def session(self, sender: str, ts: float, carried: dict[str, Any] | None = None) -> None:
        self.action(sender, ts, "action_session_start", policy=None)
        self.add(sender, ts + 0.001, {"event": "session_started"})
        for name, value in (carried or {}).items():
            self.slot(sender, ts + 0.002, name, value)
        self.action(sender, ts + 0.003, "action_listen", policy=None)

    def user(
        self,
        sender: str,
        ts: float,
        text: str,
        intent: str,
        confidence: float,
        entities: list[dict[str, Any]] | None = None,
        ranking: list[tuple[str, float]] | None = None,
        retrieval: str | None = None,
    ) -> None:
        parse: dict[str, Any] = {
            "intent": {"name": intent, "confidence": confidence},
            "entities": entities or [],
            "text": text,
            "message_id": f"m{len(self.events)}",
            "metadata": {},
            "intent_ranking": [
                {"name": n, "confidence": c} for n, c in (ranking or [(intent, confidence)])
            ],
        }
        if retrieval:
            parse["response_selector"] = {
                "all_retrieval_intents": ["faq", "chitchat"],
                "default": {
                    "response": {"intent_response_key": retrieval, "confidence": 0.9},
                    "ranking": [],
                },
            }
        self.add(
            sender,
            ts,
            {
                "event": "user",
                "text": text,
                "parse_data": parse,
                "input_channel": "socketio",
                "message_id": f"m{len(self.events)}",
                "metadata": {},
            },
        )

    def bot(
        self,
        sender: str,
        ts: float,
        text: str | None,
        skill: str | None = None,
        buttons: list[str] | None = None,
        custom: Any = None,
        response: str | None = None,
    ) -> None:
        metadata = ({"skill": skill} if skill else {}) | (
            {"utter_action": response} if response else {}
        )
        data = {
            "elements": None,
            "quick_replies": None,
            "buttons": [{"title": b, "payload": b} for b in buttons] if buttons else None,
            "attachment": None,
            "image": None,
            "custom": custom,
        }
        self.add(sender, ts, {"event": "bot", "metadata": metadata, "text": text, "data": data})

    def action(self, sender: str, ts: float, name: str, policy: str | None = "RulePolicy") -> None:
        self.add(
            sender,
            ts,
            {
                "event": "action",
                "name": name,
                "policy": policy,
                "confidence": 1.0 if policy else None,
                "action_text": None,
                "hide_rule_turn": False,
            },
        )

    def slot(self, sender: str, ts: float, name: str, value: Any) -> None:
        self.add(sender, ts, {"event": "slot", "name": name, "value": value})

    def mark(self, sender: str, ts: float, kind: str) -> None:
        self.add(sender, ts, {"event": kind})

    def saved(self) -> list[tuple[str, dict[str, Any]]]:
        """In the order Rasa saves them: by time."""
        return sorted(self.events, key=lambda pair: pair[1]["timestamp"])


PHONES = {
    "type": "products",
    "items": [
        {"sku": "HW-M60P", "title": "华为 Mate60 Pro", "brand": "华为", "category": "手机",
         "price": 6999.0, "rating": 4.8, "stock": 12, "image": None},
        {"sku": "HW-P70", "title": "华为 Pura 70", "brand": "华为", "category": "手机",
         "price": 5499.0, "rating": 4.7, "stock": 0, "image": None},
    ],
}  # fmt: skip
EARPHONES = {
    "type": "products",
    "items": [
        {"sku": "SN-XM5", "title": "索尼 WH-1000XM5", "brand": "索尼", "category": "耳机",
         "price": 2499.0, "rating": 4.9, "stock": 30, "image": None},
    ],
}  # fmt: skip


def alice(h: History, day: float = 0) -> None:
    """Two sessions: a phone search, then (two days later) an unclear message and a handoff."""
    t = T0 + day * DAY
    h.session("alice", t)
    h.user(
        "alice",
        t + 10,
        "有没有三千以内的华为手机",
        "search_product",
        0.91,
        entities=[
            {
                "entity": "price",
                "value": "三千",
                "start": 3,
                "end": 5,
                "role": "max",
                "extractor": "ChinesePriceExtractor",
            },
            {
                "entity": "brand",
                "value": "华为",
                "start": 8,
                "end": 10,
                "extractor": "DIETClassifier",
                "confidence_entity": 0.99,
            },
            {
                "entity": "category",
                "value": "手机",
                "start": 10,
                "end": 12,
                "extractor": "DIETClassifier",
                "confidence_entity": 0.98,
            },
        ],  # fmt: skip
    )
    h.action("alice", t + 10.1, "action_search_products")
    h.bot(
        "alice",
        t + 10.2,
        "为您找到 2 款华为手机：",
        skill="action_search_products",
        buttons=["有没有便宜点的", "第一个怎么样"],
        custom=PHONES,
    )
    h.slot("alice", t + 10.3, "shown_products", ["HW-M60P", "HW-P70"])
    h.slot("alice", t + 10.3, "last_filters", {"brand": "华为", "category": "手机"})
    h.action("alice", t + 10.4, "action_listen")
    h.user("alice", t + 40, "Mate60 Pro 多少钱", "ask_attribute", 0.88)
    h.action("alice", t + 40.1, "action_answer_attribute")
    h.bot("alice", t + 40.2, "华为 Mate60 Pro 的价格是 6999 元。", skill="action_answer_attribute")
    h.slot("alice", t + 40.3, "product_focus", "HW-M60P")
    h.action("alice", t + 40.4, "action_listen")
    t += 2 * DAY
    h.session("alice", t, carried={"shown_products": ["HW-M60P", "HW-P70"]})
    h.user(
        "alice",
        t + 10,
        "嗯嗯那个呢",
        "nlu_fallback",
        0.4,
        ranking=[("nlu_fallback", 0.4), ("ask_attribute", 0.23), ("greet", 0.1)],
    )
    h.action("alice", t + 10.1, "action_default_ask_affirmation")
    h.bot(
        "alice",
        t + 10.2,
        "不好意思，我没太明白「嗯嗯那个呢」的意思。",
        skill="action_default_ask_affirmation",
        buttons=["找商品", "转人工客服"],
    )
    h.action("alice", t + 10.3, "action_listen")
    h.user("alice", t + 30, "转人工", "request_human", 0.97)
    h.action("alice", t + 30.1, "action_request_human")
    h.bot("alice", t + 30.2, "好的，已为您转接人工客服，请稍等。", skill="action_request_human")
    h.mark("alice", t + 30.3, "pause")


def bob(h: History) -> None:
    """A greeting and a shipping question answered by the FAQ (retrieval intent)."""
    t = T0 + 1 * DAY
    h.session("bob", t)
    h.user("bob", t + 5, "你好", "greet", 0.99)
    h.action("bob", t + 5.1, "utter_greet")
    h.bot("bob", t + 5.2, "您好！我是导购助手，想买点什么？", response="utter_greet")
    h.action("bob", t + 5.3, "action_listen")
    h.user("bob", t + 20, "运费怎么算", "faq", 0.95, retrieval="faq/shipping")
    h.action("bob", t + 20.1, "action_answer_faq")
    h.bot("bob", t + 20.2, "满99元包邮，一般48小时内发货。", skill="action_answer_faq")
    h.action("bob", t + 20.3, "action_listen")


def carol(h: History) -> None:
    """Earphones recommended, a message RulePolicy's core fallback reverted, thanks."""
    t = T0 + 3 * DAY
    h.session("carol", t)
    h.user("carol", t + 5, "蓝牙耳机有推荐吗", "ask_recommendation", 0.62)
    h.action("carol", t + 5.1, "action_recommend")
    h.bot("carol", t + 5.2, "这款口碑不错：", skill="action_recommend", custom=EARPHONES)
    h.slot("carol", t + 5.3, "shown_products", ["SN-XM5"])
    h.action("carol", t + 5.4, "action_listen")
    h.user("carol", t + 30, "啊这", "inform", 0.45)
    h.slot("carol", t + 30.05, "need_category", "耳机")
    h.action("carol", t + 30.1, "action_default_fallback")
    h.bot("carol", t + 30.2, "抱歉，我没听懂，您可以换个说法吗？", response="utter_default")
    h.mark("carol", t + 30.3, "rewind")
    h.action("carol", t + 30.4, "action_listen")
    h.user("carol", t + 60, "谢谢", "thank", 0.99)
    h.action("carol", t + 60.1, "utter_thank")
    h.bot("carol", t + 60.2, "不客气～", response="utter_thank")
    h.action("carol", t + 60.3, "action_listen")


def dave(h: History) -> None:
    """A greeting before the shopper typed; 「耳机」 only in the bot's reply."""
    t = T0 + 4 * DAY
    h.session("dave", t)
    h.bot("dave", t + 0.5, "您好！想买点什么？", response="utter_greet")
    h.user("dave", t + 8, "有什么降噪的推荐", "search_product", 0.8)
    h.action("dave", t + 8.1, "action_search_products")
    h.bot("dave", t + 8.2, "为您找到 1 款耳机：", skill="action_search_products", custom=EARPHONES)
    h.action("dave", t + 8.3, "action_listen")


def erin(h: History) -> None:
    """A session Rasa started when the widget opened; nobody typed."""
    h.session("erin", T0 + 2 * DAY)


def known_history() -> list[tuple[str, dict[str, Any]]]:
    h = History()
    for conversation in (alice, bob, carol, dave, erin):
        conversation(h)
    return h.saved()


def at(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=UTC)


# -- databases -----------------------------------------------------------------------------------


def _pg_answers() -> bool:
    try:
        with sa.create_engine(PG_ADMIN).connect() as conn:
            conn.execute(sa.text("select 1"))
        return True
    except Exception:
        return False


@pytest.fixture(scope="module")
def pg_database() -> Iterator[str]:
    if not _pg_answers():
        pytest.skip(f"no PostgreSQL server answers at {PG_ADMIN}")
    name = f"daogou_review_test_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


class Databases:
    """A writable tracker (what Rasa writes), its URL and an index URL."""

    def __init__(self, tracker_url: str, index_url: str) -> None:
        self.tracker_url = tracker_url
        self.index_url = index_url
        self.rasa = sa.create_engine(tracker_url)
        create_events_table(self.rasa)
        self.indexes: list[ConversationIndex] = []

    def index(self, **kwargs: Any) -> ConversationIndex:
        index = ConversationIndex(self.tracker_url, self.index_url, **kwargs)
        self.indexes.append(index)
        return index

    def append(self, events: list[tuple[str, dict[str, Any]]]) -> None:
        append_events(self.rasa, events)

    def session_ids(self, sender: str) -> list[int]:
        with self.rasa.connect() as conn:
            return list(
                conn.execute(
                    sa.select(EVENTS.c.id)
                    .where(EVENTS.c.sender_id == sender, EVENTS.c.type_name == "session_started")
                    .order_by(EVENTS.c.id)
                ).scalars()
            )

    def close(self) -> None:
        for index in self.indexes:
            index.dispose()
        self.rasa.dispose()


def _drop_all(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        tables = sa.MetaData()
        tables.reflect(conn)
        tables.drop_all(conn)
    engine.dispose()


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.postgres),
        pytest.param("pg-tracker", marks=pytest.mark.postgres),
    ]
)
def dbs(request, tmp_path) -> Iterator[Databases]:
    """SQLite tracker + SQLite index (the embedded default); PostgreSQL for both (a cluster);
    Rasa's store on PostgreSQL with the index in a local file."""
    sqlite_index = f"sqlite:///{tmp_path / 'review_index.db'}"
    if request.param == "sqlite":
        databases = Databases(f"sqlite:///{tmp_path / 'tracker.db'}", sqlite_index)
    else:
        pg = request.getfixturevalue("pg_database")
        _drop_all(pg)
        databases = Databases(pg, pg if request.param == "postgresql" else sqlite_index)
    yield databases
    databases.close()


def names(page) -> list[str]:
    return [item.sender_id for item in page.items]


# -- summaries -----------------------------------------------------------------------------------


def test_summaries_per_sender_are_exact(dbs):
    dbs.append(known_history())
    page = dbs.index().conversations()
    assert page.total == 4  # erin's session has no message: not listed
    assert names(page) == ["dave", "carol", "alice", "bob"]  # newest last message first
    by = {item.sender_id: item for item in page.items}

    a = by["alice"]
    assert (a.session_id, a.session_number, a.sessions) == (None, None, 2)
    assert (a.shopper_messages, a.bot_messages) == (4, 4)
    assert a.intents == ("ask_attribute", "nlu_fallback", "request_human", "search_product")
    # nlu_fallback's own 0.4 is the threshold; the classifier's best guess was 0.23
    assert a.min_confidence == pytest.approx(0.23)
    assert (a.fallback, a.handoff) == (True, True)
    assert a.last_shopper_message == "转人工"
    assert a.first_at == at(T0 + 10)
    assert a.last_at == at(T0 + 2 * DAY + 30.2)

    b = by["bob"]
    assert (b.shopper_messages, b.bot_messages, b.sessions) == (2, 2, 1)
    assert b.intents == ("faq/shipping", "greet")
    assert b.min_confidence == pytest.approx(0.95)
    assert (b.fallback, b.handoff, b.last_shopper_message) == (False, False, "运费怎么算")

    c = by["carol"]
    assert (c.shopper_messages, c.bot_messages) == (3, 3)  # the reverted message was still sent
    assert c.intents == ("ask_recommendation", "inform", "thank")
    assert c.min_confidence == pytest.approx(0.45)
    assert (c.fallback, c.handoff) == (True, False)  # action_default_fallback ran

    d = by["dave"]
    assert (d.shopper_messages, d.bot_messages) == (1, 2)  # a greeting before the first message
    assert d.first_at == at(T0 + 4 * DAY + 0.5)
    assert (d.intents, d.fallback, d.handoff) == (("search_product",), False, False)


def test_summaries_per_session(dbs):
    dbs.append(known_history())
    index = dbs.index()
    first, second = dbs.session_ids("alice")
    page = index.conversations(ConversationQuery(per="session"))
    assert page.total == 5
    assert [(i.sender_id, i.session_number) for i in page.items] == [
        ("dave", 1), ("carol", 1), ("alice", 2), ("bob", 1), ("alice", 1),
    ]  # fmt: skip
    one, two = page.items[4], page.items[2]
    assert (one.session_id, two.session_id) == (first, second)
    assert (one.shopper_messages, one.bot_messages, one.sessions) == (2, 2, 1)
    assert one.intents == ("ask_attribute", "search_product")
    assert (one.min_confidence, one.fallback, one.handoff) == (pytest.approx(0.88), False, False)
    assert one.last_shopper_message == "Mate60 Pro 多少钱"
    assert (one.first_at, one.last_at) == (at(T0 + 10), at(T0 + 40.2))
    assert two.intents == ("nlu_fallback", "request_human")
    assert (two.min_confidence, two.fallback, two.handoff) == (pytest.approx(0.23), True, True)
    assert index.summary("alice", second) == two
    assert index.summary("alice") == index.conversations().items[2]
    assert index.summary("bob", second) is None  # alice's session, not bob's
    assert index.summary("erin") is None and index.summary("nobody") is None


# -- filters, paging ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (ConversationQuery(intent="request_human"), ["alice"]),
        (ConversationQuery(intent="faq"), ["bob"]),  # faq/shipping is one of faq's
        (ConversationQuery(intent="faq/shipping"), ["bob"]),
        (ConversationQuery(intent="faq/return_policy"), []),
        (ConversationQuery(intent="search"), []),  # a whole name, not a prefix
        (ConversationQuery(fallback=True), ["carol", "alice"]),
        (ConversationQuery(fallback=False), ["dave", "bob"]),
        (ConversationQuery(handoff=True), ["alice"]),
        (ConversationQuery(handoff=False), ["dave", "carol", "bob"]),
        (ConversationQuery(confidence_below=0.5), ["carol", "alice"]),
        (ConversationQuery(confidence_below=0.3), ["alice"]),
        (ConversationQuery(confidence_below=0.23), []),  # strictly below
        (ConversationQuery(since=T0 + 3 * DAY), ["dave", "carol"]),
        (ConversationQuery(until=T0 + 1 * DAY + 10), ["alice", "bob"]),  # bob's first at +5 s
        # alice's history spans days 0-2: it has messages in the range, bob's only before it
        (ConversationQuery(since=at(T0 + 1.5 * DAY), until=at(T0 + 2.5 * DAY)), ["alice"]),
        (ConversationQuery(since=datetime(2024, 5, 4, 10, 0)), ["dave", "carol"]),  # naive: UTC
        (ConversationQuery(sender_ids={"bob", "carol", "zed"}), ["carol", "bob"]),
        (ConversationQuery(fallback=True, handoff=False), ["carol"]),
        (ConversationQuery(intent="search_product", confidence_below=0.9), ["dave", "alice"]),
    ],
)
def test_filters_per_sender(dbs, query, expected):
    dbs.append(known_history())
    page = dbs.index().conversations(query)
    assert names(page) == expected
    assert page.total == len(expected)


def test_filters_per_session_test_each_session(dbs):
    dbs.append(known_history())
    index = dbs.index()
    session = [(i.sender_id, i.session_number) for i in index.conversations(
        ConversationQuery(per="session", fallback=True)).items]  # fmt: skip
    assert session == [("carol", 1), ("alice", 2)]
    # per sender, alice matches "handoff and search_product" (different sessions); per session not
    both = {"handoff": True, "intent": "search_product"}
    assert names(index.conversations(ConversationQuery(**both))) == ["alice"]
    assert index.conversations(ConversationQuery(per="session", **both)).total == 0
    early = index.conversations(ConversationQuery(per="session", until=T0 + DAY))
    assert [(i.sender_id, i.session_number) for i in early.items] == [("alice", 1)]


def test_paging_newest_first_with_the_total(dbs):
    dbs.append(known_history())
    index = dbs.index()
    pages = [index.conversations(ConversationQuery(limit=2, offset=o)) for o in (0, 2, 4)]
    assert [names(p) for p in pages] == [["dave", "carol"], ["alice", "bob"], []]
    assert [p.total for p in pages] == [4, 4, 4]
    assert index.conversations(ConversationQuery(limit=0)).total == 4
    assert index.conversations(ConversationQuery(limit=1000)).limit == 100  # capped
    sessions = index.conversations(ConversationQuery(per="session", limit=3, offset=3))
    assert ([(i.sender_id, i.session_number) for i in sessions.items], sessions.total) == (
        [("bob", 1), ("alice", 1)], 5,
    )  # fmt: skip
    with pytest.raises(ValueError):
        ConversationQuery(offset=-1)
    with pytest.raises(ValueError):
        ConversationQuery(per="day")  # type: ignore[arg-type]


def test_flags_from_the_catalog_database_ride_along(dbs):
    dbs.append(known_history())
    flags = {"carol": [{"kind": "feedback_down", "text": "没用", "status": "open"}]}
    page = dbs.index().conversations(ConversationQuery(sender_ids=set(flags)), flags=flags)
    assert [(i.sender_id, i.flags) for i in page.items] == [("carol", tuple(flags["carol"]))]


# -- search --------------------------------------------------------------------------------------


def hits(index: ConversationIndex, text: str, **kwargs: Any) -> list[str]:
    page = index.conversations(ConversationQuery(text=text, **kwargs))
    assert page.total == len(page.items)
    return names(page)


def test_search_two_characters_and_longer_phrases_in_chinese(dbs):
    dbs.append(known_history())
    index = dbs.index()
    # 「耳机」: inside carol's 「蓝牙耳机」, and only in the bot's reply to dave (product cards,
    # buttons and slot values are not searched)
    assert hits(index, "耳机") == ["dave", "carol"]
    assert hits(index, "有没有三千以内") == ["alice"]
    assert hits(index, "不好意思，我没太明白") == ["alice"]
    assert hits(index, "转人工") == ["alice"]
    assert hits(index, "退") == []
    assert hits(index, "包邮") == ["bob"]


def test_search_scope_shopper_or_bot(dbs):
    dbs.append(known_history())
    index = dbs.index()
    # 「包邮」 is only in the bot's answer to bob; 「运费」 only in bob's question
    assert hits(index, "包邮", search_in="bot") == ["bob"]
    assert hits(index, "包邮", search_in="shopper") == []
    assert hits(index, "运费", search_in="shopper") == ["bob"]
    assert hits(index, "运费", search_in="bot") == []
    assert hits(index, "耳机", search_in="shopper") == ["carol"]
    assert hits(index, "耳机", search_in="bot") == ["dave"]


def test_search_terms_all_in_the_conversation_folded_and_shown(dbs):
    dbs.append(known_history())
    index = dbs.index()
    # every term somewhere in the conversation, not necessarily in one message
    assert hits(index, "华为 6999") == ["alice"]
    assert hits(index, "华为　包邮") == []  # ideographic space separates terms too
    # full-width and upper-case letters, spaces inside the product name
    assert hits(index, "ＭＡＴＥ６０ pro") == ["alice"]
    assert hits(index, "mate60pro") == ["alice"]
    assert hits(index, "%") == [] and hits(index, "_") == []  # not LIKE wildcards
    assert hits(index, "   ") == ["dave", "carol", "alice", "bob"]  # no term: no search
    page = index.conversations(ConversationQuery(text="华为 6999"))
    matches = [(m.role, m.text) for m in page.items[0].matches]
    assert matches == [
        ("shopper", "有没有三千以内的华为手机"),
        ("bot", "为您找到 2 款华为手机："),
        ("bot", "华为 Mate60 Pro 的价格是 6999 元。"),
    ]  # the first 3 messages with a term, in order
    first, _second = dbs.session_ids("alice")
    assert page.items[0].matches[0].session_id == first
    assert page.items[0].matches[0].at == at(T0 + 10)
    carol = index.conversations(ConversationQuery(text="耳机", search_in="shopper")).items[0]
    assert [(m.role, m.text) for m in carol.matches] == [("shopper", "蓝牙耳机有推荐吗")]
    sessions = index.conversations(ConversationQuery(text="转人工", per="session"))
    assert [(i.sender_id, i.session_number) for i in sessions.items] == [("alice", 2)]


# -- keeping in step -------------------------------------------------------------------------------


def test_the_index_folds_only_new_events_and_sees_appended_ones(dbs):
    history = known_history()
    dbs.append([pair for pair in history if pair[1]["timestamp"] < T0 + 1.5 * DAY])
    index = dbs.index()
    before = index.conversations()
    assert names(before) == ["bob", "alice"]
    assert (before.items[1].sessions, before.items[1].handoff) == (1, False)
    assert index.catch_up().events == 0  # nothing new
    rest = [pair for pair in history if pair[1]["timestamp"] >= T0 + 1.5 * DAY]
    dbs.append(rest)
    caught = index.catch_up()
    assert (caught.events, caught.rebuilt) == (len(rest), False)
    after = index.conversations()
    assert names(after) == ["dave", "carol", "alice", "bob"]
    a = after.items[2]
    assert (a.sessions, a.shopper_messages, a.handoff, a.last_shopper_message) == (
        2, 4, True, "转人工",
    )  # fmt: skip
    assert hits(index, "转人工") == ["alice"]
    # a second index on the same database (another web worker) reads the same, folding nothing
    again = dbs.index()
    assert again.catch_up().events == 0
    assert again.conversations() == after


def test_built_in_small_batches_equals_built_at_once(dbs, tmp_path):
    dbs.append(known_history())
    whole = dbs.index().conversations(ConversationQuery(per="session"))
    small = ConversationIndex(dbs.tracker_url, f"sqlite:///{tmp_path / 'small.db'}", batch_size=3)
    assert small.conversations(ConversationQuery(per="session")) == whole
    small.dispose()


def test_rasa_tables_are_only_read(dbs, tmp_path):
    dbs.append(known_history())
    index = dbs.index()
    index.conversations()
    with dbs.rasa.connect() as conn:
        assert sorted(sa.inspect(conn).get_table_names()) == (
            ["events"] if dbs.index_url != dbs.tracker_url
            else sorted(["events", "review_gaps", "review_intents", "review_messages",
                         "review_senders", "review_sessions", "review_state"])
        )  # fmt: skip
    with pytest.raises(sa.exc.DBAPIError), index.tracker.begin() as conn:
        conn.execute(EVENTS.delete())


def test_events_committed_out_of_id_order_are_not_lost(tmp_path):
    """PostgreSQL: a save holding id 2 may commit after one holding id 3 (another Rasa
    replica); the index remembers 2 as a gap and folds it when it appears."""
    dbs = Databases(f"sqlite:///{tmp_path / 'tracker.db'}", f"sqlite:///{tmp_path / 'ix.db'}")
    clock = [1000.0]
    index = dbs.index(clock=lambda: clock[0])
    h = History()
    h.user("ann", T0, "有耳机吗", "search_product", 0.9)
    h.user("ben", T0 + 1, "有手表吗", "search_product", 0.9)
    h.user("cat", T0 + 2, "有鞋吗", "search_product", 0.9)
    h.user("dan", T0 + 3, "有电脑吗", "search_product", 0.9)
    rows = [{"id": i, **row} for i, row in enumerate(_rows(h.saved()), start=1)]
    with dbs.rasa.begin() as conn:
        conn.execute(EVENTS.insert(), [rows[0], rows[2]])
    assert names(index.conversations()) == ["cat", "ann"]
    with dbs.rasa.begin() as conn:
        conn.execute(EVENTS.insert(), [rows[1]])
    assert names(index.conversations()) == ["cat", "ben", "ann"]
    # a gap older than GAP_TTL is given up: a save never takes that long
    with dbs.rasa.begin() as conn:
        conn.execute(EVENTS.insert(), [{**rows[3], "id": 6}])
    index.catch_up()
    clock[0] += 601
    with dbs.rasa.begin() as conn:
        conn.execute(EVENTS.insert(), [{**rows[3], "id": 5, "sender_id": "eve"}])
    assert "eve" not in names(index.conversations())
    dbs.close()


def _rows(events):
    from web.review.fake_history import event_row

    return [event_row(sender, event) for sender, event in events]


def test_rebuilt_when_the_tracker_database_is_new_or_lost_old_events(tmp_path):
    dbs = Databases(f"sqlite:///{tmp_path / 'tracker.db'}", f"sqlite:///{tmp_path / 'ix.db'}")
    dbs.append(known_history())
    index = dbs.index()
    assert index.conversations().total == 4
    # old events deleted (a retention job): the lowest id rose
    with dbs.rasa.begin() as conn:
        conn.execute(EVENTS.delete().where(EVENTS.c.sender_id == "alice"))
    assert index.catch_up().rebuilt
    assert names(index.conversations()) == ["dave", "carol", "bob"]
    # a new, empty tracker database: the highest id fell below the last one folded
    with dbs.rasa.begin() as conn:
        conn.execute(EVENTS.delete())
    h = History()
    bob(h)
    dbs.append(h.saved())
    assert names(index.conversations()) == ["bob"]
    dbs.close()


def test_a_tracker_database_rasa_has_not_created_yet(tmp_path):
    path = tmp_path / "tracker.db"
    index = ConversationIndex(f"sqlite:///{path}", f"sqlite:///{tmp_path / 'ix.db'}")
    assert index.conversations().total == 0  # no file yet
    assert index.transcript("alice") is None
    rasa = sa.create_engine(f"sqlite:///{path}")
    create_events_table(rasa)
    assert index.conversations().total == 0  # the table, still empty
    append_events(rasa, known_history())
    assert index.conversations().total == 4
    index.dispose()
    rasa.dispose()


def test_the_tracker_is_opened_read_only(tmp_path):
    path = tmp_path / "tracker.db"
    rasa = sa.create_engine(f"sqlite:///{path}")
    create_events_table(rasa)
    engine = readonly_engine(f"sqlite:///{path}")
    with pytest.raises(sa.exc.OperationalError, match="readonly"), engine.begin() as conn:
        conn.execute(EVENTS.insert().values(sender_id="x", type_name="user"))
    with pytest.raises(ValueError, match="memory"):
        ConversationIndex(f"sqlite:///{path}", "sqlite://")
    engine.dispose()
    rasa.dispose()


def test_two_processes_catching_up_at_once_fold_each_event_once(dbs, tmp_path):
    """Two web workers (two indexes on one index database), each with request threads, while
    Rasa appends: the database lock makes their catch-ups take turns."""
    from concurrent.futures import ThreadPoolExecutor

    from web.review.fake_history import fake_history

    history = fake_history(60, seed=11)
    workers = [dbs.index(batch_size=50), dbs.index(batch_size=50)]
    errors: list[BaseException] = []

    def requests(index: ConversationIndex) -> None:
        try:
            for _ in range(15):
                index.conversations(ConversationQuery(text="耳机"))
        except BaseException as error:  # reported below, not lost in the thread
            errors.append(error)

    with ThreadPoolExecutor(max_workers=4) as pool:
        running = [pool.submit(requests, workers[i % 2]) for i in range(4)]
        for start in range(0, len(history), 80):
            dbs.append(history[start : start + 80])
        for future in running:
            future.result()
    assert errors == []
    workers[0].catch_up()  # whatever the last request left
    reference = ConversationIndex(dbs.tracker_url, f"sqlite:///{tmp_path / 'reference.db'}")
    query = ConversationQuery(per="session", limit=100)
    assert workers[1].conversations(query) == reference.conversations(query)
    assert reference.conversations(query).total > 60
    reference.dispose()


def test_only_recent_missing_ids_are_waited_for(tmp_path):
    """Saves in flight hold ids near the newest; a hole far below it is a deleted event."""
    dbs = Databases(f"sqlite:///{tmp_path / 'tracker.db'}", f"sqlite:///{tmp_path / 'ix.db'}")
    index = dbs.index()
    h = History()
    for n, sender in enumerate(("ann", "ben", "cat", "dan")):
        h.user(sender, T0 + n, f"第{n}个问题", "search_product", 0.9)
    ann, ben, cat, dan = _rows(h.saved())
    with dbs.rasa.begin() as conn:
        conn.execute(EVENTS.insert(), [{"id": 1, **ann}, {"id": 2000, **ben}])
    assert names(index.conversations()) == ["ben", "ann"]
    with dbs.rasa.begin() as conn:
        conn.execute(EVENTS.insert(), [{"id": 500, **cat}, {"id": 1500, **dan}])
    assert names(index.conversations()) == ["dan", "ben", "ann"]  # 500: too old to be in flight
    dbs.close()


def test_flags_read_from_the_catalog_database_for_a_page(mini_store, tmp_path):
    from knowledge_graph.conversations import flags_of_many, record_flag

    dbs = Databases(f"sqlite:///{tmp_path / 'tracker.db'}", f"sqlite:///{tmp_path / 'ix.db'}")
    dbs.append(known_history())
    record_flag(mini_store, "carol", "feedback_down", "答非所问")
    record_flag(mini_store, "alice", "handoff", "转人工")
    index = dbs.index()
    page = index.conversations(ConversationQuery(limit=2))  # dave, carol
    flags = flags_of_many(mini_store, names(page))
    assert list(flags) == ["carol"]
    page = index.conversations(ConversationQuery(limit=2), flags=flags)
    assert [(i.sender_id, [(f["kind"], f["text"]) for f in i.flags]) for i in page.items] == [
        ("dave", []),
        ("carol", [("feedback_down", "答非所问")]),
    ]
    dbs.close()
