"""Browser tests: one headless Chromium per module, and a screenshot of the page when a test fails."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium driven by chromedriver (Debian's packages, installed by scripts/chromium.sh)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def screenshot_folder(config: pytest.Config) -> Path:
    """Where failure screenshots go: ``SANITAS_TEST_SCREENSHOTS`` or the pytest cache (git-ignored)."""
    chosen = os.environ.get("SANITAS_TEST_SCREENSHOTS")
    if chosen:
        folder = Path(chosen)
    elif config.cache is not None:
        folder = Path(config.cache.mkdir("screenshots"))
    else:
        folder = Path(str(config.rootpath)) / ".pytest_cache" / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """A failed browser test leaves a PNG of what the page showed; its path is printed with the failure."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    driver = getattr(item, "funcargs", {}).get("browser")
    if report.when != "call" or not report.failed or driver is None:
        return
    path = screenshot_folder(item.config) / (re.sub(r"[^A-Za-z0-9_.-]+", "_", item.nodeid)[-150:] + ".png")
    try:
        driver.save_screenshot(str(path))
    except Exception as exc:  # a dead browser must not hide the test's own failure
        report.sections.append(("screenshot", f"could not save a screenshot: {exc}"))
        return
    report.sections.append(("screenshot", str(path)))
