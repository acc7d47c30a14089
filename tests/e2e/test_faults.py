"""The action server stops, then answers slowly, then comes back: the shopper asking
「有没有三千以内的华为手机」 gets the polite Chinese reply within 3 s each time (the real trained
model and bot/patches/action_timeout.py in the real Rasa server), the conversation goes on
listening, and once the action server is started again the same question gets product cards,
with nothing restarted on Rasa's side.

This test starts its own Rasa and action server (the launcher's service specs, a private
endpoints file, tracker database and logs under var/e2e-faults/), since it stops the action
server, which the session's shared `bot` must never see.
"""

from __future__ import annotations

import dataclasses
import http.server
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from daogou.launcher import (
    Service,
    free_port,
    service_specs,
    start,
    stop_all,
    wait_healthy,
    write_credentials,
)
from daogou.nlu import botprep
from daogou.nlu.botprep import model_path
from daogou.settings import Settings, load_settings
from tests.e2e.conftest import Bot

pytestmark = pytest.mark.e2e

QUESTION = "有没有三千以内的华为手机"
POLITE = "抱歉，商品查询暂时有点忙，请稍后再试一次～ 您也可以输入“转人工”联系客服。"
PRODUCT_ACTIONS = {"action_search_products", "action_refine_search", "action_needs_results"}


@dataclasses.dataclass
class Services:
    settings: Settings
    bot: Bot
    folder: Path
    action_server: subprocess.Popen | None = None

    def spec(self, name: str) -> Service:
        for service in service_specs(self.settings):
            if service.name == name:
                for flag, path in (
                    ("--endpoints", "endpoints.yml"),
                    ("--credentials", "credentials.yml"),
                ):
                    if flag in service.args:
                        service.args[service.args.index(flag) + 1] = str(self.folder / path)
                return service
        raise LookupError(name)

    def start_action_server(self) -> None:
        """As the launcher does; a first start in a fresh var/ embeds the catalog first."""
        service = self.spec("action server")
        self.action_server = start(service, self.folder / "logs")
        wait_healthy(service, self.action_server, timeout=300)

    def stop_action_server(self) -> None:
        if self.action_server is not None:
            stop_all([self.action_server])
            self.action_server = None


@pytest.fixture(scope="module")
def services() -> Iterator[Services]:
    base = load_settings()
    if not model_path(base).exists():
        pytest.fail(f"no trained model at {model_path(base)}: run `make test` (it trains first)")
    folder = base.var_dir / "e2e-faults"
    (folder / "logs").mkdir(parents=True, exist_ok=True)
    for old in folder.glob("tracker.db*"):
        old.unlink()
    rasa_port, action_port = free_port(), free_port()
    settings = dataclasses.replace(
        base,
        rasa_port=rasa_port,
        action_port=action_port,
        rasa_url=f"http://127.0.0.1:{rasa_port}",
        action_server_url=f"http://127.0.0.1:{action_port}/webhook",
        tracker_db_url=f"sqlite:///{folder / 'tracker.db'}",
    )
    (folder / "endpoints.yml").write_text(
        yaml.safe_dump(botprep.endpoints(settings), allow_unicode=True), encoding="utf-8"
    )
    write_credentials(settings, folder / "credentials.yml")
    running = Services(
        settings, Bot(settings.rasa_url, settings.rasa_token, settings.shopper_key), folder
    )
    rasa_spec = running.spec("rasa")
    rasa = start(rasa_spec, folder / "logs")
    try:
        running.start_action_server()  # while Rasa loads its model
        wait_healthy(rasa_spec, rasa, timeout=300)
        yield running
    finally:
        running.stop_action_server()
        stop_all([rasa])


def timed_say(bot: Bot, sender: str, text: str) -> tuple[list[dict], float]:
    started = time.monotonic()
    replies = bot.say(sender, text)
    return replies, time.monotonic() - started


def cards(replies: list[dict]) -> list[dict]:
    for reply in replies:
        custom = reply.get("custom") or {}
        if custom.get("type") == "products":
            return custom["items"]
    return []


def tracker_events(bot: Bot, sender: str) -> list[dict]:
    response = httpx.get(
        f"{bot.rasa_url}/conversations/{sender}/tracker", params={"token": bot.token}, timeout=30
    )
    assert response.status_code == 200, response.text
    return response.json()["events"]


def latest_turn(events: list[dict]) -> list[tuple[str, str]]:
    """The events after the latest user message, as (event, name or text)."""
    last_user = max(i for i, e in enumerate(events) if e["event"] == "user")
    return [(e["event"], e.get("name") or e.get("text") or "") for e in events[last_user + 1 :]]


def assert_polite_turn(bot: Bot, sender: str, replies: list[dict], elapsed: float) -> None:
    assert elapsed < 3.0, elapsed
    assert [r.get("text") for r in replies] == [POLITE]
    turn = latest_turn(tracker_events(bot, sender))
    executed = [name for event, name in turn if event == "action"]
    assert executed[-1] == "action_listen", turn
    assert executed[-2] in PRODUCT_ACTIONS, turn  # the failed action, logged as run
    assert ("bot", POLITE) in turn and ("followup", "action_listen") in turn, turn
    assert not [e for e, _ in turn if e == "slot"], turn  # nothing half-applied


def assert_huawei_phones_within_budget(replies: list[dict]) -> None:
    shown = cards(replies)
    assert shown, replies
    assert all(c["brand"] == "华为" and c["category"] == "手机" for c in shown), shown
    assert all(c["price"] <= 3000 for c in shown), shown


class SlowActionServer(http.server.ThreadingHTTPServer):
    """Takes every action call and answers nothing for 5 s."""

    daemon_threads = True

    def __init__(self, port: int) -> None:
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (the standard library's name)
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                time.sleep(5)
                self.send_response(503)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        super().__init__(("127.0.0.1", port), Handler)


def test_the_bot_survives_a_dead_then_slow_action_server_and_recovers(services):
    bot, sender = services.bot, "e2e-faults-1"
    health = httpx.get(f"http://127.0.0.1:{services.settings.action_port}/health", timeout=10)
    assert health.json() == {"status": "ok", "components": {"catalog": "ok", "search": "ok"}}
    replies, _ = timed_say(bot, sender, QUESTION)
    assert_huawei_phones_within_budget(replies)  # the baseline: the action server answers

    services.stop_action_server()  # refused
    replies, elapsed = timed_say(bot, sender, QUESTION)
    assert_polite_turn(bot, sender, replies, elapsed)
    print(f"\naction server down: polite reply in {elapsed:.2f} s")

    slow = SlowActionServer(services.settings.action_port)  # slow
    threading.Thread(target=slow.serve_forever, daemon=True).start()
    try:
        replies, elapsed = timed_say(bot, sender, QUESTION)
        assert_polite_turn(bot, sender, replies, elapsed)
        assert elapsed >= 2.4  # it did wait for the slow server, up to the timeout
        print(f"action server slow (5 s): polite reply in {elapsed:.2f} s")
    finally:
        slow.shutdown()
        slow.server_close()

    services.start_action_server()  # back: Rasa was never restarted
    replies, elapsed = timed_say(bot, sender, QUESTION)
    assert_huawei_phones_within_budget(replies)
    print(f"action server back: product cards in {elapsed:.2f} s, Rasa not restarted")
