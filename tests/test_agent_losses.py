"""A3C returns and loss against hand-computed numbers."""

from __future__ import annotations

import math

import pytest
import torch

from relaygen.agent.losses import a3c_loss, gae

GAMMA = 0.9


def test_gae_with_lambda_one_is_the_n_step_return() -> None:
    # One environment, three steps, no episode end: R_t = r_t + γ r_{t+1} + ... + γ^{3-t} V(s_3).
    rewards = torch.tensor([[1.0], [0.0], [2.0]])
    values = torch.tensor([[0.5], [0.4], [0.3]])
    dones = torch.zeros(3, 1, dtype=torch.bool)
    last = torch.tensor([1.0])
    advantages, returns = gae(rewards, values, dones, last, GAMMA, 1.0)
    r2 = 2.0 + GAMMA * 1.0
    r1 = 0.0 + GAMMA * r2
    r0 = 1.0 + GAMMA * r1
    assert returns[:, 0].tolist() == pytest.approx([r0, r1, r2])
    assert advantages[:, 0].tolist() == pytest.approx([r0 - 0.5, r1 - 0.4, r2 - 0.3])


def test_an_episode_end_cuts_the_return() -> None:
    # Env 0 ends after step 0: its step-0 return is r_0 alone; env 1 never ends.
    rewards = torch.tensor([[1.0, 1.0], [3.0, 0.0]])
    values = torch.zeros(2, 2)
    dones = torch.tensor([[True, False], [False, False]])
    last = torch.tensor([10.0, 10.0])
    _, returns = gae(rewards, values, dones, last, GAMMA, 1.0)
    assert returns[0].tolist() == pytest.approx([1.0, 1.0 + GAMMA * (0.0 + GAMMA * 10.0)])
    assert returns[1].tolist() == pytest.approx([3.0 + GAMMA * 10.0, GAMMA * 10.0])


def test_gae_with_lambda_below_one_mixes_td_errors() -> None:
    rewards = torch.tensor([[1.0], [0.0]])
    values = torch.tensor([[0.5], [0.2]])
    dones = torch.zeros(2, 1, dtype=torch.bool)
    last = torch.tensor([1.0])
    lam = 0.5
    advantages, returns = gae(rewards, values, dones, last, GAMMA, lam)
    delta1 = 0.0 + GAMMA * 1.0 - 0.2
    delta0 = 1.0 + GAMMA * 0.2 - 0.5
    assert advantages[:, 0].tolist() == pytest.approx([delta0 + GAMMA * lam * delta1, delta1])
    assert returns[:, 0].tolist() == pytest.approx([delta0 + GAMMA * lam * delta1 + 0.5, delta1 + 0.2])


def test_loss_matches_a_hand_computed_example() -> None:
    logits = torch.tensor([[0.0, 0.0], [math.log(3.0), 0.0]], requires_grad=True)  # π = (1/2, 1/2), (3/4, 1/4)
    actions = torch.tensor([0, 1])
    values = torch.tensor([1.0, 0.0], requires_grad=True)
    returns = torch.tensor([2.0, 1.0])
    advantages = torch.tensor([1.0, -2.0])
    loss = a3c_loss(logits, actions, values, returns, advantages, vf_coef=0.5, ent_coef=0.1)

    policy = -(math.log(0.5) * 1.0 + math.log(0.25) * -2.0) / 2
    value = ((2.0 - 1.0) ** 2 + (1.0 - 0.0) ** 2) / 2
    h0 = math.log(2.0)
    h1 = -(0.75 * math.log(0.75) + 0.25 * math.log(0.25))
    entropy = (h0 + h1) / 2
    assert loss.policy.item() == pytest.approx(policy)
    assert loss.value.item() == pytest.approx(value)
    assert loss.entropy.item() == pytest.approx(entropy)
    assert loss.total.item() == pytest.approx(policy + 0.5 * value - 0.1 * entropy)


def test_the_advantage_gets_no_gradient_and_the_value_error_does() -> None:
    logits = torch.zeros(1, 3, requires_grad=True)
    values = torch.tensor([0.0], requires_grad=True)
    advantages = torch.tensor([2.0], requires_grad=True)
    loss = a3c_loss(logits, torch.tensor([1]), values, torch.tensor([1.0]), advantages, vf_coef=0.5, ent_coef=0.0)
    loss.total.backward()
    assert advantages.grad is None
    # d/dV of 0.5·(R − V)² is −(R − V) = −1.
    assert values.grad.item() == pytest.approx(-1.0)
    # d/dlogit_k of −log π(a)·A is A·(π_k − [k = a]): π = 1/3, a = 1, A = 2.
    assert logits.grad[0].tolist() == pytest.approx([2 / 3, 2 * (1 / 3 - 1), 2 / 3])
