"""A batch report: one PNG that shows a folder of generated levels at a glance, and an HTML page around it.

The PNG holds a contact sheet of the levels (drawn by the one renderer), a histogram of each
objective's metric as the playtest measured it (the difficulty metric's first), the asked
difficulty against the measured difficulty metric with their Spearman rank correlation, and the
batch's diversity. Charts are drawn with pygame, off-screen.
"""

from __future__ import annotations

import html
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from relaygen.files import atomic_write
from relaygen.formats import level_files, read_levels
from relaygen.level import Level, LevelError, diversity
from relaygen.playtest import playtest
from relaygen.render import grid_surface, png_bytes, require_pygame
from relaygen.viewer.hud import BACKGROUND, BAD, DIM, GOOD, PANEL, TEXT, font

if TYPE_CHECKING:
    import pygame

    from relaygen.rules import Rules

WIDTH = 1400
"""Width of the report image in pixels."""
PAD = 16
GAP = 10
TITLE, HEADING, SMALL = 30, 22, 17
"""Font sizes in pixels."""
PANELS_PER_ROW = 5
"""At most; the charts are spread evenly over as few rows as that allows."""
PANEL_HEIGHT = 260
BAR = (90, 150, 230)
TARGET = (70, 110, 70)
POINT = (255, 190, 70)
Pair = tuple[float, float]
"""A pixel position, a data range or a target range."""


@dataclass(frozen=True)
class Batch:
    """A folder of levels of one ruleset and size, with what the playtest measured of each."""

    folder: Path
    levels: list[Level]
    reports: list[dict[str, Any]]
    """Each level's playtest report (as recorded by ``generate``, or measured here)."""

    @property
    def rules(self) -> Rules:
        """The rules every level of the batch shares."""
        return self.levels[0].rules

    @property
    def metric(self) -> str | None:
        """The difficulty metric of the rules, or None if they have no difficulty knob."""
        return None if self.rules.difficulty is None else self.rules.difficulty.metric

    def values(self, metric: str) -> np.ndarray:
        """Every level's measured ``metric``."""
        return np.array([r["metrics"][metric] for r in self.reports], dtype=float)

    def asked(self) -> np.ndarray | None:
        """Every level's asked difficulty, or None if some level does not record one."""
        asked = [level.meta.get("difficulty") for level in self.levels]
        return None if any(a is None for a in asked) else np.array(asked, dtype=float)


def read_batch(folder: str | Path) -> Batch:
    """The levels of a folder with their playtest reports; a level without a recorded report is playtested.

    Raises :class:`LevelError` naming the path for a missing folder, a folder without levels, an
    unreadable file, or levels of several rulesets or sizes."""
    folder = Path(folder)
    if not folder.is_dir():
        raise LevelError(f"{folder}: no such folder" if not folder.exists() else f"{folder}: not a folder")
    levels, reports = [], []
    for path in level_files(folder):
        for level in read_levels(path):
            levels.append(level)
            reports.append(_report(level, path))
    if not levels:
        raise LevelError(f"{folder}: no level files (.json, .txt, .xsb) in this folder")
    kinds = {(level.rules.name, level.rules.digest, level.grid.shape) for level in levels}
    if len(kinds) > 1:
        names = ", ".join(sorted(f"{name} {w}x{h}" for name, _, (h, w) in kinds))
        raise LevelError(f"{folder}: levels of several rulesets or sizes ({names}); a report covers one")
    return Batch(folder, levels, reports)


def _report(level: Level, path: Path) -> dict[str, Any]:
    """The level's recorded playtest report, checked, or a fresh one at its asked difficulty."""
    asked, report = level.meta.get("difficulty"), level.meta.get("report")
    if asked is not None and not isinstance(asked, int | float):
        raise LevelError(f"{path}: field 'meta.difficulty': not a number")
    if report is None:
        return playtest(level, 0.5 if asked is None else asked).to_dict()
    names = [o.metric for o in level.rules.objectives]
    metrics = report.get("metrics") if isinstance(report, dict) else None
    if not (
        isinstance(metrics, dict)
        and all(isinstance(metrics.get(m), int | float) for m in names)
        and isinstance(report.get("playable"), bool)
        and isinstance(report.get("score"), int | float)
        and isinstance(report.get("targets", {}), dict)
    ):
        raise LevelError(f"{path}: field 'meta.report': needs 'playable', 'score' and 'metrics' {names}")
    return report


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman rank correlation of x and y (NaN with fewer than 3 points or a constant side)."""
    from scipy import stats

    if len(x) < 3:
        return math.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", stats.ConstantInputWarning)
        return float(stats.spearmanr(x, y)[0])


def summary(batch: Batch) -> dict[str, float]:
    """The batch's figures: levels, playable and distinct shares, mean score, mean pairwise Hamming distance
    (share of cells that differ) and Spearman's rho of asked difficulty and the measured difficulty metric."""
    hamming, distinct = diversity(batch.levels)
    asked = batch.asked()
    rho = math.nan if asked is None or batch.metric is None else spearman(asked, batch.values(batch.metric))
    return {
        "levels": len(batch.levels),
        "playable": float(np.mean([r["playable"] for r in batch.reports])),
        "mean score": float(np.mean([r["score"] for r in batch.reports])),
        "distinct": distinct,
        "mean Hamming distance": hamming,
        "Spearman rho": rho,
    } | objective_shares(batch)


MET = "all objectives met"
"""The figure that counts the levels keeping every promise of their rules at their asked difficulty."""


def objective_shares(batch: Batch) -> dict[str, float]:
    """Per objective, the share of levels whose measured metric lies inside its target at the level's
    difficulty (``<metric> in target``), and the share meeting all of them and every constraint."""
    rules, inside = batch.rules, []
    for level, report in zip(batch.levels, batch.reports, strict=True):
        asked = level.meta.get("difficulty")
        fallback = rules.targets(0.5 if asked is None else float(asked))
        recorded = report.get("targets", {})
        targets = {
            o.metric: recorded_target(recorded[o.metric]) if o.metric in recorded else fallback[o.metric]
            for o in rules.objectives
        }
        inside.append({m: lo <= report["metrics"][m] <= hi for m, (lo, hi) in targets.items()})
    shares = {f"{o.metric} in target": float(np.mean([row[o.metric] for row in inside])) for o in rules.objectives}
    met = [r.get("met", r["playable"] and all(row.values())) for r, row in zip(batch.reports, inside, strict=True)]
    return shares | {MET: float(np.mean(met))}


def recorded_target(target: list[float | None]) -> tuple[float, float]:
    """A target range as a level file records it: an unbounded end is written ``null``."""
    lo, hi = target
    return (-math.inf if lo is None else lo, math.inf if hi is None else hi)


def number(value: float) -> str:
    """A figure for a label: integers plainly, others to 3 significant digits, NaN as n/a."""
    if math.isnan(value):
        return "n/a"
    return str(int(value)) if float(value).is_integer() else f"{value:.3g}"


def heading(batch: Batch) -> str:
    """What the report is of: the rules, how many levels, and where."""
    n = len(batch.levels)
    return f"relaygen report: {batch.rules.name}, {n} level{'s' * (n != 1)} in {batch.folder}"


def figure(name: str, value: float) -> str:
    """One of the batch's figures as printed and in the HTML page: 4 decimals (the count plainly; NaN as n/a)."""
    return number(value) if name == "levels" or math.isnan(value) else f"{value:.4f}"


# ----- drawing ---------------------------------------------------------------------------------------------


def sheet_layout(batch: Batch) -> tuple[int, list[tuple[int, int]], int]:
    """The contact sheet's cell size, each level's top-left corner and the sheet's bottom edge."""
    h, w = batch.levels[0].grid.shape
    thumb = 144 if len(batch.levels) <= 100 else 72
    cell = max(2, thumb // max(h, w))
    columns = max(1, (WIDTH - 2 * PAD + GAP) // (w * cell + GAP))
    step_x, step_y = (WIDTH - 2 * PAD + GAP) // columns, h * cell + SMALL + GAP
    top = PAD + TITLE + SMALL + HEADING + 2 * GAP
    corners = [(PAD + (i % columns) * step_x, top + (i // columns) * step_y) for i in range(len(batch.levels))]
    return cell, corners, top + math.ceil(len(batch.levels) / columns) * step_y


def text(
    surface: pygame.Surface, words: str, pos: Pair, size: int = SMALL, color: Any = TEXT, anchor: str = ""
) -> None:
    """Draw ``words`` with its top-left corner at ``pos`` (``anchor`` "right"/"center" shifts it; "up" rotates it)."""
    pg = require_pygame()
    image = font(size).render(words, True, color)
    if anchor == "up":
        image = pg.transform.rotate(image, 90)
    x, y = pos
    x -= {"right": image.get_width(), "center": image.get_width() // 2}.get(anchor, 0)
    surface.blit(image, (round(x), round(y)))


def panel(surface: pygame.Surface, rect: pygame.Rect, title: str, subtitle: str = "", color: Any = DIM) -> None:
    """A chart's background with its title and a coloured subtitle line."""
    pg = require_pygame()
    pg.draw.rect(surface, PANEL, rect)
    text(surface, title, (rect.x + 10, rect.y + 8), HEADING)
    text(surface, subtitle, (rect.x + 10, rect.y + 12 + HEADING), color=color)


def plot_area(rect: pygame.Rect) -> pygame.Rect:
    """Where a panel's data go: inside its title, subtitle and tick labels."""
    return require_pygame().Rect(rect.x + 62, rect.y + 74, rect.w - 78, rect.h - 122)


def axes(
    surface: pygame.Surface, rect: pygame.Rect, xs: Pair, ys: Pair, labels: tuple[str, str], xticks: list[float]
) -> Callable[[float, float], Pair]:
    """A frame in a panel for data ranges ``xs`` and ``ys``, ticked at ``xticks`` and at the y ends; returns data → pixel."""
    pg = require_pygame()
    plot = plot_area(rect)
    pg.draw.rect(surface, DIM, plot, 1)
    (x0, x1), (y0, y1) = xs, ys

    def at(x: float, y: float) -> Pair:
        return plot.x + (x - x0) / (x1 - x0) * plot.w, plot.bottom - (y - y0) / (y1 - y0) * plot.h

    for x in xticks:
        pg.draw.line(surface, DIM, (at(x, y0)[0], plot.bottom), (at(x, y0)[0], plot.bottom + 4))
        text(surface, number(x), (at(x, y0)[0], plot.bottom + 6), anchor="center")
    for y in (y0, y1):
        text(surface, number(y), (plot.x - 6, at(x0, y)[1] - SMALL // 2), anchor="right")
    text(surface, labels[0], (plot.centerx, plot.bottom + 8 + SMALL), color=DIM, anchor="center")
    text(surface, labels[1], (rect.x + 8, plot.centery - font(SMALL).size(labels[1])[0] / 2), color=DIM, anchor="up")
    return at


def histogram(surface: pygame.Surface, rect: pygame.Rect, title: str, values: np.ndarray, target: Pair | None) -> None:
    """Bars of how many levels measured each value (one bar per integer when few), over the shaded target."""
    pg = require_pygame()
    lo, hi = float(values.min()), float(values.max())
    whole = bool(np.all(values == np.round(values))) and hi - lo <= 30
    edges = np.arange(lo - 0.5, hi + 1.5) if whole else np.linspace(lo, hi if hi > lo else lo + 1, 13)
    counts, _ = np.histogram(values, edges)
    subtitle = (
        "target moves with difficulty" if target is None else f"target [{number(target[0])}, {number(target[1])}]"
    )
    panel(surface, rect, title, subtitle, GOOD if target else DIM)
    ticks = sorted({lo, float(round((lo + hi) / 2)) if whole else (lo + hi) / 2, hi})
    at = axes(surface, rect, (edges[0], edges[-1]), (0, counts.max()), ("measured", "levels"), ticks)
    if target is not None:
        widen = 0.5 if whole else 0.0
        left, right = max(target[0] - widen, edges[0]), min(target[1] + widen, edges[-1])
        if left < right:
            (x_left, top), (x_right, bottom) = at(left, counts.max()), at(right, 0)
            pg.draw.rect(surface, TARGET, (x_left, top, x_right - x_left, bottom - top))
    for count, a, b in zip(counts, edges[:-1], edges[1:], strict=True):
        (xa, ya), (xb, yb) = at(a, count), at(b, 0)
        pg.draw.rect(surface, BAR, (xa + 1, ya, max(1, xb - xa - 2), yb - ya))


def scatter(surface: pygame.Surface, rect: pygame.Rect, asked: np.ndarray, measured: np.ndarray, metric: str) -> None:
    """Asked difficulty against the measured difficulty metric, one dot per level, with Spearman's rho."""
    pg = require_pygame()
    panel(surface, rect, "asked vs measured difficulty", f"Spearman rho = {number(spearman(asked, measured))}", POINT)
    lo, hi = float(measured.min()), float(measured.max())
    at = axes(surface, rect, (0, 1), (lo, hi if hi > lo else lo + 1), ("asked difficulty", metric), [0, 0.5, 1])
    for x, y in zip(asked, measured, strict=True):
        pg.draw.circle(surface, POINT, at(x, y), 4)


def shares(surface: pygame.Surface, rect: pygame.Rect, numbers: dict[str, float]) -> None:
    """One bar per objective: the share of levels inside its target; the last, of those meeting all."""
    pg = require_pygame()
    rows = {name.removesuffix(" in target"): v for name, v in numbers.items() if name.endswith(" in target")}
    rows["all"] = numbers[MET]
    panel(surface, rect, "objectives met", f"all: {numbers[MET]:.0%} of levels", GOOD if numbers[MET] >= 0.9 else BAD)
    left, width = rect.x + 130, rect.w - 190
    step = min(HEADING + 8, (rect.h - 80) // max(1, len(rows)))
    for i, (name, share) in enumerate(rows.items()):
        y = rect.y + 74 + i * step
        text(surface, name, (left - 8, y), anchor="right")
        pg.draw.rect(surface, DIM, (left, y, width, SMALL), 1)
        pg.draw.rect(surface, GOOD if share >= 0.9 else BAR, (left, y, round(width * share), SMALL))
        text(surface, f"{share:.0%}", (left + width + 6, y))


def figures(surface: pygame.Surface, rect: pygame.Rect, numbers: dict[str, float]) -> None:
    """The batch's figures as a list of lines (the objectives' shares have their own chart)."""
    panel(surface, rect, "batch")
    numbers = {k: v for k, v in numbers.items() if not (k == MET or k.endswith(" in target"))}
    for i, (name, value) in enumerate(numbers.items()):
        shown = f"{value:.0%}" if name in ("playable", "distinct") else number(value)
        text(surface, f"{name}: {shown}", (rect.x + 10, rect.y + 44 + i * (HEADING + 6)), HEADING - 2)


def contact_sheet(surface: pygame.Surface, batch: Batch) -> None:
    """The title, where the levels came from, and every level drawn by the renderer with its label."""
    rules, metric = batch.rules, batch.metric
    cell, corners, _ = sheet_layout(batch)
    h, w = batch.levels[0].grid.shape
    meta = batch.levels[0].meta
    text(surface, heading(batch), (PAD, PAD), TITLE)
    origin = f"model {meta.get('model', '?')}, seed {meta.get('seed', '?')}, {w}x{h}, mechanic {rules.mechanic}"
    text(surface, origin, (PAD, PAD + TITLE), color=DIM)
    label = f"index, measured {metric}" if metric else "index"
    unplayable = "; red: not playable" if not all(r["playable"] for r in batch.reports) else ""
    text(surface, f"levels (label: {label}{unplayable})", (PAD, PAD + TITLE + SMALL + GAP), HEADING)
    for i, (level, report, (x, y)) in enumerate(zip(batch.levels, batch.reports, corners, strict=True)):
        surface.blit(grid_surface(rules, level.grid, cell_size=cell), (x, y))
        measured = f"  {number(report['metrics'][metric])}" if metric else ""
        color = TEXT if report["playable"] else BAD
        text(surface, f"#{level.meta.get('index', i)}{measured}", (x, y + h * cell + 1), color=color)


def draw(batch: Batch, numbers: dict[str, float]) -> pygame.Surface:
    """The whole report image: the contact sheet, then a row or two of charts."""
    pg = require_pygame()
    metric, asked = batch.metric, batch.asked()
    names = sorted((o.metric for o in batch.rules.objectives), key=lambda name: name != metric)
    count = len(names) + 2 + (asked is not None and metric is not None)
    rows = math.ceil(count / PANELS_PER_ROW)
    per_row = math.ceil(count / rows)
    panel_w = (WIDTH - PAD * (per_row + 1)) // per_row
    bottom = sheet_layout(batch)[2]
    surface = pg.Surface((WIDTH, bottom + PAD + rows * (PANEL_HEIGHT + PAD)))
    surface.fill(BACKGROUND)
    contact_sheet(surface, batch)
    step_x, step_y = panel_w + PAD, PANEL_HEIGHT + PAD
    slots = [
        pg.Rect(PAD + (i % per_row) * step_x, bottom + PAD + (i // per_row) * step_y, panel_w, PANEL_HEIGHT)
        for i in range(count)
    ]
    for name, rect in zip(names, slots, strict=False):
        targets = {recorded_target(r["targets"][name]) for r in batch.reports if name in r.get("targets", {})}
        title = f"{name} (difficulty)" if name == metric else name
        histogram(surface, rect, title, batch.values(name), targets.pop() if len(targets) == 1 else None)
    if asked is not None and metric is not None:
        scatter(surface, slots[len(names)], asked, batch.values(metric), metric)
    shares(surface, slots[-2], numbers)
    figures(surface, slots[-1], numbers)
    return surface


def page(batch: Batch, numbers: dict[str, float], image: str) -> str:
    """The HTML page: the figures as a table, what they mean, and the report image (``image``, relative to the page)."""
    rows = "\n".join(
        f"<tr><th>{html.escape(name)}</th><td>{figure(name, value)}</td></tr>" for name, value in numbers.items()
    )
    title = html.escape(heading(batch))
    note = (
        "Mean Hamming distance: the share of cells that differ, averaged over every pair of levels. "
        f"Spearman rho: rank correlation of the asked difficulty and the measured {batch.metric or 'difficulty'}. "
        "An objective in target: the share of levels whose metric lies inside its target at their asked difficulty; "
        "all objectives met: the share inside every target and keeping every constraint."
    )
    return (
        f'<!doctype html>\n<html lang="en">\n<head><meta charset="utf-8"><title>{title}</title></head>\n<body>\n'
        f"<h1>{title}</h1>\n<table>\n{rows}\n</table>\n<p>{html.escape(note)}</p>\n"
        f'<p><img src="{html.escape(image)}" alt="{title}"></p>\n</body>\n</html>\n'
    )


def write_report(folder: str | Path, out: str | Path) -> dict[str, float]:
    """Write the report of a folder of levels to ``out`` (PNG) and its HTML page beside it; return the
    figures. Both files are written or neither is: when the page cannot be written, the picture is
    put back as it was."""
    batch = read_batch(folder)
    numbers = summary(batch)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    picture, html_page = png_bytes(draw(batch, numbers)), page(batch, numbers, out.name)
    before = out.read_bytes() if out.is_file() else None
    atomic_write(out, picture)
    try:
        atomic_write(out.with_suffix(".html"), html_page)
    except BaseException:
        if before is None:
            out.unlink(missing_ok=True)
        else:
            atomic_write(out, before)
        raise
    return numbers
