"""Debian's Chromium is the one these tests were checked with, and it renders Chinese.

Playwright 1.65.2 (pinned in pyproject.toml) expects Chromium 159; Debian bookworm-security
ships 156, which works for what these tests do (ENVIRONMENT.md, *Web work*) but is not
supported upstream. When Debian updates its Chromium, this test is the one clear failure:
run tests/browser, look at var/screenshots/, then set TESTED_CHROMIUM_MAJOR to the new
version (or pin the Playwright release that expects it).
"""

from __future__ import annotations

import shutil
import subprocess
from importlib.metadata import version

from tests.browser.conftest import CHROMIUM

TESTED_CHROMIUM_MAJOR = 156


def _installed() -> str:
    if shutil.which(CHROMIUM) is None:
        return f"no {CHROMIUM} (run `make setup`: it installs Debian's chromium)"
    try:
        out = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"{CHROMIUM} --version failed: {error}"
    return out.stdout.strip() or out.stderr.strip()


def test_debians_chromium_is_the_tested_one_and_renders_chinese(chromium):
    playwright = version("playwright")
    if isinstance(chromium, Exception):
        first_line = str(chromium).strip().splitlines()[0] if str(chromium).strip() else ""
        raise AssertionError(
            f"Playwright {playwright} could not start Debian's Chromium ({_installed()}): "
            f"{type(chromium).__name__}: {first_line}"
        )
    major = int(chromium.version.split(".")[0])
    assert major == TESTED_CHROMIUM_MAJOR, (
        f"Debian's Chromium is now {chromium.version}; tests/browser were checked with "
        f"{TESTED_CHROMIUM_MAJOR}.x under Playwright {playwright}. Run tests/browser, look at "
        f"var/screenshots/, then update TESTED_CHROMIUM_MAJOR in tests/browser/test_chromium.py."
    )

    # Without a CJK font Chromium draws empty boxes for Chinese (it finds fonts via fontconfig).
    fonts = subprocess.run(
        ["fc-list", ":lang=zh", "family"], capture_output=True, text=True, timeout=30
    ).stdout.strip()
    assert fonts, (
        "no Chinese font for Chromium: apt-get install fonts-noto-cjk (`make setup` does it)"
    )
