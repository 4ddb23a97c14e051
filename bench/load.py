"""`aduan bench`: N concurrent simulated citizens through the Telegram fake, and the same turns on bare Rasa.

Ours: citizen -> Telegram fake -> gateway (long polling, inbox, Rasa, outbox) -> fake. A turn's latency
runs from the moment the fake hands the update to the gateway to the moment the bot's first answer
to it arrives at the fake. Bare: the same citizens' turns straight to Rasa's REST channel (same
model and action server; no gateway, no inbox/outbox); latency is the REST call.

The stack is a `Profile`: `default` is one Rasa server, one action server and one gateway (started
here, or the running Rasa/action servers with `--use-running`); a scaled profile plugs in the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import platform
import random
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psutil

from bench.citizens import Answer, Citizen, Move, Outcome
from bench.fakes import TimedTelegramFake, bench_token
from bot.config import REPO_ROOT

APP_PYTHON = REPO_ROOT / ".venv" / "bin" / "python"
RASA_BIN = REPO_ROOT / ".venv-rasa" / "bin" / "rasa"
SETTLE = 0.05  # after the first answer, let the rest of the same answer arrive before reading it


def markers(report: dict[str, Any]) -> tuple[str, str]:
    """One section of reports/bench.md per profile, load and pace: a re-run replaces only its own."""
    cfg = report["config"]
    pace = "saturated" if cfg["saturate"] else f"think {cfg['think']:g}s"
    key = f"{cfg['profile']}, {cfg['citizens']} citizens, {pace}"
    return f"<!-- aduan bench {key}: begin -->", f"<!-- aduan bench {key}: end -->"


@dataclass
class BenchConfig:
    citizens: int = 50
    think: float = 2.0
    saturate: bool = False
    ramp: float | None = None  # seconds over which citizens start (default: the think time)
    timeout: float = 60.0
    bare: str = "same"  # same | default | none
    use_running: bool = False
    profile: str = "default"
    database_url: str | None = None
    report_dir: Path = REPO_ROOT / "reports"
    seed: int = 11

    @property
    def pause(self) -> float:
        return 0.0 if self.saturate else self.think


# --- results ------------------------------------------------------------------------------------


@dataclass
class RunResult:
    label: str
    latencies: list[float] = field(default_factory=list)
    conversations: int = 0
    completed: int = 0
    errors: list[str] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)  # ticket codes the citizens were given
    started: float = 0.0
    finished: float = 0.0

    def summary(self) -> dict[str, Any]:
        wall = max(self.finished - self.started, 1e-9)
        lat = sorted(self.latencies)
        return {
            "turns": len(lat),
            "conversations": self.conversations,
            "completed": self.completed,
            "errors": len(self.errors),
            "error_samples": self.errors[:10],
            "ticket_codes": sorted(self.codes),
            "wall_s": round(wall, 2),
            "turns_per_s": round(len(lat) / wall, 2),
            "conversations_per_s": round(self.completed / wall, 3),
            "latency_ms": {
                "p50": _ms(percentile(lat, 50)),
                "p95": _ms(percentile(lat, 95)),
                "p99": _ms(percentile(lat, 99)),
                "mean": _ms(statistics.fmean(lat)) if lat else None,
                "max": _ms(lat[-1]) if lat else None,
            },
        }


def percentile(values: list[float], pct: float) -> float | None:
    """Nearest-rank percentile of sorted values."""
    if not values:
        return None
    rank = max(1, min(len(values), math.ceil(pct / 100 * len(values))))
    return values[rank - 1]


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


# --- memory ---------------------------------------------------------------------------------------


class RssSampler:
    """Peak resident set of each named process (children included), sampled in a background thread.

    Also the CPU seconds each process spent during the run: on a shared machine, CPU per turn is
    the figure that other people's load disturbs least.
    """

    def __init__(self, pids: dict[str, int], interval: float = 0.5) -> None:
        self.pids = pids
        self.interval = interval
        self.peak_mb: dict[str, float] = dict.fromkeys(pids, 0.0)
        self.cpu_s: dict[str, float] = {}
        self._cpu_start: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def _cpu(self) -> dict[str, float]:
        out = {}
        for name, pid in self.pids.items():
            try:
                proc = psutil.Process(pid)
                family = [proc, *proc.children(recursive=True)]  # Sanic's worker processes (action server)
                out[name] = sum(t.user + t.system for t in (p.cpu_times() for p in family))
            except psutil.Error:
                continue
        return out

    def _sample(self) -> None:
        for name, pid in self.pids.items():
            try:
                proc = psutil.Process(pid)
                rss = proc.memory_info().rss + sum(c.memory_info().rss for c in proc.children(recursive=True))
            except psutil.Error:
                continue
            self.peak_mb[name] = max(self.peak_mb[name], rss / 2**20)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self._cpu_start = self._cpu()
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        self._sample()
        end = self._cpu()
        self.cpu_s = {name: end[name] - self._cpu_start[name] for name in end if name in self._cpu_start}


def listening_pid(port: int) -> int | None:
    """The process listening on a loopback port (to find a running Rasa / action server)."""
    for conn in psutil.net_connections(kind="tcp"):
        if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port and conn.pid:
            return conn.pid
    return None


# --- the stack ------------------------------------------------------------------------------------


def _port(url: str) -> int:
    return httpx.URL(url).port or 80


@dataclass
class Profile:
    """The processes under test and where to reach them."""

    rasa_url: str
    action_url: str
    gateway_url: str
    pids: dict[str, int]
    bare_rasa_url: str | None = None


class DefaultProfile:
    """One Rasa server, one action server, one gateway process (Telegram on the bench's fake)."""

    def __init__(self, config: BenchConfig, workdir: Path, fake_root: str) -> None:
        self.config = config
        self.workdir = workdir
        self.fake_root = fake_root
        self._stack: Any = None
        self._procs: list[subprocess.Popen[bytes]] = []

    def start(self) -> Profile:
        from bot.config import get_settings
        from bot.store.migrate import upgrade
        from tests.integration.stack import Stack, ensure_model

        if self.config.use_running:
            settings = get_settings()
            rasa_url, action_url = settings.rasa_url, settings.action_server_url
            tracker_url = settings.tracker_store_url  # the running Rasa's, which the gateway's /healthz checks
            # Its own inbox/outbox database, so a running gateway never claims the bench's messages.
            gateway_db = f"sqlite:///{self.workdir / 'gateway.db'}"
            upgrade(gateway_db)
            found = {"rasa": listening_pid(_port(rasa_url)), "actions": listening_pid(_port(action_url))}
            pids = {name: pid for name, pid in found.items() if pid}
        else:
            ensure_model()
            database_url = self.config.database_url or f"sqlite:///{self.workdir / 'tickets.db'}"
            self._stack = Stack(self.workdir, database_url)
            self._stack.start()
            rasa_url, action_url, gateway_db = self._stack.rasa_url, self._stack.action_url, database_url
            tracker_url = self._stack.settings().tracker_store_url
            pids = {"rasa": self._stack._rasa.pid, "actions": self._stack._actions.pid}
        gateway, gateway_url = start_gateway(
            self.workdir, "gateway", self.fake_root, gateway_db, tracker_url, rasa_url, action_url
        )
        self._procs.append(gateway)
        pids["gateway"] = gateway.pid
        profile = Profile(rasa_url, action_url, gateway_url, pids)
        if self.config.bare == "same":
            profile.bare_rasa_url = rasa_url
        elif self.config.bare == "default":
            bare = start_default_rasa(self.workdir, action_url)
            self._procs.append(bare)
            profile.bare_rasa_url, pids["bare_rasa"] = bare.url, bare.pid
        return profile

    def stop(self) -> None:
        stop_all(self._procs)
        if self._stack is not None:
            self._stack.stop()


class ScaledProfile:
    """The scaled profile (Procfile.scaled): 2 Rasa servers behind a token + 2 action servers + 2 gateways.

    Tickets and Rasa's tracker store on PostgreSQL (a fresh schema of --database-url, default the
    local `aduan_bench` database), Redis as Rasa's lock store (ADUAN_LOCK_STORE_URL, default db 13
    of the local Redis). The first gateway long-polls the Telegram fake, both process the shared
    inbox. Bare Rasa is a separate server with Rasa's default settings (the scaled servers do not
    mount the unauthenticated REST channel).
    """

    def __init__(self, config: BenchConfig, workdir: Path, fake_root: str) -> None:
        self.config = config
        self.workdir = workdir
        self.fake_root = fake_root
        self._stacks: list[Any] = []
        self._procs: list[subprocess.Popen[bytes]] = []
        self._schema: contextlib.ExitStack | None = None

    def start(self) -> Profile:
        import secrets

        from bot.store.migrate import ensure_database, upgrade
        from tests.conftest import pg_schema
        from tests.integration.stack import Stack, ensure_model

        if self.config.use_running:
            raise ValueError("--use-running drives one Rasa server; start the scaled profile here instead")
        ensure_model()
        base = self.config.database_url or "postgresql+psycopg://postgres@127.0.0.1:5432/aduan_bench"
        if not base.startswith("postgresql"):
            raise ValueError("the scaled profile needs PostgreSQL (--database-url postgresql+psycopg://…)")
        ensure_database(base)
        self._schema = contextlib.ExitStack()
        url = self._schema.enter_context(pg_schema(base))
        upgrade(url)
        lock = os.environ.get("ADUAN_LOCK_STORE_URL", "redis://127.0.0.1:6379/13")
        token = secrets.token_urlsafe(24)
        self._stacks = [Stack(self.workdir, url, token=token, lock_store_url=lock, name=f"-{n}") for n in "ab"]
        for stack in self._stacks:
            stack.start()
        a, b = self._stacks
        rasa_url, action_url = f"{a.rasa_url},{b.rasa_url}", f"{a.action_url},{b.action_url}"
        scaled_env = {"ADUAN_RASA_TOKEN": token, "ADUAN_LOCK_STORE_URL": lock}
        tracker = a.settings().tracker_store_url
        pids = {"rasa_a": a._rasa.pid, "rasa_b": b._rasa.pid, "actions_a": a._actions.pid, "actions_b": b._actions.pid}
        urls = []
        for name, polling in (("gateway_a", "true"), ("gateway_b", "false")):
            proc, gw_url = start_gateway(
                self.workdir,
                name,
                self.fake_root,
                url,
                tracker,
                rasa_url,
                action_url,
                {**scaled_env, "ADUAN_TELEGRAM_POLLING": polling},
            )
            self._procs.append(proc)
            pids[name] = proc.pid
            urls.append(gw_url)
        profile = Profile(rasa_url, action_url, urls[0], pids)
        if self.config.bare != "none":
            bare = start_default_rasa(self.workdir, a.action_url)
            self._procs.append(bare)
            profile.bare_rasa_url, pids["bare_rasa"] = bare.url, bare.pid
        return profile

    def stop(self) -> None:
        stop_all(self._procs)
        for stack in self._stacks:
            stack.stop()
        if self._schema is not None:
            self._schema.close()


class _Proc(subprocess.Popen):  # type: ignore[type-arg]
    url: str = ""


def start_gateway(
    workdir: Path,
    name: str,
    fake_root: str,
    database_url: str,
    tracker_url: str,
    rasa_url: str,
    action_url: str,
    extra_env: dict[str, str] | None = None,
) -> tuple[subprocess.Popen[bytes], str]:
    """An `aduan serve` process with Telegram on the bench's fake (long polling unless told otherwise)."""
    from tests.integration.stack import free_port, wait_until

    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT),
        "ADUAN_DATABASE_URL": database_url,
        "ADUAN_TRACKER_STORE_URL": tracker_url,
        "ADUAN_RASA_URL": rasa_url,
        "ADUAN_ACTION_SERVER_URL": action_url,
        "ADUAN_HTTP_HOST": "127.0.0.1",
        "ADUAN_HTTP_PORT": str(port),
        "ADUAN_MEDIA_DIR": str(workdir / "media"),
        "TELEGRAM_BOT_TOKEN": bench_token(),
        "TELEGRAM_API_BASE_URL": fake_root,
        **(extra_env or {}),
    }
    for key in ("TELEGRAM_WEBHOOK_URL", "TELEGRAM_WEBHOOK_SECRET", "LINE_CHANNEL_SECRET"):
        env.pop(key, None)  # long polling on the fake, no LINE
    log = open(workdir / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(
        [str(APP_PYTHON), "-m", "bot.cli", "serve"], cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    wait_until(lambda: httpx.get(f"{url}/healthz", timeout=5).status_code == 200, 120, name)
    return proc, url


def start_default_rasa(workdir: Path, action_url: str) -> _Proc:
    """A Rasa server with Rasa's default settings (in-memory tracker and lock store), same model."""
    from tests.integration.stack import MODEL, free_port, wait_until

    port = free_port()
    endpoints = workdir / "endpoints-default.yml"
    endpoints.write_text(f'action_endpoint:\n  url: "{action_url}/webhook"\n')
    log = open(workdir / "rasa-default.log", "ab")  # noqa: SIM115 - closed with the process
    proc = _Proc(
        [str(RASA_BIN), "run", "--enable-api", "-i", "127.0.0.1", "-p", str(port), "--model", str(MODEL)]
        + ["--endpoints", str(endpoints), "--credentials", "credentials.yml"],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    proc.url = f"http://127.0.0.1:{port}"
    wait_until(lambda: httpx.get(f"{proc.url}/status", timeout=5).json().get("model_file"), 300, "bare rasa server")
    httpx.post(f"{proc.url}/model/parse", json={"text": "halo"}, timeout=120)
    return proc


def stop_all(procs: list[subprocess.Popen[bytes]]) -> None:
    from tests.integration.stack import stop_process

    for proc in reversed(procs):
        stop_process(proc)


PROFILES: dict[str, Any] = {"default": DefaultProfile, "scaled": ScaledProfile}


# --- drivers --------------------------------------------------------------------------------------


class TelegramDriver:
    """Plays citizens through the fake; answers are pushed from the fake's thread into per-chat queues."""

    def __init__(self, config: BenchConfig) -> None:
        self.config = config
        self.loop: asyncio.AbstractEventLoop | None = None
        self.queues: dict[str, asyncio.Queue[dict[str, Any]]] = {}
        self.fake = TimedTelegramFake(bench_token(), self._on_answer)

    def _on_answer(self, entry: dict[str, Any]) -> None:
        loop = self.loop
        if loop is not None:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._dispatch, entry)

    def _dispatch(self, entry: dict[str, Any]) -> None:
        queue = self.queues.get(str(entry.get("chat_id")))
        if queue is not None:
            queue.put_nowait(entry)

    async def run(self, citizens: list[Citizen], user_base: int) -> RunResult:
        self.loop = asyncio.get_running_loop()
        result = RunResult("telegram", conversations=len(citizens))
        result.started = time.time()
        await asyncio.gather(*(self._play(c, user_base + c.number, result) for c in citizens))
        result.finished = time.time()
        return result

    async def _play(self, citizen: Citizen, user_id: int, result: RunResult) -> None:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.queues[str(user_id)] = queue
        await asyncio.sleep(_start_delay(self.config, citizen.number))
        move: Move | None = citizen.first_move()
        try:
            while move is not None:
                while not queue.empty():
                    queue.get_nowait()  # late parts of an earlier answer
                sent = await self.fake.inject(self._spec(user_id, move))
                first = await asyncio.wait_for(queue.get(), self.config.timeout)
                handed_out = self.fake.handed_out.get(int(sent["update_id"]), first["ts"])
                result.latencies.append(first["ts"] - handed_out)
                result.finished = max(result.finished, first["ts"])
                citizen.turns += 1
                await asyncio.sleep(max(self.config.pause, SETTLE))
                entries = [first]
                while not queue.empty():
                    entries.append(queue.get_nowait())
                move = citizen.next_move(_telegram_answer(entries))
            result.completed += 1
            result.codes.append(citizen.code or "")
        except TimeoutError:
            result.errors.append(f"citizen {citizen.number}: no answer within {self.config.timeout:.0f}s")
        except Outcome as exc:
            result.errors.append(f"citizen {citizen.number}: {exc}")

    @staticmethod
    def _spec(user_id: int, move: Move) -> dict[str, Any]:
        if move.kind == "location":
            return {"user_id": user_id, "location": {"latitude": move.latitude, "longitude": move.longitude}}
        if move.kind == "button":
            return {"user_id": user_id, "callback_data": move.text, "message_id": move.message_id}
        return {"user_id": user_id, "text": move.text}


def _telegram_answer(entries: list[dict[str, Any]]) -> Answer:
    texts, buttons = [], []
    for entry in entries:
        if entry.get("text"):
            texts.append(str(entry["text"]))
        rows = (entry.get("reply_markup") or {}).get("inline_keyboard") or []
        for button in (b for row in rows for b in row):
            buttons.append((button.get("text", ""), str(button.get("callback_data", "")), entry.get("message_id")))
    return Answer("\n\n".join(texts), buttons)


class RestDriver:
    """Plays the same citizens straight against Rasa's REST channel."""

    def __init__(self, config: BenchConfig, rasa_url: str) -> None:
        self.config = config
        self.url = f"{rasa_url.rstrip('/')}/webhooks/rest/webhook"

    async def run(self, citizens: list[Citizen], prefix: str) -> RunResult:
        result = RunResult("bare_rasa", conversations=len(citizens))
        limits = httpx.Limits(max_connections=len(citizens) + 5, max_keepalive_connections=len(citizens) + 5)
        async with httpx.AsyncClient(timeout=self.config.timeout, limits=limits) as client:
            result.started = time.time()
            await asyncio.gather(*(self._play(client, c, f"{prefix}{c.number}", result) for c in citizens))
        result.finished = max(result.finished, result.started)
        return result

    async def _play(self, client: httpx.AsyncClient, citizen: Citizen, sender: str, result: RunResult) -> None:
        await asyncio.sleep(_start_delay(self.config, citizen.number))
        move: Move | None = citizen.first_move()
        try:
            while move is not None:
                started = time.time()
                response = await client.post(self.url, json={"sender": sender, "message": move.rasa_text()})
                response.raise_for_status()
                replies = response.json()
                ended = time.time()
                result.latencies.append(ended - started)
                result.finished = max(result.finished, ended)
                citizen.turns += 1
                await asyncio.sleep(self.config.pause)
                move = citizen.next_move(_rest_answer(replies))
            result.completed += 1
            result.codes.append(citizen.code or "")
        except httpx.HTTPError as exc:
            result.errors.append(f"citizen {citizen.number}: {type(exc).__name__}: {exc}")
        except Outcome as exc:
            result.errors.append(f"citizen {citizen.number}: {exc}")


def _rest_answer(replies: list[dict[str, Any]]) -> Answer:
    texts = [r["text"] for r in replies if r.get("text")]
    buttons = [(b.get("title", ""), b.get("payload", ""), None) for r in replies for b in r.get("buttons") or []]
    return Answer("\n\n".join(texts), buttons)


def _start_delay(config: BenchConfig, number: int) -> float:
    """Citizens arrive spread over the ramp, not as one burst (deterministic per citizen)."""
    ramp = config.think if config.ramp is None else config.ramp
    if ramp <= 0 or config.citizens <= 1:
        return 0.0
    return ramp * number / config.citizens


# --- the run --------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    return {
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
        "load_avg_at_start": [round(x, 2) for x in os.getloadavg()],
    }


async def _drive(config: BenchConfig, profile_cls: type[DefaultProfile], workdir: Path) -> dict[str, Any]:
    random.seed(config.seed)
    driver = TelegramDriver(config)
    await driver.fake.start()  # on this loop; hand-out and answer times are taken in its handlers
    profile_runner = profile_cls(config, workdir, driver.fake.root_url)
    try:
        profile = await asyncio.to_thread(profile_runner.start)
        user_base = random.randint(10**8, 9 * 10**8)
        with RssSampler(profile.pids) as rss:
            ours = await driver.run([Citizen.make(i) for i in range(config.citizens)], user_base)
            bare = None
            if profile.bare_rasa_url:
                rest = RestDriver(config, profile.bare_rasa_url)
                bare = await rest.run([Citizen.make(i) for i in range(config.citizens)], f"bench-bare-{user_base}-")
        ours_s = ours.summary()
        turns = served_turns(config, len(ours.latencies), len(bare.latencies) if bare else 0)
        bare_s = bare.summary() if bare else None
        report: dict[str, Any] = {
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": machine(),
            "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(config).items()},
            "ours": ours_s,
            "bare_rasa": bare_s,
            "ratios": ratios(ours_s, bare_s),
            "peak_rss_mb": {k: round(v) for k, v in rss.peak_mb.items()},
            "peak_rss_total_mb": round(sum(v for k, v in rss.peak_mb.items() if k != "bare_rasa")),
            "cpu_s": {k: round(v, 2) for k, v in rss.cpu_s.items()},
            "cpu_ms_per_turn": {
                k: round(1000 * v / turns[k], 1) for k, v in by_kind(rss.cpu_s).items() if turns.get(k)
            },
        }
        return report
    finally:
        await asyncio.to_thread(profile_runner.stop)
        await driver.fake.stop()


def by_kind(per_process: dict[str, float]) -> dict[str, float]:
    """rasa_a + rasa_b -> rasa (the scaled profile's replicas share the turns)."""
    out: dict[str, float] = {}
    for name, value in per_process.items():
        kind = name if name == "bare_rasa" else name.split("_")[0]
        out[kind] = out.get(kind, 0.0) + value
    return out


def served_turns(config: BenchConfig, ours: int, bare: int) -> dict[str, int]:
    """How many turns each process served: the bare run reaches the action server and one Rasa server."""
    return {
        "gateway": ours,
        "actions": ours + bare,
        "rasa": ours + (bare if config.bare == "same" else 0),
        "bare_rasa": bare,
    }


def ratios(ours: dict[str, Any], bare: dict[str, Any] | None) -> dict[str, float | None]:
    """ours/bare: p95 latency (lower is better) and throughput (higher is better)."""
    if not bare:
        return {"p95": None, "turns_per_s": None}
    p95_ours, p95_bare = ours["latency_ms"]["p95"], bare["latency_ms"]["p95"]
    return {
        "p95": round(p95_ours / p95_bare, 2) if p95_ours and p95_bare else None,
        "turns_per_s": round(ours["turns_per_s"] / bare["turns_per_s"], 2) if bare["turns_per_s"] else None,
    }


def run(config: BenchConfig) -> tuple[dict[str, Any], Path]:
    """Run the benchmark; write JSON under reports/bench/ and the table in reports/bench.md."""
    profile_cls = PROFILES.get(config.profile)
    if profile_cls is None:
        raise ValueError(f"profile {config.profile!r} is not available yet (have: {', '.join(PROFILES)})")
    if config.profile == "scaled" and config.bare == "same":
        config.bare = "default"  # its Rasa servers mount no unauthenticated REST channel to compare on
    with _workdir() as workdir:
        report = asyncio.run(_drive(config, profile_cls, workdir))
    out = write_reports(report, config.report_dir)
    return report, out


@contextlib.contextmanager
def _workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="aduan-bench-") as tmp:
        yield Path(tmp)


def write_reports(report: dict[str, Any], report_dir: Path) -> Path:
    stamp = report["when"].replace(":", "").replace("-", "")[:15]
    out = report_dir / "bench" / f"{stamp}-{report['config']['profile']}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    md = report_dir / "bench.md"
    begin, end = markers(report)
    section = "\n".join([begin, markdown(report, out.relative_to(report_dir)), end])
    current = md.read_text(encoding="utf-8") if md.exists() else "# Benchmarks\n"
    if begin in current and end in current:
        head, _, rest = current.partition(begin)
        _, _, tail = rest.partition(end)
        current = head + section + tail
    else:
        current = current.rstrip("\n") + "\n\n" + section + "\n"
    md.write_text(current, encoding="utf-8")
    return out


def markdown(report: dict[str, Any], json_path: Path) -> str:
    cfg, m = report["config"], report["machine"]
    pace = "no pause (saturation)" if cfg["saturate"] else f"{cfg['think']:g} s between an answer and the next message"
    lines = [
        f"## `aduan bench` ({cfg['profile']} profile)",
        "",
        f"{report['when']}: {cfg['citizens']} concurrent citizens, {pace}; complaint, location, photo skipped, "
        f"privacy, confirmation, status check. Machine: {m['machine']}, {m['cpus']} cores, {m['memory_gb']} GB, "
        f"load average at start {m['load_avg_at_start'][0]}. Raw figures: `{json_path}`.",
        "",
        "| run | turns | conversations done | errors | p50 | p95 | p99 | turns/s | conversations/s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, label in (("ours", "Aduan (Telegram fake → gateway → Rasa)"), ("bare_rasa", "bare Rasa (REST channel)")):
        s = report.get(name)
        if not s:
            continue
        lat = s["latency_ms"]
        lines.append(
            f"| {label} | {s['turns']} | {s['completed']}/{s['conversations']} | {s['errors']} | "
            f"{lat['p50']} ms | {lat['p95']} ms | {lat['p99']} ms | {s['turns_per_s']} | {s['conversations_per_s']} |"
        )
    r = report["ratios"]
    if r["p95"] is not None:
        lines += ["", f"Ours/bare: p95 latency {r['p95']}×, throughput {r['turns_per_s']}× (bare: `{cfg['bare']}`)."]
    lines += ["", "| process | peak RSS |", "|---|---|"]
    lines += [f"| {name} | {mb} MB |" for name, mb in report["peak_rss_mb"].items()]
    lines.append(f"| **total (ours)** | **{report['peak_rss_total_mb']} MB** |")
    if report.get("cpu_ms_per_turn"):
        per_turn = ", ".join(f"{name} {ms} ms" for name, ms in report["cpu_ms_per_turn"].items())
        lines += ["", f"CPU per turn served (each process): {per_turn}."]
    return "\n".join(lines)
