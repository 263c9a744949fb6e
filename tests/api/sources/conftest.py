"""The source tests' fixtures: an agreement with the test sources and their secrets set."""

from __future__ import annotations

import pytest

from bot.runtime import Runtime
from scoring.agreement import Agreement
from tests.api.source_helpers import SECRETS, SOURCES
from tests.factories import make_agreement


@pytest.fixture
def agreement() -> Agreement:
    return make_agreement(sources=SOURCES)


@pytest.fixture(autouse=True)
def source_secrets(runtime: Runtime) -> None:
    runtime.settings.with_source_secrets(SECRETS)
