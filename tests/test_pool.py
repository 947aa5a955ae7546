"""The draft pool: an episode's level depends on its seed alone, whatever the pool size or order."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from relaygen.agent.policy import load_policy
from relaygen.generate import Summary
from relaygen.playtest import playtest
from relaygen.pool import DraftPool, Episode
from relaygen.runfolder import write_run


@pytest.mark.parametrize(
    ("rules", "representation"), [("maze", "nca"), ("maze", "backtrack"), ("dungeon", "narrow"), ("sokoban", "wide")]
)
def test_levels_do_not_depend_on_pool_size_or_order(
    rules: str, representation: str, tmp_path: Path, untrained_model: Callable[..., Path]
) -> None:
    policy = load_policy(untrained_model(tmp_path / "model.pt", rules, representation))
    episodes = [Episode(seed, d) for seed, d in zip(range(100, 107), np.linspace(0, 1, 7), strict=True)]

    def levels(slots: int, order: list[int]) -> list[str]:
        pool = DraftPool(policy.model, policy.make_env(slots, keep_best=True, autoreset=False))
        made = pool.run([episodes[i] for i in order])
        return [made[order.index(i)].digest() for i in range(len(episodes))]

    ordered = list(range(len(episodes)))
    one = levels(1, ordered)
    assert len(set(one)) == len(episodes)
    assert levels(3, ordered) == one
    assert levels(16, ordered[::-1]) == one


def test_a_pool_needs_a_keep_best_environment_without_autoreset(
    tmp_path: Path, untrained_model: Callable[..., Path]
) -> None:
    policy = load_policy(untrained_model(tmp_path / "model.pt", "maze", "nca"))
    with pytest.raises(ValueError, match="keep_best=True and autoreset=False"):
        DraftPool(policy.model, policy.make_env(2))


@pytest.mark.slow
def test_generate_files_do_not_depend_on_slots_or_workers(tmp_path: Path, untrained_model: Callable[..., Path]) -> None:
    model = untrained_model(tmp_path / "model.pt", "maze", "nca")
    made = {}
    for name, options in {"default": {}, "slots": {"slots": 3}, "workers": {"workers": 2, "slots": 5}}.items():
        summary = Summary()
        options |= {"model": model, "seed": 2, "difficulty_range": (0, 1), "summary": summary}
        paths = list(write_run(tmp_path / name, "json", "maze", 6, **options))
        made[name] = [p.read_bytes() for p in [*paths, tmp_path / name / "index.json"]]
        assert summary.written == 6
    assert made["slots"] == made["default"] and made["workers"] == made["default"]
    level_files = sorted((tmp_path / "default").glob("maze-*.json"))
    assert len(level_files) == 6
    from relaygen.formats import read_levels

    for path in level_files:
        (level,) = read_levels(path)
        assert playtest(level, level.meta["difficulty"]).playable
