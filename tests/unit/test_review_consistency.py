"""The index's summaries and search compared with a plain reading of every transcript, on the
seeded fake shop history (web/review/fake_history.py), with the index kept in step while Rasa
appends: two implementations that share only the event-name constants must agree."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from web.review.events import fold
from web.review.fake_history import append_events, create_events_table, fake_history
from web.review.tracker import ConversationIndex, ConversationQuery
from web.review.transcript import Transcript, Turn, build_transcript


def expected_summary(turns: tuple[Turn, ...]) -> dict[str, Any]:
    said = [t.shopper for t in turns if t.shopper is not None]
    bot = [m for t in turns for m in t.bot]
    times = [m.at for m in said] + [m.at for m in bot]
    confidences = [m.classifier_confidence for m in said if m.classifier_confidence is not None]
    return {
        "shopper_messages": len(said),
        "bot_messages": len(bot),
        "intents": tuple(sorted({m.intent for m in said if m.intent})),
        "min_confidence": min(confidences) if confidences else None,
        "fallback": any(t.fallback for t in turns),
        "handoff": any(t.handoff for t in turns),
        "last_shopper_message": said[-1].text if said else None,
        "first_at": min(times),
        "last_at": max(times),
    }


def texts(turns: tuple[Turn, ...], role: str) -> list[str]:
    if role == "shopper":
        return [t.shopper.text for t in turns if t.shopper is not None]
    return [m.text for t in turns for m in t.bot if m.text]


def matches(transcript_turns: tuple[Turn, ...], query: str, search_in: str) -> bool:
    roles = ("shopper", "bot") if search_in == "all" else (search_in,)
    said = [fold(text) for role in roles for text in texts(transcript_turns, role)]
    return all(any(term in text for text in said) for term in map(fold, query.split()))


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    """150 fake conversations appended in 7 pieces, the index catching up (in batches of 97
    events) after each: the index as a running console would have it."""
    folder = tmp_path_factory.mktemp("shop")
    rasa = sa.create_engine(f"sqlite:///{folder / 'tracker.db'}")
    create_events_table(rasa)
    history = fake_history(150, seed=7)
    index = ConversationIndex(
        f"sqlite:///{folder / 'tracker.db'}", f"sqlite:///{folder / 'ix.db'}", batch_size=97
    )
    step = len(history) // 7 + 1
    for start in range(0, len(history), step):
        append_events(rasa, history[start : start + step])
        index.catch_up()
    transcripts: dict[str, Transcript] = {}
    events: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for event_id, (sender, event) in enumerate(history, start=1):
        events.setdefault(sender, []).append((event_id, event))
    for sender, own in events.items():
        transcripts[sender] = build_transcript(sender, own)
    yield index, transcripts
    index.dispose()
    rasa.dispose()


def test_every_summary_matches_its_transcript(shop):
    index, transcripts = shop
    senders = index.conversations(ConversationQuery(limit=100, offset=0))
    assert senders.total == len(transcripts) == 150
    everyone = [
        item
        for offset in range(0, 150, 100)
        for item in index.conversations(ConversationQuery(offset=offset, limit=100)).items
    ]
    assert len({item.sender_id for item in everyone}) == 150
    for item in everyone:
        transcript = transcripts[item.sender_id]
        got = {key: getattr(item, key) for key in expected_summary(transcript.turns)}
        assert got == expected_summary(transcript.turns), item.sender_id
        assert item.sessions == len(transcript.sessions)
    sessions = index.conversations(ConversationQuery(per="session", limit=100))
    assert sessions.total == sum(len(t.sessions) for t in transcripts.values())
    assert sessions.total > 150  # some shoppers came back
    for offset in range(0, sessions.total, 100):
        page = index.conversations(ConversationQuery(per="session", offset=offset, limit=100))
        for item in page.items:
            (session,) = [
                s for s in transcripts[item.sender_id].sessions if s.session_id == item.session_id
            ]
            got = {key: getattr(item, key) for key in expected_summary(session.turns)}
            assert got == expected_summary(session.turns)
            assert item.session_number == session.number


def test_the_fake_shop_has_what_the_console_looks_for(shop):
    index, _ = shop
    count = {
        name: index.conversations(ConversationQuery(limit=0, **query)).total
        for name, query in {
            "fallback": {"fallback": True},
            "handoff": {"handoff": True},
            "faq": {"intent": "faq"},
            "unsure": {"confidence_below": 0.4},
        }.items()
    }
    assert all(0 < n < 150 for n in count.values()), count


@pytest.mark.parametrize(
    "text",
    ["耳机", "退", "华为", "七天无理由", "送女朋友", "华为 手机", "mate60", "转人工", "包邮"],
)
@pytest.mark.parametrize("search_in", ["all", "shopper", "bot"])
def test_search_finds_what_reading_every_transcript_finds(shop, text, search_in):
    index, transcripts = shop
    found = set()
    for offset in range(0, 150, 100):
        page = index.conversations(
            ConversationQuery(text=text, search_in=search_in, offset=offset, limit=100)
        )
        found |= {item.sender_id for item in page.items}
        for item in page.items:
            assert item.matches and all(
                any(fold(term) in fold(m.text) for term in text.split()) for m in item.matches
            )
            if search_in != "all":
                assert {m.role for m in item.matches} == {search_in}
    expected = {s for s, t in transcripts.items() if matches(t.turns, text, search_in)}
    assert found == expected
    assert page.total == len(expected)
