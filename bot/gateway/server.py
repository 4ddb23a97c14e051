"""`aduan serve`: the gateway process under uvicorn, with PII-masked logs."""

from __future__ import annotations

import logging

import uvicorn

from bot.config import Settings
from bot.gateway.app import create_app
from bot.masking import install_log_masking


def run_gateway(settings: Settings) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)-7s %(name)s - %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    install_log_masking()
    uvicorn.run(
        create_app(settings),
        host=settings.http_host,
        port=settings.http_port,
        log_level="info",
        access_log=False,
        log_config=None,
        timeout_graceful_shutdown=3,  # open web-chat event streams must not hold up Ctrl-C
    )
