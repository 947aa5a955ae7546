"""The shipped models and level libraries: each built-in has a model that generates, and a library of playable levels."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest

from relaygen.agent.checkpoint import read_payload
from relaygen.agent.model import ModelError, load_model
from relaygen.drafters import Job, default_model, draft_candidates, model_drafter, shipped_models
from relaygen.formats import read_levels
from relaygen.generate import generate
from relaygen.level import Level
from relaygen.mechanics.base import room_walls
from relaygen.playtest import playtest
from relaygen.rules import builtin_names, load_rules

LEVELS = Path(__file__).resolve().parent.parent / "levels"


@pytest.mark.parametrize("rules", builtin_names())
def test_shipped_model_generates_a_playable_level(rules: str) -> None:
    model = default_model(load_rules(rules))
    evaluation = json.loads(model.with_suffix(".json").read_text())
    assert evaluation["rules"] == rules and evaluation["evaluation"]["levels"] == 200
    (level,) = generate(rules, 1, seed=5, difficulty=0.5)
    assert level.meta["model"] == f"builtin:{rules}" and playtest(level, 0.5).playable


@pytest.mark.parametrize("rules", builtin_names())
def test_level_library_is_playable_and_indexed(rules: str) -> None:
    folder = LEVELS / rules
    index = json.loads((folder / "index.json").read_text())
    assert len(index) == 50
    for name, entry in index.items():
        (level,) = read_levels(folder / name)
        report = playtest(level, entry["difficulty"])
        assert level.rules == load_rules(rules) and report.playable
        assert report.length == entry["length"]


@pytest.mark.parametrize("path", shipped_models(), ids=lambda path: path.stem)
def test_shipped_model_carries_a_digest_and_its_candidates(path: Path, tmp_path: Path) -> None:
    data = read_payload(path, "model")
    assert data["version"] >= 2 and draft_candidates(path) in (1, 2, 4, 16)
    damaged = bytearray(path.read_bytes())
    damaged[len(damaged) // 2] ^= 0x01
    flipped = tmp_path / path.name
    flipped.write_bytes(bytes(damaged))
    with pytest.raises(ModelError, match=f"{path.name}: damaged model file"):
        load_model(flipped)


@pytest.mark.parametrize("boxes", [2, 3])
def test_shipped_sokoban_model_meets_a_box_count_it_was_not_shipped_with(boxes: int) -> None:
    rules = load_rules("sokoban")
    bounds = [(c.min, c.max) for c in rules.constraints]
    bounds[1] = (boxes, boxes)
    variant = rules.with_counts(bounds)
    draft = model_drafter(default_model(rules), variant, candidates=1)
    drafts = draft([Job(i, 0, i / 29, i) for i in range(30)], None)
    meets = [level.count("box", "box_on_goal") == boxes for level in drafts]
    assert sum(meets) >= 27, f"{sum(meets)} of 30 raw drafts hold {boxes} boxes"
    kept = [level for level in drafts if level.meta["report"]["playable"]]
    assert kept and all(playtest(level, level.meta["difficulty"]).playable for level in kept)
    assert all(level.rules == variant and level.count("box", "box_on_goal") == boxes for level in kept)


def test_shipped_boxoban_model_at_difficulty_one_is_as_hard_as_boxoban_medium_in_its_rooms(data_dir: Path) -> None:
    """Median pushes and solver effort of its hardest levels reach Boxoban medium's, measured by the same solver."""
    boxoban = load_rules("boxoban")
    medium = [Level(boxoban, level.grid) for level in read_levels(data_dir / "boxoban-medium-valid-000-first50.txt")]
    made = generate(boxoban, 12, difficulty=1.0, seed=3)
    made_reports, medium_reports = [playtest(level) for level in made], [playtest(level) for level in medium]
    assert all(report.playable for report in made_reports + medium_reports)
    for metric in ("pushes", "solver_nodes"):
        ours = statistics.median(r.metrics[metric] for r in made_reports)
        theirs = statistics.median(r.metrics[metric] for r in medium_reports)
        assert ours >= theirs, f"median {metric}: {ours} against Boxoban medium's {theirs}"
    # Its rooms are Boxoban's: the median of inner walls and of lone posts inside Boxoban medium's quartiles.
    for index, name in enumerate(("inner walls", "isolated walls")):
        ours = statistics.median(room_walls(boxoban.with_property("solid")[lv.grid])[index] for lv in made)
        low, _, high = statistics.quantiles(
            (room_walls(boxoban.with_property("solid")[lv.grid])[index] for lv in medium), n=4
        )
        assert low <= ours <= high, f"median {name}: {ours} outside Boxoban medium's quartiles {low}-{high}"
