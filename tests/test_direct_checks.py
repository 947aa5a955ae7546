"""Direct, fast checks for breaks that only slow tests (or none) used to catch (issue 28, test gaps):
the worker's GAE lambda, the playtest exit code of an unsolvable level, an atomic checkpoint write,
one Adam step counter for all workers, distinct written levels, and the tile remap of the Sokoban
tiles that stand on goals."""

from __future__ import annotations

import pickle
import subprocess
from collections.abc import Callable
from multiprocessing.reduction import ForkingPickler
from pathlib import Path

import numpy as np
import pytest
import torch

from relaygen.rules import load_rules, parse_rules

# ----- (a) the worker's GAE lambda ---------------------------------------------------------------------------


def test_the_worker_computes_advantages_with_the_configs_gamma_and_lambda(
    monkeypatch: pytest.MonkeyPatch, tiny_rules_toml: Callable[..., str]
) -> None:
    from relaygen.agent import worker
    from relaygen.agent.config import TrainConfig

    real = worker.gae
    calls: list[tuple[float, float]] = []

    def spy(*tensors: torch.Tensor, **kwargs: float) -> tuple[torch.Tensor, torch.Tensor]:
        *data, gamma, lam = tensors
        calls.append((float(gamma), float(lam)))
        return real(*data, gamma, lam)

    monkeypatch.setattr(worker, "gae", spy)
    config = TrainConfig(rules="maze", envs_per_worker=2, t_max=3, gamma=0.9, gae_lambda=0.61, channels=4, hidden=8)
    learner = worker.Learner(config, parse_rules(tiny_rules_toml(), "tiny"), 0, seed=1)
    learner.gradients()
    assert calls == [(0.9, 0.61)]


# ----- (b) playtest's exit code, the checkpoint write, the shared Adam step ----------------------------------


def test_playtest_exits_1_for_an_unsolvable_level(
    tmp_path: Path, relaygen_cli: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    stuck = tmp_path / "stuck.xsb"
    stuck.write_text("; stuck\n######\n#@$#.#\n######\n")
    solvable = tmp_path / "tiny.xsb"
    solvable.write_text("; tiny\n#####\n#@$.#\n#####\n")
    assert relaygen_cli("playtest", solvable).returncode == 0
    run = relaygen_cli("playtest", stuck)
    assert run.returncode == 1 and "solvable: no" in run.stdout, run.stdout + run.stderr


def test_a_checkpoint_is_replaced_whole_never_written_in_place(tmp_path: Path) -> None:
    from relaygen.agent.checkpoint import CHECKPOINT_NAME, load_checkpoint, save_checkpoint

    state = {"model": {"w": torch.ones(3)}, "optimizer": {}, "step": 1, "config": {}, "rng": {}}
    path = save_checkpoint(tmp_path, state)
    first = path.stat().st_ino
    save_checkpoint(tmp_path, state | {"step": 2})
    assert path.stat().st_ino != first  # a new file renamed over the old one: a reader sees one or the other
    assert [p.name for p in tmp_path.iterdir()] == [CHECKPOINT_NAME]
    with pytest.raises((pickle.PicklingError, AttributeError, TypeError)):
        save_checkpoint(tmp_path, state | {"step": 3, "bad": lambda: None})
    assert load_checkpoint(tmp_path)["step"] == 2
    assert [p.name for p in tmp_path.iterdir()] == [CHECKPOINT_NAME]


def test_every_workers_copy_of_adam_steps_one_shared_counter() -> None:
    """A worker gets the optimizer pickled (as spawn sends it); its steps must move the one count
    and the one pair of moments, not a copy of its own."""
    from relaygen.agent.shared_optim import make_optimizer, push_gradients

    model = torch.nn.Linear(3, 2)
    model.share_memory()
    optimizer = make_optimizer("adam", model, lr=0.01)
    workers = [ForkingPickler.loads(ForkingPickler.dumps((model, optimizer))) for _ in range(2)]
    for shared_model, shared_optimizer in workers:
        push_gradients([torch.ones_like(p) for p in shared_model.parameters()], shared_model)
        shared_optimizer.step()
    for state in optimizer.state.values():
        assert float(state["step"]) == 2.0
        assert float(state["exp_avg"].abs().sum()) > 0.0


# ----- (c) written levels are distinct ----------------------------------------------------------------------


def test_written_levels_are_distinct_even_where_drafts_repeat(
    tmp_path: Path, tiny_rules_toml: Callable[..., str]
) -> None:
    """A 2x2 room has few levels, so drafts repeat often: every file still holds a level of its own."""
    from relaygen.formats import read_levels
    from relaygen.generate import Summary
    from relaygen.runfolder import write_run

    rules = tmp_path / "tiny.toml"
    rules.write_text(tiny_rules_toml(4, 4))
    summary = Summary()
    paths = list(
        write_run(tmp_path / "out", "json", rules, 12, model="search", repair=10, attempts=60, summary=summary)
    )
    grids = [level.grid.tobytes() for path in paths for level in read_levels(path)]
    assert len(grids) == 12 and len(set(grids)) == 12
    assert summary.duplicates > 0  # the check was put to work


# ----- (d) the remap of Sokoban's tiles on goals -------------------------------------------------------------


def test_a_remapped_sokoban_model_tells_a_box_on_a_goal_from_a_player_on_one() -> None:
    from relaygen.agent.model import build_model, to_tensors
    from relaygen.agent.tilemap import map_tiles, remap_model
    from relaygen.env.vector import BatchedLevelEnv
    from relaygen.rules import Rules

    sokoban = load_rules("sokoban")
    data = sokoban.model_dump(exclude_defaults=True)
    data["name"], data["tiles"] = "sokoban_moved", data["tiles"][::-1]
    moved = Rules.model_validate(data)
    env = BatchedLevelEnv(sokoban, "narrow", 2)
    obs, _ = env.reset(seed=3)
    torch.manual_seed(0)
    model = build_model(env, channels=8, hidden=16).eval()
    for parameter in model.parameters():
        torch.nn.init.normal_(parameter, std=0.3)
    n = len(sokoban.tiles)
    index = sokoban.tile_index
    on_goal = {"box_on_goal": (2, 2), "player_on_goal": (3, 5)}
    for name, (y, x) in on_goal.items():  # the cursor's crop sees them: every cell of a 9x9 map
        obs["map"][:, :n, y, x] = 0.0
        obs["map"][:, index[name], y, x] = 1.0
    source = list(range(n))[::-1]  # moved tile i is sokoban's tile n - 1 - i, by construction
    remapped = remap_model(model, map_tiles(moved, sokoban), "narrow")
    moved_obs = dict(obs)
    moved_obs["map"] = np.concatenate([obs["map"][:, source], obs["map"][:, n:]], axis=1)
    with torch.no_grad():
        logits, _ = model(to_tensors(obs))
        moved_logits, _ = remapped(to_tensors(moved_obs))
        swapped = dict(obs)
        swapped["map"] = obs["map"].copy()
        a, b = index["box_on_goal"], index["player_on_goal"]
        swapped["map"][:, [a, b]] = obs["map"][:, [b, a]]
        swapped_logits, _ = model(to_tensors(swapped))
    assert not torch.allclose(swapped_logits, logits, atol=1e-3)  # the two tiles matter to the model
    assert torch.allclose(moved_logits[..., :n], logits[..., :n][..., source], atol=1e-5)
    assert torch.allclose(moved_logits[..., n:], logits[..., n:], atol=1e-5)
