"""The NCA representation: every cell at once, frozen cells kept, short episodes, size-free models."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from relaygen.agent.losses import a3c_loss
from relaygen.agent.model import build_model, to_tensors
from relaygen.env.representations.nca import Nca
from relaygen.env.vector import BatchedLevelEnv
from relaygen.level import Level
from relaygen.rules import load_rules


def test_a_cellwise_action_is_one_log_probability_per_cell_summed() -> None:
    # Two cells with π = (1/2, 1/2) and (3/4, 1/4); actions 0 and 1; one sample with advantage 2.
    logits = torch.tensor([[[[0.0, 0.0], [math.log(3.0), 0.0]]]], requires_grad=True)  # (1, 1, 2, 2)
    actions = torch.tensor([[[0, 1]]])
    loss = a3c_loss(logits, actions, torch.zeros(1), torch.zeros(1), torch.tensor([2.0]), 0.5, 0.1)
    log_pi = math.log(1 / 2) + math.log(1 / 4)
    cell_entropy = [math.log(2), -(0.75 * math.log(0.75) + 0.25 * math.log(0.25))]
    assert loss.policy.item() == pytest.approx(-2.0 * log_pi)
    assert loss.entropy.item() == pytest.approx(sum(cell_entropy))  # the joint action's entropy


def test_frozen_cells_can_only_keep_their_tile_and_never_change() -> None:
    rules = load_rules("maze")
    env = BatchedLevelEnv(rules, "nca", 2, pinned_share=0.3)
    obs, _ = env.reset(seed=3)
    model = build_model(env, 8, 16)
    logits, _ = model(to_tensors(obs))
    probs = torch.softmax(logits, dim=-1)
    keep = len(rules.tiles)
    frozen = torch.as_tensor(env.frozen)
    assert torch.all(probs[frozen][:, keep] == 1.0) and torch.all(probs[~frozen][:, keep] < 1.0)
    before = env.grid.copy()
    proposal = np.zeros((2, rules.height, rules.width), np.int64)  # floor everywhere
    env.step(proposal)
    assert np.array_equal(env.grid[env.frozen], before[env.frozen])
    assert (env.grid[~env.frozen] == 0).all()


def test_episodes_end_after_their_steps_or_when_every_objective_is_met() -> None:
    env = BatchedLevelEnv("maze", "nca", 1, autoreset=False)
    env.reset(seed=0)
    keep_all = np.full((1, 16, 16), len(env.rules.tiles))
    for step in range(1, Nca.STEPS + 1):
        _, _, terminated, truncated, _ = env.step(keep_all)
        assert truncated[0] == (step == Nca.STEPS) and not terminated[0]
    rows = ["#" * 16] + ["#S" + "." * 12 + "E#"] + ["#" * 16] * 14  # a 13-step corridor meets the easy target
    met = BatchedLevelEnv(
        "maze", "nca", 1, autoreset=False, difficulty=0.0, start_level=Level.from_rows(env.rules, rows)
    )
    met.reset(seed=0)
    _, _, terminated, truncated, _ = met.step(keep_all)
    assert terminated[0] and not truncated[0]


def test_one_model_acts_on_maps_of_any_size() -> None:
    small = BatchedLevelEnv("maze", "nca", 2)
    large = BatchedLevelEnv(load_rules("maze").resized(23, 19), "nca", 2)
    model = build_model(small, 8, 16)
    for env in (small, large):
        obs, _ = env.reset(seed=1)
        logits, values = model(to_tensors(obs))
        assert logits.shape == (2, env.height, env.width, len(env.rules.tiles) + 1) and values.shape == (2,)
        env.step(logits.argmax(dim=-1).numpy())
