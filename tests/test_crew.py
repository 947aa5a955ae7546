"""Helpers share a round's chunks: every result once and in order, a dead helper's chunk drafted again,
helpers started only when the work left pays for their start, and the same levels as one process."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from relaygen import generate as generate_module
from relaygen.crew import ProcessCrew, share
from relaygen.generate import _worth_helpers, generate


class FakeCrew:
    """Two in-process helpers; the first chunk given to helper 0 dies once."""

    def __init__(self) -> None:
        self.held: dict[int, tuple[int, list[Any]]] = {}
        self.given: list[tuple[int, int]] = []
        self.died = False

    def idle(self) -> int:
        return 2 - len(self.held)

    def give(self, key: int, chunk: list[Any]) -> None:
        helper = min({0, 1} - set(self.held))
        self.held[helper] = (key, chunk)
        self.given.append((helper, key))

    def take(self, block: bool) -> list[tuple[int, list[Any] | None]]:
        done: list[tuple[int, list[Any] | None]] = []
        for helper, (key, chunk) in list(self.held.items()):
            del self.held[helper]
            dies = helper == 0 and not self.died
            self.died |= dies
            done.append((key, None if dies else [x * 10 for x in chunk]))
        return done

    def close(self) -> None:
        pass


def test_share_returns_every_result_once_in_order_and_redoes_a_dead_helpers_chunk() -> None:
    chunks = [[k, k + 0.5] for k in range(7)]
    mine: list[int] = []
    crew = FakeCrew()
    out = share(chunks, crew, lambda chunk: mine.append(chunk[0]) or [x * 10 for x in chunk])
    assert out == [x * 10 for chunk in chunks for x in chunk]
    assert crew.given[0] == (0, 0) and crew.given.count((0, 0)) + crew.given.count((1, 0)) == 2  # chunk 0 again
    assert mine and mine[0] == 6  # this process takes from the back


def test_share_without_this_process_waits_for_helpers() -> None:
    chunks = [[k] for k in range(5)]
    assert share(chunks, FakeCrew()) == [k * 10 for k in range(5)]


def _slow_double() -> Any:
    """A helper's work: double each number, slowly enough to be killed while busy."""

    def work(chunk: list[int]) -> list[int]:
        time.sleep(0.3)
        return [2 * x for x in chunk]

    return work


def _pid() -> Any:
    return lambda chunk: [os.getpid() for _ in chunk]


def test_process_helpers_share_chunks_and_a_killed_ones_chunk_is_drafted_again() -> None:
    crew = ProcessCrew(2, _slow_double)
    assert not crew.hired and crew.idle() == 0
    crew.hire()
    try:
        deadline = time.time() + 60
        while crew.idle() < 2 and time.time() < deadline:
            crew.take(block=False)
        crew.give(0, [1, 2])
        crew.give(1, [3])
        victim = next(link for link, key in crew.busy.items() if key == 0)
        os.kill(crew.helpers[victim].pid, signal.SIGKILL)
        done: dict[int, Any] = {}
        while len(done) < 2:
            done.update(crew.take(block=True))
        assert done == {0: None, 1: [6]} and crew.idle() == 1
        assert share([[5], [6], [7]], crew) == [10, 12, 14]  # the live helper takes them all
    finally:
        crew.close()
    assert not any(p.is_alive() for p in crew.helpers.values())


def test_helpers_start_only_when_the_work_left_pays_for_their_start() -> None:
    start = generate_module.HELPER_START_SECONDS
    assert not _worth_helpers(100, 0, 0.0)
    assert not _worth_helpers(144, 256, 1.0)  # a 400-level maze run: its last 144 levels take 0.6 s
    assert _worth_helpers(10_000, 256, 1.0)
    assert _worth_helpers(int(2 * start) + 1, 1, 1.0) and not _worth_helpers(int(2 * start), 1, 1.0)


@pytest.fixture
def hires(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The helpers each ProcessCrew started (a list of counts, one per hire)."""
    counts: list[int] = []
    real = ProcessCrew.hire

    def hire(self: ProcessCrew) -> None:
        counts.append(self.count)
        real(self)

    monkeypatch.setattr(ProcessCrew, "hire", hire)
    return counts


def test_a_short_run_with_two_workers_starts_no_helper(hires: list[int]) -> None:
    assert generate("maze", 6, model="search", seed=2, workers=2) == generate("maze", 6, model="search", seed=2)
    assert hires == []


def test_helpers_draft_the_same_levels_as_one_process(
    hires: list[int], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    given: list[int] = []
    real_give = ProcessCrew.give
    monkeypatch.setattr(ProcessCrew, "give", lambda self, key, chunk: given.append(key) or real_give(self, key, chunk))
    monkeypatch.setattr(generate_module, "HELPER_START_SECONDS", 0.0)
    alone = generate("maze", 24, model="search", seed=2)
    assert generate("maze", 24, model="search", seed=2, workers=2) == alone
    assert hires == [1] and given, "the helper should have drafted some chunks"
