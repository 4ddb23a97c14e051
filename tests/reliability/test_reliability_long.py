"""Reliability, the long runs (`make reliability`; deselected from `make test` by the marker).

1. Load: 100 citizens × 5 complaints through the Telegram and LINE fakes, default profile, no
   fault: exactly 500 tickets, each citizen its own 5 codes, each admin chat each ticket once, no 5xx.
2. Faults on the default profile, each mid-load and followed by a restart: SIGKILL of the gateway
   (while it processes a message), of the action server and of the Rasa server, then a PostgreSQL
   restart (our own instance on a free port, never the shared server).
3. Faults on the scaled profile (2 Rasa, 2 action servers, 2 gateways behind a webhook proxy,
   Redis lock store, Rasa token): SIGKILL of one replica of each while the others keep serving,
   then a PostgreSQL restart and a Redis restart (both private instances).

Each run's figures go to reports/reliability/<run>.json and reports/reliability.md. Sizes can be
lowered for a quick try: ADUAN_RELIABILITY_CITIZENS, ADUAN_RELIABILITY_COMPLAINTS.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import PG_URL
from tests.reliability.cluster import PrivatePostgres, PrivateRedis, SharedSchema, Topology
from tests.reliability.report import save
from tests.reliability.scenario import Fault, Result, machine, run

pytestmark = [pytest.mark.integration, pytest.mark.reliability_long]

CITIZENS = int(os.environ.get("ADUAN_RELIABILITY_CITIZENS", "100"))
COMPLAINTS = int(os.environ.get("ADUAN_RELIABILITY_COMPLAINTS", "5"))
FAULT_CITIZENS = int(os.environ.get("ADUAN_RELIABILITY_FAULT_CITIZENS", str(CITIZENS)))
TURN_TIMEOUT = 420.0  # a turn may wait out a Rasa restart plus the inbox's backoff


def _check(result: Result) -> None:
    figures = result.figures()
    save(figures, machine())
    assert figures["problems"] == [], figures["problems"]
    assert figures["tickets"] == figures["tickets_expected"] == result.citizens * result.complaints
    assert figures["duplicates"] == 0 and figures["lost"] == 0
    assert figures["turn_timeouts"] == 0
    assert result.final_answered == result.citizens  # no conversation stuck
    assert figures["privacy_findings"] == 0


def test_load_100_citizens_5_complaints(tmp_path: Path, pg_ok: bool) -> None:
    if not pg_ok:
        pytest.skip("PostgreSQL is needed")
    schema = SharedSchema(PG_URL).create()
    try:
        result = run("load", tmp_path, schema.url, citizens=CITIZENS, complaints=COMPLAINTS, turn_timeout=TURN_TIMEOUT)
    finally:
        schema.drop()
    _check(result)
    assert result.figures()["http_5xx"] == 0


def test_faults_default_profile(tmp_path: Path) -> None:
    postgres = PrivatePostgres().start()
    try:
        result = run(
            "faults-default",
            tmp_path,
            postgres.url,
            citizens=FAULT_CITIZENS,
            complaints=COMPLAINTS,
            postgres=postgres,
            faults=[
                Fault("kill", "gateway-1", at=0.12, down=1.0, mid_processing=True),
                Fault("kill", "actions-1", at=0.30, down=2.0),
                Fault("kill", "rasa-1", at=0.48, down=2.0),
                Fault("postgres", at=0.68, down=3.0),
            ],
            turn_timeout=TURN_TIMEOUT,
        )
    finally:
        postgres.cleanup()
    _check(result)
    assert len(result.faults) == 4


def test_faults_scaled_profile(tmp_path: Path) -> None:
    postgres = PrivatePostgres().start()
    redis = PrivateRedis(tmp_path).start()
    try:
        result = run(
            "faults-scaled",
            tmp_path / "run",
            postgres.url,
            topology=Topology.scaled_profile(),
            citizens=FAULT_CITIZENS,
            complaints=COMPLAINTS,
            postgres=postgres,
            redis=redis,
            faults=[
                Fault("kill", "gateway-1", at=0.10, down=1.0, mid_processing=True),
                Fault("kill", "actions-1", at=0.25, down=2.0),
                Fault("kill", "rasa-1", at=0.40, down=2.0),
                Fault("postgres", at=0.58, down=3.0),
                Fault("redis", at=0.75, down=2.0),
            ],
            turn_timeout=TURN_TIMEOUT,
        )
    finally:
        redis.stop()
        postgres.cleanup()
    _check(result)
    assert len(result.faults) == 5
