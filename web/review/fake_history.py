"""Realistic shop conversations written straight into a tracker ``events`` table, for tests and
for measuring the staff console's list (``python -m web.review.fake_history --help``).

Each conversation is what Rasa 3.6 stores for our bot, event for event and key for key
(``Event.as_dict()`` in rasa/shared/core/events.py, the row as bot/tracker_store.py writes it):
``action_session_start``, ``session_started``, ``action_listen``; then per turn the shopper's
``user`` event (parse data with intent, ranking, entities, the response selector's retrieval
intent for FAQs), the action the rules chose, its ``bot`` messages (buttons, the ``products``
payload of actions/formatting.py, ``metadata.skill`` of actions/turn.py) and ``slot`` events,
and ``action_listen``. Some turns are unclear (``nlu_fallback`` answered by
``action_default_ask_affirmation``, or RulePolicy's ``action_default_fallback`` with its
``rewind``), some ask for a person (``request_human`` -> ``action_request_human`` + ``pause``),
some senders come back for a second or third session. Random but seeded: the same arguments
give the same events, ids included.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from web.review.events import EVENTS

END = 1_717_200_000.0  # 2024-06-01 00:00 UTC: the newest conversation starts before it
DAY = 86_400.0

PRODUCTS = [
    # sku, title, brand, category, price, colour
    ("HW-M60P", "华为 Mate60 Pro", "华为", "手机", 6999, "白色"),
    ("HW-P70", "华为 Pura 70", "华为", "手机", 5499, "黑色"),
    ("XM-14", "小米14", "小米", "手机", 3999, "绿色"),
    ("XM-R13", "红米 Note 13", "小米", "手机", 1099, "蓝色"),
    ("AP-IP15", "iPhone 15", "苹果", "手机", 5999, "粉色"),
    ("OP-R11", "OPPO Reno11", "OPPO", "手机", 2499, "紫色"),
    ("VV-X100", "vivo X100", "vivo", "手机", 3999, "白色"),
    ("SN-XM5", "索尼 WH-1000XM5", "索尼", "耳机", 2499, "黑色"),
    ("AP-APP2", "AirPods Pro 2", "苹果", "耳机", 1899, "白色"),
    ("HW-FB5", "华为 FreeBuds 5", "华为", "耳机", 999, "银色"),
    ("MB-W820", "漫步者 W820NB", "漫步者", "耳机", 299, "灰色"),
    ("LX-XP14", "联想小新 Pro14", "联想", "笔记本电脑", 5299, "灰色"),
    ("HW-MBX", "华为 MateBook X Pro", "华为", "笔记本电脑", 9999, "蓝色"),
    ("AP-MBA", "MacBook Air 13", "苹果", "笔记本电脑", 7999, "银色"),
    ("HW-W4", "华为 Watch 4", "华为", "智能手表", 2699, "黑色"),
    ("XM-WS3", "小米手环8", "小米", "智能手表", 239, "黑色"),
    ("NK-PG40", "耐克 Pegasus 40", "耐克", "跑步鞋", 899, "白色"),
    ("LN-CT6", "李宁 赤兔6", "李宁", "跑步鞋", 399, "红色"),
    ("AT-C202", "安踏 C202", "安踏", "跑步鞋", 599, "黑色"),
    ("LC-XHP", "兰蔻小黑瓶精华", "兰蔻", "护肤品", 1080, None),
    ("EL-ANR", "雅诗兰黛小棕瓶", "雅诗兰黛", "护肤品", 950, None),
    ("WN-SSR", "薇诺娜舒敏保湿霜", "薇诺娜", "护肤品", 268, None),
    ("MD-FB40", "美的电饭煲 FB40", "美的", "小家电", 299, "白色"),
    ("DS-V12", "戴森 V12 吸尘器", "戴森", "小家电", 4590, "金色"),
    ("SZ-MJ", "三只松鼠每日坚果", "三只松鼠", "零食饮料", 129, None),
]
SCENES = ["送女朋友", "送长辈", "打游戏", "上班通勤", "学生党", "跑马拉松", "拍照"]
ATTRIBUTES = ["电池容量", "屏幕尺寸", "重量", "续航", "颜色", "尺码", "保修"]
FAQ = {
    "faq/shipping": (["运费怎么算", "包邮吗", "几天能到货", "发什么快递"], "满99元包邮，一般48小时内发货，2-4天送达。"),
    "faq/return_policy": (["怎么退货", "支持七天无理由退换吗", "拆封了还能退吗"], "支持7天无理由退货，商品完好、配件齐全即可，在订单页申请退货。"),
    "faq/warranty": (["保修多久", "坏了怎么保修"], "手机、电脑等数码产品全国联保一年，凭订单即可保修。"),
    "faq/invoice": (["能开发票吗", "发票怎么开"], "可以开电子发票，下单时填写抬头，发货后发到您的邮箱。"),
    "faq/payment": (["能用花呗吗", "支持分期付款吗"], "支持支付宝、微信、银行卡和花呗分期。"),
}  # fmt: skip
UNCLEAR = ["那个东西咋整啊", "嗯嗯嗯", "就这个呢呢", "还是上次那个吧", "asdfgh", "你们这个那个行不行",
           "有没有那种就是", "？？", "额", "这啥"]  # fmt: skip
HANDOFF = [
    "转人工",
    "我要找人工客服",
    "人工服务",
    "叫你们客服出来",
    "能不能换个真人",
    "找个人工跟我说",
]
THANKS = ["谢谢", "好的谢谢", "谢啦", "明白了，谢谢"]
GOODBYES = ["再见", "拜拜", "先这样吧"]
GREETINGS = ["你好", "在吗", "您好", "hi", "哈喽，有人吗"]
FEEDBACK_DOWN = ["答非所问，太差了", "没用", "听不懂人话"]
FEEDBACK_UP = ["回答得不错👍", "挺好用的"]
GREETING_REPLY = "您好！我是导购助手，想买点什么？可以直接问我价格、参数，也可以让我帮您挑。"
INTENTS = ["search_product", "ask_attribute", "compare_products", "ask_recommendation",
           "ask_stock", "ask_similar", "faq", "order_status", "out_of_scope", "inform"]  # fmt: skip


@dataclass
class _Conversation:
    """One sender's events being written, with the clock of the conversation."""

    sender_id: str
    rng: random.Random
    now: float
    events: list[dict[str, Any]] = field(default_factory=list)
    shown: list[tuple[Any, ...]] = field(default_factory=list)

    def at(self, seconds: float) -> float:
        self.now += seconds
        return round(self.now, 6)

    def add(self, event: dict[str, Any]) -> None:
        self.events.append(event)

    def action(self, name: str, policy: str | None = "RulePolicy") -> None:
        self.add(
            {
                "event": "action",
                "timestamp": self.at(0.01),
                "name": name,
                "policy": policy,
                "confidence": 1.0 if policy else None,
                "action_text": None,
                "hide_rule_turn": False,
            }
        )

    def session_start(self, carried: dict[str, Any]) -> None:
        self.action("action_session_start", policy=None)
        self.add({"event": "session_started", "timestamp": self.at(0.001)})
        for name, value in carried.items():
            self.slot(name, value)
        self.action("action_listen", policy=None)

    def user(
        self,
        text: str,
        intent: str,
        confidence: float,
        entities: Iterable[tuple[str, str, str | None]] = (),
        retrieval: str | None = None,
        ranking: list[tuple[str, float]] | None = None,
    ) -> None:
        message_id = uuid.UUID(int=self.rng.getrandbits(128)).hex
        found = []
        for entity, value, role in entities:
            start = text.find(value)
            if start >= 0:
                found.append(
                    {
                        "entity": entity,
                        "start": start,
                        "end": start + len(value),
                        "confidence_entity": round(self.rng.uniform(0.8, 1.0), 4),
                        "value": value,
                        "extractor": "DIETClassifier",
                    }
                    | ({"role": role} if role else {})
                )
        others = [i for i in INTENTS if i != intent]
        if ranking is None:
            rest = 1.0 - confidence
            ranking = [(intent, confidence)] + [
                (name, round(rest / (2**k), 4))
                for k, name in enumerate(self.rng.sample(others, 3), 1)
            ]
        parse: dict[str, Any] = {
            "intent": {"name": intent, "confidence": confidence},
            "entities": found,
            "text": text,
            "message_id": message_id,
            "metadata": {},
            "intent_ranking": [{"name": n, "confidence": c} for n, c in ranking],
        }
        if retrieval:
            parse["response_selector"] = {
                "all_retrieval_intents": ["faq", "chitchat"],
                "default": {
                    "response": {
                        "responses": [{"text": FAQ[retrieval][1]}],
                        "confidence": round(self.rng.uniform(0.7, 1.0), 4),
                        "intent_response_key": retrieval,
                        "utter_action": f"utter_{retrieval}",
                    },
                    "ranking": [],
                },
            }
        self.add(
            {
                "event": "user",
                "timestamp": self.at(self.rng.uniform(4, 60)),
                "text": text,
                "parse_data": parse,
                "input_channel": "socketio",
                "message_id": message_id,
                "metadata": {},
            }
        )

    def bot(
        self,
        text: str | None,
        skill: str | None = None,
        buttons: Iterable[str] = (),
        products: list[tuple[Any, ...]] | None = None,
        response: str | None = None,
    ) -> None:
        metadata: dict[str, Any] = {}
        if skill:
            metadata["skill"] = skill
        if response:
            metadata["utter_action"] = response
        custom = None
        if products is not None:
            custom = {"type": "products", "items": [_card(p, self.rng) for p in products]}
            self.shown = products
        self.add(
            {
                "event": "bot",
                "timestamp": self.at(self.rng.uniform(0.2, 1.5)),
                "metadata": metadata,
                "text": text,
                "data": {
                    "elements": None,
                    "quick_replies": None,
                    "buttons": [{"title": b, "payload": b} for b in buttons] or None,
                    "attachment": None,
                    "image": None,
                    "custom": custom,
                },
            }
        )

    def slot(self, name: str, value: Any) -> None:
        self.add({"event": "slot", "timestamp": self.at(0.001), "name": name, "value": value})

    def listen(self) -> None:
        self.action("action_listen")


def _card(product: tuple[Any, ...], rng: random.Random) -> dict[str, Any]:
    sku, title, brand, category, price, _colour = product
    return {
        "sku": sku,
        "title": title,
        "brand": brand,
        "category": category,
        "price": float(price),
        "rating": round(rng.uniform(3.8, 5.0), 1),
        "stock": rng.randint(0, 500),
        "image": None,
    }


# -- turns: one shopper message and the bot's answer --------------------------------------------


def _confidence(rng: random.Random) -> float:
    return round(rng.uniform(0.55, 0.999), 4)


def _search(c: _Conversation) -> None:
    rng = c.rng
    category = rng.choice(sorted({p[3] for p in PRODUCTS}))
    matching = [p for p in PRODUCTS if p[3] == category]
    brand = rng.choice(matching)[2] if rng.random() < 0.5 else ""
    budget = rng.choice([None, "一千", "两千", "三千", "5000", "八千"])
    text = rng.choice(
        [
            f"有没有{budget + '以内的' if budget else ''}{brand}{category}",
            f"想买个{brand}{category}",
            f"{brand or '你们'}的{category}有哪些",
            f"看看{category}",
        ]
    )
    entities = [("category", category, None)] + ([("brand", brand, None)] if brand else [])
    if budget:
        entities.append(("price", budget, "max"))
    c.user(text, "search_product", _confidence(rng), entities)
    c.action("action_search_products")
    shown = [p for p in matching if not brand or p[2] == brand][:4]
    c.bot(
        f"为您找到 {len(shown)} 款{category}：",
        skill="action_search_products",
        buttons=["有没有便宜点的", "第一个怎么样"],
        products=shown,
    )
    c.slot("shown_products", [p[0] for p in shown])
    c.slot("last_filters", {"category": category, "brand": brand or None})


def _attribute(c: _Conversation) -> None:
    rng = c.rng
    product = rng.choice(c.shown or PRODUCTS)
    attribute = rng.choice(ATTRIBUTES)
    text = rng.choice(
        [
            f"{product[1]}多少钱",
            f"{product[1]}的{attribute}是多少",
            f"{product[1]}有{product[5] or '小样'}吗",
            f"这款{attribute}怎么样",
        ]
    )
    entities = [("product", product[1], None), ("attribute", attribute, None)]
    c.user(text, "ask_attribute", _confidence(rng), entities)
    c.action("action_answer_attribute")
    c.bot(
        f"{product[1]}的价格是 {product[4]} 元，{attribute}请以详情页参数为准。",
        skill="action_answer_attribute",
        buttons=["有没有类似的", "和别的比比"],
    )
    c.slot("product_focus", product[0])


def _compare(c: _Conversation) -> None:
    rng = c.rng
    first, second = rng.sample(PRODUCTS, 2)
    c.user(
        f"{first[1]}和{second[1]}哪个好",
        "compare_products",
        _confidence(rng),
        [("product", first[1], None), ("product", second[1], None)],
    )
    c.action("action_compare_products")
    cheaper = min(first, second, key=lambda p: p[4])
    c.bot(
        f"{first[1]}（{first[4]}元）和{second[1]}（{second[4]}元）相比：{cheaper[1]}更便宜。",
        skill="action_compare_products",
        products=[first, second],
    )
    c.slot("compare_pair", [first[0], second[0]])


def _recommend(c: _Conversation) -> None:
    rng = c.rng
    category = rng.choice(sorted({p[3] for p in PRODUCTS}))
    scene = rng.choice(SCENES)
    text = rng.choice(
        [f"帮我挑一款{category}", f"{scene}买什么{category}好", f"{scene}，推荐个{category}"]
    )
    c.user(
        text,
        "ask_recommendation",
        _confidence(rng),
        [("category", category, None), ("scene", scene, None)],
    )
    c.action("action_recommend")
    shown = [p for p in PRODUCTS if p[3] == category][:3]
    c.bot(f"{scene}的话，这几款{category}口碑不错：", skill="action_recommend", products=shown)
    c.slot("shown_products", [p[0] for p in shown])


def _stock(c: _Conversation) -> None:
    rng = c.rng
    product = rng.choice(c.shown or PRODUCTS)
    c.user(f"{product[1]}还有货吗", "ask_stock", _confidence(rng), [("product", product[1], None)])
    c.action("action_answer_attribute")
    c.bot(f"{product[1]}有现货，今天下单明天发货。", skill="action_answer_attribute")


def _faq(c: _Conversation) -> None:
    rng = c.rng
    key = rng.choice(sorted(FAQ))
    questions, answer = FAQ[key]
    c.user(rng.choice(questions), "faq", _confidence(rng), retrieval=key)
    c.action("action_answer_faq")
    c.bot(answer, skill="action_answer_faq")


def _order(c: _Conversation) -> None:
    rng = c.rng
    number = "DG" + "".join(rng.choice("0123456789") for _ in range(14))
    c.user(
        f"我的订单{number}到哪了", "order_status", _confidence(rng), [("order_id", number, None)]
    )
    c.action("action_order_status")
    c.bot(
        f"订单 {number}：已发货，顺丰 运单号 SF****1234，预计明天送达。",
        skill="action_order_status",
    )


def _unclear(c: _Conversation) -> None:
    rng = c.rng
    guess = rng.choice(["search_product", "ask_attribute", "out_of_scope"])
    low = round(rng.uniform(0.12, 0.39), 4)
    ranking = [("nlu_fallback", 0.4), (guess, low), ("greet", round(low / 2, 4))]
    c.user(rng.choice(UNCLEAR), "nlu_fallback", 0.4, ranking=ranking)
    c.action("action_default_ask_affirmation")
    c.bot(
        "不好意思，我没太明白您的意思。您是想：",
        skill="action_default_ask_affirmation",
        buttons=["找商品", "问商品的价格或参数"],
    )


def _core_fallback(c: _Conversation) -> None:
    rng = c.rng
    c.user(rng.choice(UNCLEAR), "inform", round(rng.uniform(0.41, 0.6), 4))
    c.action("action_default_fallback")
    c.bot("抱歉，我没听懂，您可以换个说法吗？", response="utter_default")
    c.add({"event": "rewind", "timestamp": c.at(0.001)})


def _handoff(c: _Conversation) -> None:
    rng = c.rng
    c.user(rng.choice(HANDOFF), "request_human", _confidence(rng))
    c.action("action_request_human")
    c.bot(
        "好的，已为您转接人工客服，请稍等，客服上线后会在这里回复您。",
        skill="action_request_human",
    )
    c.add({"event": "pause", "timestamp": c.at(0.001)})


def _feedback(c: _Conversation) -> None:
    rng = c.rng
    negative = rng.random() < 0.6
    c.user(rng.choice(FEEDBACK_DOWN if negative else FEEDBACK_UP), "feedback", _confidence(rng))
    c.action("action_record_feedback")
    c.bot(
        "抱歉没帮上忙，已经记下了，我们会改进。" if negative else "谢谢您的肯定！",
        skill="action_record_feedback",
        buttons=["转人工"] if negative else (),
    )


def _small_talk(c: _Conversation, intent: str, texts: list[str], response: str, reply: str) -> None:
    c.user(c.rng.choice(texts), intent, _confidence(c.rng))
    c.action(response)
    c.bot(reply, response=response)


SHOPPING: list[tuple[Callable[[_Conversation], None], float]] = [
    (_search, 0.30),
    (_attribute, 0.20),
    (_recommend, 0.14),
    (_compare, 0.08),
    (_stock, 0.07),
    (_faq, 0.13),
    (_order, 0.05),
    (_feedback, 0.03),
]


def _session(c: _Conversation, carried: dict[str, Any]) -> None:
    rng = c.rng
    c.session_start(carried)
    if rng.random() < 0.35:
        _small_talk(c, "greet", GREETINGS, "utter_greet", GREETING_REPLY)
        c.listen()
    turns = rng.choices([1, 2, 3, 4, 5], weights=[50, 28, 12, 6, 4])[0]
    steps, weights = zip(*SHOPPING, strict=True)
    for _ in range(turns):
        rng.choices(steps, weights)[0](c)
        c.listen()
    if rng.random() < 0.10:
        _unclear(c)
        c.listen()
    if rng.random() < 0.02:
        _core_fallback(c)
        c.listen()
    if rng.random() < 0.05:
        _handoff(c)
        return
    if rng.random() < 0.2:
        _small_talk(c, "thank", THANKS, "utter_thank", "不客气，能帮到您就好～还有什么想了解的吗？")
        c.listen()


def fake_conversation(sender_id: str, rng: random.Random, start: float) -> list[dict[str, Any]]:
    """One sender's events: one session, sometimes two or three hours or days apart."""
    c = _Conversation(sender_id, rng, start)
    sessions = rng.choices([1, 2, 3], weights=[85, 12, 3])[0]
    for number in range(sessions):
        carried = {}
        if number and c.shown:
            carried = {"shown_products": [p[0] for p in c.shown]}
        _session(c, carried)
        c.now += rng.uniform(2 * 3600, 4 * DAY)
    return c.events


def fake_history(
    conversations: int, *, seed: int = 0, days: float = 60.0, end: float = END
) -> list[tuple[str, dict[str, Any]]]:
    """(sender_id, event) pairs of ``conversations`` senders, in the order Rasa would have
    saved them: by time, conversations interleaved."""
    rng = random.Random(seed)
    saved: list[tuple[float, int, str, dict[str, Any]]] = []
    for _ in range(conversations):
        sender_id = uuid.UUID(int=rng.getrandbits(128)).hex
        start = end - rng.uniform(0, days * DAY)
        for event in fake_conversation(sender_id, rng, start):
            saved.append((event["timestamp"], len(saved), sender_id, event))
    saved.sort(key=lambda item: (item[0], item[1]))
    return [(sender_id, event) for _ts, _n, sender_id, event in saved]


# -- writing ------------------------------------------------------------------------------------


def create_events_table(engine: Engine) -> None:
    """Rasa's ``events`` table, as SQLTrackerStore creates it (if missing)."""
    EVENTS.metadata.create_all(engine, tables=[EVENTS])


def event_row(sender_id: str, event: dict[str, Any]) -> dict[str, Any]:
    """The row SQLTrackerStore (bot/tracker_store.py ``_row``) writes for an event."""
    return {
        "sender_id": sender_id,
        "type_name": event["event"],
        "timestamp": event.get("timestamp"),
        "intent_name": (event.get("parse_data") or {}).get("intent", {}).get("name"),
        "action_name": event.get("name"),
        "data": json.dumps(event),
    }


def append_events(engine: Engine, events: Iterable[tuple[str, dict[str, Any]]]) -> int:
    """Appends (sender_id, event) pairs in order, as Rasa would; the number written."""
    rows = [event_row(sender_id, event) for sender_id, event in events]
    with engine.begin() as conn:
        for start in range(0, len(rows), 5000):
            conn.execute(EVENTS.insert(), rows[start : start + 5000])
    return len(rows)


def fill_tracker(engine: Engine, conversations: int, *, seed: int = 0, days: float = 60.0) -> int:
    """Creates the events table if needed and appends ``conversations`` fake conversations."""
    create_events_table(engine)
    return append_events(engine, fake_history(conversations, seed=seed, days=days))


# -- measuring ------------------------------------------------------------------------------------


def _timed(
    call: Callable[[], Any], runs: int, before: Callable[[], Any] = lambda: None
) -> tuple[float, float]:
    """p50 and p95 in ms of ``call`` (after ``before``, untimed), after 2 warm-up calls."""
    for _ in range(2):
        before()
        call()
    times = []
    for _ in range(runs):
        before()
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(round(0.95 * len(times))) - 1)]


def measure(
    tracker_url: str, index_url: str, conversations: int, runs: int = 40, seed: int = 0
) -> list[tuple[str, float, float]]:
    """Fills an empty tracker database, builds the index and times the console's requests."""
    from web.review.tracker import ConversationIndex, ConversationQuery

    engine = sa.create_engine(tracker_url)
    started = time.perf_counter()
    history = fake_history(conversations, seed=seed)
    create_events_table(engine)
    written = append_events(engine, history)
    filled = time.perf_counter() - started
    index = ConversationIndex(tracker_url, index_url)
    started = time.perf_counter()
    index.catch_up()
    built = time.perf_counter() - started
    sessions = index.conversations(ConversationQuery(per="session", limit=0)).total
    print(
        f"{conversations} conversations, {sessions} sessions, {written} events: "
        f"filled in {filled:.1f} s, index built in {built:.1f} s"
    )
    mid = END - 30 * DAY
    queries = {
        "list, newest first": ConversationQuery(),
        "list, page 50": ConversationQuery(offset=1000),
        "list per session": ConversationQuery(per="session"),
        "date range (7 days)": ConversationQuery(since=mid, until=mid + 7 * DAY),
        "intent = request_human": ConversationQuery(intent="request_human"),
        "intent = faq (+ faq/...)": ConversationQuery(intent="faq"),
        "fallback": ConversationQuery(fallback=True),
        "confidence below 0.3": ConversationQuery(confidence_below=0.3),
        "handoff": ConversationQuery(handoff=True),
        "search 「耳机」 (2 chars)": ConversationQuery(text="耳机"),
        "search 「退」 (1 char)": ConversationQuery(text="退"),
        "search 「七天无理由退换」": ConversationQuery(text="七天无理由退换"),
        "search 「送女朋友买什么手机好」": ConversationQuery(text="送女朋友买什么手机好"),
        "search 「华为 耳机」 (2 terms)": ConversationQuery(text="华为 耳机"),
        "search 「mate60」, shopper only": ConversationQuery(text="mate60", search_in="shopper"),
        "search 「耳机」 + fallback + 7 days": ConversationQuery(
            text="耳机", fallback=True, since=mid, until=mid + 7 * DAY
        ),
    }
    results = []
    for name, query in queries.items():
        total = index.conversations(query).total
        p50, p95 = _timed(lambda q=query: index.conversations(q), runs)
        results.append((f"{name} [{total} hits]", p50, p95))
    rng = random.Random(seed + 1)
    senders = sorted({sender_id for sender_id, _event in history})
    p50, p95 = _timed(lambda: index.transcript(rng.choice(senders)), runs)
    results.append(("transcript of one sender", p50, p95))
    more = fake_history(runs * 3, seed=seed + 2, end=END + 2 * DAY)
    chunks = iter([more[i : i + 20] for i in range(0, len(more), 20)])

    p50, p95 = _timed(
        lambda: index.conversations(ConversationQuery()),
        runs,
        before=lambda: append_events(engine, next(chunks, [])),
    )
    results.append(("list after 20 new events (catch-up included)", p50, p95))
    for name, p50, p95 in results:
        print(f"  {name:58s} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms")
    index.dispose()
    engine.dispose()
    return results


def _main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--tracker-url", help="an empty database (default: a temporary SQLite file)"
    )
    parser.add_argument("--index-url", help="the index database (default: a temporary SQLite file)")
    parser.add_argument("--measure", action="store_true", help="time the console's requests")
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        tracker_url = args.tracker_url or f"sqlite:///{Path(scratch) / 'tracker.db'}"
        index_url = args.index_url or f"sqlite:///{Path(scratch) / 'review_index.db'}"
        if args.measure:
            measure(tracker_url, index_url, args.conversations, args.runs, args.seed)
        else:
            written = fill_tracker(
                sa.create_engine(tracker_url), args.conversations, seed=args.seed
            )
            print(f"{written} events written to {tracker_url}")


if __name__ == "__main__":
    _main()
