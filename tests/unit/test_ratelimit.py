"""cn_text/ratelimit.py: the token buckets the chat channels and the web app share (with a fake
clock), which address a request comes from behind proxies, and the settings that configure
them. The channels themselves, over loopback: tests/rasa/test_chat_guard.py."""

from __future__ import annotations

import threading

import pytest

from cn_text.ratelimit import (
    Rate,
    RateLimiter,
    TrustedProxies,
    acquire_all,
    client_address,
    loopback_address,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture()
def clock() -> Clock:
    return Clock()


def test_a_burst_then_the_rate(clock):
    limiter = RateLimiter.of(Rate.parse("5/10"), clock=clock)  # 5 at once, then one per 2 s
    assert [limiter.acquire("a") for _ in range(5)] == [0.0] * 5
    assert limiter.acquire("a") == pytest.approx(2.0)  # nothing left: one token in 2 s
    clock.now += 1.5
    assert limiter.acquire("a") == pytest.approx(0.5)
    clock.now += 0.5
    assert limiter.acquire("a") == 0.0
    assert limiter.acquire("a") == pytest.approx(2.0)
    assert limiter.allow("b")  # another client has its own bucket


def test_a_pause_gives_the_burst_back_but_never_more(clock):
    limiter = RateLimiter(rate_per_second=1, burst=3, clock=clock)
    for _ in range(3):
        limiter.acquire("a")
    clock.now += 3600
    assert [limiter.allow("a") for _ in range(4)] == [True, True, True, False]


def test_refused_messages_do_not_push_the_wait_further(clock):
    limiter = RateLimiter(rate_per_second=1, burst=1, clock=clock)
    assert limiter.allow("a")
    for _ in range(100):  # a flood of refused messages takes nothing
        assert not limiter.allow("a")
    clock.now += 1
    assert limiter.allow("a")


def test_acquire_all_takes_from_every_limit_or_from_none(clock):
    shoppers = RateLimiter(rate_per_second=0.1, burst=2, clock=clock)
    addresses = RateLimiter(rate_per_second=0.1, burst=3, clock=clock)
    # One shopper floods: refused by their own limit, the address keeps its tokens.
    results = [acquire_all([(shoppers, "flooder"), (addresses, "10.0.0.1")]) for _ in range(6)]
    assert [r == 0.0 for r in results] == [True, True, False, False, False, False]
    assert results[2] == pytest.approx(10.0)
    # So a neighbour at that address still gets the address's last token, then it is used up.
    assert acquire_all([(shoppers, "neighbour"), (addresses, "10.0.0.1")]) == 0.0
    assert acquire_all([(shoppers, "third"), (addresses, "10.0.0.1")]) == pytest.approx(10.0)
    # The refusal by the address gave "third" its own token back.
    assert [shoppers.allow("third") for _ in range(3)] == [True, True, False]


def test_memory_is_bounded_and_limited_clients_stay_limited(clock):
    limiter = RateLimiter(rate_per_second=0.01, burst=1, max_clients=100, clock=clock)
    assert limiter.allow("flooder")
    for i in range(1000):  # a flood of new addresses, the flooder still sending in between
        limiter.allow(f"10.0.{i // 250}.{i % 250}")
        assert not limiter.allow("flooder")
    assert len(limiter) == 100


def test_thread_safe_exactly_the_burst_gets_through(clock):
    limiter = RateLimiter(rate_per_second=0.001, burst=500, clock=clock)
    allowed = []

    def send() -> None:
        allowed.extend(limiter.allow("a") for _ in range(200))

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert allowed.count(True) == 500 and len(allowed) == 1600


@pytest.mark.parametrize(
    ("text", "burst", "seconds"),
    [("30/10", 30, 10.0), ("1/1", 1, 1.0), (" 10 / 2.5s ", 10, 2.5), ("60/10s", 60, 10.0)],
)
def test_rates_read(text, burst, seconds):
    rate = Rate.parse(text)
    assert (rate.burst, rate.seconds) == (burst, seconds)
    assert rate.per_second == pytest.approx(burst / seconds)


@pytest.mark.parametrize("text", ["30", "30/0", "0/10", "-1/10", "a/b", "30 per 10", ""])
def test_bad_rates_are_refused_with_the_text(text):
    with pytest.raises(ValueError, match="messages/seconds"):
        Rate.parse(text)


def test_off_means_no_limit():
    assert Rate.parse("off") is None and Rate.parse("OFF") is None


# -- the client's address ------------------------------------------------------------------------

NGINX = TrustedProxies.parse("127.0.0.1")


def test_without_trusted_proxies_the_peer_is_the_client():
    assert client_address("203.0.113.7", None, TrustedProxies()) == "203.0.113.7"
    assert client_address("203.0.113.7", "198.51.100.1", TrustedProxies()) == "203.0.113.7"


def test_a_forged_header_from_an_untrusted_peer_is_ignored():
    # The flooder sets X-Forwarded-For itself, hoping for a fresh bucket per request.
    assert client_address("203.0.113.7", "10.9.8.7", NGINX) == "203.0.113.7"
    assert client_address("203.0.113.7", "127.0.0.1", NGINX) == "203.0.113.7"


def test_behind_the_trusted_proxy_the_right_most_untrusted_address():
    assert client_address("127.0.0.1", "203.0.113.7", NGINX) == "203.0.113.7"
    # The client's own (forged) entries are left of what nginx appended: never read.
    assert client_address("127.0.0.1", "1.1.1.1, 2.2.2.2, 203.0.113.7", NGINX) == "203.0.113.7"
    # A chain of our own proxies is walked through.
    chain = TrustedProxies.parse("127.0.0.1, 10.0.0.0/8")
    assert client_address("127.0.0.1", "9.9.9.9, 203.0.113.7, 10.1.2.3", chain) == "203.0.113.7"
    assert client_address("127.0.0.1", "10.1.2.3, 10.0.0.9", chain) == "10.1.2.3"  # all ours
    assert client_address("127.0.0.1", "", NGINX) == "127.0.0.1"  # no header: the peer


def test_a_proven_proxy_is_trusted_whatever_its_address():
    assert client_address("192.0.2.5", "203.0.113.7", TrustedProxies(), True) == "203.0.113.7"


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        ("::ffff:127.0.0.1", "203.0.113.7", "203.0.113.7"),  # dual-stack socket
        ("127.0.0.1", "203.0.113.7:51234", "203.0.113.7"),  # a proxy that adds the port
        ("127.0.0.1", "[2001:db8::1]:443", "2001:db8::1"),
        ("127.0.0.1", "2001:db8::1", "2001:db8::1"),
        ("::ffff:203.0.113.7", None, "203.0.113.7"),
    ],
)
def test_addresses_are_one_key_each(peer, forwarded, client):
    assert client_address(peer, forwarded, NGINX) == client


def test_trusted_proxies_read():
    proxies = TrustedProxies.parse("127.0.0.1, 10.0.0.0/8 ::1")
    assert "10.200.0.1" in proxies and "::1" in proxies and "11.0.0.1" not in proxies
    assert "not an address" not in proxies
    assert not TrustedProxies.parse("") and not TrustedProxies.parse(None)
    assert "10.0.0.1" in TrustedProxies.parse(["10.0.0.0/8"])  # credentials give a list
    with pytest.raises(ValueError, match="10.0.0.300"):
        TrustedProxies.parse("10.0.0.300")


def test_loopback_addresses_for_simulated_shoppers():
    addresses = {loopback_address(f"shopper-{i}") for i in range(5000)}
    assert loopback_address("shopper-1") == loopback_address("shopper-1")
    assert len(addresses) == 253
    assert all(a.startswith("127.0.0.") and 2 <= int(a.rsplit(".", 1)[1]) <= 254 for a in addresses)


# -- settings and the rendered credentials -----------------------------------------------------


def test_settings_defaults_and_the_rendered_credentials(monkeypatch, tmp_path):
    from daogou.launcher import credentials
    from daogou.settings import REPO_ROOT, load_settings

    for name in ("CHAT_RATE_PER_SHOPPER", "CHAT_RATE_PER_IP", "TRUSTED_PROXIES", "SENSITIVE_WORDS"):
        monkeypatch.delenv(f"DAOGOU_{name}", raising=False)
    monkeypatch.setenv("DAOGOU_VAR", str(tmp_path))
    settings = load_settings()
    assert (settings.chat_rate_per_shopper, settings.chat_rate_per_ip) == ("10/10", "60/10")
    assert settings.trusted_proxies == ()
    assert settings.sensitive_words_file == REPO_ROOT / "data/moderation/sensitive_words.txt"
    for channel in credentials(settings).values():
        assert channel["rate_per_shopper"] == "10/10" and channel["rate_per_ip"] == "60/10"
        assert channel["trusted_proxies"] == []
        assert channel["proxy_token"] == settings.rasa_token
        assert channel["sensitive_words"] == str(settings.sensitive_words_file)


def test_settings_from_the_environment(monkeypatch, tmp_path):
    from daogou.launcher import credentials
    from daogou.settings import load_settings

    monkeypatch.setenv("DAOGOU_VAR", str(tmp_path))
    monkeypatch.setenv("DAOGOU_CHAT_RATE_PER_SHOPPER", "5/5")
    monkeypatch.setenv("DAOGOU_CHAT_RATE_PER_IP", "off")
    monkeypatch.setenv("DAOGOU_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8")
    monkeypatch.setenv("DAOGOU_SENSITIVE_WORDS", str(tmp_path / "words.txt"))
    settings = load_settings()
    assert settings.trusted_proxies == ("127.0.0.1/32", "10.0.0.0/8")
    rendered = next(iter(credentials(settings).values()))
    assert rendered["rate_per_shopper"] == "5/5" and rendered["rate_per_ip"] == "off"
    assert rendered["trusted_proxies"] == ["127.0.0.1/32", "10.0.0.0/8"]
    assert rendered["sensitive_words"] == str(tmp_path / "words.txt")


@pytest.mark.parametrize(
    ("variable", "value"),
    [("DAOGOU_CHAT_RATE_PER_IP", "30 a minute"), ("DAOGOU_TRUSTED_PROXIES", "nginx.local")],
)
def test_a_bad_setting_names_its_variable(monkeypatch, tmp_path, variable, value):
    from daogou.settings import load_settings

    monkeypatch.setenv("DAOGOU_VAR", str(tmp_path))
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValueError, match=variable):
        load_settings()
