"""Levels that keep every promise (issue 29): feasible rules, the shipped relay model's levels on the
seed's interest curve, and the per-objective shares the report shows."""

from __future__ import annotations

import math
import statistics
import subprocess
import sys
from itertools import groupby
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from relaygen import report
from relaygen.drafters import best_draft, target_depth
from relaygen.generate import generate
from relaygen.level import Level
from relaygen.mechanics.relay import run_target
from relaygen.playtest import playtest
from relaygen.rules import builtin_names, load_rules

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from feasibility import LegSearch, relay_level, witness  # noqa: E402


def curve_cells(turns: int, side: int) -> float:
    """Moves the interest curve's runs ask for over ``turns`` turns, each at its target length."""
    return sum(run_target(i, turns, side) for i in range(turns + 1))


def test_relay_turn_target_is_what_the_grid_holds() -> None:
    """The hard end's turns are the most whose curve runs fit the longest path that touches itself
    nowhere (rows joined end to end, a rock row between); one more turn would not fit."""
    rules = load_rules("relay")
    side, (low, high) = min(rules.width, rules.height), rules.targets(1.0)["turns"]
    serpentine = math.ceil(rules.height / 2) * rules.width + rules.height // 2 - 1
    assert curve_cells(int(low), side) <= serpentine < curve_cells(int(low) + 1, side)
    assert rules.targets(0.0)["turns"] == (1.0, 2.0) and high == low + 1


@pytest.mark.parametrize("difficulty", [0.0, 0.5, 1.0])
def test_relay_levels_meeting_every_objective_exist(difficulty: float) -> None:
    found = witness(load_rules("relay"), difficulty, seconds=20)
    assert found.found, found.row()
    assert playtest(found.level, difficulty).met


def test_leg_search_lays_untouching_paths_on_the_curve() -> None:
    rules = load_rules("relay")
    search, rng = LegSearch(rules.width, rules.height, 6.0, 0.7), np.random.default_rng(0)
    runs = None
    while runs is None:
        runs = search.search(6, (4, 0), "r", rng)
    report_ = playtest(relay_level(rules, (4, 0), runs), 0.5)
    assert report_.metrics["clusters"] == 0 and report_.metrics["turns"] == 6
    assert [len(list(g)) for _, g in groupby(report_.solution)] == [n for _, n in runs]
    fits = [max(0.0, 1 - abs(n - run_target(i, 6.0, 9)) / run_target(i, 6.0, 9)) for i, (_, n) in enumerate(runs)]
    assert statistics.fmean(fits) >= 0.7


@pytest.mark.slow
@pytest.mark.parametrize("rules", [name for name in builtin_names() if name != "relay"])
def test_every_builtin_has_a_level_meeting_every_objective_at_its_hard_end(rules: str) -> None:
    found = witness(load_rules(rules), 1.0, seconds=240, drafts=32)
    assert found.found, found.row()


def relay_batch(n: int) -> list[Level]:
    """``n`` relay levels over difficulty 0..1 from the shipped model with its recommended candidates."""
    return generate("relay", n, difficulty_range=(0.0, 1.0), seed=11)


def test_shipped_relay_levels_keep_every_promise() -> None:
    """Issue 29's bar on a small batch: at least 90 % meet every objective, run_fit median at least
    0.75, rho of turns at least 0.9, and the median run longer than one cell (no staircases)."""
    levels = relay_batch(40)
    reports = [playtest(level, level.meta["difficulty"]) for level in levels]
    met = sum(r.met for r in reports) / len(reports)
    fit = statistics.median(r.metrics["run_fit"] for r in reports)
    rho = stats.spearmanr([lv.meta["difficulty"] for lv in levels], [r.metrics["turns"] for r in reports])[0]
    run = statistics.median(len(list(g)) for r in reports for _, g in groupby(r.solution))
    assert met >= 0.9 and fit >= 0.75 and rho >= 0.9 and run > 1, (met, fit, rho, run)


def test_report_shows_each_objectives_share_and_all_met(tmp_path: Path) -> None:
    """Two relay levels: one meeting everything, one a staircase whose runs miss the curve."""
    rules = load_rules("relay")
    good = witness(rules, 0.5, seconds=20).level
    assert good is not None
    stairs = np.full((9, 14), rules.tile_index["rock"], np.uint8)
    cells = [(8 - k // 2, k - k // 2) for k in range(13)]  # up, right, up, right ...
    for cell in cells:
        stairs[cell] = rules.tile_index["path"]
    stairs[cells[0]], stairs[cells[-1]] = rules.tile_index["start"], rules.tile_index["end"]
    folder = tmp_path / "levels"
    folder.mkdir()
    from relaygen.formats import write_levels

    for k, level in enumerate([good, Level(rules, stairs)]):
        level.meta.update(difficulty=0.5, report=playtest(level, 0.5).to_dict())
        write_levels([level], folder / f"relay-{k:04d}.json")
    batch = report.read_batch(folder)
    bad = playtest(batch.levels[1], 0.5)
    assert not bad.met and "run_fit" in " ".join(bad.off_target)
    shares = report.objective_shares(batch)
    assert shares[report.MET] == 0.5 and shares["run_fit in target"] == 0.5
    assert bad.metrics["turns"] > bad.targets["turns"][1] and shares["turns in target"] == 0.5  # above its target
    assert shares["clusters in target"] == (1.0 if bad.metrics["clusters"] == 0 else 0.5)
    out = tmp_path / "r.png"
    done = subprocess.run(
        [sys.executable, "-m", "relaygen", "report", str(folder), "--out", str(out)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "all objectives met: 0.5000" in done.stdout and "run_fit in target: 0.5000" in done.stdout
    assert "<tr><th>all objectives met</th><td>0.5000</td></tr>" in out.with_suffix(".html").read_text()


def test_objectives_panel_draws_one_bar_per_objective_and_one_for_all() -> None:
    pygame = pytest.importorskip("pygame")
    pygame.init()
    surface, rect = pygame.Surface((400, 260)), pygame.Rect(0, 0, 400, 260)
    report.shares(surface, rect, {"a in target": 1.0, "b in target": 0.5, report.MET: 0.0})
    left, width, step = rect.x + 130, rect.w - 190, report.HEADING + 8
    middle = [rect.y + 74 + i * step + report.SMALL // 2 for i in range(3)]
    assert tuple(surface.get_at((left + width - 3, middle[0])))[:3] == report.GOOD  # 100 %: full, green
    assert tuple(surface.get_at((left + width // 4, middle[1])))[:3] == report.BAR  # 50 %: half, under the bar
    assert tuple(surface.get_at((left + 3 * width // 4, middle[1])))[:3] != report.BAR
    assert tuple(surface.get_at((left + width // 4, middle[2])))[:3] not in (report.BAR, report.GOOD)  # all: 0 %


def test_of_drafts_that_keep_every_promise_the_one_deepest_inside_its_targets_is_kept() -> None:
    rules = load_rules("relay")

    def draft(fit: float, turns: float) -> Level:
        level = Level(rules, np.zeros((9, 14), np.uint8))
        targets = {"turns": [6.33, 7.33], "run_fit": [0.7, 1.0], "clusters": [0.0, 0.0], "path_length": [10.0, None]}
        metrics = {"turns": turns, "run_fit": fit, "clusters": 0.0, "path_length": 40.0}
        level.meta["report"] = {"playable": True, "terms": dict.fromkeys(metrics, 1.0), "score": 1.0}
        level.meta["report"] |= {"metrics": metrics, "targets": targets}
        return level

    edge, deep = draft(0.71, 7.0), draft(0.85, 7.0)
    assert target_depth(deep.meta["report"]) == pytest.approx(0.5 + 0.33 / 1.0, abs=1e-6)
    assert best_draft([edge, deep]) is deep and best_draft([deep, edge]) is deep
    off = draft(0.85, 7.0)
    off.meta["report"]["score"] = 0.99  # deeper, but not keeping every promise: the score comes first
    assert best_draft([off, edge]) is edge
