"""Settings: every ``SANITAS_*`` variable is read in one place, when the settings are loaded."""

from __future__ import annotations

import pytest

from sanitas.config import current, load_settings


def test_defaults_without_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "SANITAS_EMBEDDER",
        "SANITAS_EMBED_WORKERS",
        "SANITAS_ENTITY_METHOD",
        "SANITAS_STREAM_READAHEAD",
        "SANITAS_LLM_BASE_URL",
        "SANITAS_LLM_API_KEY",
        "SANITAS_PII_PROCESSES",
        "SANITAS_PII_TASK_TIMEOUT",
        "SANITAS_PII_CACHE",
        "SANITAS_PII_CALIBRATION",
    ):
        monkeypatch.delenv(name, raising=False)
    conf = current()
    assert (conf.embedder, conf.embed_workers, conf.entity_method) == (None, None, "heuristics")
    assert conf.stream_readahead is True and conf.llm_base_url is None and conf.llm_api_key is None
    assert (conf.pii_processes, conf.pii_task_timeout, conf.pii_cache, conf.pii_calibration) == (
        "auto",
        600.0,
        "",
        None,
    )


def test_the_environment_is_read_when_settings_load(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SANITAS_EMBED_WORKERS", "3")
    monkeypatch.setenv("SANITAS_ENTITY_METHOD", "aimon_pii_m1")
    monkeypatch.setenv("SANITAS_STREAM_READAHEAD", "0")
    monkeypatch.setenv("SANITAS_LLM_BASE_URL", " http://127.0.0.1:9/v1 ")
    monkeypatch.setenv("SANITAS_LLM_API_KEY", "sk-test")
    monkeypatch.setenv("SANITAS_PII_TASK_TIMEOUT", "12.5")
    monkeypatch.setenv("SANITAS_COOKIE_SECURE", "yes")
    conf = current()
    assert (conf.embed_workers, conf.entity_method, conf.stream_readahead) == (3, "aimon_pii_m1", False)
    assert (conf.llm_base_url, conf.llm_api_key, conf.pii_task_timeout) == (
        "http://127.0.0.1:9/v1",
        "sk-test",
        12.5,
    )
    assert conf.cookie_secure is True
    assert "sk-test" not in repr(conf)  # the key never reaches a log line
    # keyword overrides win over the environment
    assert load_settings(secret_key=b"", entity_method="heuristics").entity_method == "heuristics"


def test_current_creates_no_secret_file(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("SANITAS_HOME", str(tmp_path))
    monkeypatch.delenv("SANITAS_SECRET_KEY", raising=False)
    assert current().home == tmp_path.resolve()
    assert not (tmp_path / "secret.key").exists()
