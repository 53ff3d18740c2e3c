"""Settings read from the environment (``SANITAS_*``), with embedded defaults."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw else default


@dataclass(frozen=True)
class Settings:
    """Process configuration. Build it with :func:`load_settings`."""

    home: Path
    database_url: str
    executor: str = "local"
    max_body_bytes: int = 64 * 1024 * 1024
    job_lease_seconds: int = 30
    job_poll_seconds: float = 0.5
    job_max_attempts: int = 3
    workers: int = 1
    secret_key: bytes = field(default=b"", repr=False)
    # The address clients reach the server at (``SANITAS_PUBLIC_URL``), used for every link the server
    # hands out (signed downloads); the request's Host header is never trusted for them.
    public_url: str | None = None
    # The engine that runs the embedding model (``SANITAS_EMBED_BACKEND``): onnx-int8 (default), onnx
    # (fp32) or torch; the ONNX ones fall back to torch when their file was not exported. int8, scaled per
    # token (``embeddings.onnx_quant``), is the fastest on every CPU measured (2.65x torch's texts per CPU
    # second with VNNI, 1.27x on AVX2 alone) and keeps every heal suite F1 within 0.01 of torch's and
    # BANKING77 top-1 within .001, the bar for the default. What kept torch the default until
    # stop 22 was measured again then: the bundled sample gets the same single trigger as with torch (at
    # stop 17 int8 made the poisoned check accept "apple"; that check now decides by an effect size engine
    # noise does not tip), and the cold stream runs at .988 of the int8 embedder's rate (.83 at stop 17).
    # With an ONNX engine a heal loads no torch. BENCHMARKS.md, stops 17, 18, 21 and 22.
    embed_backend: str = "onnx-int8"
    # Mark the session cookies ``Secure`` even when a request arrives over plain HTTP
    # (``SANITAS_COOKIE_SECURE=1``): behind a TLS-terminating proxy the app itself only sees HTTP.
    cookie_secure: bool = False
    # The heal's neighbour search (``SANITAS_KNN``): auto (exact below a size, HNSW above), exact or ann.
    knn: str = "auto"
    # The Ray executor (``SANITAS_EXECUTOR=ray``): the cluster to join (``RAY_ADDRESS``; unset: start a
    # local one on 127.0.0.1), the CPUs that local cluster gets (``SANITAS_RAY_NUM_CPUS``; unset: all),
    # and the most actors a stage runs on (``SANITAS_RAY_ACTORS``; unset: one per cluster CPU).
    ray_address: str | None = None
    ray_num_cpus: int | None = None
    ray_actors: int | None = None
    # Another local sentence-transformers model (``SANITAS_EMBEDDER``) and the forward passes run at
    # once (``SANITAS_EMBED_WORKERS``; unset: one per core).
    embedder: str | None = None
    embed_workers: int | None = None
    # The detection method for entities in predictions and streams (``SANITAS_ENTITY_METHOD``).
    entity_method: str = "heuristics"
    # Streams predict what comes next in the background (``SANITAS_STREAM_READAHEAD``, ``0`` turns off).
    stream_readahead: bool = True
    # An OpenAI-compatible chat endpoint for the llm detection methods (``SANITAS_LLM_*``).
    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: str | None = field(default=None, repr=False)
    # The PII worker pool (``SANITAS_PII_PROCESSES``: a number or ``auto``), the longest a task may take
    # (``SANITAS_PII_TASK_TIMEOUT``), the name-list cache folder (``SANITAS_PII_CACHE``; ``off``) and a
    # score calibration table (``SANITAS_PII_CALIBRATION``).
    pii_processes: str = "auto"
    pii_task_timeout: float = 600.0
    pii_cache: str = ""
    pii_calibration: str | None = None
    # The learned entity core of aimon_pii_m1 (``SANITAS_PII_NER_CORE``): ``token`` (the MiniLM token
    # classifier, sanitas.pii.token_ner; uncased, so case does not decide recall) or ``spacy`` (the
    # spaCy NER, sanitas.pii.ner: faster, weaker on social text; BENCHMARKS.md, stop 14).
    pii_ner_core: str = "token"

    @property
    def is_sqlite(self) -> bool:
        """True for the embedded SQLite store."""
        return self.database_url.startswith("sqlite")

    @property
    def files_dir(self) -> Path:
        """Where job outputs and uploaded files live."""
        return self.home / "files"

    @property
    def cache_dir(self) -> Path:
        """Where content-addressed caches (embeddings, detections) live."""
        return self.home / "cache"


def public_url(raw: str | None) -> str | None:
    """A validated public base URL (``http(s)://host[:port][/prefix]``, no trailing slash), or None."""
    if not raw:
        return None
    parts = urlsplit(raw.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ValueError(
            f"SANITAS_PUBLIC_URL must be an http(s) URL like https://sanitas.example.com (got {raw!r})"
        )
    return f"{parts.scheme}://{parts.netloc}{parts.path}".rstrip("/")


def _secret(home: Path) -> bytes:
    """A per-installation secret used to sign tokens; created once, kept in the data directory."""
    env = os.environ.get("SANITAS_SECRET_KEY")
    if env:
        return env.encode()
    path = home / "secret.key"
    if not path.exists():
        home.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(secrets.token_hex(32))
        os.chmod(tmp, 0o600)
        try:
            os.link(tmp, path)  # atomic create-if-absent, so two processes agree on one secret
        except FileExistsError:
            pass
        tmp.unlink(missing_ok=True)
    return path.read_text().strip().encode()


def _flag(name: str, default: bool) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    return default if not raw else raw in ("1", "true", "yes", "on")


def current() -> Settings:
    """The settings as the environment holds them now, for code that runs outside a job or request
    (library calls, worker processes); creates no secret file."""
    return load_settings(secret_key=b"")


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment; keyword overrides win (used by tests and the CLI)."""
    home = Path(str(overrides.pop("home", None) or os.environ.get("SANITAS_HOME", "./.sanitas"))).resolve()
    url = str(
        overrides.pop("database_url", None)
        or os.environ.get("SANITAS_DATABASE_URL")
        or f"sqlite:///{home / 'sanitas.db'}"
    )
    values: dict[str, object] = {
        "home": home,
        "database_url": url,
        "executor": os.environ.get("SANITAS_EXECUTOR", "local"),
        "max_body_bytes": _int("SANITAS_MAX_BODY_BYTES", 64 * 1024 * 1024),
        "job_lease_seconds": _int("SANITAS_JOB_LEASE_SECONDS", 30),
        "job_max_attempts": _int("SANITAS_JOB_MAX_ATTEMPTS", 3),
        "workers": _int("SANITAS_WORKERS", 1),
        "public_url": os.environ.get("SANITAS_PUBLIC_URL"),
        "embed_backend": os.environ.get("SANITAS_EMBED_BACKEND", "onnx-int8"),
        "cookie_secure": _flag("SANITAS_COOKIE_SECURE", False),
        "knn": os.environ.get("SANITAS_KNN", "auto"),
        "ray_address": os.environ.get("RAY_ADDRESS") or None,
        "ray_num_cpus": _int("SANITAS_RAY_NUM_CPUS", 0) or None,
        "ray_actors": _int("SANITAS_RAY_ACTORS", 0) or None,
        "embedder": os.environ.get("SANITAS_EMBEDDER") or None,
        "embed_workers": int(w)
        if (w := os.environ.get("SANITAS_EMBED_WORKERS", "").strip()).isdigit()
        else None,
        "entity_method": os.environ.get("SANITAS_ENTITY_METHOD", "heuristics"),
        "stream_readahead": os.environ.get("SANITAS_STREAM_READAHEAD", "1") != "0",
        "llm_base_url": os.environ.get("SANITAS_LLM_BASE_URL", "").strip() or None,
        "llm_model": os.environ.get("SANITAS_LLM_MODEL", "").strip() or None,
        "llm_api_key": os.environ.get("SANITAS_LLM_API_KEY") or None,
        "pii_processes": os.environ.get("SANITAS_PII_PROCESSES", "auto"),
        "pii_task_timeout": float(os.environ.get("SANITAS_PII_TASK_TIMEOUT") or 600),
        "pii_cache": os.environ.get("SANITAS_PII_CACHE", "").strip(),
        "pii_calibration": os.environ.get("SANITAS_PII_CALIBRATION") or None,
        "pii_ner_core": os.environ.get("SANITAS_PII_NER_CORE", "token"),
    }
    values.update(overrides)
    values["public_url"] = public_url(values["public_url"])  # type: ignore[arg-type]
    if "secret_key" not in values:
        values["secret_key"] = _secret(home)
    return Settings(**values)  # type: ignore[arg-type]
