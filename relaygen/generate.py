"""Generate: as many distinct, checked-playable levels as asked, from a model or the search baseline.

Levels are drafted in rounds: each round drafts the next attempt of every unfinished level in a
window ahead of the reader (a model runs all of a round's episodes in one draft pool, see
:mod:`relaygen.pool`; the search baseline improves random maps by hill climbing). Each kept draft
is playtested with the full solver, repaired by hill climbing when unplayable (or, with
``polish``, moved towards its difficulty's targets when playable but off target; with ``deepen``, a
push game's too easy draft gets the start of its room farthest from solved), dropped when it
duplicates an earlier level, and written atomically. The same rules, model, seed and count give
byte-identical files with any pool size and any number of processes or Ray actors (each draft
depends only on the seed, its level's index and the attempt, and duplicates are dropped in index
order); a run that was killed continues where it stopped. Levels may be made at another size than
the rules'. Helpers share each round's work with this process (:mod:`relaygen.crew`): processes on
this machine, or actors on a Ray cluster (:mod:`relaygen.ray_generate`).
"""

from __future__ import annotations

import os
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from relaygen.crew import Crew, ProcessCrew, share
from relaygen.drafters import (
    SEARCH,
    SLOTS,
    Drafter,
    DraftError,
    Job,
    default_model,
    draft_candidates,
    draft_deepen,
    fitted_policy,
    model_drafter,
    search_drafter,
)
from relaygen.errors import UserError
from relaygen.hillclimb import deepen, hill_climb, wall_in
from relaygen.level import Level
from relaygen.mechanics import get_mechanic
from relaygen.playtest import Report, playtest
from relaygen.rules import Rules, RulesError, load_rules, size_from_text

BACKENDS = ("local", "ray")
"""Where levels are drafted: processes on this machine, or actors on a Ray cluster."""
LEVELS_PER_WORKER = 400
"""With a model, ``default_workers`` starts one process per this many levels (a start costs a second or two)."""
SEARCH_LEVELS_PER_WORKER = 40
"""The same for the search baseline, which makes fewer levels per second."""
DEEPEN_STARTS = 64
"""Starts the deepening of a draft playtests at difficulty 1.0 (fewer below: :func:`deepen_starts`)."""
WALLED_DEEPEN_STARTS = 16
"""Starts the deepening after walling in playtests at difficulty 1.0 (the one before tries 64: walling in
keeps the cells of its long solution). Boxoban at difficulty 1.0, 100 levels: 16 starts reach the same
median solver effort as 64 (103.5 nodes; 4 starts: 100), and the whole knob goes 1.3 times as fast."""


def deepen_starts(most: int, difficulty: float) -> int:
    """The starts a deepening at ``difficulty`` playtests: ``most`` times the cube of the difficulty (none
    at 0, an eighth at 0.5, all at 1.0), so the search goes where the knob asks for hard levels. Boxoban
    over difficulty 0..1, 100 levels: rho 0.907, as with ``most`` everywhere (0.906), at 1.37 times the
    levels/s."""
    return round(most * difficulty**3)


class GenerateError(UserError):
    """Generation cannot start: bad rules, model, difficulty or output folder."""


@contextmanager
def _as_generate_error() -> Iterator[None]:
    """A drafter's :class:`~relaygen.drafters.DraftError` raised inside, as a :class:`GenerateError`
    with the same message: whoever generates catches one error."""
    try:
        yield
    except DraftError as exc:
        raise GenerateError(str(exc)) from None


def resolve_model(
    rules: Rules, model: str | Path | None = None, source: str | Path | Rules | None = None
) -> str | Path:
    """``model``, or else the model shipped for ``rules``, a built-in; when there is none, the error
    names ``source``, the rules as the user gave them, in the command that trains one."""
    if model:
        return model
    with _as_generate_error():
        return default_model(rules, None if isinstance(source, Rules) else source)


def check_model(
    rules: Rules, model: str | Path | None, source: str | Path | Rules | None, tile_map: str | None, pinned: bool
) -> None:
    """Raise the error drafting would meet first if ``model`` (or the shipped one) cannot draft levels
    of ``rules``, before any work or progress starts."""
    resolved = resolve_model(rules, model, source)
    if str(resolved) != SEARCH:
        fitted_policy(resolved, rules, tile_map, pinned)


def resolve_candidates(model: str | Path, candidates: int | None = None) -> int:
    """``candidates``, or else the episodes per attempt that ``model`` recommends
    (:func:`~relaygen.drafters.draft_candidates`)."""
    return _given_or_recommended(candidates, draft_candidates, model)


def resolve_deepen(model: str | Path, deepen: int | None = None) -> int:
    """``deepen``, or else the reverse-search states that ``model`` recommends
    (:func:`~relaygen.drafters.draft_deepen`; 0, off, for most models)."""
    return _given_or_recommended(deepen, draft_deepen, model)


def _given_or_recommended(given: int | None, recommended: Callable[[str | Path], int], model: str | Path) -> int:
    if given is not None:
        return given
    with _as_generate_error():
        return recommended(model)


@dataclass
class Summary:
    """What a generate run did, for the closing table."""

    written: int = 0
    reused: int = 0
    """Levels an earlier try of the same run had written (checked, not made again)."""
    redone: int = 0
    """Files of an earlier try that were missing or damaged, so made again."""
    drafts: int = 0
    raw_playable: int = 0
    repaired: int = 0
    duplicates: int = 0
    seconds: float = 0.0
    scores: list[float] = field(default_factory=list)
    lengths: list[int] = field(default_factory=list)
    by_difficulty: dict[float, list[int]] = field(default_factory=dict)
    steps: int = 0
    """Episode steps a model drafted in this process so far (progress while a level is drafted)."""
    watch: Callable[[Summary], None] | None = field(default=None, repr=False, compare=False)
    """Told after every drafting step and every round, for a progress display."""

    def stepped(self, episodes: int) -> None:
        """Count one step of ``episodes`` episodes, and tell :attr:`watch`."""
        self.steps += episodes
        if self.watch is not None:
            self.watch(self)

    def table(self) -> str:
        """The summary as aligned text lines."""
        rows = [
            ("levels written", f"{self.written}"),
            ("levels reused", f"{self.reused}" + (f" ({self.redone} damaged, made again)" if self.redone else "")),
            ("drafts", f"{self.drafts}"),
            ("raw playable rate", f"{self.raw_playable / max(self.drafts, 1):.1%}"),
            ("repaired by search", f"{self.repaired}"),
            ("duplicates dropped", f"{self.duplicates}"),
            ("mean score", f"{np.mean(self.scores):.3f}" if self.scores else "-"),
            ("mean solution length", f"{np.mean(self.lengths):.1f}" if self.lengths else "-"),
            ("levels/s", f"{self.written / self.seconds:.3g}" if self.seconds else "-"),
            ("seconds per level", f"{self.seconds / self.written:.3g}" if self.written else "-"),
        ]
        rows += [
            (f"difficulty {d:.2f}", f"{len(ls)} levels, mean length {np.mean(ls):.1f}")
            for d, ls in sorted(self.by_difficulty.items())
        ]
        return "\n".join(f"{k:<22} {v}" for k, v in rows)


class Difficulties(Sequence[float]):
    """The difficulty of each of ``n`` levels, computed when asked (a run of a billion levels
    plans nothing up front): one value, or evenly spread over a range."""

    def __init__(self, n: int, difficulty: float | None, spread: tuple[float, float] | None) -> None:
        if difficulty is not None and spread is not None:
            raise GenerateError("give --difficulty or --difficulty-range, not both")
        for d in spread or [0.5 if difficulty is None else difficulty]:
            if not 0.0 <= d <= 1.0:
                raise GenerateError(f"difficulty must be in [0, 1], got {d}")
        self.n, self.difficulty, self.spread = n, 0.5 if difficulty is None else difficulty, spread

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self.n))]
        if not -self.n <= index < self.n:
            raise IndexError(index)
        if self.spread is None:
            return self.difficulty
        lo, hi = self.spread
        return round(lo + (hi - lo) * (index % self.n) / max(self.n - 1, 1), 6)


def difficulties(n: int, difficulty: float | None, spread: tuple[float, float] | None) -> list[float]:
    """The difficulty of each of ``n`` levels, as a list (see :class:`Difficulties`)."""
    return list(Difficulties(n, difficulty, spread))


def draft_seed(seed: int, index: int, attempt: int) -> int:
    """The seed of one draft, derived from the run's seed, the level's index and the attempt."""
    return int(np.random.SeedSequence([seed, index, attempt]).generate_state(1)[0])


def default_workers(n: int, model: str | Path | None) -> int:
    """Processes worth starting for ``n`` levels: one per ``LEVELS_PER_WORKER`` levels (a few for the
    slower search), at most one per core this process may use."""
    cores = usable_cores()
    per_worker = SEARCH_LEVELS_PER_WORKER if str(model) == SEARCH else LEVELS_PER_WORKER
    return max(1, min(cores, n // per_worker))


HELPER_START_SECONDS = 3.0
"""About what starting a helper process costs (importing torch and loading the model, on a busy
machine): helpers start only once the work left would keep this process busy for twice as long."""


WORKER_MEMORY = {"model": 450 * 2**20, SEARCH: 150 * 2**20}
"""Memory one drafting process takes, about (with a model: torch, the model and its draft pool)."""


def usable_cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def plan_workers(requested: int, n: int, model: str | Path | None) -> int:
    """The processes to start for ``--workers requested``: at most one per core this process may use
    and one per level (saying so on standard error when fewer); :class:`GenerateError` when their
    memory does not fit in the memory available."""
    cores = usable_cores()
    workers = max(1, min(requested, cores, n))
    if workers < requested:
        reason = f"the {cores} cores this process may use" if workers == cores else f"the {n} levels asked for"
        print(f"relaygen generate: --workers {requested} capped at {workers}, {reason}", file=sys.stderr)
    need = workers * WORKER_MEMORY[SEARCH if str(model) == SEARCH else "model"]
    free = _available_memory()
    if free is not None and need > free:
        raise GenerateError(
            f"--workers {workers}: needs about {need / 2**30:.1f} GiB of memory, {free / 2**30:.1f} GiB is "
            "available; give fewer --workers"
        )
    return workers


def _available_memory() -> int | None:
    """Bytes of memory available to new processes (Linux's MemAvailable), or None where unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as info:
            for line in info:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return None


def parse_size(text: str) -> tuple[int, int]:
    """``"WxH"`` as (width, height); :class:`GenerateError` if it is not one."""
    try:
        return size_from_text(text)
    except RulesError as exc:
        raise GenerateError(str(exc)) from None


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
    polish: int = 0,
    deepen: int | None = None,
    candidates: int | None = None,
    size: tuple[int, int] | None = None,
    workers: int | None = None,
    slots: int | None = None,
    tile_map: str | None = None,
    summary: Summary | None = None,
    done: dict[int, str] | None = None,
    backend: str = "local",
    address: str | None = None,
) -> Iterator[Level]:
    """``n`` distinct playable levels, yielded one by one (see :func:`generate`), except those of the
    indexes in ``done`` (level index → the level's digest), which an earlier try of the same run
    made: they are not made again, and later levels stay distinct from them. Bad options raise here,
    before the first level is asked for."""
    source, rules = rules, load_rules(rules)
    if size is not None:
        rules = rules.resized(*size)
    pin = None if pin is None else _pin_for(pin, rules)
    if workers is not None and workers < 1:
        raise GenerateError(f"workers must be at least 1, got {workers}")
    if backend not in BACKENDS:
        raise GenerateError(f"--backend {backend}: unknown backend (use {' or '.join(BACKENDS)})")
    if address is not None and backend != "ray":
        raise GenerateError("--address names a Ray cluster: give it with --backend ray")
    if slots is not None and slots < 1:
        raise GenerateError(f"slots must be at least 1, got {slots}")
    if deepen is not None and deepen < 0:
        raise GenerateError(f"deepen must be at least 0, got {deepen}")
    if deepen and not get_mechanic(rules.mechanic).reverse_search:
        raise GenerateError(f"--deepen: the {rules.mechanic} mechanic of rules {rules.name!r} has no reverse search")
    if tile_map is not None and str(model) == SEARCH:
        raise GenerateError(f"a tile map fits a model's tiles to the rules; --model {SEARCH} has none")
    targets = Difficulties(n, difficulty, difficulty_range)
    model = str(resolve_model(rules, model, source))
    deepen = resolve_deepen(model, deepen)
    plan = _Plan(
        rules, model, seed, pin, repair, polish, deepen, resolve_candidates(model, candidates), slots, tile_map
    )
    summary = summary if summary is not None else Summary()
    return _levels(plan, targets, attempts, _Helpers(backend, workers, address), summary, done or {})


@dataclass(frozen=True)
class _Helpers:
    """Who drafts besides this process: ``workers - 1`` local processes, or (Ray) ``workers`` actors
    (None: one per CPU of the cluster at ``address``)."""

    backend: str
    workers: int | None
    address: str | None = None


def _levels(
    plan: _Plan, targets: Sequence[float], attempts: int, helpers: _Helpers, summary: Summary, done: dict[int, str]
) -> Iterator[Level]:
    """The levels of ``plan`` at ``targets`` but those in ``done``, named and stamped with their
    rules, size and seed."""
    rules, seed = plan.rules, plan.seed
    started = time.perf_counter()
    with _drafting(plan, helpers, len(targets) - len(done), summary.stepped) as (draft, width):
        accepted = _accepted(draft, targets, seed, attempts, summary, plan.lookahead(width), done, _pin_note(plan.pin))
        for level in accepted:
            summary.seconds = time.perf_counter() - started
            level.name = level_name(rules.name, level.meta["index"])
            level.meta.update(rules=rules.name, rules_digest=rules.digest, size=[level.width, level.height], seed=seed)
            yield level


def level_name(rules_name: str, index: int) -> str:
    """The name (and file name stem) of a run's level ``index``."""
    return f"{rules_name}-{index:04d}"


def _pin_for(pin: Level, rules: Rules) -> Level:
    """The partial level bound to the (resized) rules; it must have their size and tiles, and pin a cell."""
    what = f"the pinned level {pin.name!r}" if pin.name else "the pinned level"
    if [(t.name, t.char) for t in pin.rules.tiles] != [(t.name, t.char) for t in rules.tiles]:
        raise GenerateError(f"{what} is of rules {pin.rules.name!r}, whose tiles differ from rules {rules.name!r}")
    if pin.grid.shape != (rules.height, rules.width):
        raise GenerateError(
            f"{what} is {pin.width}x{pin.height}, but levels are generated at {rules.width}x{rules.height}"
            " (give --size to generate at its size)"
        )
    if pin.pinned is None or not pin.pinned.any():
        raise GenerateError(
            f"{what} pins no cell: in a text map, mark the cells to fill with '?' (the others are kept), "
            "or give a JSON level's 'pinned' rows"
        )
    return replace(pin, rules=rules)


def _pin_note(pin: Level | None) -> str:
    """What an impossible level's error says about the pinned level, if there is one."""
    if pin is None:
        return ""
    assert pin.pinned is not None
    return (
        f"; the pinned level {pin.name!r} keeps {int(pin.pinned.sum())} of its {pin.pinned.size} cells:"
        " it may allow no playable level, so free more cells ('?')"
    )


@dataclass(frozen=True)
class _Plan:
    """Everything a level's drafts depend on besides the job: the same plan gives the same candidates anywhere."""

    rules: Rules
    model: str
    seed: int
    pin: Level | None
    repair: int
    polish: int
    deepen: int
    candidates: int
    slots: int | None
    tile_map: str | None

    def drafter(self, on_step: Callable[[int], None] | None = None) -> Drafter:
        """The drafter of this plan's model (or of the search baseline); ``on_step`` hears of every
        step of a model's draft pool."""
        if self.model == SEARCH:
            return search_drafter(self.rules)
        with _as_generate_error():
            return model_drafter(
                self.model,
                self.rules,
                self.candidates,
                self.slots,
                self.tile_map,
                pinned=self.pin is not None,
                on_step=on_step,
            )

    def lookahead(self, workers: int) -> int:
        """How many levels past the next one to draft ahead: enough to fill every worker's pool."""
        return (2 if self.model == SEARCH else 1) * workers * self.chunk()

    def chunk(self) -> int:
        """Jobs one helper drafts at a time: a model's full draft pool (one job for the search baseline)."""
        return 1 if self.model == SEARCH else max(1, (self.slots or SLOTS) // self.candidates)


@dataclass
class _Candidate:
    """A job's draft after the full playtest (and repair or polish), or None when it is not playable."""

    job: Job
    level: Level | None
    report: Report | None
    raw_playable: bool
    repaired: bool


def _finish(plan: _Plan, job: Job, level: Level) -> _Candidate:
    """Playtest a kept draft with the full solver; repair it when unplayable, polish it when off target,
    deepen it when too easy (trying more starts the harder it is asked to be), wall it in when its rules
    ask for more walls, and deepen it again (the walls cost the solver some search, which a start farther
    from solved wins back). A draft with a payload, such as Relay's legs, stays as drafted: tile edits
    would not keep it true."""
    raw = bool(level.meta["report"]["playable"])
    report = playtest(level, job.difficulty)
    drafted_playable = report.playable
    proposals = plan.polish if drafted_playable else plan.repair
    if not report.met and proposals and level.payload is None:
        level, _ = hill_climb(level, job.difficulty, np.random.default_rng(job.seed), proposals)
        report = playtest(level, job.difficulty)
    if report.playable and level.payload is None:
        if plan.deepen:
            level, report = deepen(level, report, plan.deepen, deepen_starts(DEEPEN_STARTS, job.difficulty))
        walled, report = wall_in(level, report)
        if plan.deepen and walled is not level:
            starts = deepen_starts(WALLED_DEEPEN_STARTS, job.difficulty)
            walled, report = deepen(walled, report, plan.deepen, starts)
        level = walled
    if not report.playable:
        return _Candidate(job, None, None, raw, False)
    return _Candidate(job, level, report, raw, not drafted_playable)


_Draft = Callable[[list[Job]], list[_Candidate]]
"""Jobs → their candidates, in the same order."""


def _accepted(
    draft: _Draft,
    targets: Sequence[float],
    seed: int,
    attempts: int,
    summary: Summary,
    lookahead: int,
    done: dict[int, str],
    note: str = "",
) -> Iterator[Level]:
    """The levels in index order: each index's first playable candidate (by attempt) that no earlier
    level duplicates. Jobs are drafted in rounds, each round the next attempt of every unresolved
    index in a window ahead of the reader; whether a draft is playable does not depend on the others,
    so only the duplicate check waits for index order. Indexes in ``done`` are skipped; their digests
    count as seen from the start (a level never equals a later one, so this changes no choice);
    ``note`` ends the error of a level that cannot be made."""
    n = len(targets)
    next_attempt: dict[int, int] = defaultdict(int)
    ready: dict[int, _Candidate] = {}
    seen: set[str] = set(done.values())
    for index in (i for i in range(n) if i not in done):
        while True:
            while index not in ready:
                if next_attempt[index] >= attempts:
                    raise GenerateError(
                        f"no distinct playable level after {attempts} attempts for level {index} "
                        f"(difficulty {targets[index]}){note}"
                    )
                window = range(index, min(n, index + max(1, lookahead)))
                jobs = [
                    Job(j, next_attempt[j], targets[j], draft_seed(seed, j, next_attempt[j]))
                    for j in window
                    if j not in ready and j not in done and next_attempt[j] < attempts
                ]
                for found in draft(jobs):
                    summary.drafts += 1
                    summary.raw_playable += found.raw_playable
                    summary.repaired += found.repaired
                    if found.level is None:
                        next_attempt[found.job.index] = found.job.attempt + 1
                    else:
                        ready[found.job.index] = found
                summary.stepped(0)
            found = ready.pop(index)
            if found.level is not None and found.report is not None and found.level.digest() not in seen:
                break
            summary.duplicates += 1
            next_attempt[index] = found.job.attempt + 1
        seen.add(found.level.digest())
        next_attempt.pop(index, None)
        _record(found.level, found.report, found.job, summary)
        yield found.level


@contextmanager
def _drafting(
    plan: _Plan, helpers: _Helpers, levels: int, on_step: Callable[[int], None] | None = None
) -> Iterator[tuple[_Draft, int]]:
    """The drafting function for ``levels`` levels, and how many processes draft. Locally this
    process drafts (one torch thread), with ``workers - 1`` helper processes sharing each round's
    chunks when there are more (:func:`~relaygen.crew.share`: a helper still starting holds nothing
    up); they are started only once the work left is worth their start (:func:`_worth_helpers`). On
    Ray, the actors draft and this process keeps the order and writes."""
    drafter = plan.drafter(on_step)  # built here first, so that a bad model fails before any helper starts
    here = partial(_draft_jobs, plan, drafter)
    start = partial(_start_drafting, plan)
    crew: Crew
    if helpers.backend == "ray":
        from relaygen.ray_generate import RayCrew

        crew = RayCrew(start, helpers.address, helpers.workers)
        width, mine = len(crew), None
    elif (helpers.workers or 1) > 1:
        width, mine = helpers.workers or 1, here
        crew = ProcessCrew(width - 1, start)
    else:
        with _one_torch_thread(plan):
            yield here, 1
        return
    size, pace = plan.chunk(), [0, 0.0]  # jobs drafted, seconds taken

    def draft(jobs: list[Job]) -> list[_Candidate]:
        if isinstance(crew, ProcessCrew) and not crew.hired and _worth_helpers(levels - pace[0], *pace):
            crew.hire()
        began = time.perf_counter()
        found = share([jobs[k : k + size] for k in range(0, len(jobs), size)], crew, mine)
        pace[0], pace[1] = pace[0] + len(jobs), pace[1] + time.perf_counter() - began
        return found

    try:
        with _one_torch_thread(plan):
            yield draft, width
    finally:
        crew.close()


def _worth_helpers(left: int, drafted: int, seconds: float) -> bool:
    """Whether ``left`` more drafts, at the pace of ``drafted`` in ``seconds`` so far, would keep this
    process busy for more than twice a helper's start (:data:`HELPER_START_SECONDS`)."""
    return drafted > 0 and left * seconds / drafted > 2 * HELPER_START_SECONDS


def _draft_jobs(plan: _Plan, drafter: Drafter, jobs: list[Job]) -> list[_Candidate]:
    return [_finish(plan, job, level) for job, level in zip(jobs, drafter(jobs, plan.pin), strict=True)]


@contextmanager
def _one_torch_thread(plan: _Plan) -> Iterator[None]:
    """One torch intra-op thread while a model drafts: parallelism comes from processes."""
    if plan.model == SEARCH:
        yield
        return
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _start_drafting(plan: _Plan) -> Callable[[list[Job]], list[_Candidate]]:
    """A helper's drafting function (in a helper process or a Ray actor): one torch thread, the plan's drafter."""
    if plan.model != SEARCH:
        import torch

        torch.set_num_threads(1)
    return partial(_draft_jobs, plan, plan.drafter())


def _record(level: Level, report: Report, job: Job, summary: Summary) -> None:
    level.meta.update(report=report.to_dict(), index=job.index, difficulty=job.difficulty, attempt=job.attempt)
    summary.written += 1
    summary.scores.append(report.score)
    summary.lengths.append(report.length)
    summary.by_difficulty.setdefault(job.difficulty, []).append(report.length)


def generate(rules: str | Path | Rules, n: int, **options: Any) -> list[Level]:
    """``n`` distinct playable levels of ``rules``.

    Options: ``difficulty`` (0..1) or ``difficulty_range=(a, b)``, ``model`` (a model file, or
    ``"search"`` for the no-training baseline; default: the built-in's shipped model), ``seed``,
    ``pin`` (a partial level whose pinned cells are kept), ``size=(width, height)`` (default: the
    rules' size), ``workers`` (processes drafting in parallel; the levels are the same), ``slots``
    (episodes a model runs together per process; the levels are the same), ``repair`` and
    ``backend`` (``"local"``, or ``"ray"``: actors on the Ray cluster at ``address``, by default a
    local Ray instance; ``workers`` is then the number of actors, by default one per CPU of the
    cluster; the levels are the same), ``polish`` (hill-climbing proposals for an unplayable draft and for a playable one whose
    objectives are not all met; 0 turns either off; polish is off by default), ``deepen`` (push games: the states a
    reverse search may see to move a playable draft that is too easy for its targets to a start of the same room
    farther from solved, :func:`~relaygen.hillclimb.deepen`; 0 turns it off; default: the model's recommendation,
    :func:`~relaygen.drafters.draft_deepen`, off for all but the boxoban model), ``candidates``
    (episodes a model drafts for each attempt, of which the best is kept; default: the
    model's recommendation, :func:`~relaygen.drafters.draft_candidates`), ``tile_map`` ("new=old,..." pairs of tiles of the
    rules and of the model's, where a model of a game that matches up to tile names is used).
    """
    return list(generate_iter(rules, n, **options))
