"""Real Rasa server + real action server (+ the gateway in-process) for end-to-end tests.

The model is trained once per machine state (Rasa's own fingerprint skips unchanged data);
servers run on free loopback ports with their own ticket database and tracker store.
"""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from bot.config import REPO_ROOT, Settings
from bot.rasa_endpoints import write_endpoints
from bot.store.migrate import upgrade
from bot.tickets import TicketService
from nlu.tools.categories import generate as generate_categories

RASA_BIN = REPO_ROOT / ".venv-rasa" / "bin" / "rasa"
APP_PYTHON = REPO_ROOT / ".venv" / "bin" / "python"
MODEL = REPO_ROOT / "models" / "aduan.tar.gz"
MODEL.parent.mkdir(exist_ok=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:
            pass
        time.sleep(0.3)
    raise TimeoutError(f"{what} not ready after {timeout:.0f}s")


def ensure_model() -> Path:
    """Train the model from the current data and config (Rasa's cache makes an unchanged one quick).

    Trained into a temporary folder and moved into place atomically, so a Rasa server started by
    another test session never reads a half-written archive.
    """
    generate_categories(REPO_ROOT)  # like `make train`: domain intents and form rule from categories.yml
    with tempfile.TemporaryDirectory(dir=REPO_ROOT / "models") as tmp:
        subprocess.run(
            [str(RASA_BIN), "train", "--fixed-model-name", "aduan", "--out", tmp],
            cwd=REPO_ROOT,
            check=True,
            stdout=subprocess.DEVNULL if os.environ.get("ADUAN_QUIET_TRAIN") else None,
        )
        os.replace(Path(tmp) / "aduan.tar.gz", MODEL)
    return MODEL


class Stack:
    """One Rasa server and its action server. `token` / `lock_store_url`: a replica of the scaled profile."""

    def __init__(
        self,
        workdir: Path,
        database_url: str,
        token: str | None = None,
        lock_store_url: str | None = None,
        name: str = "",
    ) -> None:
        self.workdir = workdir
        self.database_url = database_url
        self.token = token
        self.lock_store_url = lock_store_url
        self.name = name
        self.rasa_port = free_port()
        self.action_port = free_port()
        self.rasa_url = f"http://127.0.0.1:{self.rasa_port}"
        self.action_url = f"http://127.0.0.1:{self.action_port}"
        self._rasa: subprocess.Popen[bytes] | None = None
        self._actions: subprocess.Popen[bytes] | None = None
        # The same generator as `make run`: the tracker store follows the ticket store.
        self.endpoints = write_endpoints(self.settings(), workdir / f"endpoints{name}.yml")
        self.env = {**os.environ, "ADUAN_DATABASE_URL": database_url, "PYTHONPATH": str(REPO_ROOT)}
        if token:
            self.env["ADUAN_RASA_TOKEN"] = token
        self.auth = {"token": token} if token else {}
        upgrade(database_url)
        self.tickets = TicketService.from_url(database_url)
        self.tickets.sync_opds()

    # --- processes ----------------------------------------------------------------------------

    def start(self) -> None:
        self.start_actions()
        self.start_rasa()

    def start_actions(self) -> None:
        log = open(self.workdir / f"actions{self.name}.log", "ab")  # noqa: SIM115 - closed with the process
        self._actions = subprocess.Popen(
            [str(APP_PYTHON), "-m", "rasa_sdk", "--actions", "actions", "-p", str(self.action_port)],
            cwd=REPO_ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_until(lambda: httpx.get(f"{self.action_url}/health").status_code == 200, 60, "action server")

    def start_rasa(self) -> None:
        log = open(self.workdir / f"rasa{self.name}.log", "ab")  # noqa: SIM115 - closed with the process
        scaled = ["--auth-token", self.token] if self.token else []
        credentials = "credentials-scaled.yml" if self.token else "credentials.yml"
        self._rasa = subprocess.Popen(
            [
                str(RASA_BIN),
                "run",
                "--enable-api",
                "-i",
                "127.0.0.1",
                "-p",
                str(self.rasa_port),
                "--model",
                str(MODEL),
                "--endpoints",
                str(self.endpoints),
                "--credentials",
                credentials,
                "--logging-config-file",
                "nlu/logging.yml",
                *scaled,
            ],
            cwd=REPO_ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_until(
            lambda: httpx.get(f"{self.rasa_url}/status", params=self.auth).json().get("model_file"), 180, "rasa server"
        )
        httpx.post(f"{self.rasa_url}/model/parse", params=self.auth, json={"text": "halo"}, timeout=60)  # warm-up

    def stop_rasa(self) -> None:
        stop_process(self._rasa)
        self._rasa = None

    def kill_rasa(self) -> None:
        """SIGKILL, as a crash: no graceful shutdown, nothing flushed."""
        if self._rasa and self._rasa.poll() is None:
            self._rasa.kill()
            self._rasa.wait(10)
        self._rasa = None

    def stop(self) -> None:
        stop_process(self._rasa)
        stop_process(self._actions)

    # --- talking to Rasa directly ---------------------------------------------------------------

    def say(self, sender: str, message: str) -> list[dict[str, Any]]:
        response = httpx.post(
            f"{self.rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": message}, timeout=60
        )
        response.raise_for_status()
        return response.json()

    def parse(self, text: str) -> dict[str, Any]:
        return httpx.post(f"{self.rasa_url}/model/parse", json={"text": text}, timeout=60).json()

    def settings(self, **overrides: Any) -> Settings:
        values = {
            "ADUAN_DATABASE_URL": self.database_url,
            "ADUAN_RASA_URL": self.rasa_url,
            "ADUAN_ACTION_SERVER_URL": self.action_url,
            "ADUAN_HTTP_PORT": free_port(),
        }
        if self.token:
            values["ADUAN_RASA_TOKEN"] = self.token
        if self.lock_store_url:
            values["ADUAN_LOCK_STORE_URL"] = self.lock_store_url
        values.update(overrides)
        return Settings(_env_file=None, **values)


def stop_process(proc: subprocess.Popen[bytes] | None) -> None:
    """SIGTERM, then SIGKILL after 20 s: no test leaves a process behind."""
    if proc and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


class GatewayThread:
    """The real gateway app under uvicorn in a background thread."""

    def __init__(self, settings: Settings) -> None:
        from bot.gateway.app import create_app

        self.settings = settings
        self.app = create_app(settings)
        self.url = f"http://127.0.0.1:{settings.http_port}"
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=settings.http_port, log_level="warning", timeout_graceful_shutdown=3
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def gateway(self) -> Any:
        return self.app.state.gateway

    def __enter__(self) -> GatewayThread:
        self.thread.start()
        wait_until(lambda: self.server.started, 30, "gateway")
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(20)
