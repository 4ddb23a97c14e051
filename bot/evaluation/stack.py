"""The stack an evaluation talks to: started here on free loopback ports, or one already running.

Starting reuses the integration tests' Stack (trained model, Rasa, action server) and GatewayThread, so
the evaluation runs exactly what the end-to-end tests run. Those helpers and the fake Telegram server
live in the repository's test tree, which is why this is a developer tool run from a checkout.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from bot.checkout import on_path, test_support
from bot.config import Settings, get_settings
from bot.evaluation.conversations import Target


def fake_telegram_class() -> Any:
    """The fake Bot API class from tests/support/ (bot.checkout)."""
    return test_support("fake_telegram").FakeTelegramServer


@contextmanager
def local_stack(workdir: Path, channels: list[str], rasa_url: str | None = None) -> Iterator[Target]:
    """Model + Rasa + action server + gateway (+ fake Telegram) on free ports, stopped on exit.

    With `rasa_url` the Rasa server and its action server are taken as running (they write to
    ADUAN_DATABASE_URL, which the gateway and the checks then use too); only the gateway and the
    fake start here.
    """
    on_path()
    os.environ.setdefault("ADUAN_QUIET_TRAIN", "1")
    from bot.tickets import TicketService
    from tests.integration.stack import GatewayThread, Stack, ensure_model, free_port

    with ExitStack() as stack:
        overrides: dict[str, Any] = {"ADUAN_MEDIA_DIR": str(workdir / "media")}
        if rasa_url:
            base = get_settings()
            database_url = base.sqlalchemy_url
            overrides |= {
                "ADUAN_DATABASE_URL": database_url,
                "ADUAN_RASA_URL": rasa_url,
                "ADUAN_ACTION_SERVER_URL": base.action_server_url,
                "ADUAN_HTTP_PORT": free_port(),
            }
            tickets = TicketService.from_url(database_url)
        else:
            ensure_model()
            rasa = Stack(workdir, f"sqlite:///{workdir / 'tickets.db'}")
            stack.callback(rasa.stop)
            rasa.start()
            tickets = rasa.tickets
            overrides |= {
                "ADUAN_DATABASE_URL": rasa.database_url,
                "ADUAN_RASA_URL": rasa.rasa_url,
                "ADUAN_ACTION_SERVER_URL": rasa.action_url,
                "ADUAN_HTTP_PORT": free_port(),
            }
        telegram_url = None
        if "telegram" in channels:
            fake = fake_telegram_class()()
            fake.start_thread()
            stack.callback(fake.stop_thread)
            telegram_url = fake.root_url
            overrides |= {"TELEGRAM_BOT_TOKEN": fake.token, "TELEGRAM_API_BASE_URL": fake.root_url}
        gateway = stack.enter_context(GatewayThread(Settings(_env_file=None, **overrides)))
        yield Target(gateway.url, telegram_url, tickets)


def running_stack(gateway_url: str | None, telegram_url: str | None) -> Target:
    """A stack started elsewhere (`make run` + `aduan dev fake-telegram`): its gateway and database."""
    from bot.tickets import TicketService

    settings = get_settings()
    url = gateway_url or f"http://127.0.0.1:{settings.http_port}"
    return Target(url, telegram_url, TicketService.from_url(settings.sqlalchemy_url))
