"""`relaygen report`: the image, its contact sheet and charts, the figures, and clear errors for bad input."""

from __future__ import annotations

import itertools
import json
import math
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pygame
import pytest
from typer.testing import CliRunner

from relaygen import report
from relaygen.cli import app
from relaygen.formats import write_levels
from relaygen.render import render_grid
from relaygen.rules import builtin_names, load_rules
from relaygen.runfolder import write_run

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def mazes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Eight maze levels over difficulty 0..1, made by the search baseline through the CLI."""
    out = tmp_path_factory.mktemp("report") / "mazes"
    command = [sys.executable, "-m", "relaygen", "generate", "maze", "-n", "8", "--model", "search"]
    command += ["--seed", "1", "--difficulty-range", "0", "1", "--out", str(out)]
    subprocess.run(command, check=True, capture_output=True)
    return out


def pixels(path: Path) -> np.ndarray:
    """A PNG's RGB pixels as (H, W, 3), loaded straight from the file."""
    return pygame.surfarray.array3d(pygame.image.load(str(path))).transpose(1, 0, 2)


def ranks(values: list[float]) -> np.ndarray:
    """1-based ranks, ties sharing their mean rank."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    out = np.zeros(len(values))
    for _, group in itertools.groupby(order, key=lambda i: values[i]):
        members = list(group)
        first = int(np.count_nonzero(out)) + 1
        out[members] = first + (len(members) - 1) / 2
    return out


def expected_figures(folder: Path) -> dict[str, float]:
    """Distinct share, mean pairwise Hamming distance and Spearman's rho, from the level files themselves."""
    files = [json.loads(p.read_text()) for p in sorted(folder.glob("maze-*.json"))]
    grids = [np.array([list(row) for row in f["rows"]]) for f in files]
    pairs = list(itertools.combinations(grids, 2))
    asked = ranks([f["meta"]["difficulty"] for f in files])
    measured = ranks([f["meta"]["report"]["metrics"]["path_length"] for f in files])
    return {
        "levels": len(files),
        "distinct": len({g.tobytes() for g in grids}) / len(grids),
        "mean Hamming distance": sum(float((a != b).mean()) for a, b in pairs) / len(pairs),
        "Spearman rho": float(np.corrcoef(asked, measured)[0, 1]),
    }


def test_cli_writes_the_image_and_a_page_with_the_right_figures(mazes: Path, tmp_path: Path) -> None:
    out = tmp_path / "new" / "mazes.png"
    done = subprocess.run(
        [sys.executable, "-m", "relaygen", "report", str(mazes), "--out", str(out)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    printed = dict(re.findall(r"^([^:\n]+): ([\d.]+)$", done.stdout, re.MULTILINE))
    page = (tmp_path / "new" / "mazes.html").read_text()
    in_page = dict(re.findall(r"<tr><th>([^<]+)</th><td>([^<]+)</td></tr>", page))
    assert '<img src="mazes.png"' in page
    expected = expected_figures(mazes)
    assert expected["mean Hamming distance"] > 0.1 and expected["Spearman rho"] > 0.3
    for name, value in expected.items():
        assert float(printed[name]) == pytest.approx(value, abs=6e-5), name
        assert float(in_page[name]) == pytest.approx(value, abs=6e-5), name
    # 8 levels of 16x16 fill one row of the sheet; maze's 2 histograms, the scatter and the figures one row of charts
    cell, _, bottom = report.sheet_layout(report.read_batch(mazes))
    assert cell * 16 == 144
    assert pixels(out).shape == (bottom + 2 * report.PAD + report.PANEL_HEIGHT, report.WIDTH, 3)
    assert sorted(p.name for p in out.parent.iterdir()) == ["mazes.html", "mazes.png"]


def test_contact_sheet_holds_every_level_as_the_renderer_draws_it(mazes: Path, tmp_path: Path) -> None:
    out = tmp_path / "sheet.png"
    report.write_report(mazes, out)
    image = pixels(out)
    batch = report.read_batch(mazes)
    cell, corners, _ = report.sheet_layout(batch)
    assert len(corners) == len(batch.levels) == 8
    for level, (x, y) in zip(batch.levels, corners, strict=True):
        drawn = render_grid(level.rules, level.grid, cell_size=cell)
        h, w = drawn.shape[:2]
        assert np.array_equal(image[y : y + h, x : x + w], drawn), level.name


def test_charts_put_bars_and_dots_where_the_data_are() -> None:
    pygame.init()
    surface = pygame.Surface((400, 300))
    rect = pygame.Rect(0, 0, 400, 300)
    plot = report.plot_area(rect)
    # values 1, 1, 1, 2: two bars, the second a third as tall as the first
    report.histogram(surface, rect, "x", np.array([1.0, 1.0, 1.0, 2.0]), None)
    quarter, three_quarters = plot.x + plot.w // 4, plot.x + 3 * plot.w // 4
    assert tuple(surface.get_at((quarter, plot.y + plot.h // 2)))[:3] == report.BAR
    assert tuple(surface.get_at((three_quarters, plot.bottom - plot.h // 6)))[:3] == report.BAR
    assert tuple(surface.get_at((three_quarters, plot.y + plot.h // 2)))[:3] != report.BAR
    # asked 0.25 measured 1 (the lowest), asked 0.75 measured 3 (the highest)
    report.scatter(surface, rect, np.array([0.25, 0.75]), np.array([1.0, 3.0]), "m")
    low, high = (plot.x + plot.w // 4, plot.bottom), (plot.x + 3 * plot.w // 4, plot.y)
    assert tuple(surface.get_at(low))[:3] == tuple(surface.get_at(high))[:3] == report.POINT
    assert tuple(surface.get_at((low[0], high[1])))[:3] != report.POINT


@pytest.mark.parametrize("rules", builtin_names())
def test_shipped_libraries(rules: str, tmp_path: Path) -> None:
    """Each built-in's library (made by its shipped model) reports; its figures are sane."""
    figures = report.write_report(ROOT / "levels" / rules, tmp_path / "r.png")
    assert figures["levels"] == 50 and figures["playable"] == 1.0 and figures["distinct"] >= 0.9
    assert figures["Spearman rho"] > 0.5 and 0.05 < figures["mean Hamming distance"] < 0.6


def test_own_rules_without_a_difficulty_knob(tmp_path: Path) -> None:
    """Levels of a rules file of one's own (embedded in each JSON file) report, without a scatter."""
    text = load_rules("maze").to_toml().split("[difficulty]")[0].replace('name = "maze"', 'name = "mine"')
    rules_file = tmp_path / "mine.toml"
    rules_file.write_text(text.replace('metric = "path_length"\n', 'metric = "path_length"\ntarget = [5.0, 30.0]\n'))
    folder = tmp_path / "levels"
    list(write_run(folder, "json", str(rules_file), 4, model="search", seed=2))
    batch = report.read_batch(folder)
    assert batch.rules.name == "mine" and batch.metric is None
    figures = report.write_report(folder, tmp_path / "r.png")
    assert figures["levels"] == 4 and figures["playable"] == 1.0 and math.isnan(figures["Spearman rho"])


def test_levels_without_reports_are_playtested(tmp_path: Path) -> None:
    """Text maps carry no metadata: their metrics are measured, and agree with the recorded ones (the
    library's files predate the push metrics added since, which are measured too)."""
    recorded = report.read_batch(ROOT / "levels" / "sokoban")
    for level in recorded.levels[:4]:
        write_levels([level], tmp_path / f"{level.name}.txt")
    measured = report.read_batch(tmp_path)
    assert measured.asked() is None
    for fresh, kept in zip(measured.reports, recorded.reports[:4], strict=True):
        assert {k: fresh["metrics"][k] for k in kept["metrics"]} == kept["metrics"]
        assert {"wall_share", "isolated_walls", "stuck_boxes"} <= fresh["metrics"].keys()


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["report", *args])
    return result.exit_code, result.stderr


def test_bad_input_gets_one_line_naming_the_path(mazes: Path, tmp_path: Path) -> None:
    out = tmp_path / "out" / "r.png"
    empty = tmp_path / "empty"
    empty.mkdir()
    broken = tmp_path / "broken"
    shutil.copytree(mazes, broken)
    (broken / "maze-0003.json").write_text('{"format": "relaygen-level", ')
    no_report = tmp_path / "no_report"
    shutil.copytree(mazes, no_report)
    data = json.loads((no_report / "maze-0002.json").read_text())
    data["meta"]["report"] = {"playable": True}
    (no_report / "maze-0002.json").write_text(json.dumps(data))
    mixed = tmp_path / "mixed"
    shutil.copytree(mazes, mixed)
    shutil.copy(ROOT / "levels" / "sokoban" / "sokoban-0000.json", mixed)
    cases = [  # (folder given, path the error names, reason)
        (tmp_path / "missing", tmp_path / "missing", "no such folder"),
        (mazes / "index.json", mazes / "index.json", "not a folder"),
        (empty, empty, "no level files"),
        (broken, broken / "maze-0003.json", "invalid JSON"),
        (no_report, no_report / "maze-0002.json", "meta.report"),
        (mixed, mixed, "several rulesets"),
    ]
    for folder, named, reason in cases:
        code, error = run(str(folder), "--out", str(out))
        assert code == 2 and error.count("\n") == 1 and f"{named}:" in error and reason in error, error
    assert not out.parent.exists()
    code, error = run(str(mazes), "--out", str(tmp_path / "r.jpg"))
    assert code == 2 and "r.jpg" in error and ".png" in error
