"""Personal data masked at rest and in logs (messages and tracebacks), one rule for all processes."""

from __future__ import annotations

import io
import logging
import sys
import threading

import pytest

from bot.masking import find_phone, install_log_masking, mask_at_rest, mask_nik_at_rest, wants_callback
from nlu.log_masking import MaskingFilter

NIK = "3372051234560001"
PHONE = "081234567890"


def test_nik_at_rest_keeps_only_last_four_digits() -> None:
    assert mask_nik_at_rest(NIK) == "************0001"
    stored = mask_at_rest(f"NIK saya {NIK}, KTP belum jadi. No HP {PHONE}")
    assert NIK not in stored and "3372" not in stored and stored.count("0001") == 1
    assert PHONE not in stored


def test_grouped_nik_is_masked_at_rest() -> None:
    assert "3372 0512" not in mask_at_rest("nik 3372 0512 3456 0001 hilang")


def test_phone_kept_only_when_the_citizen_asks_to_be_called() -> None:
    asks = f"tolong hubungi saya di {PHONE}"
    assert wants_callback(asks)
    assert not wants_callback(f"nomor tetangga {PHONE} bikin berisik")
    assert not wants_callback("tolong hubungi saya")
    assert PHONE in mask_at_rest(asks, keep_phone=True)
    assert find_phone("wa ke +62 812-3456-7890 ya") == "6281234567890"


@pytest.fixture
def captured() -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger = logging.getLogger("tests.privacy.capture")
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    install_log_masking()
    yield logger, stream
    logger.removeHandler(handler)


def test_log_messages_and_args_are_masked(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured
    logger.warning("complaint from %s: %s", PHONE, {"text": f"nik {NIK}"})
    out = stream.getvalue()
    assert NIK not in out and PHONE not in out and "0001" in out


def test_tracebacks_are_masked(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured
    try:
        raise RuntimeError(f"insert failed [parameters: ('KTP {NIK} hp {PHONE}',)]")
    except RuntimeError:
        logger.exception("action failed")
    out = stream.getvalue()
    assert "Traceback" in out and "RuntimeError" in out
    assert NIK not in out and PHONE not in out


def test_filter_masks_records_made_elsewhere() -> None:
    """A record built without the factory (e.g. unpickled) is masked by the handler filter."""
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "nik %s", (NIK,), None)
    try:
        raise ValueError(PHONE)
    except ValueError:
        record.exc_info = sys.exc_info()
    MaskingFilter().filter(record)
    assert NIK not in record.getMessage() and PHONE not in (record.exc_text or "")


def test_uncaught_exceptions_are_masked(capsys: pytest.CaptureFixture[str]) -> None:
    install_log_masking()

    def boom() -> None:
        raise RuntimeError(f"NIK {NIK}")

    thread = threading.Thread(target=boom)
    thread.start()
    thread.join()
    err = capsys.readouterr().err
    assert "RuntimeError" in err and NIK not in err


def test_database_errors_do_not_carry_complaint_text(sqlite_url: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    from bot.store.db import make_engine

    engine = make_engine(sqlite_url)
    with engine.begin() as conn:
        conn.execute(text("create table t (x text unique)"))
        conn.execute(text("insert into t values (:x)"), {"x": f"KTP {NIK}"})
    with pytest.raises(IntegrityError) as info, engine.begin() as conn:
        conn.execute(text("insert into t values (:x)"), {"x": f"KTP {NIK}"})
    assert NIK not in str(info.value)
    engine.dispose()


def test_argument_shapes_survive_masking(captured: tuple[logging.Logger, io.StringIO]) -> None:
    """Formatters reading record.args (uvicorn's access log) keep working; numbers stay numbers."""
    logger, stream = captured
    logger.info("%s took %d ms, nik %s", "GET", 12, int(NIK))
    logger.info("user %(who)s", {"who": PHONE})
    out = stream.getvalue()
    assert "GET took 12 ms" in out and NIK not in out and PHONE not in out


def test_a_float_with_sixteen_digits_is_not_taken_for_a_nik(captured: tuple[logging.Logger, io.StringIO]) -> None:
    """`"waiting %.1fs" % 7.3660981234568145` (the outbox's rate-limit wait) once became a masked str and a
    '--- Logging error ---' traceback instead of a log line (found by the reliability suite)."""
    logger, stream = captured
    logger.warning("outbox %s: waiting %.1fs", [12], 7.3660981234568145)
    assert "outbox [12]: waiting 7.4s" in stream.getvalue()
