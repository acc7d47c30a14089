"""The handoff queue and what a waiting shopper hears (knowledge_graph/handoff.py), with an
injected clock and a recording channel instead of Rasa."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from actions.formatting import CARD_FIELDS
from knowledge_graph import handoff as h
from knowledge_graph.handoff import (
    HandoffConflict,
    HandoffQueue,
    Holding,
    ServiceHours,
    ShopperMessage,
)

# 10:00 in Beijing (02:00 UTC): inside 09:00-21:00.
T0 = datetime(2026, 12, 5, 2, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class Recorder:
    """A Channel that remembers what the shopper would hear."""

    def __init__(self) -> None:
        self.said: list[tuple[str, str, tuple]] = []
        self.resumed: list[str] = []
        self.notices: list[dict] = []

    def say(self, sender_id, text, buttons=()):
        self.said.append((sender_id, text, tuple(b["title"] for b in buttons)))

    def resume(self, sender_id):
        self.resumed.append(sender_id)

    def notify(self, payload):
        self.notices.append(payload)


@pytest.fixture()
def clock() -> Clock:
    return Clock()


@pytest.fixture()
def queue(mini_store, clock) -> HandoffQueue:
    return HandoffQueue(mini_store, clock)


@pytest.fixture()
def channel() -> Recorder:
    return Recorder()


def holding(queue, channel, hours="09:00-21:00", wait=180) -> Holding:
    return Holding(queue, channel, wait_seconds=wait, hours=ServiceHours.parse(hours))


class Messages:
    """Shopper messages with increasing event ids, as Rasa's tracker table has them."""

    def __init__(self, clock: Clock) -> None:
        self.clock, self.next_id = clock, 100

    def __call__(self, *texts: str) -> list[ShopperMessage]:
        out = []
        for text in texts:
            self.next_id += 1
            out.append(ShopperMessage(self.next_id, text, self.clock()))
        return out


def test_one_open_request_per_shopper(queue):
    first = queue.request("alice", "转人工")
    assert first.status == h.WAITING and first.requested_at == T0
    assert queue.request("alice", "人呢").id == first.id
    assert queue.request("bob").id != first.id
    assert [r.sender_id for r in queue.open_requests()] == ["alice", "bob"]
    assert queue.positions() == {first.id: 1, first.id + 1: 2}


def test_take_release_and_the_states(queue):
    record = queue.request("alice")
    taken = queue.take(record.id, "wang")
    assert (taken.status, taken.taken_by, taken.taken_at) == (h.ACTIVE, "wang", T0)
    assert queue.take(record.id, "wang").taken_by == "wang"  # a second click changes nothing
    with pytest.raises(HandoffConflict) as other:
        queue.take(record.id, "li")
    assert other.value.record.taken_by == "wang" and "wang" in other.value.message
    with pytest.raises(HandoffConflict):
        queue.release(record.id, "li")  # only the owner
    closed = queue.release(record.id, "wang")
    assert (closed.status, closed.closed_by) == (h.CLOSED, "wang")
    with pytest.raises(HandoffConflict):
        queue.take(record.id, "li")  # closed
    assert queue.request("alice").id != record.id  # a new request afterwards


def test_two_staff_take_at_once_one_wins(queue):
    """Many threads (two staff members on two web app replicas, many times over) race for each
    request: exactly one owner, and everyone else is told who it is."""
    for round_ in range(5):
        record = queue.request(f"shopper-{round_}")
        barrier = threading.Barrier(6)
        won, lost = [], []

        def try_take(name: str, record=record, barrier=barrier, won=won, lost=lost) -> None:
            barrier.wait()
            try:
                won.append(queue.take(record.id, name).taken_by)
            except HandoffConflict as exc:
                lost.append(exc.record.taken_by)

        threads = [threading.Thread(target=try_take, args=(f"staff{i}",)) for i in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        owner = queue.get(record.id).taken_by
        assert won == [owner] and lost == [owner] * 5


def test_acknowledged_once_with_place_and_wait(queue, channel, clock):
    says = Messages(clock)
    hold = holding(queue, channel)
    queue.request("first")
    record = queue.request("alice", "转人工")
    hold.step(record)  # nothing typed yet: nothing said
    assert channel.said == []
    hold.step(queue.get(record.id), says("屏幕碎了能修吗"))
    hold.step(queue.get(record.id), says("在吗", "人呢"))
    assert channel.said == [
        (
            "alice",
            "已收到，您前面还有 1 位，预计等待约 3 分钟，请稍候，客服接入后会第一时间回复您。",
            (),
        )
    ]
    record = queue.get(record.id)
    assert record.acknowledged and record.last_shopper_text == "人呢"
    assert record.last_event_id == says.next_id


def test_first_in_line_and_recent_handling_time(queue, channel, clock):
    says = Messages(clock)
    done = queue.request("earlier")
    queue.take(done.id, "wang")
    clock.advance(60)
    queue.release(done.id, "wang")  # handled in one minute
    record = queue.request("alice")
    holding(queue, channel).step(record, says("你好"))
    assert "您已排在第一位，预计等待约 1 分钟" in channel.said[0][1]


def test_messages_are_handled_once_across_replicas(queue, mini_store, clock):
    """Two replicas step the same request with the same new messages: one acknowledges."""
    says = Messages(clock)
    one, two = Recorder(), Recorder()
    record = queue.request("alice")
    messages = says("在吗")
    holding(queue, one).step(record, messages)
    holding(HandoffQueue(mini_store, clock), two).step(record, messages)  # stale record
    assert len(one.said) + len(two.said) == 1


def test_expiry_offers_a_message_or_the_bot(queue, channel, clock):
    says = Messages(clock)
    hold = holding(queue, channel, wait=180)
    record = queue.request("alice")
    clock.advance(179)
    hold.step(queue.get(record.id))
    assert queue.get(record.id).status == h.WAITING
    clock.advance(1)
    hold.step(queue.get(record.id))
    hold.step(queue.get(record.id))  # said once
    assert queue.get(record.id).status == h.EXPIRED
    assert len(channel.said) == 1
    _, text, buttons = channel.said[0]
    assert "客服暂时都在忙" in text and buttons == (h.LEAVE_MESSAGE, h.BACK_TO_BOT)

    # something else than a choice: reminded of the two
    hold.step(queue.get(record.id), says("还要多久"))
    assert channel.said[-1][2] == (h.LEAVE_MESSAGE, h.BACK_TO_BOT)
    # 留言给客服, then the message itself
    hold.step(queue.get(record.id), says(h.LEAVE_MESSAGE))
    assert channel.said[-1][1] == h.LEAVE_PROMPT_TEXT and channel.resumed == []
    hold.step(queue.get(record.id), says("屏幕碎了，请回电 13800138000"))
    left = queue.get(record.id)
    assert left.status == h.LEFT_MESSAGE and left.left_message == "屏幕碎了，请回电 13800138000"
    assert channel.said[-1][1].startswith("留言已收到，客服上班后会联系您")
    assert channel.resumed == ["alice"]
    assert [n["type"] for n in channel.notices] == ["request", "left_message"]
    assert channel.notices[-1]["text"] == "屏幕碎了，请回电 13800138000"
    assert queue.list(["left_message"])[1] == 1
    # the bot answers again: nothing more from the holding side
    hold.step(left, says("你好"))
    assert channel.said[-1][1].startswith("留言已收到")


def test_back_to_the_bot_at_once(queue, channel, clock):
    says = Messages(clock)
    hold = holding(queue, channel, wait=10)
    record = queue.request("alice")
    clock.advance(11)
    hold.step(queue.get(record.id))
    hold.step(queue.get(record.id), says(h.BACK_TO_BOT))
    assert queue.get(record.id).status == h.CLOSED
    assert channel.resumed == ["alice"] and channel.said[-1][1] == h.BACK_TO_BOT_TEXT
    # while still waiting it works too
    other = queue.request("bob")
    hold.step(other, says(h.BACK_TO_BOT))
    assert queue.get(other.id).status == h.CLOSED and channel.resumed == ["alice", "bob"]


@pytest.mark.parametrize(
    ("utc", "open_"),
    [
        (datetime(2026, 12, 5, 0, 59, tzinfo=UTC), False),  # 08:59 in Beijing
        (datetime(2026, 12, 5, 1, 0, tzinfo=UTC), True),  # 09:00
        (datetime(2026, 12, 5, 12, 59, tzinfo=UTC), True),  # 20:59
        (datetime(2026, 12, 5, 13, 0, tzinfo=UTC), False),  # 21:00
    ],
)
def test_service_hours_in_shop_time(utc, open_):
    assert ServiceHours.parse("09:00-21:00").is_open(utc) is open_


def test_service_hours_past_midnight_and_unset():
    night = ServiceHours.parse("22:00-06:00")
    assert night.is_open(datetime(2026, 12, 5, 15, 0, tzinfo=UTC))  # 23:00
    assert not night.is_open(datetime(2026, 12, 5, 4, 0, tzinfo=UTC))  # 12:00
    assert ServiceHours.parse("") is None
    with pytest.raises(ValueError):
        ServiceHours.parse("9点到21点")


def test_outside_service_hours_says_so_at_once(queue, channel, mini_store):
    night = Clock(datetime(2026, 12, 5, 15, 30, tzinfo=UTC))  # 23:30 in Beijing
    late = HandoffQueue(mini_store, night)
    record = late.request("alice")
    holding(late, channel).step(record)
    assert late.get(record.id).status == h.EXPIRED
    assert late.get(record.id).expired_reason == "closed_hours"
    _, text, buttons = channel.said[0]
    assert "09:00-21:00" in text and buttons == (h.LEAVE_MESSAGE, h.BACK_TO_BOT)


def test_staff_can_take_an_expired_request(queue, channel, clock):
    record = queue.request("alice")
    clock.advance(500)
    holding(queue, channel).step(record)
    assert queue.take(record.id, "wang").status == h.ACTIVE


def test_active_conversation_gets_no_holding_messages(queue, channel, clock):
    says = Messages(clock)
    record = queue.request("alice")
    queue.take(record.id, "wang")
    clock.advance(10_000)
    holding(queue, channel).step(queue.get(record.id), says("你好", "在吗"))
    assert channel.said == [] and queue.get(record.id).last_shopper_text == "在吗"


def test_rating_once_for_the_latest_released(queue):
    with pytest.raises(h.HandoffNotFound):
        queue.rate("alice", 5)
    record = queue.request("alice")
    queue.take(record.id, "wang")
    queue.release(record.id, "wang")
    with pytest.raises(ValueError):
        queue.rate("alice", 6)
    assert queue.rate("alice", 4).rating == 4
    with pytest.raises(HandoffConflict):
        queue.rate("alice", 5)


def test_product_card_is_the_actions_card(mini_store):
    assert h.CARD_FIELDS == CARD_FIELDS
    product = mini_store.list_products(limit=1).items[0]
    message = h.product_message(product)
    assert message["custom"]["type"] == "products"
    assert message["custom"]["items"] == [{f: getattr(product, f) for f in CARD_FIELDS}]


def test_canned_replies(mini_store):
    reply = h.add_canned_reply(mini_store, "问候", "您好，请问有什么可以帮您？", "wang")
    assert [r.title for r in h.canned_replies(mini_store)] == ["问候"]
    assert h.delete_canned_reply(mini_store, reply.id)
    assert not h.delete_canned_reply(mini_store, reply.id)
    assert h.canned_replies(mini_store) == []
