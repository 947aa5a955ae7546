"""The privileged critic of a blind model (``privileged_critic``): the measures the policy does not see
(those only a search finds) go to the value head alone, so that training judges each edit by the solver's figures while
drafting goes without them (an asymmetric actor-critic)."""

from __future__ import annotations

import numpy as np
import torch

from relaygen.agent.config import TrainConfig
from relaygen.agent.model import build_model, to_tensors
from relaygen.agent.policy import Policy, load_policy
from relaygen.agent.run import fit_start, make_env, prepare
from relaygen.agent.worker import Learner
from relaygen.drafters import shipped_models
from relaygen.env.vector import BatchedLevelEnv
from relaygen.level import Level
from relaygen.rules import load_rules

ROWS = ["#########", "#@------#", "#-------#", "#--$---.#", *["#-------#"] * 4, "#########"]


def _privileged_sokoban(**options: int) -> TrainConfig:
    """A blind sokoban run with a privileged critic."""
    return TrainConfig(
        rules="sokoban", representation="wide", observe_metrics=True, blind=True, privileged_critic=True, **options
    )


def _boxoban_model() -> str:
    return str(next(p for p in shipped_models() if p.stem == "boxoban"))


def test_a_blind_environment_shows_the_critic_what_it_hides_from_the_policy() -> None:
    rules = load_rules("sokoban")
    level = Level.from_rows(rules, ROWS)
    seen, critic = {}, {}
    for blind, privileged in ((False, True), (True, False), (True, True)):
        env = BatchedLevelEnv(
            rules, "wide", 1, observe_metrics=True, blind=blind, privileged_critic=privileged, start_level=level
        )
        obs, _ = env.reset(seed=0, options={"difficulty": 0.3})
        seen[blind] = dict(zip(env.cond_names(), obs["cond"][0].tolist(), strict=True))
        critic[blind] = dict(zip(env.critic_names(), obs.get("critic", np.zeros((1, 0)))[0].tolist(), strict=True))
        assert ("critic" in env.single_observation_space.spaces) == (blind and privileged)
    searched = [f"measure {m} {end}" for m in ("pushes", "solution_length") for end in ("lo", "hi")]
    assert not critic[False]
    assert list(critic[True]) == searched
    assert critic[True] == {name: seen[False][name] for name in searched}, "the critic sees what a sighted policy sees"
    assert any(value != 0.0 for value in critic[True].values())
    assert all(seen[True][name] == 0.0 for name in searched)


def test_only_the_value_reads_the_critic_inputs() -> None:
    env = BatchedLevelEnv("sokoban", "wide", 3, observe_metrics=True, blind=True, privileged_critic=True)
    model = build_model(env, channels=8, hidden=16)
    assert model.arch["critic_size"] == 4
    obs = to_tensors(env.reset(seed=1)[0])
    moved = obs | {"critic": obs["critic"] + 1.0}
    with torch.no_grad():
        (logits, value), (moved_logits, moved_value) = model(obs), model(moved)
    assert torch.equal(logits, moved_logits), "the policy drafts without the critic's inputs"
    assert not torch.allclose(value, moved_value), "the value reads them"


def test_a_blind_worker_trains_the_critic_inputs() -> None:
    rules, config = prepare(_privileged_sokoban(envs_per_worker=4, t_max=4))
    learner = Learner(config, rules, 0, seed=5)
    learner.gradients()
    size = learner.model.arch["critic_size"]
    grad = learner.model.value_input_layer.weight.grad
    assert size == 4 and grad is not None
    assert grad[:, -size:].abs().sum() > 0, "the critic's inputs get gradients"


def test_a_sighted_model_starts_a_blind_run_with_zero_weight_critic_inputs_and_a_blind_one_keeps_them() -> None:
    path = _boxoban_model()
    start, original = load_policy(path), load_policy(path)
    rules, config = prepare(TrainConfig(rules="boxoban", init_from=path, blind=True, privileged_critic=True), start)
    fit_start(start, rules, config)
    assert start.model.arch["critic_size"] == 4, "pushes and solver_nodes, low and high ends"
    env = make_env(config, rules, 4)
    obs = to_tensors(env.reset(seed=2)[0])
    assert obs["critic"].abs().sum() > 0
    with torch.no_grad():
        _, value = start.model(obs)
        _, old_value = original.model(obs)
    assert torch.allclose(value, old_value, atol=1e-5), "new critic inputs start at zero weight"
    build_model(env, config.channels, config.hidden).load_state_dict(start.model.state_dict())

    with torch.no_grad():
        start.model.value_input_layer.weight[:, -4:] = torch.randn(start.model.value_input_layer.weight.shape[0], 4)
    trained = start.model.value_input_layer.weight[:, -4:].clone()
    blind = Policy(start.model, start.rules, start.representation, start.meta | {"config": config.to_dict()})
    _, again = prepare(TrainConfig(rules="boxoban", init_from=path), blind)
    assert again.blind and again.privileged_critic
    fit_start(blind, rules, again)
    assert torch.equal(blind.model.value_input_layer.weight[:, -4:], trained), "a blind model keeps its critic"


def test_a_blind_model_fine_tuned_with_a_privileged_critic_gets_zero_weight_critic_inputs() -> None:
    path = _boxoban_model()
    start, original = load_policy(path), load_policy(path)
    start.meta = original.meta = start.meta | {"config": start.meta["config"] | {"blind": True}}
    rules, config = prepare(TrainConfig(rules="boxoban", init_from=path, privileged_critic=True), start)
    assert config.blind and config.privileged_critic, "blind as its model, privileged as asked"
    fit_start(start, rules, config)
    assert start.model.arch["critic_size"] == 4
    assert not start.model.value_input_layer.weight[:, -4:].any()
    obs = to_tensors(make_env(config, rules, 4).reset(seed=2)[0])
    with torch.no_grad():
        assert torch.allclose(start.model(obs)[1], original.model(obs)[1], atol=1e-5)


def test_a_model_fits_only_an_environment_with_as_many_critic_inputs() -> None:
    rules = load_rules("sokoban")
    privileged_env, blind_env = (
        BatchedLevelEnv(rules, "wide", 1, observe_metrics=True, blind=True, privileged_critic=p) for p in (True, False)
    )
    privileged, plain = (build_model(env, channels=8, hidden=16) for env in (privileged_env, blind_env))
    config = {"config": _privileged_sokoban().to_dict()}
    assert Policy(privileged, rules, "wide", config).misfits(rules, privileged_env) == []
    assert Policy(privileged, rules, "wide", config).misfits(rules, blind_env) == ["critic_size 4 in the model, 0 here"]
    assert Policy(plain, rules, "wide", config).misfits(rules, privileged_env) == ["critic_size 0 in the model, 4 here"]
