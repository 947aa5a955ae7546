"""The pieces of A3C that fail silently when wrong: a worker syncs the shared weights before each
rollout, the loss gets returns and advantages in the right places, and a resumed run restores the
weights and the optimizer's moments with the step counter."""

from __future__ import annotations

import inspect
import os
import threading
from pathlib import Path

import pytest
import torch

from relaygen.agent import worker
from relaygen.agent.config import ConfigError, TrainConfig
from relaygen.agent.losses import a3c_loss
from relaygen.agent.model import build_model
from relaygen.agent.run import Run, prepare
from relaygen.agent.shared_optim import make_optimizer
from relaygen.agent.worker import Learner, Shared, make_env, run_worker
from relaygen.rules import load_rules


def small_config(tmp_path: Path, **overrides: object) -> TrainConfig:
    fields = {"rules": "maze", "representation": "wide", "envs_per_worker": 2, "t_max": 3, "workers": 1}
    return prepare(TrainConfig(**(fields | {"runs_dir": str(tmp_path), "progress": False} | overrides)))[1]


class Queue(list):
    """Stands in for the stats queue of a worker process."""

    put = list.append

    def cancel_join_thread(self) -> None:
        pass


def test_a_worker_loads_the_shared_weights_before_each_rollout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = small_config(tmp_path, total_steps=2 * 3 * 2)  # two updates
    rules = load_rules("maze")
    torch.manual_seed(123)
    shared_model = build_model(make_env(config, rules, 1), config.channels, config.hidden)
    shared = Shared(shared_model, make_optimizer("adam", shared_model, 1e-3), [0], [0], threading.Event())
    seen: list[tuple[dict, dict]] = []
    rollout = Learner.gradients

    def recording(self: Learner) -> worker.Update:
        local = {k: v.clone() for k, v in self.model.state_dict().items()}
        seen.append((local, {k: v.clone() for k, v in shared.model.state_dict().items()}))
        return rollout(self)

    monkeypatch.setattr(Learner, "gradients", recording)
    monkeypatch.setattr(worker, "die_with_parent", lambda parent: None)  # this test process is no worker
    run_worker(0, 7, config, rules, shared, Queue(), parent=os.getppid())
    assert len(seen) == 2 and shared.updates[0] == 2
    for local, shared_now in seen:
        assert local.keys() == shared_now.keys()
        assert all(torch.equal(local[k], shared_now[k]) for k in local)
    first, second = seen[0][1], seen[1][1]
    assert any(not torch.equal(first[k], second[k]) for k in first)  # the shared optimizer stepped between


def test_the_loss_gets_returns_for_the_value_and_advantages_for_the_policy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    estimates: list[tuple[torch.Tensor, torch.Tensor]] = []
    calls: list[inspect.BoundArguments] = []
    gae = worker.gae

    def recording_gae(*args: object, **kwargs: object) -> tuple[torch.Tensor, torch.Tensor]:
        advantages, returns = gae(*args, **kwargs)
        estimates.append((advantages, returns))
        return advantages, returns

    def recording_loss(*args: object, **kwargs: object) -> object:
        calls.append(inspect.signature(a3c_loss).bind(*args, **kwargs))
        return a3c_loss(*args, **kwargs)

    monkeypatch.setattr(worker, "gae", recording_gae)
    monkeypatch.setattr(worker, "a3c_loss", recording_loss)
    learner = Learner(small_config(tmp_path, gae_lambda=0.9), load_rules("maze"), 0, seed=3)
    learner.gradients()
    ((advantages, returns),), (call,) = estimates, calls
    assert not torch.equal(advantages, returns)  # with λ < 1 and a value estimate they differ
    assert torch.equal(call.arguments["returns"], returns.flatten())
    assert torch.equal(call.arguments["advantages"], advantages.flatten())


def test_resume_restores_weights_optimizer_moments_and_step(tmp_path: Path) -> None:
    run = Run.create(small_config(tmp_path))
    for p in run.model.parameters():  # one optimizer step with made-up gradients: nonzero moments
        p.grad = torch.randn_like(p)
    run.optimizer.step()
    run.step = 1234
    run.save()
    resumed = Run.resume(run.folder)
    assert resumed.step == 1234
    saved, loaded = run.model.state_dict(), resumed.model.state_dict()
    assert all(torch.equal(saved[k], loaded[k]) for k in saved)
    fresh = Run.create(small_config(tmp_path / "other"))
    assert any(not torch.equal(saved[k], fresh.model.state_dict()[k]) for k in saved)  # the check can fail
    before, after = run.optimizer.state_dict()["state"], resumed.optimizer.state_dict()["state"]
    assert before.keys() == after.keys() and before
    for key, state in before.items():
        for name, value in state.items():
            assert torch.equal(torch.as_tensor(value), torch.as_tensor(after[key][name])), name
            assert name == "step" or torch.as_tensor(value).abs().sum() > 0


def test_a_worker_with_several_sizes_steps_one_size_per_update_with_one_model(tmp_path: Path) -> None:
    config = small_config(tmp_path, representation="narrow", crop_size=7, sizes="7x7,11x9")
    learner = Learner(config, load_rules("maze"), 0, seed=3)
    assert [(env.width, env.height) for env in learner.envs] == [(7, 7), (11, 9)]
    shapes = {obs["map"].shape[1:] for obs in learner.observations}
    assert shapes == {(6, 7, 7)}  # one crop for every size: one model fits them all
    for turn in (0, 1, 0):
        before = [env.steps.copy() for env in learner.envs]
        update = learner.gradients()
        moved = [bool((env.steps != b).any()) for env, b in zip(learner.envs, before, strict=True)]
        assert moved == [k == turn for k in range(2)]
        assert update.steps == config.t_max * config.envs_per_worker
        assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in learner.model.parameters())


def test_sizes_need_a_fixed_crop_and_sizes_the_rules_fit(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="set crop_size"):
        small_config(tmp_path, representation="narrow", sizes="7x7,11x9")
    with pytest.raises(ConfigError, match="sizes: rules 'maze' at size 3x3"):
        small_config(tmp_path, representation="narrow", crop_size=7, sizes="7x7,3x3")
    with pytest.raises(ConfigError, match="sizes: size must be WIDTHxHEIGHT"):
        small_config(tmp_path, sizes="7x7,11by9")
    assert small_config(tmp_path, sizes="7x7,11x9").map_sizes() == [(7, 7), (11, 9)]  # wide: fully convolutional
