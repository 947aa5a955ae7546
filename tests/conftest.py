"""Shared test fixtures: headless SDL, Hypothesis profiles, the test data folder, and small level builders.

Hypothesis runs derandomized by default (the same examples on every run, so CI's verdict does not
depend on luck); ``HYPOTHESIS_PROFILE=explore`` draws fresh examples and more of them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

settings.register_profile("derandomized", derandomize=True)
settings.register_profile("explore", max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "derandomized"))

DATA = Path(__file__).parent / "data"


@pytest.fixture
def data_dir() -> Path:
    """The folder of test data shipped with the tests."""
    return DATA
