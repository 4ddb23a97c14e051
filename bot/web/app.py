"""Web pages behind a login (trainer now, koordinator pages later), mounted into the gateway.

Signed session cookies (Starlette's SessionMiddleware, itsdangerous), a CSRF token on every
form, argon2 passwords with throttling (bot/web/accounts.py). Pages are Jinja2 templates in
Indonesian and work on a phone. Roles: `trainer` reaches /trainer; `koordinator` reaches
/trainer and the koordinator pages.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import secrets
import threading
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from bot.config import REPO_ROOT, Settings
from bot.domain.categories import INTENT_PREFIX, load_taxonomy
from bot.store.db import session_factory
from bot.trainer import inbox as inbox_mod
from bot.trainer.data import NluFiles, example_counts, labelable_intents
from bot.trainer.retrain import ModelPlace, RetrainError, retrain, rollback
from bot.web.accounts import (
    AccountError,
    AddressThrottle,
    authenticate,
    change_password,
    get_account,
)

logger = logging.getLogger(__name__)
TEMPLATES = Jinja2Templates(directory=str(Path(__file__).resolve().parent / "templates"))
SESSION_MAX_AGE = 8 * 3600


class WebSettings(BaseSettings):
    """Web-only settings; secrets come from the environment."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    session_secret: SecretStr | None = Field(None, alias="ADUAN_SESSION_SECRET")
    https_only: bool = Field(False, alias="ADUAN_SESSION_HTTPS_ONLY")
    curated_root: Path | None = Field(None, alias="ADUAN_TRAINER_CURATED_ROOT")
    live_model: Path = Field(REPO_ROOT / "models" / "aduan.tar.gz", alias="ADUAN_TRAINER_LIVE_MODEL")
    reports_dir: Path = Field(REPO_ROOT / "reports", alias="ADUAN_TRAINER_REPORTS_DIR")


class RetrainJob:
    """At most one retraining at a time; training and scoring run in their own processes."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running = False
        self.started_by: str | None = None
        self.message: str | None = None

    def start(self, run: Callable[[], str], who: str) -> bool:
        with self.lock:
            if self.running:
                return False
            self.running, self.started_by, self.message = True, who, None

        def work() -> None:
            try:
                message = run()
            except RetrainError as exc:
                message = f"Pelatihan ulang gagal: {exc}"
            except Exception as exc:  # reported on the page, never swallowed
                logger.exception("retraining failed")
                message = f"Pelatihan ulang gagal ({type(exc).__name__}). Lihat log server."
            with self.lock:
                self.running, self.message = False, message

        threading.Thread(target=work, name="retrain", daemon=True).start()
        return True


def _csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def _address(request: Request) -> str:
    return request.client.host if request.client else "?"


def create_web_app(settings: Settings, web: WebSettings | None = None) -> Starlette:
    web = web or WebSettings()
    sessions = session_factory(settings.sqlalchemy_url)
    taxonomy = load_taxonomy()
    files = NluFiles(curated_root=web.curated_root)
    place = ModelPlace(live=web.live_model, reports=web.reports_dir)
    throttle = AddressThrottle()
    job = RetrainJob()
    secret = web.session_secret.get_secret_value() if web.session_secret else None
    if not secret:
        logger.warning("ADUAN_SESSION_SECRET unset: web sessions end when the gateway restarts")
        secret = secrets.token_urlsafe(48)

    def render(request: Request, template: str, status: int = 200, **context: Any) -> Response:
        context.update(request=request, csrf=_csrf_token(request), user=request.session.get("name"))
        return TEMPLATES.TemplateResponse(request, template, context, status_code=status)

    async def form_with_csrf(request: Request) -> dict[str, Any] | None:
        form = dict(await request.form())
        expected = request.session.get("csrf")
        given = str(form.get("csrf") or "")
        if not expected or not hmac.compare_digest(given, expected):
            return None
        return form

    def csrf_refused(request: Request) -> Response:
        return render(
            request, "error.html", 403, message="Formulir sudah kedaluwarsa atau tidak sah. Muat ulang halaman."
        )

    Handler = Callable[[Request, Any], Awaitable[Response]]

    def requires(*roles: str) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
        def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
            async def endpoint(request: Request) -> Response:
                user_id = request.session.get("uid")
                account = await asyncio.to_thread(_load, user_id) if user_id else None
                if account is None:
                    request.session.pop("uid", None)
                    return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
                if account.must_change_password and request.url.path != "/akun/sandi":
                    return RedirectResponse("/akun/sandi", status_code=303)
                if roles and account.role not in roles:
                    return render(request, "error.html", 403, message="Halaman ini bukan untuk peran Anda.")
                if request.method == "POST":
                    form = await form_with_csrf(request)
                    if form is None:
                        return csrf_refused(request)
                    request.state.form = form
                return await handler(request, account)

            return endpoint

        return wrap

    def _load(user_id: int) -> Any:
        with sessions() as session:
            return get_account(session, int(user_id))

    # --- login -------------------------------------------------------------------------------

    async def login(request: Request) -> Response:
        next_url = request.query_params.get("next", "/trainer")
        if not next_url.startswith("/") or next_url.startswith("//"):
            next_url = "/trainer"
        if request.method == "GET":
            return render(request, "login.html", next=next_url, error=None)
        form = await form_with_csrf(request)
        if form is None:
            return csrf_refused(request)
        name, password = str(form.get("name") or ""), str(form.get("password") or "")

        def check() -> tuple[Any, str | None]:
            with sessions() as session, session.begin():
                try:
                    return authenticate(session, name, password, _address(request), throttle), None
                except AccountError as exc:  # caught inside the transaction: the failure count commits
                    return None, str(exc)

        account, error = await asyncio.to_thread(check)
        if account is None:
            return render(request, "login.html", 401, next=next_url, error=error, name=name)
        request.session.clear()  # a fresh session (and CSRF token) on every login
        request.session.update(uid=account.id, name=account.name, role=account.role, csrf=secrets.token_urlsafe(32))
        target = "/akun/sandi" if account.must_change_password else next_url
        return RedirectResponse(target, status_code=303)

    async def logout(request: Request) -> Response:
        if request.method == "POST" and await form_with_csrf(request) is None:
            return csrf_refused(request)
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    @requires()
    async def password_page(request: Request, account: Any) -> Response:
        if request.method == "GET":
            return render(request, "password.html", first=account.must_change_password, error=None)
        form = request.state.form
        if form.get("new") != form.get("repeat"):
            error = "Ulangan kata sandi baru tidak sama."
            return render(request, "password.html", 400, first=account.must_change_password, error=error)

        def change() -> str | None:
            with sessions() as session, session.begin():
                try:
                    change_password(session, account.id, str(form.get("current") or ""), str(form.get("new") or ""))
                except AccountError as exc:
                    return str(exc)
            return None

        error = await asyncio.to_thread(change)
        if error:
            return render(request, "password.html", 400, first=account.must_change_password, error=error)
        return RedirectResponse("/trainer?pesan=sandi", status_code=303)

    # --- trainer ------------------------------------------------------------------------------

    intents = labelable_intents()
    complaint_intents = [i for i in intents if i.startswith(INTENT_PREFIX)]
    conversation_intents = [i for i in intents if not i.startswith(INTENT_PREFIX)]

    def page_data() -> dict[str, Any]:
        with sessions() as session:
            items = inbox_mod.build_inbox(session, taxonomy, files)
        counts = example_counts(files)
        pending = Counter(i.suggestion or "?" for i in items)
        per_intent = [
            {"intent": i, "examples": counts.get(i, 0), "pending": pending.get(i, 0)} for i in complaint_intents
        ]
        bulk = [(s, n) for s, n in pending.most_common() if n > 1 and s != "?"]
        report_path = place.reports / "trainer_gate.json"
        report = json.loads(report_path.read_text(encoding="utf-8")) if report_path.exists() else None
        confusions = (report or {}).get("candidate", {}).get("confusions") or _confusions_from_eval()
        return {
            "items": items,
            "per_intent": per_intent,
            "bulk": bulk,
            "report": report,
            "confusions": confusions[:8],
            "history": place.load().get("previous", []),
        }

    @requires("trainer", "koordinator")
    async def trainer_page(request: Request, account: Any) -> Response:
        data = await asyncio.to_thread(page_data)
        if request.query_params.get("format") == "json":
            return JSONResponse({"items": [i.as_dict() for i in data["items"]], "job_running": job.running})
        return render(
            request,
            "trainer.html",
            **data,
            complaint_intents=complaint_intents,
            conversation_intents=conversation_intents,
            job=job,
            notice=request.query_params.get("pesan"),
        )

    @requires("trainer", "koordinator")
    async def item_action(request: Request, account: Any) -> Response:
        form = request.state.form
        item_id = int(request.path_params["item_id"])
        action = str(form.get("action") or "")

        def apply() -> str | None:
            with sessions() as session, session.begin():
                try:
                    if action == "accept":
                        inbox_mod.label(session, item_id, str(form.get("intent") or ""), account.name, intents, files)
                    elif action == "choose":
                        inbox_mod.label(session, item_id, str(form.get("other") or ""), account.name, intents, files)
                    elif action == "not_complaint":
                        chosen = str(form.get("conversation") or inbox_mod.CONVERSATION_INTENT)
                        inbox_mod.label(session, item_id, chosen, account.name, intents, files)
                    elif action == "discard":
                        inbox_mod.discard(session, item_id, account.name)
                    elif action == "pii":
                        inbox_mod.remove_personal_data(session, item_id, account.name)
                    else:
                        return "Aksi tidak dikenal."
                except inbox_mod.InboxError as exc:
                    return str(exc)
            return None

        error = await asyncio.to_thread(apply)
        if error:
            return render(request, "error.html", 400, message=error)
        return RedirectResponse("/trainer?pesan=tersimpan", status_code=303)

    @requires("trainer", "koordinator")
    async def bulk_action(request: Request, account: Any) -> Response:
        intent = str(request.state.form.get("intent") or "")

        def apply() -> int:
            with sessions() as session, session.begin():
                items = inbox_mod.build_inbox(session, taxonomy, files)
                chosen = [i for i in items if i.suggestion == intent]
                for item in chosen:
                    inbox_mod.label(session, item.id, intent, account.name, intents, files)
                return len(chosen)

        try:
            count = await asyncio.to_thread(apply)
        except inbox_mod.InboxError as exc:
            return render(request, "error.html", 400, message=str(exc))
        return RedirectResponse(f"/trainer?pesan=massal-{count}", status_code=303)

    @requires("trainer", "koordinator")
    async def retrain_action(request: Request, account: Any) -> Response:
        def run() -> str:
            result = retrain(files, place, promote_if_passed=True, rasa_url=settings.rasa_url)
            if result.promoted:
                return "Model baru lulus gerbang dan sudah aktif."
            if result.passed:
                return "Model baru lulus gerbang tetapi belum diaktifkan."
            return "Model baru ditolak gerbang: " + "; ".join(result.comparison["reasons"])

        started = job.start(run, account.name)
        return RedirectResponse("/trainer?pesan=" + ("latih" if started else "sedang-latih"), status_code=303)

    @requires("trainer", "koordinator")
    async def rollback_action(request: Request, account: Any) -> Response:
        try:
            previous, _ = await asyncio.to_thread(rollback, place, settings.rasa_url)
        except RetrainError as exc:
            return render(request, "error.html", 400, message=str(exc))
        job.message = f"Model sebelumnya dipulihkan ({previous.name})."
        return RedirectResponse("/trainer?pesan=pulih", status_code=303)

    # --- koordinator (pages to come; the role check is shared) ------------------------------------

    @requires("koordinator")
    async def koordinator_page(request: Request, account: Any) -> Response:
        return render(request, "koordinator.html")

    app = Starlette(
        routes=[
            Route("/login", login, methods=["GET", "POST"]),
            Route("/logout", logout, methods=["POST"]),
            Route("/akun/sandi", password_page, methods=["GET", "POST"]),
            Route("/trainer", trainer_page),
            Route("/trainer/items/{item_id:int}", item_action, methods=["POST"]),
            Route("/trainer/bulk", bulk_action, methods=["POST"]),
            Route("/trainer/retrain", retrain_action, methods=["POST"]),
            Route("/trainer/rollback", rollback_action, methods=["POST"]),
            Route("/koordinator", koordinator_page),
        ],
        middleware=[
            Middleware(
                SessionMiddleware,
                secret_key=secret,
                session_cookie="aduan_session",
                max_age=SESSION_MAX_AGE,
                same_site="lax",
                https_only=web.https_only,
            )
        ],
    )
    app.state.retrain_job = job
    return app


def _confusions_from_eval() -> list[dict[str, Any]]:
    """Confusion pairs from the last `aduan nlu eval` (reports/nlu.json) when no gate run exists yet."""
    path = REPO_ROOT / "reports" / "nlu.json"
    try:
        errors = json.loads(path.read_text(encoding="utf-8"))["heldout"]["ours"]["errors"]
    except (OSError, KeyError, ValueError, TypeError):
        return []
    pairs = Counter((e.get("gold"), e.get("predicted")) for e in errors if isinstance(e, dict))
    return [{"gold": g, "predicted": p, "count": n} for (g, p), n in pairs.most_common()]
