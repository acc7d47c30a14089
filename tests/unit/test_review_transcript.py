"""One conversation for the staff console (web/review/transcript.py): exact turns, the actions
after each message, bot messages with buttons, product cards and the answering skill, and the
slots at each turn, replayed as Rasa applies events."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from tests.unit.test_review_tracker import EARPHONES, PHONES, T0, at, known_history
from web.review.fake_history import append_events, create_events_table
from web.review.tracker import ConversationIndex
from web.review.transcript import (
    Button,
    Entity,
    IntentScore,
    build_transcript,
    read_transcript,
)

DAY = 86_400.0


@pytest.fixture()
def tracker(tmp_path) -> Iterator[sa.Engine]:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'tracker.db'}")
    create_events_table(engine)
    append_events(engine, known_history())
    yield engine
    engine.dispose()


def session_ids(engine: sa.Engine, sender: str) -> list[int]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                sa.text(
                    "select id from events where sender_id = :s and type_name = 'session_started'"
                    " order by id"
                ),
                {"s": sender},
            ).scalars()
        )


def test_turns_of_a_search_with_entities_products_skill_and_slots(tracker):
    transcript = read_transcript(tracker, "alice")
    assert transcript is not None
    first, second = session_ids(tracker, "alice")
    assert [(s.session_id, s.number) for s in transcript.sessions] == [(first, 1), (second, 2)]
    session = transcript.sessions[0]
    assert session.started_at == at(T0 + 0.001)
    assert [t.index for t in session.turns] == [1, 2]  # no bot message before the first

    search, price = session.turns
    shopper = search.shopper
    assert shopper is not None
    assert (shopper.text, shopper.intent, shopper.confidence) == (
        "有没有三千以内的华为手机", "search_product", 0.91,
    )  # fmt: skip
    assert shopper.at == at(T0 + 10)
    assert (shopper.classifier_confidence, shopper.fallback, shopper.reverted) == (
        0.91,
        False,
        False,
    )
    assert shopper.ranking == (IntentScore("search_product", 0.91),)
    assert shopper.entities == (
        Entity("price", "三千", 3, 5, role="max", extractor="ChinesePriceExtractor"),
        Entity("brand", "华为", 8, 10, extractor="DIETClassifier", confidence=0.99),
        Entity("category", "手机", 10, 12, extractor="DIETClassifier", confidence=0.98),
    )
    assert shopper.input_channel == "socketio"
    assert [(a.name, a.policy, a.confidence) for a in search.actions] == [
        ("action_search_products", "RulePolicy", 1.0)
    ]
    (reply,) = search.bot
    assert (reply.text, reply.skill, reply.response) == (
        "为您找到 2 款华为手机：", "action_search_products", None,
    )  # fmt: skip
    assert reply.buttons == (
        Button("有没有便宜点的", "有没有便宜点的"),
        Button("第一个怎么样", "第一个怎么样"),
    )
    assert reply.custom == PHONES
    assert [p["sku"] for p in reply.products] == ["HW-M60P", "HW-P70"]
    assert search.slots == {
        "shown_products": ["HW-M60P", "HW-P70"],
        "last_filters": {"brand": "华为", "category": "手机"},
    }
    assert search.slot_changes == search.slots
    assert (search.fallback, search.handoff, search.active_loop) == (False, False, None)

    assert price.shopper is not None and price.shopper.text == "Mate60 Pro 多少钱"
    assert [a.name for a in price.actions] == ["action_answer_attribute"]
    assert price.bot[0].products == () and price.bot[0].buttons == ()
    assert price.slot_changes == {"product_focus": "HW-M60P"}
    assert price.slots == search.slots | {"product_focus": "HW-M60P"}


def test_a_new_session_starts_from_the_carried_slots_with_fallback_and_handoff(tracker):
    transcript = read_transcript(tracker, "alice")
    assert transcript is not None
    unclear, handoff = transcript.sessions[1].turns
    # session_started cleared the slots; shown_products was carried over, product_focus not
    assert unclear.slots == {"shown_products": ["HW-M60P", "HW-P70"]}
    assert unclear.slot_changes == {}
    assert unclear.shopper is not None
    assert (unclear.shopper.intent, unclear.shopper.confidence) == ("nlu_fallback", 0.4)
    assert unclear.shopper.classifier_confidence == 0.23
    assert unclear.shopper.ranking[:2] == (
        IntentScore("nlu_fallback", 0.4), IntentScore("ask_attribute", 0.23),
    )  # fmt: skip
    assert (unclear.fallback, unclear.handoff) == (True, False)
    assert unclear.bot[0].skill == "action_default_ask_affirmation"
    assert [b.title for b in unclear.bot[0].buttons] == ["找商品", "转人工客服"]
    assert (handoff.fallback, handoff.handoff) == (False, True)
    assert [a.name for a in handoff.actions] == ["action_request_human"]
    assert handoff.bot[0].skill == "action_request_human"
    assert [t.index for t in transcript.turns] == [1, 2, 1, 2]


def test_a_reverted_message_and_its_slots_are_undone(tracker):
    transcript = read_transcript(tracker, "carol")
    assert transcript is not None
    recommend, unclear, thanks = transcript.sessions[0].turns
    assert recommend.bot[0].custom == EARPHONES and recommend.bot[0].skill == "action_recommend"
    assert recommend.slots == {"shown_products": ["SN-XM5"]}
    # RulePolicy's core fallback: utter_default, then a rewind of the message and its slots
    assert unclear.shopper is not None and unclear.shopper.reverted
    assert [a.name for a in unclear.actions] == ["action_default_fallback"]
    assert unclear.bot[0].response == "utter_default" and unclear.bot[0].skill is None
    assert unclear.slot_changes == {"need_category": "耳机"}  # what happened in the turn
    assert unclear.slots == {"shown_products": ["SN-XM5"]}  # what stood after it
    assert (unclear.fallback, unclear.handoff) == (True, False)
    assert thanks.shopper is not None and not thanks.shopper.reverted
    assert [a.name for a in thanks.actions] == ["utter_thank"]
    assert thanks.slots == {"shown_products": ["SN-XM5"]}


def test_retrieval_intents_greeting_turns_and_one_session(tracker):
    bob = read_transcript(tracker, "bob")
    assert bob is not None
    greet, faq = bob.sessions[0].turns
    assert greet.bot[0].response == "utter_greet" and greet.bot[0].skill is None
    assert faq.shopper is not None and faq.shopper.intent == "faq/shipping"
    dave = read_transcript(tracker, "dave")
    assert dave is not None
    opening, search = dave.sessions[0].turns
    assert (opening.index, opening.shopper, opening.actions) == (0, None, ())
    assert [m.text for m in opening.bot] == ["您好！想买点什么？"]
    assert search.index == 1 and search.bot[0].products == tuple(EARPHONES["items"])
    first, second = session_ids(tracker, "alice")
    only = read_transcript(tracker, "alice", second)
    assert only is not None
    assert [(s.session_id, s.number, len(s.turns)) for s in only.sessions] == [(second, 2, 2)]
    assert read_transcript(tracker, "alice", 10**9) is None
    assert read_transcript(tracker, "bob", second) is None  # alice's session
    assert read_transcript(tracker, "erin") is None  # a session without a message
    assert read_transcript(tracker, "nobody") is None


def test_the_index_and_the_transcript_agree_on_sessions(tracker, tmp_path):
    index = ConversationIndex(tracker, f"sqlite:///{tmp_path / 'ix.db'}")
    for sender in ("alice", "bob", "carol", "dave"):
        transcript = index.transcript(sender)
        assert transcript is not None
        for session in transcript.sessions:
            summary = index.summary(sender, session.session_id)
            assert summary is not None and summary.session_number == session.number
    index.dispose()


def _events(*kinds: tuple[str, dict[str, Any]]) -> list[tuple[int, dict[str, Any]]]:
    return [
        (i, {"event": kind, "timestamp": T0 + i} | body) for i, (kind, body) in enumerate(kinds, 1)
    ]


def test_slots_follow_resets_restarts_undo_and_forms():
    user = ("user", {"text": "hi", "parse_data": {"intent": {"name": "greet", "confidence": 1.0}}})
    listen = ("action", {"name": "action_listen"})
    transcript = build_transcript(
        "x",
        _events(
            listen,
            user,
            ("action", {"name": "needs_form"}),
            ("active_loop", {"name": "needs_form"}),
            ("slot", {"name": "need_category", "value": "手机"}),
            ("slot", {"name": "requested_slot", "value": "need_budget"}),
            listen,
            user,
            ("action", {"name": "action_x"}),
            ("slot", {"name": "need_budget", "value": "3000"}),
            ("undo", {}),  # ActionReverted: back to before action_x
            listen,
            user,
            ("reset_slots", {}),
            ("slot", {"name": "need_scene", "value": "打游戏"}),
            ("active_loop", {"name": None}),
            listen,
            user,
            ("restart", {}),
            ("bot", {"text": "重新开始", "data": {}, "metadata": {}}),
        ),
    )
    form, undone, reset, restarted = transcript.sessions[0].turns
    assert form.slots == {"need_category": "手机", "requested_slot": "need_budget"}
    assert form.active_loop == "needs_form"
    assert undone.slot_changes == {"need_budget": "3000"}
    assert undone.slots == form.slots  # undone by ActionReverted
    assert (reset.slots, reset.active_loop) == ({"need_scene": "打游戏"}, None)
    assert (restarted.slots, restarted.active_loop) == ({}, None)
    assert [m.text for m in restarted.bot] == ["重新开始"]
    # a slot set to None is unset: left out of the slots, kept in the changes
    cleared = build_transcript(
        "y",
        _events(
            user,
            ("slot", {"name": "product_focus", "value": "A"}),
            listen,
            user,
            ("slot", {"name": "product_focus", "value": None}),
        ),
    )
    assert [t.slots for t in cleared.turns] == [{"product_focus": "A"}, {}]
    assert cleared.turns[1].slot_changes == {"product_focus": None}


def test_sessions_without_session_started_and_empty_sessions():
    """With sessions off, Rasa logs no session_started: the first event starts the session."""
    bot = ("bot", {"text": "您好", "data": {}, "metadata": {}})
    transcript = build_transcript(
        "z",
        _events(
            bot,
            ("action", {"name": "action_session_start"}),
            ("session_started", {}),
            ("action", {"name": "action_listen"}),
            ("action", {"name": "action_session_start"}),
            ("session_started", {}),
            bot,
        ),
    )
    assert [(s.session_id, s.number) for s in transcript.sessions] == [(1, 1), (6, 2)]
    assert read_transcript.__doc__  # keeps the public function documented
