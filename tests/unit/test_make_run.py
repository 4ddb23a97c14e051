"""Ctrl-C on `make run` stops every process quietly: no traceback, no make "Error 130"."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from bot.config import REPO_ROOT

PROCESS = "python3 -c \"import time; print('%s up', flush=True); time.sleep(300)\""


@pytest.mark.skipif(not (REPO_ROOT / ".venv" / "bin" / "honcho").exists(), reason="honcho not installed")
def test_ctrl_c_stops_quietly(tmp_path: Path) -> None:
    procfile = tmp_path / "Procfile"
    procfile.write_text("".join(f"{name}: {PROCESS % name}\n" for name in ("rasa", "actions", "gateway")))
    make = subprocess.Popen(
        ["make", "--no-print-directory", "-o", "setup", "-o", "train", "-o", "db", "run", f"PROCFILE={procfile}"],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, like a terminal's foreground job
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.monotonic() + 60
        lines: list[str] = []
        assert make.stdout is not None
        while sum(" up" in line for line in lines) < 3:
            assert time.monotonic() < deadline, lines
            lines.append(make.stdout.readline().decode())
        os.killpg(make.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        rest, _ = make.communicate(timeout=30)
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGKILL)
    output = "".join(lines) + rest.decode()
    assert "Aduan berhenti" in output, output
    assert "Traceback" not in output and "Error 130" not in output and "Interrupt" not in output, output
    assert output.count("stopped") == 3, output
