"""`aduan` command line: database, tickets, OPDs, terminal chat, NLU tooling and dev fakes.

Errors print one clear line and exit non-zero; `--json` output is for scripts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
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
    from bot.store.migrate import ensure_database, upgrade

    url = get_settings().sqlalchemy_url
    _ = get_settings().tracker_store_url  # Rasa's SQLite tracker file exists owner-only before Rasa opens it
    try:
        if ensure_database(url):
            click.echo(f"Database PostgreSQL baru dibuat ({_redact(url)}).")
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


def _status_help() -> str:
    from bot.domain.lifecycle import STATUS_LABELS

    return "; ".join(f"{status.value} = {label}" for status, label in STATUS_LABELS.items())


def _check_status(status: str | None) -> None:
    from bot.domain.lifecycle import Status

    if status and status not in {s.value for s in Status}:
        _fail(f"Status '{status}' tidak dikenal. Pilihan: {', '.join(s.value for s in Status)}.")


@tickets.command("list")
@click.option("--status", help="baru, didisposisikan, diproses, selesai, ditutup, ditolak")
@click.option("--opd", "opd_id", help="OPD id, e.g. dpupr (see 'aduan opd list')")
@click.option("--limit", default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="one JSON array for scripts")
def tickets_list(status: str | None, opd_id: str | None, limit: int, as_json: bool) -> None:
    """List tickets, newest first: code, created, status, category, OPD, due date, markers, summary.

    Markers: TERLAMBAT (open and past its due date), ANONIM (identity hidden), RAHASIA (confidential).
    Personal data in the summary is masked.
    """
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    _check_status(status)
    service = _service()
    if opd_id and opd_id not in {o for o, _, _ in service.list_opds()}:
        known = ", ".join(o for o, _, _ in service.list_opds())
        _fail(f"OPD '{opd_id}' tidak dikenal. Pilihan: {known or '(belum ada; jalankan aduan db upgrade)'}.")
    rows = service.list(status=status, opd_id=opd_id, limit=limit)
    if as_json:
        click.echo(json.dumps([r.admin_dict() for r in rows], ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo("Belum ada laporan" + (" dengan filter tersebut." if status or opd_id else "."))
        return
    zone = ZoneInfo(get_settings().timezone)
    now = datetime.now(UTC)
    open_statuses = {"baru", "didisposisikan", "diproses"}
    click.echo(
        f"{'KODE':<12} {'DIBUAT':<10} {'STATUS':<15} {'KATEGORI':<18} {'OPD':<12} {'TENGGAT':<10} "
        f"{'TANDA':<18} RINGKASAN"
    )
    for r in rows:
        d = r.admin_dict()
        marks = []
        if r.status in open_statuses and r.due_at < now:
            marks.append("TERLAMBAT")
        if r.anonymous:
            marks.append("ANONIM")
        if r.confidential:
            marks.append("RAHASIA")
        summary = "(rahasia)" if r.confidential else d["description"].replace("\n", " ")
        click.echo(
            f"{r.code:<12} {r.created_at.astimezone(zone):%Y-%m-%d} {r.status:<15} {r.category_id:<18} "
            f"{r.opd_id:<12} {r.due_at.astimezone(zone):%Y-%m-%d} {','.join(marks) or '-':<18} {summary[:50]}"
        )


@tickets.command("show")
@click.argument("code")
@click.option("--json", "as_json", is_flag=True, help="one JSON object for scripts")
def tickets_show(code: str, as_json: bool) -> None:
    """Show one ticket with its history (personal data masked, anonymous reporters hidden)."""
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
    if d["contact_phone"]:
        click.echo(f"Minta ditelepon: {d['contact_phone']}")
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
    """Change a ticket's STATUS (the citizen is notified).

    \b
    Statuses: baru, didisposisikan, diproses, selesai, ditutup, ditolak.
    Allowed: baru -> didisposisikan | ditolak; didisposisikan -> diproses | ditolak |
    didisposisikan (re-route with --opd and --note); diproses -> selesai;
    selesai -> ditutup | diproses (reopen within 10 working days).
    """
    from bot.domain.lifecycle import TransitionError

    _check_status(status)
    from bot.tickets import TicketNotFound

    try:
        view = _service().change_status(code, status, actor=actor, note=note, opd_id=opd_id)
    except TicketNotFound:
        _fail(f"Laporan dengan kode '{code}' tidak ditemukan.")
    except TransitionError as exc:
        _fail(str(exc))
    click.echo(f"{view.code}: status sekarang '{view.status}' di {view.opd_id}.")


# --- retention ------------------------------------------------------------------------------


@main.group()
def retention() -> None:
    """Hapus log pesan dan percakapan Rasa yang melewati masa simpan (ADUAN_RETENTION_DAYS)."""


@retention.command("purge")
@click.option("--dry-run", is_flag=True, help="hanya hitung, tidak menghapus")
@click.option("--days", type=int, default=None, help="masa simpan dalam hari (bawaan: ADUAN_RETENTION_DAYS, 90)")
def retention_purge(dry_run: bool, days: int | None) -> None:
    """Purge inbound messages, sent outbox rows and Rasa trackers older than the retention period."""
    from bot.retention import purge
    from bot.store.db import session_factory

    settings = get_settings()
    days = days if days is not None else settings.retention_days
    if days < 1:
        _fail("Masa simpan minimal 1 hari.")
    report = purge(session_factory(settings.sqlalchemy_url), settings.tracker_store_url, days, dry_run=dry_run)
    verb = "Akan dihapus" if dry_run else "Dihapus"
    click.echo(
        f"{verb} (lebih lama dari {days} hari, sebelum {report.cutoff:%Y-%m-%d %H:%M} UTC): "
        f"{report.inbound} pesan masuk, {report.outbox} pesan keluar terkirim, "
        f"{report.tracker_conversations} percakapan Rasa ({report.tracker_events} event)."
    )


# --- opd ------------------------------------------------------------------------------------


@main.group()
def opd() -> None:
    """Agencies (OPD) that handle tickets."""


@opd.command("list")
@click.option("--json", "as_json", is_flag=True, help="one JSON array for scripts")
def opd_list(as_json: bool) -> None:
    """List OPDs with their number of open tickets."""
    rows = _service().list_opds()
    if as_json:
        click.echo(json.dumps([{"id": i, "name": n, "open": c} for i, n, c in rows], ensure_ascii=False))
        return
    if not rows:
        _fail("Belum ada OPD. Jalankan 'aduan db upgrade' dulu.")
    for opd_id, name, open_count in rows:
        click.echo(f"{opd_id:<12} {open_count:>4} terbuka  {name}")


# --- admins ---------------------------------------------------------------------------------


def _registry():
    from bot.domain.categories import load_taxonomy
    from bot.relay.registry import AdminRegistry

    return AdminRegistry(_sessions(), load_taxonomy())


@main.group()
def admins() -> None:
    """Admin chats: invite codes, registered chats, revoking."""


@admins.command("invite")
@click.option("--opd", "opd_id", required=True, help="OPD id (see 'aduan opd list')")
@click.option("--role", type=click.Choice(["admin", "koordinator"]), default="admin", show_default=True)
@click.option("--expires", default="48h", show_default=True, help="validity: 30m, 48h, 7d")
def admins_invite(opd_id: str, role: str, expires: str) -> None:
    """Print a one-time code; send '/daftar KODE' in the admin chat (code alone on the last line)."""
    from bot.relay.registry import RegistryError, parse_duration

    try:
        code, until = _registry().invite(opd_id, role, parse_duration(expires))
    except RegistryError as exc:
        _fail(str(exc))
    click.echo(f"Kode pendaftaran {role} untuk {opd_id}, sekali pakai, berlaku sampai {until:%Y-%m-%d %H:%M} UTC.")
    click.echo("Kirim di grup/chat admin Telegram atau LINE:  /daftar KODE")
    click.echo(code)


@admins.command("list")
@click.option("--json", "as_json", is_flag=True)
def admins_list(as_json: bool) -> None:
    """Registered admin chats, per OPD."""
    chats = _registry().list()
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "chat": c.key,
                        "opd": c.opd_id,
                        "role": c.role,
                        "title": c.title,
                        "registered_by": c.registered_by,
                        "registered_at": c.registered_at.isoformat() if c.registered_at else None,
                    }
                    for c in chats
                ],
                ensure_ascii=False,
            )
        )
        return
    if not chats:
        click.echo("Belum ada chat admin terdaftar. Buat kode: aduan admins invite --opd OPD")
        return
    for c in chats:
        when = f"{c.registered_at:%Y-%m-%d}" if c.registered_at else "-"
        click.echo(f"{c.key:<40} {c.opd_id:<12} {c.role:<11} {when}  {c.title or ''}")


@admins.command("revoke")
@click.argument("chat")
def admins_revoke(chat: str) -> None:
    """Unlink a chat (CHAT as shown by 'aduan admins list', e.g. telegram:-100123)."""
    if _registry().revoke(chat) == 0:
        _fail(f"Chat {chat} tidak terdaftar.")
    click.echo(f"Chat {chat} tidak lagi menerima tiket.")


# --- outbox ---------------------------------------------------------------------------------


def _sessions():
    from bot.store.db import session_factory

    return session_factory(get_settings().sqlalchemy_url)


@main.group()
def outbox() -> None:
    """Delivery queues: messages that could not be delivered or processed."""


@outbox.command("failed")
@click.option("--limit", default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True)
def outbox_failed(limit: int, as_json: bool) -> None:
    """Outgoing messages given up on (and incoming ones that could not be processed), newest first."""
    from bot.gateway.inbox import Inbox
    from bot.gateway.outbox import Outbox
    from bot.masking import mask_text

    sessions = _sessions()
    out_rows = Outbox(sessions).failed(limit)
    in_rows = Inbox(sessions).failed(limit)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "outbox": [
                        {
                            "id": r.id,
                            "channel": r.channel,
                            "chat_id": r.chat_id,
                            "ticket_id": r.ticket_id,
                            "attempts": r.attempts,
                            "error": r.last_error,
                            "created_at": r.created_at.isoformat(),
                        }
                        for r in out_rows
                    ],
                    "inbox": [
                        {
                            "id": r.id,
                            "channel": r.channel,
                            "sender_id": r.sender_id,
                            "attempts": r.attempts,
                            "error": r.last_error,
                            "received_at": r.received_at.isoformat(),
                        }
                        for r in in_rows
                    ],
                },
                ensure_ascii=False,
            )
        )
        return
    if not out_rows and not in_rows:
        click.echo("Tidak ada pesan gagal.")
        return
    for r in out_rows:
        click.echo(
            f"keluar #{r.id} {r.channel}:{r.chat_id} tiket={r.ticket_id or '-'} percobaan={r.attempts} "
            f"{r.created_at:%Y-%m-%d %H:%M} {mask_text(r.last_error or '')[:160]}"
        )
    for r in in_rows:
        click.echo(
            f"masuk  #{r.id} {r.sender_id} percobaan={r.attempts} "
            f"{r.received_at:%Y-%m-%d %H:%M} {mask_text(r.last_error or '')[:160]}"
        )


@outbox.command("digest")
@click.option("--hours", default=24, show_default=True)
def outbox_digest(hours: int) -> None:
    """Queue the daily line for the koordinator's chats about messages given up on (run it from cron)."""
    from datetime import UTC, datetime, timedelta

    from bot import notify
    from bot.domain.categories import load_taxonomy

    sessions = _sessions()
    with sessions() as session, session.begin():
        told = notify.failed_digest(session, load_taxonomy(), since=datetime.now(UTC) - timedelta(hours=hours))
    click.echo(f"Ringkasan pesan gagal dikirim ke {told} chat koordinator." if told else "Tidak ada pesan gagal.")


@outbox.command("retry")
@click.argument("ids", nargs=-1, type=int, required=True)
def outbox_retry(ids: tuple[int, ...]) -> None:
    """Queue failed outgoing messages again (after the cause, e.g. a revoked token, is fixed)."""
    from bot.gateway.outbox import Outbox

    count = Outbox(_sessions()).retry(list(ids))
    if count == 0:
        _fail("Tidak ada pesan gagal dengan nomor itu.")
    click.echo(f"{count} pesan dijadwalkan ulang.")


# --- chat -----------------------------------------------------------------------------------


@main.command()
@click.option(
    "--user",
    default=lambda: os.environ.get("USER") or "warga",
    show_default="$USER",
    help="who you are in the chat; the same --user keeps the same conversation, tickets and notifications",
)
@click.option("--url", "gateway_url", default=None, help="gateway address (default: http://127.0.0.1:ADUAN_HTTP_PORT)")
def chat(user: str, gateway_url: str | None) -> None:
    """Chat with the running Aduan stack in the terminal, through the gateway (like the web chat)."""
    from bot.terminal_chat import run_terminal_chat

    sys.exit(run_terminal_chat(gateway_url or f"http://127.0.0.1:{get_settings().http_port}", user))


# --- rasa -----------------------------------------------------------------------------------


@main.group()
def rasa() -> None:
    """Files the Rasa server starts with."""


@rasa.command("endpoints")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="write here (owner-only) instead of stdout")
@click.option("--action-url", default=None, help="this Rasa server's action server (scaled profile: one each)")
def rasa_endpoints(out: Path | None, action_url: str | None) -> None:
    """Endpoints for `rasa run`: action server, a tracker store that follows ADUAN_DATABASE_URL, lock store."""
    from bot.rasa_endpoints import render_endpoints, write_endpoints

    settings = get_settings()
    try:
        if out is None:
            click.echo(render_endpoints(settings, action_url), nl=False)
            return
        write_endpoints(settings, out, action_url)
    except ValueError as exc:
        _fail(str(exc))
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
@click.option("--default-epochs", default=0, show_default=True, help="default recipe epochs, held-out (0 = 100)")
@click.option("--sweep", is_flag=True, help="compare our pipeline's variants instead (reports/nlu_sweep.md)")
def nlu_eval(folds: int, quick: bool, only: str, default_cv_epochs: int, default_epochs: int, sweep: bool) -> None:
    """Held-out and k-fold scores against two baselines; writes reports/nlu.md and PNGs."""
    args = ["--folds", str(folds), "--default-cv-epochs", str(default_cv_epochs)]
    args += ["--default-epochs", str(default_epochs)]
    args += (["--quick"] if quick else []) + (["--only", only] if only else []) + (["--sweep"] if sweep else [])
    _run_nlu_tool("nlu.tools.evaluate", args)


# --- users (web accounts) -----------------------------------------------------------------------


def _sessions():
    from bot.store.db import session_factory

    return session_factory(get_settings().sqlalchemy_url)


@main.group()
def users() -> None:
    """Web accounts for trainers and koordinator."""


@users.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["trainer", "koordinator"]), required=True)
def users_add(name: str, role: str) -> None:
    """Create an account; prints a one-time password that must be changed at first login."""
    from bot.web.accounts import AccountError, create_user

    sessions = _sessions()
    try:
        with sessions() as session, session.begin():
            account, password = create_user(session, name, role)
    except AccountError as exc:
        _fail(str(exc))
    click.echo(f"Akun '{account.name}' ({account.role}) dibuat.")
    click.echo(f"Kata sandi sekali pakai: {password}")
    click.echo("Sampaikan secara pribadi; wajib diganti saat pertama kali masuk.")


# --- trainer (NLU inbox, gated retrain) -----------------------------------------------------------


@main.group()
def trainer() -> None:
    """NLU inbox: review, label, retrain behind the quality gate, roll back."""


def _trainer_files():
    from bot.trainer.data import NluFiles

    root = os.environ.get("ADUAN_TRAINER_CURATED_ROOT")
    return NluFiles(curated_root=Path(root) if root else None)


def _model_place():
    from bot.trainer.retrain import ModelPlace

    live = os.environ.get("ADUAN_TRAINER_LIVE_MODEL")
    return ModelPlace(live=Path(live)) if live else ModelPlace()


@trainer.command("inbox")
@click.option("--limit", default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="one JSON array for scripts")
def trainer_inbox(limit: int, as_json: bool) -> None:
    """Items to review: human corrections first, then lowest confidence, then most frequent."""
    from bot.domain.categories import load_taxonomy
    from bot.trainer.inbox import build_inbox

    with _sessions()() as session:
        items = build_inbox(session, load_taxonomy(), _trainer_files(), limit=limit)
    if as_json:
        click.echo(json.dumps([i.as_dict() for i in items], ensure_ascii=False, indent=2))
        return
    if not items:
        click.echo("Kotak masuk kosong.")
    for item in items:
        top = ", ".join(f"{r['name']} {r['confidence']:.2f}" for r in item.ranking)
        click.echo(f"[{item.id}] {item.count}x  {item.text}")
        click.echo(f"      top 3: {top}  -> saran: {item.suggestion}")
        for ev in item.evidence:
            click.echo(f"      {ev.label}: {ev.note}")


@trainer.command("label")
@click.argument("item_id", type=int)
@click.argument("intent")
@click.option("--by", "reviewer", default="cli", show_default=True)
def trainer_label(item_id: int, intent: str, reviewer: str) -> None:
    """Label an item (written to data/nlu/curated/, every fifth to tests/nlu/curated/)."""
    from bot.trainer.data import labelable_intents
    from bot.trainer.inbox import InboxError, label

    try:
        with _sessions()() as session, session.begin():
            review = label(session, item_id, intent, reviewer, labelable_intents(), _trainer_files())
    except InboxError as exc:
        _fail(str(exc))
    where = "data uji (held-out)" if review.split == "heldout" else "data latih"
    click.echo(f"Item {item_id} dilabeli {intent} ({where}).")


@trainer.command("discard")
@click.argument("item_id", type=int)
@click.option("--by", "reviewer", default="cli", show_default=True)
def trainer_discard(item_id: int, reviewer: str) -> None:
    """Drop an item from the inbox without labelling it."""
    from bot.trainer.inbox import InboxError, discard

    try:
        with _sessions()() as session, session.begin():
            discard(session, item_id, reviewer)
    except InboxError as exc:
        _fail(str(exc))
    click.echo(f"Item {item_id} dibuang.")


@trainer.command("purge")
@click.option("--days", type=int, default=None, help="keep this many days (default: ADUAN_RETENTION_DAYS)")
def trainer_purge(days: int | None) -> None:
    """Delete recorded NLU decisions older than the retention period (labels in git stay)."""
    from datetime import UTC, datetime, timedelta

    from bot.trainer.inbox import purge_decisions

    keep = days if days is not None else get_settings().retention_days
    with _sessions()() as session, session.begin():
        count = purge_decisions(session, datetime.now(UTC) - timedelta(days=keep))
    click.echo(f"{count} keputusan NLU lebih lama dari {keep} hari dihapus.")


@trainer.command("retrain")
@click.option("--promote", is_flag=True, help="swap the candidate into the running Rasa server if it passes")
def trainer_retrain(promote: bool) -> None:
    """Train a candidate in a separate process, compare it with the live model, promote if allowed."""
    from bot.trainer.retrain import RetrainError, retrain

    try:
        result = retrain(_trainer_files(), _model_place(), promote_if_passed=promote, rasa_url=get_settings().rasa_url)
    except RetrainError as exc:
        _fail(str(exc))
    cmp = result.comparison
    click.echo(
        f"macro-F1 aktif {cmp['live']['macro_f1']:.4f}, kandidat {cmp['candidate']['macro_f1']:.4f} "
        f"({cmp['heldout_size']} contoh uji; latih {result.train_seconds:.0f} dtk)"
    )
    for reason in cmp["reasons"]:
        click.echo(f"  - {reason}")
    verdict = "dipromosikan" if result.promoted else ("lulus" if result.passed else "DITOLAK")
    click.echo(f"Keputusan: {verdict}. Laporan: {result.report}")
    if not result.passed:
        sys.exit(2)


@trainer.command("rollback")
def trainer_rollback() -> None:
    """Restore the model that was live before the last promotion."""
    from bot.trainer.retrain import RetrainError, rollback

    try:
        previous, model_id = rollback(_model_place(), get_settings().rasa_url)
    except RetrainError as exc:
        _fail(str(exc))
    click.echo(f"Model sebelumnya dipulihkan: {previous.name} (model id {model_id}).")


# --- bench ----------------------------------------------------------------------------------


@main.group(invoke_without_command=True)
@click.option("--citizens", default=50, show_default=True, help="simulated citizens talking at once")
@click.option("--think", default=2.0, show_default=True, help="seconds between the bot's answer and the next message")
@click.option("--saturate", is_flag=True, help="no pause between turns (highest throughput)")
@click.option("--ramp", type=float, default=None, help="seconds over which citizens start (default: --think)")
@click.option("--timeout", default=60.0, show_default=True, help="seconds to wait for one answer")
@click.option(
    "--bare",
    type=click.Choice(["same", "default", "none"]),
    default="same",
    show_default=True,
    help="bare-Rasa comparison: the same Rasa server, a second one with Rasa's default stores, or none",
)
@click.option("--use-running", is_flag=True, help="drive the running Rasa + action server (ADUAN_* URLs)")
@click.option(
    "--profile",
    type=click.Choice(["default", "scaled"]),
    default="default",
    show_default=True,
    help="scaled: 2 Rasa servers (token, Redis lock store) + 2 action servers + 2 gateways on PostgreSQL",
)
@click.option(
    "--database-url",
    default=None,
    help="ticket store for a started stack (default: a fresh SQLite; scaled: a fresh schema of local aduan_bench)",
)
@click.option("--report-dir", type=click.Path(path_type=Path), default=None, help="default: reports/")
@click.pass_context
def bench(
    ctx: click.Context,
    citizens: int,
    think: float,
    saturate: bool,
    ramp: float | None,
    timeout: float,
    bare: str,
    use_running: bool,
    profile: str,
    database_url: str | None,
    report_dir: Path | None,
) -> None:
    """Concurrent citizens through the Telegram fake vs. bare Rasa: latency, throughput, memory."""
    if ctx.invoked_subcommand is not None:
        return
    from bot.checkout import on_path

    on_path()  # bench/ and the test fakes live in the checkout, beside the installed package
    from bench.load import BenchConfig, run

    if citizens < 1:
        _fail("--citizens harus minimal 1.")
    config = BenchConfig(
        citizens=citizens,
        think=think,
        saturate=saturate,
        ramp=ramp,
        timeout=timeout,
        bare=bare,
        use_running=use_running,
        profile=profile,
        database_url=database_url,
        report_dir=report_dir or REPO_ROOT / "reports",
    )
    report, out = run(config)
    ours, ratios = report["ours"], report["ratios"]
    click.echo(
        f"ours: p95 {ours['latency_ms']['p95']} ms, {ours['turns_per_s']} turns/s, "
        f"{ours['completed']}/{ours['conversations']} conversations, {ours['errors']} errors"
    )
    if report["bare_rasa"]:
        bare_s = report["bare_rasa"]
        click.echo(f"bare: p95 {bare_s['latency_ms']['p95']} ms, {bare_s['turns_per_s']} turns/s")
        click.echo(f"ours/bare: p95 {ratios['p95']}x, throughput {ratios['turns_per_s']}x")
    click.echo(f"peak RSS: {report['peak_rss_mb']} (total {report['peak_rss_total_mb']} MB)")
    click.echo(f"report: {out}")


@bench.command("nlu")
@click.option("--messages", default=1000, show_default=True)
@click.option("--model", default=None, help="model archive (default: models/aduan.tar.gz)")
@click.option("--report-dir", type=click.Path(path_type=Path), default=None, help="default: reports/")
def bench_nlu(messages: int, model: str | None, report_dir: Path | None) -> None:
    """Model load time and parse latency p50/p95 over N messages (in .venv-rasa); JSON under reports/bench/."""
    from datetime import UTC, datetime

    args = ["--messages", str(messages)] + (["--model", model] if model else [])
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), PYTHONWARNINGS="ignore", TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run(
        [str(_rasa_python()), "-m", "bench.nlu_speed", *args],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        check=False,
    )
    if result.returncode:
        sys.exit(result.returncode)
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    out = (report_dir or REPO_ROOT / "reports") / "bench" / f"{datetime.now(UTC):%Y%m%dT%H%M%S}-nlu.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    parse = figures["parse_ms"]
    click.echo(
        f"model load {figures['model_load_s']} s; parse over {figures['messages']} messages: "
        f"p50 {parse['p50']} ms, p95 {parse['p95']} ms ({figures['parses_per_s']}/s)"
    )
    click.echo(f"report: {out}")


# --- dev ------------------------------------------------------------------------------------


@main.group()
def dev() -> None:
    """Offline fakes of the Telegram and LINE APIs for demos (they live in tests/support/)."""


def _test_support(module: str):
    """The fakes are test code, not part of the installed package: import them from the checkout."""
    from bot.checkout import NoCheckout, test_support

    try:
        return test_support(module)
    except NoCheckout as exc:
        _fail(str(exc))


@dev.command("fake-telegram")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8081, show_default=True)
@click.option("--token", default="123456:FAKE-TOKEN", show_default=True)
def dev_fake_telegram(host: str, port: int, token: str) -> None:
    run = _test_support("fake_telegram").main

    run(host, port, token)


@dev.command("fake-line")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8082, show_default=True)
@click.option("--channel-secret", default="fake-line-secret", show_default=True)
@click.option("--access-token", default="fake-line-token", show_default=True)
@click.option("--webhook-url", default=None, help="default: http://127.0.0.1:ADUAN_HTTP_PORT/webhooks/line")
def dev_fake_line(host: str, port: int, channel_secret: str, access_token: str, webhook_url: str | None) -> None:
    run = _test_support("fake_line").main

    url = webhook_url or f"http://127.0.0.1:{get_settings().http_port}/webhooks/line"
    run(host, port, channel_secret, access_token, url)


# --- sla ------------------------------------------------------------------------------------


@main.group()
def sla() -> None:
    """Deadlines: reminders, escalations, digests and automatic closes."""


@sla.command("tick")
@click.option("--at", "at", help="the instant (ISO-8601; without an offset it is ADUAN_TIMEZONE time); default now")
def sla_tick(at: str | None) -> None:
    """Run exactly one scheduler pass at that instant, printing one line per action."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from bot.scheduler import Scheduler

    settings = get_settings()
    now = datetime.now(UTC)
    if at:
        try:
            now = datetime.fromisoformat(at)
        except ValueError:
            _fail(f"Waktu '{at}' tidak dikenali; gunakan ISO-8601, misalnya 2026-12-28T08:00+07:00.")
        if now.tzinfo is None:
            now = now.replace(tzinfo=ZoneInfo(settings.timezone))
    service = _service()
    done = Scheduler(service.sessions, service).tick(now)
    for action in done:
        click.echo(action.line())
    click.echo(f"{len(done)} tindakan pada {now.isoformat()}", err=True)


# --- eval -----------------------------------------------------------------------------------


@main.group("eval")
def eval_group() -> None:
    """Measure the bot from outside, as citizens see it."""


@eval_group.command("conversations")
@click.option("--citizens", "citizens_file", default="tests/eval/citizens.yml", show_default=True)
@click.option("--channels", default="web,telegram", show_default=True, help="comma-separated: web,telegram")
@click.option("--report", default="reports/conversations.md", show_default=True, help="JSON is written beside it")
@click.option("--rasa-url", default=None, help="use this running Rasa (+ its action server); start only the gateway")
@click.option("--use-running", is_flag=True, help="use a running gateway (and fake Telegram) instead of starting one")
@click.option("--gateway-url", default=None, help="with --use-running (default: ADUAN_HTTP_PORT on 127.0.0.1)")
@click.option("--telegram-url", default=None, help="with --use-running: root URL of the fake Telegram")
@click.option("--only", default="", help="comma-separated id prefixes, e.g. coop-infra,free-q")
@click.option("--limit", default=0, help="run at most this many citizens (0 = all)")
@click.option("--batch", default=4, show_default=True, help="citizens talking at the same time")
@click.option("--turn-cap", default=15, show_default=True)
@click.option("--wait", default=90.0, show_default=True, help="seconds to wait for the bot's answer")
def eval_conversations(
    citizens_file: str,
    channels: str,
    report: str,
    rasa_url: str | None,
    use_running: bool,
    gateway_url: str | None,
    telegram_url: str | None,
    only: str,
    limit: int,
    batch: int,
    turn_cap: int,
    wait: float,
) -> None:
    """Drive the scripted citizens through the stack; writes the report (Markdown + JSON)."""
    import asyncio
    import tempfile

    from bot.evaluation.citizens import load_citizens
    from bot.evaluation.conversations import assign_channels, run_all
    from bot.evaluation.report import write_report
    from bot.evaluation.stack import local_stack, running_stack

    chosen = [c.strip() for c in channels.split(",") if c.strip()]
    if not chosen or set(chosen) - {"web", "telegram"}:
        _fail("--channels: pilih dari web,telegram")
    path = Path(citizens_file)
    try:
        citizens = load_citizens(path if path.is_absolute() else REPO_ROOT / path)
    except (OSError, ValueError, KeyError) as exc:
        _fail(f"Data warga tidak terbaca: {exc}")
    prefixes = [p.strip() for p in only.split(",") if p.strip()]
    if prefixes:
        citizens = [c for c in citizens if c.id.startswith(tuple(prefixes))]
    plan = assign_channels(citizens, chosen)
    skipped = len(citizens) - len(plan)
    if skipped:
        click.echo(f"{skipped} warga dilewati: kanal mereka tidak termasuk --channels {','.join(chosen)}.")
    if limit:
        plan = plan[:limit]
    if not plan:
        _fail("Tidak ada warga yang cocok dengan pilihan ini.")
    done = 0

    def progress(outcome) -> None:
        nonlocal done
        done += 1
        mark = "ok " if outcome.success else "GAGAL"
        click.echo(f"[{done}/{len(plan)}] {mark} {outcome.citizen} ({outcome.channel}, {outcome.turns} giliran)")

    async def run(target) -> list:
        return await run_all(plan, target, batch=batch, turn_cap=turn_cap, wait=wait, progress=progress)

    if use_running:
        outcomes = asyncio.run(run(running_stack(gateway_url, telegram_url)))
    else:
        with tempfile.TemporaryDirectory(prefix="aduan-eval-") as tmp, local_stack(Path(tmp), chosen, rasa_url) as t:
            outcomes = asyncio.run(run(t))
    out = Path(report) if Path(report).is_absolute() else REPO_ROOT / report
    meta = {"channels": chosen, "citizens_file": citizens_file, "skipped": skipped}
    summary = write_report(outcomes, out, meta)
    overall = summary["overall"]
    click.echo(
        f"Sukses {overall['success']}/{overall['n']}; kategori benar {summary['right_category']['rate']}; "
        f"giliran median {summary['turns']['median']}, p95 {summary['turns']['p95']}; loop {summary['loops']}. "
        f"Laporan: {out}"
    )


# --- gateway --------------------------------------------------------------------------------


@main.command()
def serve() -> None:
    """Run the gateway (web chat, webhooks, channels, outbox worker, health)."""
    from bot.gateway.server import run_gateway

    run_gateway(get_settings())


if __name__ == "__main__":
    main()
