"""Generate: as many distinct, checked-playable levels as asked, from a model or the search baseline.

Each level is drafted (a model's episode in the environment, or a random map improved by hill
climbing), playtested with the full solver, repaired by hill climbing when unplayable, dropped
when it duplicates an earlier one, and written atomically. The same rules, model, seed and count
give byte-identical files; a run that was killed continues where it stopped.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from relaygen.export import EXPORT_FORMATS, export_level
from relaygen.files import atomic_write
from relaygen.level import Level, LevelError
from relaygen.playtest import Report, playtest
from relaygen.rules import Rules, load_rules
from relaygen.search import hill_climb, search_level

SEARCH = "search"
"""The ``model`` value that selects the no-training search baseline."""
INDEX = "index.json"


class GenerateError(ValueError):
    """Generation cannot start: bad rules, model, difficulty or output folder."""


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


Drafter = Callable[[float, int, Level | None], Level]
"""(difficulty, seed, pinned partial level or None) → a draft level."""


def model_drafter(model_path: str | Path, rules: Rules) -> Drafter:
    """Drafts from a trained model: one episode of its policy in the environment."""
    import torch

    from relaygen.agent.evaluate import load_policy
    from relaygen.agent.model import ModelError

    try:
        policy = load_policy(model_path)
    except ModelError as exc:
        raise GenerateError(str(exc)) from None
    if [t.name for t in policy.rules.tiles] != [t.name for t in rules.tiles] or policy.rules.mechanic != rules.mechanic:
        raise GenerateError(
            f"{model_path}: model was trained for rules {policy.rules.name!r} ({policy.rules.mechanic}, tiles "
            f"{[t.name for t in policy.rules.tiles]}), not {rules.name!r}"
        )
    env = policy.make_env(1, autoreset=False)
    digest = file_digest(model_path)

    def draft(difficulty: float, seed: int, pinned: Level | None) -> Level:
        policy.generator = torch.Generator().manual_seed(seed)
        options: dict[str, Any] = {"difficulty": difficulty}
        if pinned is not None:
            options["level"] = pinned
        obs, _ = env.reset(seed=seed, options=options)
        while True:
            obs, _, terminated, truncated, _ = env.step(policy(obs))
            if terminated[0] or truncated[0]:
                level = env.final_level(0)
                level.meta.update(model=str(model_path), model_digest=digest)
                return level

    return draft


def search_drafter(rules: Rules, proposals: int = 300) -> Drafter:
    """Drafts from the search baseline: a random map improved by hill climbing (no model)."""

    def draft(difficulty: float, seed: int, pinned: Level | None) -> Level:
        rng = np.random.default_rng(seed)
        if pinned is not None:
            level, _ = hill_climb(_fill_free(pinned, rng), difficulty, rng, proposals)
        else:
            level, _ = search_level(rules, difficulty, rng, proposals)
        level.meta.update(model=SEARCH)
        return level

    return draft


def _fill_free(partial: Level, rng: np.random.Generator) -> Level:
    """A partial level with its free cells drawn at random."""
    fresh = Level.random(partial.rules, rng, partial.width, partial.height)
    level = partial.copy()
    free = ~partial.pinned if partial.pinned is not None else np.zeros(partial.grid.shape, dtype=bool)
    level.grid[free] = fresh.grid[free]
    return level


def file_digest(path: str | Path) -> str:
    """Short content hash of a file (a level records the model that made it)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


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
    summary: Summary | None = None,
) -> Iterator[Level]:
    """Yield ``n`` distinct playable levels one by one (see :func:`generate`)."""
    rules = load_rules(rules)
    targets = difficulties(n, difficulty, difficulty_range)
    model = model or default_model(rules)
    drafter = search_drafter(rules) if str(model) == SEARCH else model_drafter(model, rules)
    summary = summary if summary is not None else Summary()
    seen: set[str] = set()
    for index, d in enumerate(targets):
        level = _one_level(rules, drafter, d, seed, index, pin, attempts, repair, seen, summary)
        level.name = f"{rules.name}-{index:04d}"
        level.meta.update(rules=rules.name, rules_digest=rules.digest, seed=seed, index=index, difficulty=d)
        yield level


def _one_level(
    rules: Rules,
    drafter: Drafter,
    d: float,
    seed: int,
    index: int,
    pin: Level | None,
    attempts: int,
    repair: int,
    seen: set[str],
    summary: Summary,
) -> Level:
    started = time.perf_counter()
    for attempt in range(attempts):
        s = draft_seed(seed, index, attempt)
        level = drafter(d, s, pin)
        summary.drafts += 1
        report = playtest(level, d)
        summary.raw_playable += report.playable
        if not report.playable and rules.representations != ["carve"]:
            level, _ = hill_climb(level, d, np.random.default_rng(s), repair)
            report = playtest(level, d)
            summary.repaired += report.playable
        if not report.playable:
            continue
        if level.digest() in seen:
            summary.duplicates += 1
            continue
        seen.add(level.digest())
        _record(level, report, attempt, summary, d)
        summary.seconds += time.perf_counter() - started
        return level
    raise GenerateError(f"no distinct playable level after {attempts} drafts for level {index} (difficulty {d})")


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
    ``pin`` (a partial level whose pinned cells are kept).
    """
    return list(generate_iter(rules, n, **options))


def default_model(rules: Rules) -> Path:
    """The model shipped for a built-in ruleset."""
    from importlib import resources

    path = Path(str(resources.files("relaygen") / "models" / f"{rules.name}.pt"))
    if not path.exists():
        raise GenerateError(
            f"no shipped model for rules {rules.name!r}: train one with `relaygen train {rules.name}` "
            f"and pass --model, or use --model {SEARCH} for the no-training search baseline"
        )
    return path


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
