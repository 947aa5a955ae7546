"""PuzzleScript's own test suite (vendored) replayed through relaygen.script: a broad, fast subset.

The subset is every case with at most 40 inputs and a source under 15,000 characters (317 of
470); benchmarks/puzzlescript_conformance.py replays them all.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from relaygen.script.session import load_suite, run_case

SUITE = load_suite(Path(__file__).parent / "data" / "puzzlescript" / "testdata.json.gz")
SUBSET = [(i, name, data) for i, (name, data) in enumerate(SUITE) if len(data[1]) <= 40 and len(data[0]) <= 15000]
UNSUPPORTED = re.compile(r"^line \d+: unsupported feature '(random|randomdir|rigid|realtime_interval)'")


def test_the_subset_is_broad() -> None:
    assert len(SUITE) == 470 and len(SUBSET) >= 300


@pytest.mark.parametrize(("index", "name", "data"), SUBSET, ids=[f"{i}" for i, _, _ in SUBSET])
def test_suite_case(index: int, name: str, data: list) -> None:
    result = run_case(name, data)
    if result.status == "skip":
        assert UNSUPPORTED.match(result.reason), result.reason
    else:
        assert result.status == "pass", f"{name}: {result.reason}"
