"""Session-wide real stack: trained model, Rasa server and action server on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.stack import Stack, ensure_model


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    ensure_model()
    workdir = tmp_path_factory.mktemp("stack")
    s = Stack(workdir, f"sqlite:///{workdir / 'tickets.db'}")
    try:
        s.start()
        yield s
    finally:
        s.stop()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration" in str(item.fspath):
            item.add_marker(pytest.mark.integration)
