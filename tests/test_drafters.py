"""Drafters: a model drafts a batch of episodes, and the draft kept is playable and nearest its target."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from relaygen.agent.model import load_model, save_model
from relaygen.agent.policy import load_policy
from relaygen.drafters import CANDIDATES, SEARCH, DraftError, Job, best_draft, draft_candidates, model_drafter
from relaygen.generate import GenerateError, Summary, generate_iter
from relaygen.level import Level
from relaygen.playtest import playtest
from relaygen.pool import DraftPool, Episode
from relaygen.rules import load_rules
from relaygen.runfolder import write_run


def snake_maze(length: int, pocket: bool = False) -> Level:
    """A 16x16 maze whose only path winds from start to exit in ``length`` moves; ``pocket`` adds a
    sealed floor cell (a second region, so a lower score)."""
    rules = load_rules("maze")
    grid = np.full((16, 16), rules.tile_index["wall"], np.uint8)
    cells = []
    for row in range(1, 15, 2):
        cols = range(1, 15) if row % 4 == 1 else range(14, 0, -1)
        cells += [(row, c) for c in cols] + [(row + 1, cols[-1])]
    path = cells[: length + 1]
    for y, x in path:
        grid[y, x] = rules.tile_index["floor"]
    grid[path[0]], grid[path[-1]] = rules.tile_index["start"], rules.tile_index["exit"]
    if pocket:
        grid[14, 7] = rules.tile_index["floor"]
    return Level(rules, grid)


def judged(level: Level, difficulty: float) -> Level:
    level.meta["report"] = playtest(level, difficulty).to_dict()
    return level


def test_best_draft_prefers_playable_then_nearest_target_then_score() -> None:
    for length in (10, 30):
        assert playtest(snake_maze(length), 0.5).metrics["path_length"] == length
    unplayable = snake_maze(30)
    unplayable.grid[unplayable.grid == unplayable.rules.tile_index["exit"]] = unplayable.rules.tile_index["wall"]
    for d, want in ((0.0, 10), (1.0, 30)):  # targets: [8, 20] when easy, [28, 56] when hard
        drafts = [judged(unplayable.copy(), d), judged(snake_maze(10), d), judged(snake_maze(30), d)]
        assert best_draft(drafts).meta["report"]["metrics"]["path_length"] == want
    pocketed, clean = judged(snake_maze(10, pocket=True), 0.0), judged(snake_maze(10), 0.0)
    assert pocketed.meta["report"]["score"] < clean.meta["report"]["score"]
    assert best_draft([pocketed, clean]) is clean and best_draft([clean, pocketed]) is clean
    only = judged(unplayable, 0.0)
    assert best_draft([only]) is only


def test_best_draft_weighs_every_objective_the_knob_moves() -> None:
    """Boxoban's knob moves pushes and solver effort: a draft on the pushes target but far below the
    effort target loses to one nearer both, although its other terms give it the higher score."""
    rules = load_rules("boxoban")

    def draft(pushes: float, nodes: float, regions: float, score: float) -> Level:
        level = Level.random(rules, np.random.default_rng(0))
        terms = {"pushes": pushes, "solver_nodes": nodes, "regions": regions}
        level.meta["report"] = {"playable": True, "terms": terms, "score": score}
        return level

    effortless, puzzling = draft(1.0, 0.4, 1.0, 0.9), draft(0.9, 1.0, 0.5, 0.8)
    assert best_draft([effortless, puzzling]) is puzzling and best_draft([puzzling, effortless]) is puzzling


def test_a_model_keeps_the_best_of_its_candidates(tmp_path: Path, untrained_model: Callable[..., Path]) -> None:
    path = untrained_model(tmp_path / "model.pt", "dungeon", "narrow")
    rules = load_rules("dungeon")
    jobs = [Job(0, 0, 0.3, 7), Job(1, 2, 0.8, 8)]
    kept = model_drafter(path, rules, candidates=4)(jobs, None)
    policy = load_policy(path)
    pool = DraftPool(policy.model, policy.make_env(3, keep_best=True, autoreset=False))
    for job, level in zip(jobs, kept, strict=True):
        seeds = [int(np.random.SeedSequence([job.seed, k]).generate_state(1)[0]) for k in range(4)]
        drafts = pool.run([Episode(s, job.difficulty) for s in seeds])
        assert len({d.digest() for d in drafts}) == 4 and level.digest() == best_draft(drafts).digest()
        for draft in drafts:
            report = playtest(draft, job.difficulty)
            assert draft.meta["report"]["playable"] == report.playable and draft.meta["difficulty"] == job.difficulty
            assert draft.meta["report"]["score"] == pytest.approx(report.score)
    assert [d.digest() for d in model_drafter(path, rules, candidates=4)(jobs, None)] == [d.digest() for d in kept]
    with pytest.raises(DraftError, match="candidates must be at least 1"):
        model_drafter(path, rules, candidates=0)


def test_generate_counts_every_draft() -> None:
    summary = Summary()
    levels = list(generate_iter("dungeon", 3, seed=5, candidates=3, repair=0, summary=summary))
    assert summary.drafts == 3 + (summary.drafts - summary.raw_playable) and len(levels) == 3
    assert all(playtest(level, level.meta["difficulty"]).playable for level in levels)


def test_generate_drafts_as_many_candidates_as_the_model_recommends(
    tmp_path: Path, untrained_model: Callable[..., Path]
) -> None:
    plain = untrained_model(tmp_path / "plain.pt", "dungeon", "narrow")
    model, meta = load_model(plain)
    four = save_model(tmp_path / "four.pt", model, meta | {"candidates": 4})
    assert (draft_candidates(plain), draft_candidates(four), draft_candidates(SEARCH)) == (CANDIDATES, 4, 1)

    def grids(path: Path, candidates: int | None = None) -> list[str]:
        levels = generate_iter("dungeon", 3, seed=5, model=path, candidates=candidates, repair=0)
        return [level.digest() for level in levels]

    assert grids(four) == grids(plain, 4)
    first = list(write_run(tmp_path / "run", "json", "dungeon", 2, model=four, seed=5))
    summary = Summary()
    again = list(write_run(tmp_path / "run", "json", "dungeon", 2, model=four, seed=5, candidates=4, summary=summary))
    assert again == first and summary.reused == 2  # the recorded default is the model's 4, so this is the same run
    assert json.loads((tmp_path / "run" / "run.json").read_text())["candidates"] == 4
    for bad in (0, "4"):
        broken = save_model(tmp_path / "bad.pt", model, meta | {"candidates": bad})
        with pytest.raises(GenerateError, match=r"bad\.pt: meta 'candidates' must be a whole number of at least 1"):
            list(generate_iter("dungeon", 1, model=broken))
