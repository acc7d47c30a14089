"""The whole system for the browser tests, and Debian's Chromium driven by Playwright.

`system` starts Rasa and the action server (`daogou.launcher.running_bot`, in a private folder
var/bench/browser/ with its own tracker database, endpoints and credentials, so that a test run
or benchmark beside it keeps its own) and the web app (uvicorn `web.app:app_factory`, which the
launcher's `running_bot` does not start) on free ports, all with the trained model of `make
test` (DAOGOU_VAR=var/test DAOGOU_NLU_HOLDOUT=1). Rasa gets DAOGOU_WEB_PORT, so that its
Socket.IO channel allows exactly this web app's origins (bot/channels/socketio.py).

The browser is Debian's Chromium (/usr/bin/chromium, `make setup` installs it with
fonts-noto-cjk): Playwright's own browser download does not work here. A launch failure or a
Chromium other than the one these tests were checked with is reported once, by
test_chromium.py; the other tests then skip instead of failing each with the same error.

Screenshots go to var/screenshots/ (desktop 1280x800, phone 390x844).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from daogou.launcher import Service, free_port, on_free_ports, running_bot, start, wait_healthy
from daogou.nlu.botprep import model_path
from daogou.settings import REPO_ROOT, Settings, load_settings
from knowledge_graph.product import Product
from knowledge_graph.store import CatalogStore

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = REPO_ROOT / "var" / "screenshots"
PRIVATE = "browser"  # var/bench/browser/: this run's tracker database, endpoints, logs
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "browser: drives Debian's Chromium against the running system (slow)"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if {"system", "chromium"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.browser)


@dataclasses.dataclass
class System:
    settings: Settings  # Rasa, action server and web app ports; the private tracker database
    web_url: str
    store: CatalogStore

    def product(self, sku: str) -> Product:
        return self.store.get_product(sku).product

    def tracker(self, sender_id: str) -> dict:
        """Rasa's tracker of a conversation (its HTTP API, with the run's token)."""
        response = httpx.get(
            f"{self.settings.rasa_url}/conversations/{sender_id}/tracker",
            params={"token": self.settings.rasa_token},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        return response.json()

    def push(self, sender_id: str, text: str | None, custom: dict | None = None) -> None:
        """A message pushed into a conversation as the staff console does: a `bot` event sent
        to the shopper's latest channel (ENVIRONMENT.md, *Web work*)."""
        data = {"custom": custom} if custom else {}
        response = httpx.post(
            f"{self.settings.rasa_url}/conversations/{sender_id}/tracker/events",
            params={
                "token": self.settings.rasa_token,
                "output_channel": "latest",
                "execute_side_effects": "true",
            },
            json={"event": "bot", "text": text, "data": data},
            timeout=30,
        )
        assert response.status_code == 200, response.text


def _web_app(settings: Settings) -> Service:
    env = dict(os.environ)
    env.update(
        PYTHONPATH=str(REPO_ROOT),
        DAOGOU_VAR=str(settings.var_dir),
        DATABASE_URL=settings.database_url,
        TRACKER_DB_URL=settings.tracker_db_url,
        RASA_URL=settings.rasa_url,
        ACTION_SERVER_URL=settings.action_server_url,
        DAOGOU_WEB_PORT=str(settings.web_port),
        DAOGOU_RASA_PORT=str(settings.rasa_port),
        DAOGOU_ACTION_PORT=str(settings.action_port),
    )
    venv_bin = REPO_ROOT / ".venv" / "bin"
    return Service(
        "web app",
        [str(venv_bin / "uvicorn"), "--factory", "web.app:app_factory",
         "--host", "127.0.0.1", "--port", str(settings.web_port), "--log-level", "warning"],
        f"http://127.0.0.1:{settings.web_port}/health",
        env,
    )  # fmt: skip


@pytest.fixture(scope="package")
def system() -> Iterator[System]:
    base = load_settings()
    if not model_path(base).exists():
        pytest.fail(f"no trained model at {model_path(base)}: run `make test` (it trains first)")
    settings = dataclasses.replace(on_free_ports(base), web_port=free_port())
    # running_bot(private=...) keeps this run's conversations in their own tracker database;
    # the web app reads the same one for /api/widget/history.
    folder = settings.var_dir / "bench" / PRIVATE
    settings = dataclasses.replace(settings, tracker_db_url=f"sqlite:///{folder / 'tracker.db'}")
    with pytest.MonkeyPatch.context() as env:
        # Rasa's Socket.IO channel allows the origins of the web app on this port.
        env.setenv("DAOGOU_WEB_PORT", str(settings.web_port))
        web = _web_app(settings)
        # The web app loads its model and index while Rasa loads its own.
        web_process = start(web, folder / "logs")
        try:
            with running_bot(settings, private=PRIVATE) as bot_settings:
                assert bot_settings.tracker_db_url == settings.tracker_db_url
                wait_healthy(web, web_process, timeout=300)
                yield System(
                    settings,
                    f"http://127.0.0.1:{settings.web_port}",
                    CatalogStore.from_url(settings.database_url),
                )
        finally:
            if web_process.poll() is None:
                web_process.terminate()
                try:
                    web_process.wait(timeout=15)
                except Exception:
                    web_process.kill()


# -- the browser ---------------------------------------------------------------------------------


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def chromium(playwright: Playwright) -> Iterator[Browser | Exception]:
    """Debian's Chromium, or the exception that stopped it (reported by test_chromium.py)."""
    try:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
    except Exception as error:  # Playwright raises its own Error; anything else counts too
        yield error
        return
    yield browser
    browser.close()


@pytest.fixture(scope="package")
def browser(chromium: Browser | Exception) -> Browser:
    if isinstance(chromium, Exception):
        pytest.skip("Debian's Chromium did not start: test_chromium.py says why")
    return chromium


def _context(browser: Browser, system: System, phone: bool) -> BrowserContext:
    options: dict = {
        "base_url": system.web_url,
        "locale": "zh-CN",
        "timezone_id": "Asia/Shanghai",
    }
    if phone:
        options.update(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    else:
        options.update(viewport=DESKTOP)
    context = browser.new_context(**options)
    context.set_default_timeout(30_000)
    return context


@pytest.fixture()
def context(browser: Browser, system: System) -> Iterator[BrowserContext]:
    """A fresh desktop browser profile (no cookies, no storage): a new shopper."""
    context = _context(browser, system, phone=False)
    yield context
    context.close()


@pytest.fixture()
def page(context: BrowserContext) -> Iterator[Page]:
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    assert errors == [], f"JavaScript errors on the page: {errors}"


@pytest.fixture()
def phone_page(browser: Browser, system: System) -> Iterator[Page]:
    context = _context(browser, system, phone=True)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(scope="session")
def screenshot():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page: Page, name: str, full_page: bool = False) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page, animations="disabled")
        return path

    return take
