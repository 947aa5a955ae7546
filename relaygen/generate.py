"""Generate: as many distinct, checked-playable levels as asked, from a model or the search baseline.

Each level is drafted (the best of a model's batch of episodes in the environment, see
:func:`~relaygen.drafters.best_draft`, or a random map improved by hill climbing), playtested
with the full solver, repaired by hill climbing when unplayable (or polished by a shorter climb
towards the objectives' targets at its difficulty when playable but off target), dropped when it
duplicates an earlier one, and written atomically. The same rules, model, seed and count give
byte-identical files, with one process or several (each level's drafts depend only on the seed,
its index and the attempt, and duplicates are dropped in index order); a run that was killed
continues where it stopped. Levels may be made at another size than the rules'.
"""

from __future__ import annotations

import json
import multiprocessing
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from relaygen.drafters import (
    CANDIDATES,
    SEARCH,
    Drafter,
    GenerateError,
    best_draft,
    default_model,
    model_drafter,
    search_drafter,
)
from relaygen.export import EXPORT_FORMATS, export_level
from relaygen.files import atomic_write
from relaygen.level import Level, LevelError
from relaygen.playtest import Report, playtest
from relaygen.rules import Rules, load_rules
from relaygen.search import hill_climb

INDEX = "index.json"


@dataclass
class Summary:
    """What a generate run did, for the closing table."""

    written: int = 0
    drafts: int = 0
    raw_playable: int = 0
    repaired: int = 0
    duplicates: int = 0
    seconds: float = 0.0
    scores: list[float] = field(default_factory=list)
    lengths: list[int] = field(default_factory=list)
    by_difficulty: dict[float, list[int]] = field(default_factory=dict)

    def table(self) -> str:
        """The summary as aligned text lines."""
        rate = self.written / self.seconds if self.seconds else 0.0
        rows = [
            ("levels written", f"{self.written}"),
            ("drafts", f"{self.drafts}"),
            ("raw playable rate", f"{self.raw_playable / max(self.drafts, 1):.1%}"),
            ("repaired by search", f"{self.repaired}"),
            ("duplicates dropped", f"{self.duplicates}"),
            ("mean score", f"{np.mean(self.scores):.3f}" if self.scores else "-"),
            ("mean solution length", f"{np.mean(self.lengths):.1f}" if self.lengths else "-"),
            ("levels/s", f"{rate:.2f}"),
        ]
        rows += [
            (f"difficulty {d:.2f}", f"{len(ls)} levels, mean length {np.mean(ls):.1f}")
            for d, ls in sorted(self.by_difficulty.items())
        ]
        return "\n".join(f"{k:<22} {v}" for k, v in rows)


def difficulties(n: int, difficulty: float | None, spread: tuple[float, float] | None) -> list[float]:
    """The difficulty of each of ``n`` levels: one value, or evenly spread over a range."""
    for d in spread or [0.5 if difficulty is None else difficulty]:
        if not 0.0 <= d <= 1.0:
            raise GenerateError(f"difficulty must be in [0, 1], got {d}")
    if spread is not None:
        lo, hi = spread
        return [round(lo + (hi - lo) * i / max(n - 1, 1), 6) for i in range(n)]
    return [0.5 if difficulty is None else difficulty] * n


def draft_seed(seed: int, index: int, attempt: int) -> int:
    """The seed of one draft, derived from the run's seed, the level's index and the attempt."""
    return int(np.random.SeedSequence([seed, index, attempt]).generate_state(1)[0])


def parse_size(text: str) -> tuple[int, int]:
    """``"WxH"`` as (width, height)."""
    width, x, height = text.lower().partition("x")
    if not (x and width.isdigit() and height.isdigit()):
        raise GenerateError(f"size must be WIDTHxHEIGHT, e.g. 12x10, got {text!r}")
    return int(width), int(height)


def generate_iter(
    rules: str | Path | Rules,
    n: int,
    *,
    difficulty: float | None = None,
    difficulty_range: tuple[float, float] | None = None,
    model: str | Path | None = None,
    seed: int = 0,
    pin: Level | None = None,
    attempts: int = 30,
    repair: int = 300,
    polish: int = 100,
    candidates: int = CANDIDATES,
    size: tuple[int, int] | None = None,
    workers: int = 1,
    summary: Summary | None = None,
) -> Iterator[Level]:
    """Yield ``n`` distinct playable levels one by one (see :func:`generate`)."""
    rules = load_rules(rules)
    if size is not None:
        rules = rules.resized(*size)
        pin = None if pin is None else _pin_for(pin, rules)
    if workers < 1:
        raise GenerateError(f"workers must be at least 1, got {workers}")
    targets = tuple(difficulties(n, difficulty, difficulty_range))
    plan = _Plan(rules, str(model or default_model(rules)), targets, seed, pin, attempts, repair, polish, candidates)
    drafter = plan.drafter()  # built here too, so that a bad model fails before any worker starts
    summary = summary if summary is not None else Summary()
    seen: set[str] = set()
    with _candidates(plan, drafter, workers) as candidate_of:
        for index, d in enumerate(targets):
            started = time.perf_counter()
            level = _accept(candidate_of, index, d, attempts, seen, summary)
            summary.seconds += time.perf_counter() - started
            level.name = f"{rules.name}-{index:04d}"
            level.meta.update(
                rules=rules.name,
                rules_digest=rules.digest,
                size=[level.width, level.height],
                seed=seed,
                index=index,
                difficulty=d,
            )
            yield level


def _pin_for(pin: Level, rules: Rules) -> Level:
    """The partial level bound to the resized rules; it must have their size."""
    if pin.grid.shape != (rules.height, rules.width):
        raise GenerateError(
            f"the pinned level is {pin.width}x{pin.height}, but levels are generated at {rules.width}x{rules.height}"
        )
    return replace(pin, rules=rules)


@dataclass(frozen=True)
class _Plan:
    """Everything a level's drafts depend on: the same plan gives the same candidates in any process."""

    rules: Rules
    model: str
    targets: tuple[float, ...]
    seed: int
    pin: Level | None
    attempts: int
    repair: int
    polish: int
    candidates: int

    def drafter(self) -> Drafter:
        """The drafter of this plan's model (or of the search baseline)."""
        if self.model == SEARCH:
            return search_drafter(self.rules)
        return model_drafter(self.model, self.rules, self.candidates)


@dataclass
class _Candidate:
    """A level's first playable draft from some attempt on (None: the attempts ran out), and what it cost."""

    attempt: int
    level: Level | None = None
    report: Report | None = None
    drafts: int = 0
    raw_playable: int = 0
    repaired: int = 0


def _candidate(plan: _Plan, drafter: Drafter, index: int, start: int) -> _Candidate:
    """Draft level ``index`` from attempt ``start`` on, repairing unplayable drafts, until one is playable."""
    d, rules = plan.targets[index], plan.rules
    found = _Candidate(start)
    for attempt in range(start, plan.attempts):
        s = draft_seed(plan.seed, index, attempt)
        found.attempt = attempt
        drafts = drafter(d, s, plan.pin)
        found.drafts += len(drafts)
        found.raw_playable += sum(draft.meta["report"]["playable"] for draft in drafts)
        level = best_draft(drafts)
        report = playtest(level, d)
        if not report.met and rules.representations != ["carve"]:
            drafted_playable = report.playable
            level, _ = hill_climb(level, d, np.random.default_rng(s), plan.polish if drafted_playable else plan.repair)
            report = playtest(level, d)
            found.repaired += report.playable and not drafted_playable
        if report.playable:
            found.level, found.report = level, report
            break
    return found


_Candidates = Callable[[int, int], _Candidate]
"""(index, first attempt) → that index's candidate."""


def _accept(candidate_of: _Candidates, index: int, d: float, attempts: int, seen: set[str], summary: Summary) -> Level:
    """Level ``index``: its first candidate that no earlier level duplicates (checked in index order)."""
    start = 0
    while True:
        found = candidate_of(index, start)
        summary.drafts += found.drafts
        summary.raw_playable += found.raw_playable
        summary.repaired += found.repaired
        if found.level is None or found.report is None:
            raise GenerateError(
                f"no distinct playable level after {attempts} attempts for level {index} (difficulty {d})"
            )
        if found.level.digest() not in seen:
            break
        summary.duplicates += 1
        start = found.attempt + 1
    seen.add(found.level.digest())
    _record(found.level, found.report, found.attempt, summary, d)
    return found.level


@contextmanager
def _candidates(plan: _Plan, drafter: Drafter, workers: int) -> Iterator[_Candidates]:
    """Candidates computed here, or by ``workers`` processes that run ahead of the reader in index order."""
    if workers == 1:
        yield partial(_candidate, plan, drafter)
        return
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker, initargs=(plan,))
    ahead: dict[int, Future[_Candidate]] = {}
    submitted = 0

    def fetch(index: int, start: int) -> _Candidate:
        nonlocal submitted
        while submitted < min(index + 2 * workers, len(plan.targets)):
            ahead[submitted] = pool.submit(_work, submitted, 0)
            submitted += 1
        return (ahead.pop(index) if start == 0 else pool.submit(_work, index, start)).result()

    try:
        yield fetch
    finally:
        pool.shutdown(cancel_futures=True)


_worker: tuple[_Plan, Drafter] | None = None
"""A worker process's plan and drafter, set once when it starts."""


def _start_worker(plan: _Plan) -> None:
    global _worker
    if plan.model != SEARCH:
        import torch

        torch.set_num_threads(1)
    _worker = (plan, plan.drafter())


def _work(index: int, start: int) -> _Candidate:
    assert _worker is not None
    return _candidate(*_worker, index, start)


def _record(level: Level, report: Report, attempt: int, summary: Summary, d: float) -> None:
    level.meta.update(report=report.to_dict(), attempt=attempt)
    summary.written += 1
    summary.scores.append(report.score)
    summary.lengths.append(report.length)
    summary.by_difficulty.setdefault(d, []).append(report.length)


def generate(rules: str | Path | Rules, n: int, **options: Any) -> list[Level]:
    """``n`` distinct playable levels of ``rules``.

    Options: ``difficulty`` (0..1) or ``difficulty_range=(a, b)``, ``model`` (a model file, or
    ``"search"`` for the no-training baseline; default: the built-in's shipped model), ``seed``,
    ``pin`` (a partial level whose pinned cells are kept), ``size=(width, height)`` (default: the
    rules' size), ``workers`` (processes drafting in parallel; the levels are the same), ``repair``
    and ``polish`` (hill-climbing proposals for an unplayable draft and for a playable one whose
    objectives are not all met; 0 turns either off), ``candidates`` (episodes a model drafts
    together for each attempt, of which the best is kept; default :data:`~relaygen.drafters.CANDIDATES`).
    """
    return list(generate_iter(rules, n, **options))


def write_run(levels: Iterator[Level], out: Path, kind: str, n: int) -> Iterator[Path]:
    """Write levels to ``out`` as they come, atomically, with an index; skip those already written."""
    if kind not in EXPORT_FORMATS:
        raise GenerateError(f"unknown format {kind!r} (use {', '.join(EXPORT_FORMATS)})")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".relaygen-write-test"
        atomic_write(probe, b"")
        probe.unlink()
    except OSError as exc:
        raise GenerateError(f"{out}: cannot write levels there: {exc}") from None
    index_path = out / INDEX
    index = _read_index(index_path)
    for level in levels:
        path = out / f"{level.name}{EXPORT_FORMATS[kind]}"
        if not path.exists():
            export_level(level, path, kind)
        report = level.meta["report"]
        index[path.name] = {
            "difficulty": level.meta["difficulty"],
            "length": report["length"],
            "score": report["score"],
        }
        atomic_write(index_path, json.dumps(dict(sorted(index.items())), indent=1) + "\n")
        yield path


def _read_index(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        return dict(json.loads(path.read_text()))
    except (ValueError, TypeError) as exc:
        raise LevelError(f"{path}: unreadable level index: {exc}") from None
