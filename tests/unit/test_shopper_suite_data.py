"""The shopper conversation suite's files (tests/shopper_suite/*.yml), offline, against the seed
catalog built in memory: sizes, known keys, every product reference real, expectations that can
hold in this catalog; and the checker itself on made-up replies."""

from __future__ import annotations

from collections import Counter

import pytest

from actions.formatting import yuan
from tests import shopper_suite as suite

MIN_CONVERSATIONS = 200
MIN_PER_CLASS = 24


@pytest.fixture(scope="module")
def graph():
    return suite.seed_graph()


@pytest.fixture(scope="module")
def conversations():
    return suite.load_suite()


def test_every_class_has_its_file_and_enough_conversations(conversations):
    assert {p.stem for p in suite.SUITE_DIR.glob("*.yml")} == set(suite.CLASSES)
    counts = Counter(c.cls for c in conversations)
    assert len(conversations) >= MIN_CONVERSATIONS, counts
    small = {cls: counts[cls] for cls in suite.CLASSES if counts[cls] < MIN_PER_CLASS}
    assert not small, f"classes under {MIN_PER_CLASS} conversations: {small}"


def test_conversations_are_multi_turn_on_the_whole(conversations):
    turns = sum(len(c.turns) for c in conversations)
    assert turns >= 1.5 * len(conversations)


def test_suite_is_valid_against_the_catalog(conversations, graph):
    problems = suite.validate(conversations, graph)
    assert not problems, "\n".join(problems[:40])


def test_sample_is_stratified_and_fixed(conversations):
    sample = suite.stratified_sample(conversations, 3)
    assert Counter(c.cls for c in sample) == dict.fromkeys(suite.CLASSES, 3)
    again = suite.stratified_sample(list(reversed(conversations)), 3)
    assert [c.name for c in again] == [c.name for c in sample]


# -- the checker on made-up replies -------------------------------------------------------


def _cards(graph, *skus):
    items = [
        {k: getattr(graph.products[s], k) for k in ("sku", "title", "brand", "category", "price")}
        for s in skus
    ]
    return {"custom": {"type": "products", "items": items}}


def _check(graph, expect, replies, history=None):
    return suite.check_turn(graph, expect, suite.read_reply(replies), history)


def test_empty_and_generic_replies_fail_every_turn(graph):
    assert _check(graph, {}, []) == ["empty reply"]
    problems = _check(graph, {}, [{"text": "不好意思，我没太理解，您可以换个说法再说一次吗？"}])
    assert any("generic fallback" in p for p in problems)
    assert not _check(graph, {"fallback_ok": True}, [{"text": "不好意思，我没太理解"}])


def test_the_same_card_twice_fails(graph):
    problems = _check(graph, {}, [_cards(graph, "PH-XM-XIAOMI14-256", "PH-XM-XIAOMI14-256")])
    assert any("twice" in p for p in problems)


def test_card_constraints_and_prices(graph):
    film = "AC-SM-FILM-S24ULTRA"
    expect = {
        "first_sku": film,
        "cards": {"kind": "贴膜", "related_to": "PH-SS-S24ULTRA-512"},
        "says_price": film,
    }
    price = yuan(graph.products[film].price)
    assert not _check(graph, expect, [{"text": f"这款膜{price}"}, _cards(graph, film)])
    phone = [{"text": "为您找到"}, _cards(graph, "PH-SS-S24ULTRA-256")]
    assert len(_check(graph, expect, phone)) == 3  # not first, not a film, no price


def test_list_references_follow_what_was_shown(graph):
    history = suite.History()
    shown = ["PH-RM-K70-256", "PH-RM-R13C5G-128", "PH-HN-HONORX50-128"]
    history.update(suite.read_reply([_cards(graph, *shown)]))
    cheapest = min(shown, key=lambda s: graph.products[s].price)
    assert suite.resolve(graph, "@list.cheapest", history) == {cheapest}
    assert suite.resolve(graph, "@list[2]", history) == {shown[1]}
    longest = suite.resolve(graph, "@list.max:续航", history)  # 电池容量 on a phone
    assert longest == {"PH-HN-HONORX50-128"}
    assert not _check(graph, {"picks": "@list.cheapest"}, [_cards(graph, cheapest)], history)
    named = [{"text": f"最便宜的是{graph.products[cheapest].model}"}]
    assert not _check(graph, {"picks": "@list.cheapest"}, named, history)
    with pytest.raises(suite.RefError):
        suite.resolve(graph, "@list[1]", suite.History())


def test_totals_and_differences_are_the_catalogs(graph):
    a, b = "FD-MN-MNTELUNSU", "FD-YILI-YILIJINDIAN"
    gap = yuan(abs(graph.products[a].price - graph.products[b].price))
    assert not _check(graph, {"says_difference": [a, b]}, [{"text": f"差{gap}"}])
    assert _check(graph, {"says_difference": [a, b]}, [{"text": "差不多"}])
    phone, case = "PH-XM-XIAOMI15-256", "AC-XM-OCASE-XIAOMI15"
    total = yuan(graph.products[phone].price + graph.products[case].price)
    replies = [{"text": f"一共{total}"}, _cards(graph, phone, case)]
    assert not _check(graph, {"says_cards_total": True, "says_total": [phone, case]}, replies)


def test_text_groups_and_verdicts(graph):
    expect = {"text_any": [["抱歉"], ["换货", "退货"]], "verdict": "WT-CR-PACE3"}
    good = [{"text": "很抱歉给您添麻烦了，可以申请换货。\n结论：续航选高驰PACE 3"}]
    assert not _check(graph, expect, good)
    assert len(_check(graph, expect, [{"text": "很抱歉。佳明265更好"}])) == 2
