"""Five scripted citizens through the real stack (Rasa, actions, gateway, fake Telegram), judged in the store."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.evaluation.citizens import load_citizens
from bot.evaluation.conversations import Target, assign_channels, run_all
from bot.evaluation.report import write_report
from bot.evaluation.stack import fake_telegram_class
from tests.integration.stack import GatewayThread, Stack

pytestmark = pytest.mark.integration

CITIZENS = Path(__file__).parent / "citizens.yml"
# Web typing and clicking, Telegram share-location + photo, a question and an emergency.
PICKED = ("coop-infra-02", "coop-share-03", "coop-dlh-08", "free-q-03", "free-emg-01")


@pytest.fixture(scope="module")
def target(stack: Stack) -> Iterator[Target]:
    with fake_telegram_class()() as fake:
        settings = stack.settings(TELEGRAM_BOT_TOKEN=fake.token, TELEGRAM_API_BASE_URL=fake.root_url)
        with GatewayThread(settings) as gateway:
            yield Target(gateway.url, fake.root_url, stack.tickets)


async def test_scripted_citizens_run_through_the_real_stack(target: Target, tmp_path: Path) -> None:
    citizens = [c for c in load_citizens(CITIZENS) if c.id in PICKED]
    plan = assign_channels(citizens, ["web", "telegram"])
    assert {ch for _, ch in plan} == {"web", "telegram"}

    outcomes = {o.citizen: o for o in await run_all(plan, target, batch=3, wait=60)}

    assert set(outcomes) == set(PICKED)
    assert all(o.ended != "error" and o.turns >= 1 for o in outcomes.values()), outcomes
    for name in ("coop-infra-02", "coop-share-03", "coop-dlh-08"):  # the form works today for these
        outcome = outcomes[name]
        assert outcome.success, (outcome.reasons, outcome.transcript)
        assert len(outcome.tickets) == 1 and outcome.right_category == 1
    shared = outcomes["coop-share-03"]
    assert shared.channel == "telegram" and shared.tickets[0]["point"] and shared.tickets[0]["photos"] == 1
    assert outcomes["coop-infra-02"].tickets[0]["privacy"] == "anonim"
    assert outcomes["coop-dlh-08"].transcript[-2][1] == "udah bener, kirim aja"  # typed, not clicked

    summary = write_report(list(outcomes.values()), tmp_path / "conversations.md", {"channels": ["web", "telegram"]})
    assert summary["citizens"] == 5 and summary["by_group"]["cooperative"]["success"] == 3
    saved = json.loads((tmp_path / "conversations.json").read_text())
    assert len(saved["outcomes"]) == 5 and "Failures" in (tmp_path / "conversations.md").read_text()


async def test_use_running_finds_the_gateway_and_store_from_the_settings(
    stack: Stack, target: Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.config import get_settings
    from bot.evaluation.stack import running_stack

    monkeypatch.setenv("ADUAN_DATABASE_URL", stack.database_url)
    monkeypatch.setenv("ADUAN_HTTP_PORT", target.gateway_url.rsplit(":", 1)[1])
    get_settings.cache_clear()
    try:
        running = running_stack(None, target.telegram_url)
    finally:
        get_settings.cache_clear()
    assert running.gateway_url == target.gateway_url
    citizen = next(c for c in load_citizens(CITIZENS) if c.id == "coop-pju-07")
    [outcome] = await run_all([(citizen, "web")], running, wait=60)
    assert outcome.success, (outcome.reasons, outcome.transcript)
