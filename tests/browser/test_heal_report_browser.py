"""The heal report as a person sees it: a real Chromium, a real server, a cookie login.

The job runs through the HTTP API and a worker; the browser logs in with ``POST /api/auth/login`` from
the page (so the session cookie is set the way the web UI sets it) and opens the report route.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from sanitas.config import Settings
from sanitas.db import Database
from sanitas.jobs.worker import Worker

# 100 BANKING77 queries, four intents (CC BY 4.0; origin and licence in tests/data/SOURCES.md).
BANKING77_SAMPLE = Path(__file__).resolve().parents[1] / "data" / "banking77_sample.csv"
CHECKS = ("mislabeled", "outlier", "poisoned", "off_topic", "injection", "sensitive")
# A row whose text is markup: the report must show it as text, never run it.
HOSTILE = '<img src="x" onerror="window.__xss = 1"> my card never arrived <b>bold</b>'


def _rows() -> list[dict[str, Any]]:
    wanted = {"card_arrival": 0, "exchange_rate": 0, "lost_or_stolen_card": 0, "top_up_failed": 0}
    rows = []
    with open(BANKING77_SAMPLE, newline="") as fh:
        for rec in csv.DictReader(fh):
            if wanted.get(rec["category"], 99) < 25:
                wanted[rec["category"]] += 1
                rows.append({"id": f"r{len(rows)}", "text": rec["text"], "label": rec["category"]})
    rows.append(
        {
            "id": "pii",
            "text": "My card is lost, call me on +1 415 555 0132 or jane.doe@example.com",
            "label": "lost_or_stolen_card",
        }
    )
    rows.append({"id": "hostile", "text": HOSTILE, "label": "card_arrival"})
    return rows


@pytest.fixture()
def healed_job(
    live_server: str, make_key: Callable[..., str], db: Database, settings: Settings
) -> dict[str, Any]:
    """A finished heal job (every check on) made through the API; returns it with the key."""
    key = make_key(role="admin", projects=["acme"])
    with httpx.Client(base_url=live_server, headers={"Authorization": f"Bearer {key}"}) as http:
        r = http.put("/api/v1/datasets/acme/tickets", json={"dataset": {}})
        dataset_id = r.json()["dataset"]["id"]
        body = b"".join(orjson.dumps(row) + b"\n" for row in _rows())
        r = http.post(f"/api/datasets/{dataset_id}/files?filename=rows.jsonl", content=body)
        assert r.status_code == 200, r.text
        r = http.post(
            f"/api/datasets/{dataset_id}/heal",
            json={"remove_off_topics": True, "remove_injection": True, "remove_sensitive_information": True},
        )
        assert r.status_code == 200, r.text
        worker = Worker(db=db, settings=settings)
        while worker.run_once():
            pass
        job = http.get(f"/api/healing/{r.json()['id']}").json()
    assert job["status"] == "completed", job
    return {"job": job, "key": key}


def _login(driver: Any, base: str, key: str) -> int:
    driver.get(f"{base}/healthz")
    return int(
        driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "fetch('/api/auth/login', {method: 'POST', headers: {'Content-Type': 'application/json'},"
            " body: JSON.stringify({api_key: arguments[0]})}).then(r => done(r.status));",
            key,
        )
    )


def test_report_is_readable_in_a_browser(browser: Any, live_server: str, healed_job: dict[str, Any]) -> None:
    from selenium.webdriver.common.by import By

    job = healed_job["job"]
    url = f"{live_server}/api/healing/{job['id']}/report"
    browser.delete_all_cookies()
    browser.get(url)
    assert "Heal report" not in browser.page_source  # no cookie yet: refused
    assert "401" in browser.page_source or "unauthorized" in browser.page_source.lower()

    assert _login(browser, live_server, healed_job["key"]) == 200
    browser.get_log("browser")  # drains the expected 401 above
    browser.get(url)
    assert browser.title == "Heal report"
    assert browser.find_element(By.TAG_NAME, "h1").text == "Heal report"

    # The checks table shows what the job's manifest says, check by check.
    table = next(
        t for t in browser.find_elements(By.TAG_NAME, "table") if "check" in t.text and "flagged" in t.text
    )
    shown = {}
    for tr in table.find_elements(By.CSS_SELECTOR, "tr")[1:]:
        cells = [td.text for td in tr.find_elements(By.TAG_NAME, "td")]
        shown[cells[0]] = int(cells[1])
    checks = job["manifest"]["checks"]
    assert set(shown) == set(CHECKS)
    assert {c: shown[c] for c in checks} == {c: checks[c].get("flagged", 0) for c in checks}
    assert shown["sensitive"] >= 1

    # One histogram per check, drawn with a visible size; a threshold line where the check has one.
    svgs = browser.find_elements(By.TAG_NAME, "svg")
    assert len(svgs) == len(CHECKS)
    assert all(s.size["width"] > 100 and s.size["height"] > 50 for s in svgs)
    with_threshold = [c for c in CHECKS if checks.get(c, {}).get("threshold") is not None]
    red = [s for s in svgs if s.find_elements(By.CSS_SELECTOR, "line[stroke='#d33']")]
    assert len(red) == len(with_threshold) > 0

    # The PII row is among the sensitive check's top examples; markup in a row is shown, not run.
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "jane.doe@example.com" in body
    assert HOSTILE[:40] in body
    assert browser.execute_script("return window.__xss === undefined")
    assert not browser.find_elements(By.CSS_SELECTOR, "img")

    # Laid out for a laptop screen: nothing runs off to the right; the browser logged no errors.
    assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []


def test_login_with_a_wrong_key_sets_no_cookie(browser: Any, live_server: str) -> None:
    browser.delete_all_cookies()
    assert _login(browser, live_server, "sk-not-a-key") == 401
    assert browser.get_cookies() == []
