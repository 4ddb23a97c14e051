"""Real processes for the reliability suite: N Rasa servers, N action servers, M gateways, the fakes.

Everything runs as its own subprocess (own session, own log file), exactly as `make run` or the
scaled profile starts it, so `kill(name)` is a real SIGKILL of a real process and `start(name)` a
real restart. The Telegram and LINE fakes (and, with several gateways, a small webhook proxy that
stands in for the TLS reverse proxy) run in background threads, so blocking here never starves
them. Teardown kills every process group it started, whatever happened.

PostgreSQL and Redis: normal runs use a throw-away schema on the shared server; a test that
restarts PostgreSQL or Redis gets its own private instance (`PrivatePostgres`, `PrivateRedis`)
on a free port, and restarts only that one.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import httpx
from aiohttp import web
from sqlalchemy import create_engine, text

from bot.config import REPO_ROOT
from bot.store.db import engine_for
from bot.store.migrate import upgrade
from bot.tickets import TicketService
from nlu.tools.categories import generate as generate_categories
from scripts import model_fingerprint
from tests.integration.stack import MODEL, RASA_BIN, ensure_model, free_port
from tests.support.fake_line import FakeLineServer
from tests.support.fake_telegram import FakeTelegramServer

APP_PYTHON = REPO_ROOT / ".venv" / "bin" / "python"
PG_BIN = Path("/usr/lib/postgresql/15/bin")
TG_TOKEN = "7000000001:RELIABILITY-FAKE-TOKEN"
TG_SECRET = "rahasia-webhook-reliability"
LINE_SECRET = "line-secret-reliability"
LINE_TOKEN = "line-token-reliability"
RASA_TOKEN = "token-rasa-reliability"
RASA_READY = 300.0  # model load on a busy 2-core machine
OWN_ENV_PREFIXES = ("ADUAN_", "TELEGRAM_", "LINE_")

JSON = dict[str, Any]
SentHook = Callable[[str, JSON], None]


def current_model() -> None:
    """Like `make train`: retrain only when the model's inputs changed (fingerprint check, milliseconds)."""
    generate_categories(REPO_ROOT)
    if not model_fingerprint.is_fresh():
        ensure_model()
        model_fingerprint.write()


def wait_for(check: Callable[[], bool], timeout: float, what: str, interval: float = 0.5) -> None:
    """Poll `check` until true; exceptions count as 'not yet' (the process is still coming up)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if check():
                return
        time.sleep(interval)
    raise TimeoutError(f"{what} not ready after {timeout:.0f}s")


# --- the fakes, observed ------------------------------------------------------------------------


class ObservedTelegram(FakeTelegramServer):
    """The Telegram fake, telling the load driver about every message the bot sends."""

    def __init__(self, on_sent: SentHook) -> None:
        super().__init__(TG_TOKEN)
        self._on_sent = on_sent

    def _record(self, method: str, params: JSON, chat_id: Any = None, **extra: Any) -> JSON:
        entry = super()._record(method, params, chat_id, **extra)
        if method in ("sendMessage", "sendPhoto"):
            self._on_sent("telegram", entry)
        return entry


class ObservedLine(FakeLineServer):
    """The LINE fake, telling the load driver about every reply and push the bot makes."""

    def __init__(self, on_sent: SentHook) -> None:
        super().__init__(LINE_SECRET, LINE_TOKEN)
        self._on_sent = on_sent

    def _record(self, kind: str, user_id: str | None, **extra: Any) -> JSON:
        entry = super()._record(kind, user_id, **extra)
        if kind in ("reply", "push"):
            self._on_sent("line", entry)
        return entry


class WebhookProxy:
    """Round-robin reverse proxy in front of the gateway replicas (what nginx does in production).

    A replica that refuses the connection is skipped; one that dies mid-request gives 502, and the
    platform (here: the load driver) delivers the update again, as Telegram and LINE do.
    """

    def __init__(self) -> None:
        self.upstreams: list[str] = []
        self._next = 0
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.port = free_port()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _order(self) -> list[str]:
        with self._lock:
            ups = list(self.upstreams)
            start = self._next % max(len(ups), 1)
            self._next += 1
        return ups[start:] + ups[:start]

    async def _forward(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}
        assert self._session is not None
        for upstream in self._order():
            try:
                async with self._session.post(upstream + request.path, data=body, headers=headers) as resp:
                    return web.Response(status=resp.status, body=await resp.read())
            except aiohttp.ClientConnectorError:
                continue  # refused: this replica is down, try the next one
            except (aiohttp.ClientError, asyncio.TimeoutError):
                return web.Response(status=502, text="upstream failed mid-request")
        return web.Response(status=502, text="no upstream")

    def start(self) -> WebhookProxy:
        ready = threading.Event()

        async def serve() -> None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
            app = web.Application(client_max_size=20 * 1024 * 1024)
            app.router.add_post("/{tail:.*}", self._forward)
            self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
            await self._runner.setup()
            await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            loop.run_until_complete(serve())
            ready.set()
            loop.run_forever()
            if self._runner is not None:
                loop.run_until_complete(self._runner.cleanup())
            if self._session is not None:
                loop.run_until_complete(self._session.close())
            loop.close()

        self._thread = threading.Thread(target=run, name="webhook-proxy", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise TimeoutError("webhook proxy did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._thread = None


# --- private PostgreSQL and Redis (for the restart faults) -------------------------------------


class PrivatePostgres:
    """A PostgreSQL 15 cluster of our own in /tmp, on a free port: the one the PG-restart test restarts."""

    def __init__(self) -> None:
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="aduan-rel-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        shutil.chown(self.root, "postgres", "postgres")
        os.chmod(self.root, 0o755)
        self.restarts = 0

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/aduan"

    def _pg(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            ["runuser", "-u", "postgres", "--", *args], cwd=self.root, check=check, capture_output=True, timeout=120
        )

    def start(self) -> PrivatePostgres:
        if not self.data.exists():
            self._pg(str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8")
        # fsync off: the restart kills PostgreSQL, not the machine, so the OS still holds every write.
        # synchronous_commit stays on: an acknowledged commit must survive the crash-like restart.
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c max_connections=300 "
            "-c fsync=off -c full_page_writes=off"
        )
        self._pg(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.log), "-w", "start")
        if self.restarts == 0:
            admin = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres")
            with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                if not conn.execute(text("select 1 from pg_database where datname = 'aduan'")).first():
                    conn.execute(text("CREATE DATABASE aduan"))
            admin.dispose()
        return self

    def stop(self, mode: str = "fast") -> None:
        self._pg(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def restart(self, down_seconds: float = 3.0) -> None:
        """A crash-like stop (immediate: no checkpoint, clients cut off), some downtime, then start."""
        self.stop("immediate")
        time.sleep(down_seconds)
        self.restarts += 1
        self.start()

    def cleanup(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


class PrivateRedis:
    """redis-server as our own subprocess (no persistence): the one the Redis-restart test restarts."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.log = workdir / "redis.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.restarts = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> PrivateRedis:
        log = open(self.log, "ab")  # noqa: SIM115 - closed with the process
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
            + ["--daemonize", "no"],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        wait_for(lambda: _redis_ping(self.port), 20, "redis")
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def restart(self, down_seconds: float = 2.0) -> None:
        self.stop()
        time.sleep(down_seconds)
        self.restarts += 1
        self.start()


def _redis_ping(port: int) -> bool:
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
        sock.sendall(b"PING\r\n")
        return sock.recv(16).startswith(b"+PONG")


# --- schemas on the shared server ---------------------------------------------------------------


class SharedSchema:
    """A throw-away schema (plus its `_rasa` tracker schema) on the shared PostgreSQL server."""

    def __init__(self, base_url: str) -> None:
        self.base = "postgresql+psycopg://" + base_url.split("://", 1)[1]
        self.name = f"rel_{uuid.uuid4().hex[:10]}"
        sep = "&" if "?" in self.base else "?"
        self.url = self.base + f"{sep}options={quote(f'-csearch_path={self.name}')}"

    def create(self) -> SharedSchema:
        admin = create_engine(self.base)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{self.name}"'))
        admin.dispose()
        return self

    def drop(self) -> None:
        engine_for(self.url).dispose()
        admin = create_engine(self.base)
        with admin.begin() as conn:
            for name in (self.name, f"{self.name}_rasa"):  # only ours, never anyone else's
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
        admin.dispose()


# --- the processes ------------------------------------------------------------------------------


@dataclass
class Topology:
    """How many of each process; `scaled` adds the Redis lock store, Rasa's token and webhooks."""

    rasa: int = 1
    actions: int = 1
    gateways: int = 1

    @property
    def scaled(self) -> bool:
        return max(self.rasa, self.actions, self.gateways) > 1

    @classmethod
    def default(cls) -> Topology:
        return cls()

    @classmethod
    def scaled_profile(cls) -> Topology:
        return cls(2, 2, 2)


@dataclass
class Proc:
    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    healthy: Callable[[], bool]
    ready_timeout: float
    popen: subprocess.Popen[bytes] | None = None
    starts: int = 0
    kills: int = 0

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None


@dataclass
class Cluster:
    """The whole stack under test. Use as a context manager: teardown always kills what it started."""

    workdir: Path
    database_url: str
    topology: Topology = field(default_factory=Topology)
    lock_store_url: str | None = None
    sla_interval: float = 30.0
    procs: dict[str, Proc] = field(default_factory=dict)
    on_sent: SentHook = lambda channel, entry: None

    def __post_init__(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.logs = self.workdir / "logs"
        self.logs.mkdir(exist_ok=True)
        self.media = self.workdir / "media"
        self.media.mkdir(exist_ok=True)
        self.telegram = ObservedTelegram(lambda ch, e: self.on_sent(ch, e))
        self.line = ObservedLine(lambda ch, e: self.on_sent(ch, e))
        self.proxy: WebhookProxy | None = None
        self.webhooks = self.topology.gateways > 1  # several replicas: Telegram in webhook mode via the proxy
        self.rasa_ports = [free_port() for _ in range(self.topology.rasa)]
        self.action_ports = [free_port() for _ in range(self.topology.actions)]
        self.gateway_ports = [free_port() for _ in range(self.topology.gateways)]
        self.token = RASA_TOKEN if self.topology.scaled else None

    # --- URLs ---------------------------------------------------------------------------------

    @property
    def rasa_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{p}" for p in self.rasa_ports]

    @property
    def action_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{p}" for p in self.action_ports]

    @property
    def gateway_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{p}" for p in self.gateway_ports]

    def _action_for(self, index: int) -> str:
        return self.action_urls[index % len(self.action_urls)]

    def base_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(OWN_ENV_PREFIXES)}
        env.update(
            PYTHONPATH=str(REPO_ROOT),
            ADUAN_DATABASE_URL=self.database_url,
            SANIC_GRACEFUL_SHUTDOWN_TIMEOUT="0",
            PYTHONUNBUFFERED="1",
        )
        if self.lock_store_url:
            env["ADUAN_LOCK_STORE_URL"] = self.lock_store_url
        if self.token:
            env["ADUAN_RASA_TOKEN"] = self.token
        return env

    # --- set-up -------------------------------------------------------------------------------

    def prepare(self) -> None:
        """Model, migrations, OPDs, endpoints files, fakes; the process table (nothing started yet)."""
        current_model()
        upgrade(self.database_url)
        TicketService.from_url(self.database_url).sync_opds()
        self.telegram.start_thread()
        self.line.start_thread()
        if self.webhooks:
            self.proxy = WebhookProxy().start()
            self.proxy.upstreams = self.gateway_urls
            self.line.set_webhook(f"{self.proxy.url}/webhooks/line")
        else:
            self.line.set_webhook(f"{self.gateway_urls[0]}/webhooks/line")
        env = self.base_env()
        for i, port in enumerate(self.rasa_ports, start=1):
            endpoints = self.workdir / f"endpoints-{i}.yml"
            subprocess.run(
                [str(REPO_ROOT / ".venv/bin/aduan"), "rasa", "endpoints", "--out", str(endpoints)]
                + ["--action-url", self._action_for(i - 1)],
                cwd=REPO_ROOT,
                env=env,
                check=True,
                capture_output=True,
            )
            argv = [str(RASA_BIN), "run", "--enable-api", "-i", "127.0.0.1", "-p", str(port), "--model", str(MODEL)]
            credentials = "credentials-scaled.yml" if self.token else "credentials.yml"  # token: no bare `rest`
            argv += ["--endpoints", str(endpoints), "--credentials", credentials]
            argv += ["--logging-config-file", "nlu/logging.yml"]
            if self.token:
                argv += ["--auth-token", self.token]
            self._add(f"rasa-{i}", argv, env, self._rasa_ready(port), RASA_READY)
        for i, port in enumerate(self.action_ports, start=1):
            argv = [str(APP_PYTHON), "-m", "rasa_sdk", "--actions", "actions", "-p", str(port)]
            url = f"http://127.0.0.1:{port}/health"
            self._add(f"actions-{i}", argv, env, lambda url=url: httpx.get(url, timeout=3).status_code == 200, 90)
        for i, port in enumerate(self.gateway_ports, start=1):
            genv = {
                **env,
                "ADUAN_RASA_URL": ",".join(self.rasa_urls),
                "ADUAN_ACTION_SERVER_URL": ",".join(self._action_for(j) for j in range(len(self.rasa_urls))),
                "ADUAN_HTTP_HOST": "127.0.0.1",
                "ADUAN_HTTP_PORT": str(port),
                "ADUAN_MEDIA_DIR": str(self.media),
                "ADUAN_SLA_INTERVAL_SECONDS": str(self.sla_interval),
                "TELEGRAM_BOT_TOKEN": TG_TOKEN,
                "TELEGRAM_API_BASE_URL": self.telegram.root_url,
                "LINE_CHANNEL_SECRET": LINE_SECRET,
                "LINE_CHANNEL_ACCESS_TOKEN": LINE_TOKEN,
                "LINE_API_BASE_URL": self.line.base_url,
            }
            if self.webhooks:
                assert self.proxy is not None
                genv["TELEGRAM_WEBHOOK_URL"] = f"{self.proxy.url}/webhooks/telegram"
                genv["TELEGRAM_WEBHOOK_SECRET"] = TG_SECRET
                genv["ADUAN_TELEGRAM_POLLING"] = "false"
            url = f"http://127.0.0.1:{port}/healthz"
            self._add(
                f"gateway-{i}",
                [str(APP_PYTHON), "-m", "bot.cli", "serve"],
                genv,
                lambda url=url: httpx.get(url, timeout=5).status_code == 200,
                RASA_READY,
            )

    def _rasa_ready(self, port: int) -> Callable[[], bool]:
        params = {"token": self.token} if self.token else {}

        def ready() -> bool:
            status = httpx.get(f"http://127.0.0.1:{port}/status", params=params, timeout=5)
            return status.status_code == 200 and bool(status.json().get("model_file"))

        return ready

    def _add(self, name: str, argv: list[str], env: dict[str, str], healthy: Callable[[], bool], ready: float) -> None:
        self.procs[name] = Proc(name, argv, env, self.logs / f"{name}.log", healthy, ready)

    # --- process control ----------------------------------------------------------------------

    def names(self, kind: str) -> list[str]:
        return [name for name in self.procs if name.startswith(kind + "-")]

    def spawn(self, name: str) -> None:
        """Start the process without waiting for it (several Rasa servers load their models together)."""
        proc = self.procs[name]
        if proc.running:
            raise RuntimeError(f"{name} is already running")
        log = open(proc.log, "ab")  # noqa: SIM115 - the child holds it
        log.write(f"\n===== start {proc.starts + 1} of {name} at {time.strftime('%H:%M:%S')} =====\n".encode())
        log.flush()
        proc.popen = subprocess.Popen(
            proc.argv, cwd=REPO_ROOT, env=proc.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        proc.starts += 1

    def wait_healthy(self, name: str) -> None:
        proc = self.procs[name]

        def ok() -> bool:
            if proc.popen is not None and proc.popen.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.popen.returncode}; see {proc.log}")
            return proc.healthy()

        deadline = time.monotonic() + proc.ready_timeout
        while time.monotonic() < deadline:
            try:
                if ok():
                    break
            except RuntimeError:
                raise
            except Exception:
                pass
            time.sleep(0.5)
        else:
            raise TimeoutError(f"{name} not healthy after {proc.ready_timeout:.0f}s; see {proc.log}")
        if name.startswith("rasa-"):
            port = self.rasa_ports[int(name.split("-")[1]) - 1]
            params = {"token": self.token} if self.token else {}
            httpx.post(f"http://127.0.0.1:{port}/model/parse", params=params, json={"text": "halo"}, timeout=120)

    def start(self, name: str) -> None:
        self.spawn(name)
        self.wait_healthy(name)

    def kill(self, name: str) -> None:
        """SIGKILL the process and its group (Sanic/Rasa helpers too): no clean-up of any kind."""
        proc = self.procs[name]
        if proc.popen is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.popen.pid, signal.SIGKILL)
        proc.popen.wait(20)
        proc.kills += 1

    def stop(self, name: str, timeout: float = 20) -> None:
        proc = self.procs[name]
        if proc.popen is None or proc.popen.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.popen.pid, signal.SIGTERM)
        try:
            proc.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.popen.pid, signal.SIGKILL)
            proc.popen.wait(10)

    def start_all(self) -> None:
        """Back ends first (in parallel: Rasa's model load dominates), then the gateways."""
        for name in self.names("actions") + self.names("rasa"):
            self.spawn(name)
        for name in self.names("actions") + self.names("rasa"):
            self.wait_healthy(name)
        for name in self.names("gateway"):
            self.spawn(name)
        for name in self.names("gateway"):
            self.wait_healthy(name)

    def teardown(self) -> None:
        """SIGTERM every group, SIGKILL what is left; fakes and proxy stopped. Never leaves a process."""
        for name in reversed(list(self.procs)):
            with contextlib.suppress(Exception):
                self.stop(name, timeout=10)
        for proc in self.procs.values():  # belt and braces: any straggler in a group we started
            if proc.popen is not None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.popen.pid, signal.SIGKILL)
        if self.proxy is not None:
            self.proxy.stop()
        self.telegram.stop_thread()
        self.line.stop_thread()
        engine_for(self.database_url).dispose()

    def log_files(self) -> list[Path]:
        return sorted(self.logs.glob("*.log"))

    def __enter__(self) -> Cluster:
        try:
            self.prepare()
            self.start_all()
        except BaseException:
            self.teardown()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.teardown()
