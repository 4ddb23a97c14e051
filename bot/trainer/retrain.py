"""Gated retraining: train a candidate in a separate process, compare, promote or keep aside, roll back.

- Training runs `rasa train` in its own (niced) process: the live Rasa server keeps answering.
- The gate (nlu/tools/gate.py, Rasa env) scores live and candidate on the same held-out sets in
  one run; the comparison is written to reports/trainer_gate.{md,json}.
- Promotion keeps the previous model under models/trainer/archive/, puts the candidate where the
  Rasa server loads it from at start-up, and swaps it in the running server with PUT /model. Rasa
  builds the new agent before replacing the old one, so a message is answered by one model or the
  other, never dropped or answered twice. `rollback` restores the previous model the same way.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bot.config import REPO_ROOT, get_settings, split_urls
from bot.trainer.data import NluFiles

RASA_BIN = REPO_ROOT / ".venv-rasa" / "bin" / "rasa"
RASA_PYTHON = REPO_ROOT / ".venv-rasa" / "bin" / "python"


class RetrainError(RuntimeError):
    """Training, scoring or swapping failed; the live model is unchanged."""


@dataclass
class ModelPlace:
    """Where the live model lives and where candidates and previous models are kept."""

    live: Path = REPO_ROOT / "models" / "aduan.tar.gz"
    home: Path = REPO_ROOT / "models" / "trainer"
    reports: Path = REPO_ROOT / "reports"

    @property
    def candidates(self) -> Path:
        return self.home / "candidates"

    @property
    def archive(self) -> Path:
        return self.home / "archive"

    @property
    def registry(self) -> Path:
        return self.home / "registry.json"

    def load(self) -> dict[str, Any]:
        if self.registry.exists():
            return json.loads(self.registry.read_text(encoding="utf-8"))
        return {"previous": [], "history": []}

    def save(self, state: dict[str, Any]) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        tmp = self.registry.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, self.registry)


@dataclass
class RetrainResult:
    candidate: Path
    comparison: dict[str, Any]
    promoted: bool
    report: Path
    train_seconds: float
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return bool(self.comparison.get("passed"))


def train_candidate(files: NluFiles, place: ModelPlace) -> tuple[Path, float]:
    """`rasa train` on the repo's data plus the curated labels, in a separate low-priority process."""
    place.candidates.mkdir(parents=True, exist_ok=True)
    name = "candidate-" + datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    data = [str(REPO_ROOT / "data")]
    if files.curated_root is not None and files.curated_train.exists():
        data.append(str(files.curated_train))
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(dir=place.candidates) as tmp:
        proc = subprocess.run(
            ["nice", "-n", "10", str(RASA_BIN), "train", "--data", *data, "--out", tmp, "--fixed-model-name", name],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        )
        if proc.returncode != 0:
            raise RetrainError("rasa train gagal: " + (proc.stderr or proc.stdout)[-1500:])
        target = place.candidates / f"{name}.tar.gz"
        os.replace(Path(tmp) / f"{name}.tar.gz", target)
    return target, time.perf_counter() - started


def run_gate(live: Path, candidate: Path, files: NluFiles) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as out:
        out_path = Path(out.name)
    try:
        proc = subprocess.run(
            [
                "nice",
                "-n",
                "10",
                str(RASA_PYTHON),
                "-m",
                "nlu.tools.gate",
                "--live",
                str(live),
                "--candidate",
                str(candidate),
                "--json",
                str(out_path),
                "--heldout",
                *[str(p) for p in files.heldout_files()],
            ],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        )
        if proc.returncode != 0:
            raise RetrainError("penilaian model gagal: " + (proc.stderr or proc.stdout)[-1500:])
        return json.loads(out_path.read_text(encoding="utf-8"))
    finally:
        out_path.unlink(missing_ok=True)


def write_report(comparison: dict[str, Any], place: ModelPlace, promoted: bool, notes: list[str]) -> Path:
    """reports/trainer_gate.md (for people) and .json (for the page and scripts)."""
    place.reports.mkdir(parents=True, exist_ok=True)
    data = {**comparison, "promoted": promoted, "notes": notes, "at": datetime.now(UTC).isoformat()}
    (place.reports / "trainer_gate.json").write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    live, cand = comparison["live"], comparison["candidate"]
    verdict = "DIPROMOSIKAN" if promoted else ("LULUS (belum dipromosikan)" if comparison["passed"] else "DITOLAK")
    lines = [
        "# Gerbang pelatihan ulang NLU (trainer)",
        "",
        f"- Waktu: {data['at']}",
        f"- Model aktif: `{Path(comparison['live_model']).name}`; "
        f"kandidat: `{Path(comparison['candidate_model']).name}`",
        f"- Data uji (held-out): {comparison['heldout_size']} contoh dari {len(comparison['heldout_files'])} berkas",
        f"- Aturan: macro-F1 turun maks. {comparison['rules']['max_macro_f1_drop'] * 100:.1f} poin; "
        f"tiap kategori turun maks. {comparison['rules']['max_category_f1_drop'] * 100:.0f} poin",
        f"- Keputusan: **{verdict}**",
        *[f"  - {r}" for r in comparison["reasons"] + notes],
        "",
        "| kategori | aktif F1 | kandidat F1 | selisih (poin) |",
        "|---|---|---|---|",
        f"| **macro** | {live['macro_f1']:.4f} | {cand['macro_f1']:.4f} | "
        f"{(cand['macro_f1'] - live['macro_f1']) * 100:+.2f} |",
    ]
    for label in comparison["labels"]:
        a, b = live["per_category"][label]["f1"], cand["per_category"][label]["f1"]
        lines.append(f"| {label} | {a:.4f} | {b:.4f} | {(b - a) * 100:+.2f} |")
    lines += ["", "Pasangan yang paling sering tertukar (kandidat): "]
    lines += [f"- {c['gold']} → {c['predicted']}: {c['count']}" for c in cand["confusions"][:10]] or ["- (tidak ada)"]
    path = place.reports / "trainer_gate.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def swap_model(rasa_url: str, model: Path, timeout: float = 300.0) -> str:
    """Load `model` into every running Rasa server (PUT /model); returns the new model id.

    `rasa_url` is ADUAN_RASA_URL: one server or, in the scaled profile, several (each is swapped,
    with ADUAN_RASA_TOKEN when set).
    """
    params = get_settings().rasa_auth
    status: dict[str, Any] = {}
    for url in split_urls(rasa_url):
        try:
            response = httpx.put(f"{url}/model", params=params, json={"model_file": str(model)}, timeout=timeout)
            if response.status_code >= 300:
                raise RetrainError(f"Rasa menolak model baru (HTTP {response.status_code}): {response.text[:300]}")
            status = httpx.get(f"{url}/status", params=params, timeout=30).json()
        except httpx.HTTPError as exc:
            raise RetrainError(f"Rasa tidak dapat dihubungi: {exc}") from exc
    return str(status.get("model_id") or "")


def promote(candidate: Path, place: ModelPlace, rasa_url: str | None) -> str | None:
    """Keep the live model in the archive, put the candidate in its place, swap it in the server.

    If the server refuses the new model, the previous file is put back and nothing is recorded.
    """
    place.archive.mkdir(parents=True, exist_ok=True)
    state = place.load()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    kept: Path | None = None
    if place.live.exists():
        kept = place.archive / f"previous-{stamp}.tar.gz"
        shutil.copy2(place.live, kept)
    _install(candidate, place.live)
    try:
        model_id = swap_model(rasa_url, place.live) if rasa_url else None
    except RetrainError:
        if kept is not None:
            _install(kept, place.live)
            kept.unlink()
        raise
    if kept is not None:
        state["previous"].append(str(kept))
    state["history"].append({"at": stamp, "action": "promote", "candidate": candidate.name, "model_id": model_id})
    place.save(state)
    candidate.unlink(missing_ok=True)  # it is the live model now; no second copy is kept
    return model_id


def _install(source: Path, live: Path) -> None:
    """Atomically replace the live model file (a server restart loads the same model)."""
    staged = live.with_name(live.name + ".incoming")
    shutil.copy2(source, staged)
    os.replace(staged, live)


def rollback(place: ModelPlace, rasa_url: str | None) -> tuple[Path, str | None]:
    """Restore the model that was live before the last promotion."""
    with _exclusive(place):
        return _rollback_locked(place, rasa_url)


def _rollback_locked(place: ModelPlace, rasa_url: str | None) -> tuple[Path, str | None]:
    state = place.load()
    if not state["previous"]:
        raise RetrainError("Belum ada model sebelumnya untuk dipulihkan.")
    previous = Path(state["previous"].pop())
    undo = place.archive / "rollback-undo.tar.gz"
    shutil.copy2(place.live, undo)
    _install(previous, place.live)
    try:
        model_id = swap_model(rasa_url, place.live) if rasa_url else None
    except RetrainError:
        _install(undo, place.live)  # the file stays what the server is running
        raise
    finally:
        undo.unlink(missing_ok=True)
    state["history"].append({"at": datetime.now(UTC).isoformat(), "action": "rollback", "model": str(previous)})
    place.save(state)
    return previous, model_id


def retrain(
    files: NluFiles | None = None,
    place: ModelPlace | None = None,
    *,
    promote_if_passed: bool = False,
    rasa_url: str | None = None,
) -> RetrainResult:
    """Train a candidate, gate it against the live model, and promote it when asked and allowed."""
    files = files or NluFiles()
    place = place or ModelPlace()
    if not place.live.exists():
        raise RetrainError(f"Model aktif tidak ditemukan di {place.live}.")
    with _exclusive(place):
        return _retrain_locked(files, place, promote_if_passed, rasa_url)


@contextlib.contextmanager
def _exclusive(place: ModelPlace) -> Iterator[None]:
    """One retraining at a time per model home, whether started from the page or the CLI."""
    place.home.mkdir(parents=True, exist_ok=True)
    with open(place.home / ".retrain.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RetrainError("Pelatihan ulang lain sedang berjalan; coba lagi nanti.") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _retrain_locked(files: NluFiles, place: ModelPlace, promote_if_passed: bool, rasa_url: str | None) -> RetrainResult:
    candidate, seconds = train_candidate(files, place)
    comparison = run_gate(place.live, candidate, files)
    notes: list[str] = []
    promoted = False
    if comparison["passed"] and promote_if_passed:
        promote(candidate, place, rasa_url)
        promoted = True
    elif not comparison["passed"]:
        rejected = candidate.with_name(candidate.name.replace("candidate-", "rejected-"))
        os.replace(candidate, rejected)
        candidate = rejected
        notes.append(f"kandidat disimpan terpisah: {rejected.name}")
    report = write_report(comparison, place, promoted, notes)
    return RetrainResult(candidate, comparison, promoted, report, seconds, notes)
