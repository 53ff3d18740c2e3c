"""Page and API helpers of the console's browser tests: waiting for elements, reading the review
table, setting its filters, and reading what a job decided and a branch holds through the API."""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from typing import Any

import httpx
import orjson

WAIT = 20


def wait_for(what: str, check: Callable[[], Any], timeout: float = WAIT) -> Any:
    """Poll ``check`` until it returns something truthy (meanwhile a stale element, or one the page being
    loaded does not hold yet, is "not yet": the deadline still fails a page that never shows it)."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException

    deadline = time.monotonic() + timeout
    while True:
        try:
            got = check()
            if got:
                return got
        except (StaleElementReferenceException, NoSuchElementException):
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def by_id(driver: Any, name: str) -> Any:
    from selenium.webdriver.common.by import By

    return wait_for(
        f"#{name}", lambda: driver.find_element(By.ID, name) if driver.find_elements(By.ID, name) else None
    )


def css(driver: Any, selector: str) -> list[Any]:
    from selenium.webdriver.common.by import By

    return list(driver.find_elements(By.CSS_SELECTOR, selector))


def rows_shown(driver: Any) -> list[dict[str, str]]:
    return [
        {"row": tr.get_attribute("data-row"), "action": tr.get_attribute("data-action"),
         "decision": tr.get_attribute("data-decision")}
        for tr in css(driver, "#changes tbody tr")
    ]  # fmt: skip


def filter_changes(driver: Any, **values: str) -> None:
    """Set the review filters (others back to 'any') and wait for the table to show the new page."""
    from selenium.webdriver.support.ui import Select

    for name in ("check", "action", "decision"):
        Select(by_id(driver, f"f-{name}")).select_by_value(values.get(name, ""))
    for name in ("score-min", "score-max"):
        box = by_id(driver, f"f-{name}")
        box.clear()
        if name in values:
            box.send_keys(values[name])
    before = by_id(driver, "pager").text
    driver.execute_script("document.getElementById('pager').textContent = ''")
    by_id(driver, "apply-filter").click()
    wait_for(f"the filtered page ({values}; was {before})", lambda: by_id(driver, "pager").text)


def all_changes(http: httpx.Client, job_id: str, **params: Any) -> list[dict[str, Any]]:
    out, cursor = [], None
    while True:
        r = http.get(
            f"/api/healing/{job_id}/changes",
            params={**params, "limit": 500, **({"cursor": cursor} if cursor else {})},
        )
        assert r.status_code == 200, r.text
        out += r.json()["items"]
        cursor = r.json()["next_cursor"]
        if not cursor:
            return out


def export_rows(http: httpx.Client, dataset_id: str) -> dict[str, dict[str, Any]]:
    """The dataset's active branch, exported through the API (rows by id)."""
    r = http.post(f"/api/datasets/{dataset_id}/exports", params={"format": "jsonl"})
    assert r.status_code == 202, r.text
    job_id = r.json()["id"]
    wait_for("the export", lambda: http.get(f"/api/jobs/{job_id}").json()["status"] == "succeeded", 120)
    body = http.get(f"/api/jobs/{job_id}/download").content
    rows = [orjson.loads(line) for line in io.BytesIO(body) if line.strip()]
    return {row["id"]: row for row in rows}


def short(uid: str) -> str:
    return uid.split(".", 1)[1]


def label_of(row: dict[str, Any]) -> str:
    return str(row.get("category") or row.get("label"))
