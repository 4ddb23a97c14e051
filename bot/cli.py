"""`aduan` command line: database, tickets, OPDs, terminal chat, NLU tooling and dev fakes.

Errors print one clear line and exit non-zero; `--json` output is for scripts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import click

from bot.config import REPO_ROOT, get_settings


def _service():
    from bot.tickets import TicketService

    return TicketService.from_url(get_settings().sqlalchemy_url)


def _fail(message: str) -> None:
    raise click.ClickException(message)


@click.group()
def main() -> None:
    """Aduan: asisten pengaduan warga (Telegram, LINE, web)."""


# --- db -------------------------------------------------------------------------------------


@main.group()
def db() -> None:
    """Ticket store schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply migrations and sync OPDs from data/categories.yml."""
    from bot.store.migrate import upgrade

    url = get_settings().sqlalchemy_url
    try:
        upgrade(url, revision)
        count = _service().sync_opds()
    except Exception as exc:  # one clear line, not a traceback, for an operator
        _fail(f"Migrasi gagal ({type(exc).__name__}): {exc}")
    click.echo(f"Database siap ({_redact(url)}); {count} OPD tersinkron.")


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


# --- tickets --------------------------------------------------------------------------------


@main.group()
def tickets() -> None:
    """List, show and change tickets."""


@tickets.command("list")
@click.option("--status", help="baru, didisposisikan, diproses, selesai, ditutup, ditolak")
@click.option("--opd", "opd_id", help="OPD id, e.g. dpupr")
@click.option("--limit", default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="one JSON array for scripts")
def tickets_list(status: str | None, opd_id: str | None, limit: int, as_json: bool) -> None:
    from bot.domain.lifecycle import Status

    if status and status not in {s.value for s in Status}:
        _fail(f"Status '{status}' tidak dikenal. Pilihan: {', '.join(s.value for s in Status)}")
    rows = _service().list(status=status, opd_id=opd_id, limit=limit)
    if as_json:
        click.echo(json.dumps([r.admin_dict() for r in rows], ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo("Belum ada laporan.")
        return
    for r in rows:
        d = r.admin_dict()
        summary = d["description"].replace("\n", " ")
        click.echo(
            f"{r.code}  {r.status:<15} {r.category_id:<18} {r.opd_id:<12} "
            f"tenggat {r.due_at.date().isoformat()}  {summary[:60]}"
        )


@tickets.command("show")
@click.argument("code")
@click.option("--json", "as_json", is_flag=True)
def tickets_show(code: str, as_json: bool) -> None:
    from bot.tickets import TicketNotFound

    try:
        view = _service().get(code)
    except TicketNotFound:
        _fail(f"Laporan dengan kode '{code}' tidak ditemukan.")
    d = view.admin_dict()
    if as_json:
        click.echo(json.dumps(d, ensure_ascii=False, indent=2))
        return
    click.echo(f"Kode       : {view.code}")
    click.echo(f"Status     : {view.status} ({view.status_label})")
    click.echo(f"Kategori   : {view.category_label} [{view.category_id}]")
    click.echo(f"OPD        : {view.opd_name} [{view.opd_id}]")
    click.echo(f"Pelapor    : {d['citizen']} via {view.channel}")
    click.echo(f"Lokasi     : {d['location'] or '-'}")
    click.echo(f"Tenggat    : {view.due_text}")
    click.echo(f"Isi        : {d['description']}")
    click.echo("Riwayat    :")
    for e in d["events"]:
        click.echo(f"  {e['at'][:19]}  {e['from'] or '-':>15} -> {e['to']:<15} {e['actor']}  {e['note'] or ''}")


@tickets.command("set-status")
@click.argument("code")
@click.argument("status")
@click.option("--note", help="reason; required for ditolak and re-routing")
@click.option("--opd", "opd_id", help="target OPD when (re-)routing")
@click.option("--actor", default=lambda: f"cli:{os.environ.get('USER', 'admin')}", show_default="cli:$USER")
def tickets_set_status(code: str, status: str, note: str | None, opd_id: str | None, actor: str) -> None:
    from bot.domain.lifecycle import TransitionError
    from bot.tickets import TicketNotFound

    try:
        view = _service().change_status(code, status, actor=actor, note=note, opd_id=opd_id)
    except TicketNotFound:
        _fail(f"Laporan dengan kode '{code}' tidak ditemukan.")
    except TransitionError as exc:
        _fail(str(exc))
    click.echo(f"{view.code}: status sekarang '{view.status}' di {view.opd_id}.")


# --- opd ------------------------------------------------------------------------------------


@main.group()
def opd() -> None:
    """Agencies (OPD) that handle tickets."""


@opd.command("list")
@click.option("--json", "as_json", is_flag=True)
def opd_list(as_json: bool) -> None:
    rows = _service().list_opds()
    if as_json:
        click.echo(json.dumps([{"id": i, "name": n, "open": c} for i, n, c in rows], ensure_ascii=False))
        return
    if not rows:
        _fail("Belum ada OPD. Jalankan 'aduan db upgrade' dulu.")
    for opd_id, name, open_count in rows:
        click.echo(f"{opd_id:<12} {open_count:>4} terbuka  {name}")


# --- chat -----------------------------------------------------------------------------------


@main.command()
@click.option("--user", default=lambda: uuid.uuid4().hex[:8], help="user id (default: random)")
@click.option("--rasa-url", default=None, help="default: ADUAN_RASA_URL")
def chat(user: str, rasa_url: str | None) -> None:
    """Chat with the running Aduan stack in the terminal (as channel 'cli')."""
    from bot.terminal_chat import run_terminal_chat

    sys.exit(run_terminal_chat(rasa_url or get_settings().rasa_url, f"cli:{user}"))


# --- rasa -----------------------------------------------------------------------------------


@main.group()
def rasa() -> None:
    """Files the Rasa server starts with."""


@rasa.command("endpoints")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="write here (0600) instead of stdout")
def rasa_endpoints(out: Path | None) -> None:
    """Endpoints for `rasa run`: action server and a tracker store that follows ADUAN_DATABASE_URL."""
    from bot.rasa_endpoints import render_endpoints, write_endpoints

    settings = get_settings()
    if out is None:
        click.echo(render_endpoints(settings), nl=False)
        return
    try:
        write_endpoints(settings, out)
    except OSError as exc:
        _fail(f"Tracker store Rasa tidak dapat disiapkan ({_redact(settings.tracker_store_url)}): {exc}")
    click.echo(f"{out}: tracker store {_redact(settings.tracker_store_url)}", err=True)


# --- nlu ------------------------------------------------------------------------------------


@main.group()
def nlu() -> None:
    """NLU tooling (runs inside .venv-rasa)."""


def _rasa_python() -> Path:
    python = REPO_ROOT / ".venv-rasa" / "bin" / "python"
    if not python.exists():
        _fail("Lingkungan .venv-rasa belum ada. Jalankan 'make setup' dulu.")
    return python


def _run_nlu_tool(module: str, args: list[str]) -> None:
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), PYTHONWARNINGS="ignore", TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run([str(_rasa_python()), "-m", module, *args], cwd=REPO_ROOT, env=env, check=False)
    if result.returncode:
        sys.exit(result.returncode)


@nlu.command("predict", context_settings={"ignore_unknown_options": True})
@click.argument("file", required=False, default="-")
@click.option("--model", default=None, help="model archive (default: newest in models/)")
def nlu_predict(file: str, model: str | None) -> None:
    """Classify texts (one per line or JSONL with 'text'); one JSON object per line on stdout."""
    args = [file] + (["--model", model] if model else [])
    _run_nlu_tool("nlu.tools.predict", args)


@nlu.command("eval")
@click.option("--folds", default=3, show_default=True)
@click.option("--quick", is_flag=True, help="held-out only, skip cross-validation")
@click.option("--only", default="", help="subset of pipelines: ours,rasa_default,tfidf_svm")
@click.option("--default-cv-epochs", default=10, show_default=True, help="default recipe epochs inside CV")
@click.option("--sweep", is_flag=True, help="compare our pipeline's variants instead (reports/nlu_sweep.md)")
def nlu_eval(folds: int, quick: bool, only: str, default_cv_epochs: int, sweep: bool) -> None:
    """Held-out and k-fold scores against two baselines; writes reports/nlu.md and PNGs."""
    args = ["--folds", str(folds), "--default-cv-epochs", str(default_cv_epochs)]
    args += (["--quick"] if quick else []) + (["--only", only] if only else []) + (["--sweep"] if sweep else [])
    _run_nlu_tool("nlu.tools.evaluate", args)


# --- dev ------------------------------------------------------------------------------------


@main.group()
def dev() -> None:
    """Offline fakes of the Telegram and LINE APIs for demos and tests."""


@dev.command("fake-telegram")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8081, show_default=True)
@click.option("--token", default="123456:FAKE-TOKEN", show_default=True)
def dev_fake_telegram(host: str, port: int, token: str) -> None:
    from bot.devtools.fake_telegram import main as run

    run(host, port, token)


@dev.command("fake-line")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8082, show_default=True)
@click.option("--channel-secret", default="fake-line-secret", show_default=True)
@click.option("--access-token", default="fake-line-token", show_default=True)
@click.option("--webhook-url", default=None, help="default: http://127.0.0.1:ADUAN_HTTP_PORT/webhooks/line")
def dev_fake_line(host: str, port: int, channel_secret: str, access_token: str, webhook_url: str | None) -> None:
    from bot.devtools.fake_line import main as run

    url = webhook_url or f"http://127.0.0.1:{get_settings().http_port}/webhooks/line"
    run(host, port, channel_secret, access_token, url)


# --- gateway --------------------------------------------------------------------------------


@main.command()
def serve() -> None:
    """Run the gateway (web chat, webhooks, channels, outbox worker, health)."""
    from bot.gateway.server import run_gateway

    run_gateway(get_settings())


if __name__ == "__main__":
    main()
