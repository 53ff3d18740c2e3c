"""What a process pays before its first text: the heuristics never load spaCy, the model loads it
without torch, and a file that goes to the worker pool loads no model in the parent."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from sanitas.pii import pool, runner
from sanitas.pii.engine import PiiEngine
from sanitas.pii.spacy_data import lemma_index, stop_words


def _run(code: str) -> dict:
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_heuristics_never_import_spacy_or_torch():
    out = _run(
        "import json, sys\n"
        "from sanitas.pii.engine import PiiEngine\n"
        "e = PiiEngine(method='heuristics', processes=1)\n"
        "e.setup()\n"
        "found = e.analyze('Meet Jo at 12 Main Street, on Varnhem 12 street. SSN 123-45-6780;'\n"
        "                  ' send it to 18 rue des lilas 4, valmont')\n"
        "print(json.dumps({'labels': sorted({x.label for x in found}),"
        " 'spacy': 'spacy' in sys.modules, 'torch': 'torch' in sys.modules}))"
    )
    assert "ssn" in out["labels"] and "street_address" in out["labels"]
    assert out == {**out, "spacy": False, "torch": False}


def test_model_loads_spacy_without_torch_and_leaves_torch_importable():
    out = _run(
        "import json, sys\n"
        "from sanitas.pii.ner import ner_entities\n"
        "ents = ner_entities(['My name is Maria Lopez and I live in Madrid.'])[0]\n"
        "print(json.dumps({'labels': sorted({e.label for e in ents}), 'spacy': 'spacy' in sys.modules,"
        " 'torch': 'torch' in sys.modules}))"
    )
    # The probe was hidden from thinc only: no None entry is left that would break ``import torch``.
    assert out == {"labels": ["location", "person"], "spacy": True, "torch": False}


def test_word_lists_match_what_spacy_itself_loads():
    from spacy.lang.en.stop_words import STOP_WORDS

    assert stop_words() == frozenset(STOP_WORDS)
    words = lemma_index()
    assert {"suspense", "treasurer", "devil"} <= words
    assert not any("_" in w for w in words)


def test_a_pooled_file_loads_no_model_in_the_parent(tmp_path, monkeypatch):
    calls: list[bool] = []
    real_setup = PiiEngine.setup

    def spy(self, *, load_models=True):
        calls.append(load_models)
        real_setup(self, load_models=load_models)

    monkeypatch.setattr(PiiEngine, "setup", spy)
    monkeypatch.setattr(pool, "MIN_CHARS", 10)
    src = tmp_path / "in.jsonl"
    rows = [{"id": k, "text": f"row {k}: mail jane{k}@example.org"} for k in range(3)]
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    eng = PiiEngine(method="heuristics", processes=1)
    assert not eng.uses_pool(10**9)
    summary = runner.anonymize_file(src, out=tmp_path / "a.jsonl", engine=eng)
    assert calls == [True] and summary["entity_summary"] == {"email": 3}
    pooled = PiiEngine(method="heuristics", processes=2)
    assert pooled.uses_pool(src.stat().st_size)
    # Small batches still run in this process: the recognizers then load what they need themselves.
    monkeypatch.setattr(pool, "MIN_TEXTS", 10**6)
    monkeypatch.setattr(pool, "MIN_CHARS", 10**9)
    monkeypatch.setattr(PiiEngine, "uses_pool", lambda self, chars: True)
    summary = runner.anonymize_file(src, out=tmp_path / "b.jsonl", engine=pooled)
    assert calls == [True, False] and summary["entity_summary"] == {"email": 3}


@pytest.mark.parametrize("method", ["heuristics", "aimon_pii_m1"])
def test_lazy_setup_finds_what_eager_setup_finds(method):
    text = "Dr. Maria Lopez lives at 18 rue des lilas 4, valmont; card 4111 1111 1111 1111."
    eager = PiiEngine(method=method, processes=1)
    eager.setup()
    lazy = PiiEngine(method=method, processes=1)
    lazy.setup(load_models=False)
    assert lazy.analyze(text) == eager.analyze(text)


def test_gazetteers_are_kept_between_processes(tmp_path, monkeypatch):
    from sanitas.pii import lexicons as lex_mod

    monkeypatch.setenv("SANITAS_PII_CACHE", str(tmp_path))
    built = lex_mod._load_or_build()
    files = list(tmp_path.glob("pii-lexicons-*.json"))
    assert len(files) == 1 and built.is_name_token("Maria")
    # A second process reads the file instead of importing Faker's locales again: same sets.
    monkeypatch.setattr(lex_mod, "_build", lambda: pytest.fail("built again although cached"))
    assert lex_mod._load_or_build() == built
    # A damaged file is rebuilt, never trusted.
    files[0].write_text('{"first_names": [')
    monkeypatch.undo()
    monkeypatch.setenv("SANITAS_PII_CACHE", str(tmp_path))
    assert lex_mod._load_or_build() == built
    monkeypatch.setenv("SANITAS_PII_CACHE", "off")
    assert lex_mod._cache_file() is None


def _cli(tmp_path, *args: str) -> dict:
    """``sanitas ARGS`` in a fresh process; which heavy modules it imported, and its exit code."""
    code = (
        "import json, sys\n"
        f"sys.argv = ['sanitas', *{list(args)!r}]\n"
        "from sanitas.cli.main import app\n"
        "try:\n"
        "    app()\n"
        "except SystemExit as exc:\n"
        "    rc = exc.code or 0\n"
        "print(json.dumps({'rc': rc, 'modules': sorted(m for m in ('sqlalchemy', 'sanitas.heal',"
        " 'sanitas.anonymization.job', 'spacy') if m in sys.modules)}))"
    )
    env = {**__import__("os").environ, "SANITAS_HOME": str(tmp_path / "home")}
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_cli_anonymize_imports_no_database_heal_or_job_layer(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": 1, "text": "mail jane@example.org"}) + "\n")
    out = _cli(tmp_path, "anonymize", str(src), "--method", "heuristics", "--out", str(tmp_path / "o.jsonl"))
    assert out == {"rc": 0, "modules": []}
    assert json.loads((tmp_path / "o.jsonl").read_text())["text"] == "mail "


def test_cli_anonymize_encrypt_still_round_trips(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": 1, "text": "mail jane@example.org"}) + "\n")
    enc = tmp_path / "o.jsonl"
    out = _cli(
        tmp_path,
        "anonymize",
        str(src),
        "--method",
        "heuristics",
        "--out",
        str(enc),
        "--mask-config",
        '{"email": "encrypt"}',
    )
    assert out["rc"] == 0 and "sanitas.anonymization.job" in out["modules"]
    assert "<ENC:email:" in enc.read_text()
    back = tmp_path / "back.jsonl"
    assert _cli(tmp_path, "deanonymize", str(enc), "--out", str(back))["rc"] == 0
    assert json.loads(back.read_text())["text"] == "mail jane@example.org"


def test_cli_help_still_lists_every_command(tmp_path):
    code = (
        "import sys\nsys.argv = ['sanitas', '--help']\nfrom sanitas.cli.main import app\n"
        "try:\n    app()\nexcept SystemExit:\n    pass\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    for command in ("heal", "anonymize", "deanonymize", "datasets", "keys", "serve", "worker"):
        assert command in proc.stdout, proc.stdout
