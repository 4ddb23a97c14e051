"""One reliability run: start the cluster, play the load, inject the faults mid-load, verify, report.

A fault fires when a given share of the complaints is done, so it always lands in the middle of
live conversations. The killed process is restarted after a short downtime and the run goes on;
the time from the fault to "healthy again" is its window (5xx answers are honest only inside one).
"""

from __future__ import annotations

import asyncio
import contextlib
import platform
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
from sqlalchemy import func, select

from bot.store import models as m
from bot.store.db import session_factory
from tests.reliability.checks import Verdict, drain, verify
from tests.reliability.cluster import Cluster, PrivatePostgres, PrivateRedis, Topology
from tests.reliability.load import LoadDriver, Stats

JSON = dict[str, Any]


@dataclass
class Fault:
    """`kind`: "kill" (SIGKILL `target`, then start it again), "postgres" or "redis" (restart our instance)."""

    kind: str
    target: str = ""
    at: float = 0.5
    down: float = 2.0
    mid_processing: bool = False
    """Wait for a message the target gateway is processing (a leased inbox row) and kill right then."""

    @property
    def label(self) -> str:
        if self.kind == "kill":
            return f"SIGKILL {self.target}"
        return f"{'PostgreSQL' if self.kind == 'postgres' else 'Redis'} restart"


@dataclass
class FaultPlan:
    """Fires each fault in turn from inside the load (an asyncio task beside the citizens)."""

    cluster: Cluster
    faults: list[Fault]
    postgres: PrivatePostgres | None = None
    redis: PrivateRedis | None = None
    windows: list[tuple[float, float]] = field(default_factory=list)
    records: list[JSON] = field(default_factory=list)

    async def __call__(self, driver: LoadDriver) -> None:
        for fault in self.faults:
            threshold = fault.at * driver.expected_tickets
            while driver.stats.complaints_done < threshold:
                await asyncio.sleep(0.2)
            in_flight = sum(1 for m in driver.stats.messages if not m.answered)
            done = driver.stats.complaints_done
            started = time.time()
            await asyncio.to_thread(self._inject, fault)
            ended = time.time()
            self.windows.append((started, ended))
            self.records.append(
                {
                    "fault": fault.label,
                    "at": time.strftime("%H:%M:%S", time.localtime(started)),
                    "complaints_done_before": done,
                    "messages_in_flight": in_flight,
                    "down_s": fault.down,
                    "back_healthy_after_s": round(ended - started, 1),
                }
            )

    @contextlib.contextmanager
    def _sends_held(self) -> Iterator[None]:
        """The gateway dies while Telegram and LINE are slow to answer its sends, not in the middle of one.

        A send the platform has accepted but the gateway has not yet marked `sent` is sent again after
        a crash (at-least-once: Telegram has no idempotency key, and a used LINE reply token turns into
        a push). No sender can close that window of a few milliseconds, so the kill is timed outside
        it, as tests/gateway/test_fault_sigkill.py does: sends are held (answered 500 after 5 s; the
        killed process never sees the answer, the others retry) for the moment of the kill.
        """
        fakes = ((self.cluster.telegram, ("sendMessage", "sendPhoto")), (self.cluster.line, ("reply", "push")))
        for fake, methods in fakes:
            for method in methods:
                fake.fail_next(method, 500, times=10**6, delay=5.0)
        time.sleep(0.5)  # sends already past the fakes' door finish and are marked
        try:
            yield
        finally:
            for fake, _ in fakes:
                fake.clear_failures()

    def _inject(self, fault: Fault) -> None:
        if fault.kind == "kill" and fault.target.startswith("gateway"):
            with self._sends_held():
                if fault.mid_processing:
                    wait_for_lease(self.cluster.database_url)
                self.cluster.kill(fault.target)
            time.sleep(fault.down)
            self.cluster.start(fault.target)
        elif fault.kind == "kill":
            self.cluster.kill(fault.target)
            time.sleep(fault.down)
            self.cluster.start(fault.target)
        elif fault.kind == "postgres":
            assert self.postgres is not None, "the PostgreSQL restart needs the private instance"
            self.postgres.restart(fault.down)
        elif fault.kind == "redis":
            assert self.redis is not None, "the Redis restart needs the private instance"
            self.redis.restart(fault.down)
        else:
            raise ValueError(fault.kind)


def wait_for_lease(database_url: str, timeout: float = 30.0) -> bool:
    """Until some inbox row is claimed and not finished yet (a worker is processing it right now)."""
    sessions = session_factory(database_url)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with sessions() as session:
            leased = session.scalar(
                select(func.count()).where(
                    m.InboundMessage.status == "pending", m.InboundMessage.lease_token.is_not(None)
                )
            )
        if leased:
            return True
        time.sleep(0.02)
    return False


@dataclass
class Result:
    name: str
    profile: str
    citizens: int
    complaints: int
    stats: Stats
    verdict: Verdict
    faults: list[JSON]
    final_answered: int
    durations: JSON

    @property
    def ok(self) -> bool:
        return not self.verdict.problems() and self.final_answered == self.citizens and not self.stats.timeouts

    def figures(self) -> JSON:
        lat = sorted(self.stats.latencies)
        return {
            "name": self.name,
            "profile": self.profile,
            "citizens": self.citizens,
            "complaints_each": self.complaints,
            "messages_sent": self.stats.sent,
            "webhook_deliveries": self.stats.deliveries,
            "acknowledged": self.verdict.acked,
            "not_acknowledged_resent": self.stats.unacked_attempts,
            "answers": sum(1 for m in self.stats.messages if m.answered),
            "tickets": self.verdict.tickets_found,
            "tickets_expected": self.verdict.tickets_expected,
            "admin_posts": self.verdict.admin_posts,
            "outbox_rows": self.verdict.outbox_rows,
            "faults_injected": len(self.faults),
            "faults": self.faults,
            "duplicates": self.verdict.duplicates,
            "lost": self.verdict.lost,
            "http_5xx": len(self.stats.five_xx),
            "http_5xx_outside_faults": len(self.verdict.five_xx),
            "statuses": dict(self.stats.statuses),
            "delivery_errors": self.stats.delivery_errors[:10],
            "service_down_notices": self.stats.service_down_notices,
            "retry_save_prompts": self.stats.retry_save_prompts,
            "complaints_restarted": self.stats.complaints_restarted,
            "turn_timeouts": len(self.stats.timeouts),
            "conversation_outcomes": self.stats.outcomes[:10],
            "final_check_answered": self.final_answered,
            "privacy_findings": len(self.verdict.privacy),
            "log_lines_scanned": self.verdict.log_lines,
            "admin_messages_scanned": self.verdict.admin_messages_scanned,
            "turn_s": {
                "p50": round(statistics.median(lat), 2) if lat else None,
                "p95": round(lat[int(0.95 * (len(lat) - 1))], 2) if lat else None,
                "max": round(lat[-1], 2) if lat else None,
            },
            "durations_s": self.durations,
            "problems": self.verdict.problems(),
            "ok": self.ok,
        }


def write_diagnostics(path: Path, driver: LoadDriver, verdict: Verdict, faults: list[JSON]) -> None:
    """Each citizen's conversation and tickets, flagged ones first: what to read when a run fails."""
    flagged = {p.sender for p in driver.people if any(p.sender in problem for problem in verdict.problems())}
    sessions = session_factory(driver.cluster.database_url)
    with sessions() as session:
        rows = session.execute(
            select(m.Ticket.channel, m.Ticket.chat_id, m.Ticket.code, m.Ticket.created_at, m.Ticket.category_id)
        ).all()
    tickets: dict[str, list[str]] = {}
    for channel, chat_id, code, created, category in rows:
        tickets.setdefault(f"{channel}:{chat_id}", []).append(f"{created:%H:%M:%S} {code} {category}")
    lines = [f"problems: {verdict.problems()}", f"faults: {faults}", ""]
    for person in sorted(driver.people, key=lambda p: p.sender not in flagged):
        lines.append(f"== {person.sender}{' (FLAGGED)' if person.sender in flagged else ''} codes {person.codes}")
        lines += [f"   ticket {t}" for t in sorted(tickets.get(person.sender, []))]
        lines += [f"   {t}" for t in person.transcript]
    path.write_text("\n".join(lines) + "\n")


def machine() -> JSON:
    cpu = platform.processor() or ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "cpu": cpu,
        "cores": psutil.cpu_count(),
        "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "load_avg_at_end": [round(x, 2) for x in psutil.getloadavg()],
    }


def run(
    name: str,
    workdir: Path,
    database_url: str,
    *,
    topology: Topology | None = None,
    citizens: int,
    complaints: int,
    faults: list[Fault] | None = None,
    postgres: PrivatePostgres | None = None,
    redis: PrivateRedis | None = None,
    turn_timeout: float = 300.0,
    seed: int = 11,
) -> Result:
    """The whole scenario; the cluster is always torn down, the verdict computed before that."""
    topology = topology or Topology.default()
    t0 = time.monotonic()
    cluster = Cluster(workdir, database_url, topology, lock_store_url=redis.url if redis else None)
    with cluster:
        t_up = time.monotonic()
        driver = LoadDriver(cluster, citizens, complaints, seed=seed, turn_timeout=turn_timeout)
        plan = FaultPlan(cluster, faults or [], postgres, redis)

        async def play() -> tuple[Stats, int]:
            stats = await driver.run(plan if plan.faults else None)
            return stats, await driver.final_check(turn_timeout)

        stats, answered = asyncio.run(play())
        t_load = time.monotonic()
        drained = drain(cluster)
        verdict = verify(cluster, driver, plan.windows)
        write_diagnostics(workdir / "diagnostics.txt", driver, verdict, plan.records)
        t_end = time.monotonic()
    durations = {
        "start_up": round(t_up - t0, 1),
        "load": round(t_load - t_up, 1),
        "drain": round(drained, 1),
        "verify": round(t_end - t_load - drained, 1),
        "total": round(time.monotonic() - t0, 1),
    }
    profile = "scaled" if topology.scaled else "default"
    profile += f" ({topology.rasa} Rasa, {topology.actions} action, {topology.gateways} gateway)"
    return Result(name, profile, citizens, complaints, stats, verdict, plan.records, answered, durations)
