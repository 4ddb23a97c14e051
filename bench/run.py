"""Benchmarks with committed results (reports/bench.md): ticket-store throughput, end-to-end
message latency through the real gateway + Rasa + action server, and each process's memory.

Run with `make bench`. Numbers depend on the machine; the report says which one.
"""

from __future__ import annotations

import os
import platform
import statistics
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from bot.config import REPO_ROOT
from bot.store.migrate import upgrade
from bot.tickets import NewTicket, TicketService
from tests.integration.stack import GatewayThread, Stack, ensure_model

REPORT = REPO_ROOT / "reports" / "bench.md"
PG_URL = os.environ.get("ADUAN_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def new_ticket(i: int) -> NewTicket:
    user = str(i % 50)
    return NewTicket(
        channel="telegram",
        user_id=user,
        chat_id=user,
        description=f"lampu jalan mati nomor {i}",
        category_id="penerangan_jalan",
    )


def store_throughput(url: str, n: int = 500, workers: int = 20) -> dict[str, float]:
    upgrade(url)
    svc = TicketService.from_url(url)
    svc.sync_opds()
    started = time.perf_counter()
    for i in range(n):
        svc.create_ticket(new_ticket(i))
    sequential = n / (time.perf_counter() - started)
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        codes = list(pool.map(lambda i: svc.create_ticket(new_ticket(i)).code, range(n)))
    concurrent = n / (time.perf_counter() - started)
    assert len(set(codes)) == n
    started = time.perf_counter()
    for code in codes[:200]:
        svc.change_status(code, "diproses", actor="bench")
    transitions = 200 / (time.perf_counter() - started)
    return {"sequential": sequential, "concurrent": concurrent, "transitions": transitions}


def pg_schema_url() -> tuple[str, str] | None:
    base = "postgresql+psycopg://" + PG_URL.split("://", 1)[1]
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    try:
        with create_engine(base).begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception:
        return None
    return f"{base}?options=-csearch_path%3D{schema}", schema


def drop_schema(schema: str) -> None:
    base = "postgresql+psycopg://" + PG_URL.split("://", 1)[1]
    with create_engine(base).begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


def web_latency(gateway: GatewayThread, n: int = 100) -> list[float]:
    """Seconds from POST to the first reply visible to the web page, for n one-turn conversations."""
    timings = []
    with httpx.Client(base_url=gateway.url, timeout=30) as client:
        for i in range(n):
            session = f"bench{i}"
            started = time.perf_counter()
            client.post("/api/web/messages", json={"session": session, "id": uuid.uuid4().hex, "text": "halo min"})
            while not client.get("/api/web/messages", params={"session": session, "after": 0}).json()["messages"]:
                time.sleep(0.005)
            timings.append(time.perf_counter() - started)
    return timings


def main() -> None:
    lines = [
        "# Benchmarks",
        "",
        f"`make bench` on {date.today().isoformat()}: {platform.machine()}, {os.cpu_count()} CPU cores, "
        f"Python {platform.python_version()}.",
        "",
        "## Ticket store (create = ticket + citizen upsert + 2 audit events; transition = check + event + outbox)",
        "",
        "| database | create, 1 writer | create, 20 concurrent writers | status changes, 1 writer |",
        "|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        r = store_throughput(f"sqlite:///{tmp}/bench.db")
        lines.append(f"| SQLite (WAL) | {r['sequential']:.0f}/s | {r['concurrent']:.0f}/s | {r['transitions']:.0f}/s |")
    pg = pg_schema_url()
    if pg:
        try:
            r = store_throughput(pg[0])
            lines.append(
                f"| PostgreSQL 15 | {r['sequential']:.0f}/s | {r['concurrent']:.0f}/s | {r['transitions']:.0f}/s |"
            )
        finally:
            drop_schema(pg[1])
    ensure_model()
    with tempfile.TemporaryDirectory() as tmp:
        stack = Stack(Path(tmp), f"sqlite:///{tmp}/tickets.db")
        try:
            stack.start()
            before = rss_mb(os.getpid())
            with GatewayThread(stack.settings()) as gateway:
                timings = web_latency(gateway)
                gateway_mb = rss_mb(os.getpid()) - before
            rasa_mb = rss_mb(stack._rasa.pid)
            actions_mb = rss_mb(stack._actions.pid)
        finally:
            stack.stop()
    timings.sort()
    lines += [
        "",
        "## End to end: web chat message to first reply (gateway → Rasa → action server → outbox)",
        "",
        f'{len(timings)} one-turn conversations ("halo min"), sequential, after warm-up: '
        f"p50 {statistics.median(timings) * 1000:.0f} ms, p95 {timings[int(0.95 * len(timings)) - 1] * 1000:.0f} ms, "
        f"max {timings[-1] * 1000:.0f} ms (includes the page's 5 ms polling step).",
        "",
        "## Memory (resident set after warm-up)",
        "",
        "| process | RSS |",
        "|---|---|",
        f"| Rasa server with the model | {rasa_mb:.0f} MB |",
        f"| action server | {actions_mb:.0f} MB |",
        f"| gateway (growth of a process running it) | {gateway_mb:.0f} MB |",
    ]
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(REPORT.read_text())


if __name__ == "__main__":
    main()
