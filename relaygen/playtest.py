"""The automatic playtester: can a level be solved, does it meet its rules, and how good is it.

Two answers: ``solvable`` is the mechanic's search alone (``unknown`` when its budget runs out,
never ``no``); the rules' constraints and required objectives are the second. A level is
``playable`` (what the generator demands) when it is solvable and meets both.

The quality score is the weighted mean of one term per objective and per constraint, each in
[0, 1]: 1 inside its target range, falling as 1 / (1 + distance / scale) outside it; it is computed
in one place, :mod:`relaygen.score`, which this calls with one row.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from relaygen.level import Level
from relaygen.mechanics import get_mechanic
from relaygen.mechanics.base import FULL_BUDGET, Budget, Verdict
from relaygen.rules import Rules
from relaygen.score import VERDICTS, score_table


@dataclass(frozen=True)
class Report:
    """A playtest's findings about one level."""

    verdict: Verdict
    """Playable: ``yes`` when solvable and meeting its rules, ``no`` when either fails, else ``unknown``."""
    solvable: Verdict
    """The mechanic's search alone: ``yes``, ``no``, or ``unknown`` when its budget ran out."""
    solution: str | None
    """The search's solution whenever ``solvable`` is ``yes``."""
    metrics: dict[str, float]
    terms: dict[str, float]
    """Each objective's and constraint's score in [0, 1]."""
    score: float
    """Weighted mean of the terms, in [0, 1]."""
    met: bool
    """Every objective and constraint is inside its target."""
    reason: str = ""
    """Why the search answered as it did (empty for a plain ``yes``)."""
    difficulty: float = 0.5
    targets: dict[str, tuple[float, float]] = field(default_factory=dict)
    broken: tuple[str, ...] = ()
    """The constraints and required objectives the level breaks, e.g. ``box+box_on_goal 4 > 3``."""
    off_target: tuple[str, ...] = ()
    """The objectives outside their target at ``difficulty``, e.g. ``solution_length 12 < 30``."""
    optimal: bool = False
    """The solution is move-optimal (fewest moves, then fewest pushes)."""

    @property
    def meets_rules(self) -> bool:
        """The level keeps every constraint and required objective of its rules."""
        return not self.broken

    @property
    def playable(self) -> bool:
        return self.verdict == "yes"

    @property
    def length(self) -> int:
        """Solution length in moves (0 without a solution)."""
        return len(self.solution or "")

    def to_dict(self) -> dict[str, Any]:
        """A dict of plain values (``formats.json_ready`` turns its infinite targets into JSON's null)."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out.update(metrics=dict(self.metrics), terms=dict(self.terms), playable=self.playable, length=self.length)
        out.update(broken=list(self.broken), off_target=list(self.off_target), meets_rules=self.meets_rules)
        out["targets"] = {k: list(v) for k, v in self.targets.items()}
        return out


def outside(name: str, value: float, target: tuple[float, float]) -> str:
    """How ``value`` misses ``target``, e.g. ``boxes 4 > 3`` (``value`` lies outside it)."""
    lo, hi = target
    return f"{name} {value:g} < {lo:g}" if value < lo else f"{name} {value:g} > {hi:g}"


def playtest(level: Level, difficulty: float = 0.5, budget: Budget = FULL_BUDGET) -> Report:
    """Play ``level`` under its rules at ``difficulty`` in [0, 1]: solve it, check its constraints, score it."""
    rules = level.rules
    targets = rules.targets(difficulty)
    analysis = get_mechanic(rules.mechanic).analyse(level, targets, budget)
    table = score_table(rules)
    metrics = np.array([[analysis.metrics[k] for k in table.metric_names]], dtype=np.float64)
    rows = table.score(np.array([VERDICTS.index(analysis.verdict)]), metrics, level.grid[None], np.array([difficulty]))
    broken, off_target = [], []
    for j, c in enumerate(rules.constraints):
        if rows.count_broken[0, j]:
            count, lo, hi, left = rows.counts[0, j], rows.count_lo[0, j], rows.count_hi[0, j], "+".join(c.tiles)
            equal = f"{left} {count:g} != {'+'.join(c.equal_to)} {lo:g}" if c.equal_to else None
            broken.append(equal or outside(left, count, (lo, hi)))
    for j, o in enumerate(rules.objectives):
        if rows.off_target[0, j]:
            (broken if o.required else off_target).append(outside(o.metric, rows.values[0, j], targets[o.metric]))
    verdict = VERDICTS[int(rows.verdict[0])]
    return Report(
        verdict=verdict,  # type: ignore[arg-type]
        solvable=analysis.verdict,
        solution=analysis.solution if analysis.verdict == "yes" else None,
        metrics=analysis.metrics,
        terms={name: float(t) for name, t in zip(table.term_names, rows.terms[0], strict=True)},
        score=float(rows.score[0]),
        met=bool(rows.met[0]),
        reason=analysis.reason,
        difficulty=difficulty,
        targets=targets,
        broken=tuple(broken),
        off_target=tuple(off_target),
        optimal=analysis.optimal,
    )


def explain(report: Report, rules: str, optimal: bool = False) -> list[str]:
    """The two answers as text lines: solvable (with the solution) and meets ``rules``, then the score.

    ``optimal``: a move-optimal solution was asked for, so say whether this one is."""
    why = f" ({report.reason})" if report.reason else ""
    lines = [f"solvable: {report.solvable}{why}"]
    if report.solution:
        pushes = ", then fewest pushes" if "pushes" in report.metrics else ""
        note = f" (move-optimal: fewest moves{pushes})" if report.optimal else ""
        note = f" (not proven optimal{': ' + report.reason if report.reason else ''})" if optimal and not note else note
        lines = [f"solvable: yes, {report.length} moves{note}", f"solution: {report.solution}"]
    broken = f" ({', '.join(report.broken)})" if report.broken else ""
    lines.append(f"meets {rules} rules: {'yes' if report.meets_rules else 'no'}{broken}")
    off = f"; off target: {', '.join(report.off_target)}" if report.off_target else ""
    metrics = ", ".join(f"{k} {v:g}" for k, v in report.metrics.items())
    lines.append(f"score {report.score:.3f} at difficulty {report.difficulty:g}{off} [{metrics}]")
    return lines


def describe(rules: Rules) -> str:
    """A short text summary of a ruleset, for ``relaygen rules show``."""
    lines = [f"{rules.name}: {rules.description}".rstrip(": "), f"  mechanic: {rules.mechanic}"]
    lines.append(f"  size: {rules.width}x{rules.height}, border: {rules.border or 'none'}")
    lines.append(f"  representations: {', '.join(rules.representations)}")
    lines.append("  tiles:")
    for t in rules.tiles:
        props = ", ".join(sorted(rules.properties_of(rules.tile_index[t.name]))) or "-"
        lines.append(f"    {t.char!r} {t.name:<16} {t.color}  {props}")
    if rules.constraints:
        lines.append("  constraints:")
        lines += [f"    {c.describe()}  (weight {c.weight:g})" for c in rules.constraints]
    lines.append("  objectives (target at difficulty 0 .. 1):")
    for o in rules.objectives:
        lo, hi = rules.targets(0.0)[o.metric], rules.targets(1.0)[o.metric]
        span = f"{list(lo)}" if lo == hi else f"{list(lo)} .. {list(hi)}  <- difficulty"
        lines.append(f"    {o.metric:<16} {span}  (weight {o.weight:g}{', required' if o.required else ''})")
    return "\n".join(lines)
