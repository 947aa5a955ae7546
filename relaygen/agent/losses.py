"""A3C's returns and loss, as pure functions small enough to check by hand.

Shapes: ``T`` steps of a rollout by ``N`` environments; ``rewards``, ``values`` and ``dones`` are
(T, N), ``last_value`` (N,) is V of the state after the last step. ``dones[t]`` says that the
episode ended with step t, so that nothing after it is credited to it.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.nn import functional as F


def gae(
    rewards: torch.Tensor,
    values: torch.Tensor,
    dones: torch.Tensor,
    last_value: torch.Tensor,
    gamma: float,
    lam: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Generalized advantage estimates and the returns they imply, both (T, N).

    δ_t = r_t + γ·V(s_{t+1})·(1 − d_t) − V(s_t) and A_t = δ_t + γλ·(1 − d_t)·A_{t+1}; the return is
    R_t = A_t + V(s_t). With λ = 1 the advantage is the plain n-step one, R_t − V(s_t), where R_t
    is the discounted reward up to the rollout's end (or the episode's) plus the bootstrapped value.
    """
    steps = rewards.shape[0]
    alive = 1.0 - dones.float()
    next_values = torch.cat([values[1:], last_value.unsqueeze(0)], dim=0)
    deltas = rewards + gamma * next_values * alive - values
    advantages = torch.zeros_like(rewards)
    running = torch.zeros_like(last_value)
    for t in reversed(range(steps)):
        running = deltas[t] + gamma * lam * alive[t] * running
        advantages[t] = running
    return advantages, advantages + values


@dataclass(frozen=True)
class Loss:
    """The loss to minimise and its parts (means over the batch)."""

    total: torch.Tensor
    policy: torch.Tensor
    """−log π(a|s)·A(s), the advantage held constant."""
    value: torch.Tensor
    """(R − V(s))², before the value coefficient."""
    entropy: torch.Tensor
    """H(π(·|s)), the bonus subtracted with coefficient β."""


def a3c_loss(
    logits: torch.Tensor,
    actions: torch.Tensor,
    values: torch.Tensor,
    returns: torch.Tensor,
    advantages: torch.Tensor,
    vf_coef: float = 0.5,
    ent_coef: float = 0.01,
) -> Loss:
    """The A3C loss vf_coef·(R − V)² − log π(a|s)·A − β·H(π), averaged over a flat batch.

    ``logits`` is (B, A), the others (B,); with vf_coef = 0.5 this is the paper's
    0.5·Σ(R − V)² − log π·A − β·H, divided by the batch size B. A cellwise action (one choice per
    cell, independent given s) has logits (B, H, W, A) and actions (B, H, W): its log π is the sum
    of the cells' log-probabilities and H the sum of the cells' entropies (the joint action's
    entropy), so that β weighs each cell's entropy against its log-probability as for one action.
    """
    log_probs = F.log_softmax(logits, dim=-1)
    taken = log_probs.gather(-1, actions.long().unsqueeze(-1)).squeeze(-1)
    taken = taken.reshape(len(taken), -1).sum(dim=1)
    cell_entropy = -(log_probs.exp() * log_probs).sum(dim=-1)
    entropy = cell_entropy.reshape(len(cell_entropy), -1).sum(dim=1).mean()
    policy = -(taken * advantages.detach()).mean()
    value = (returns.detach() - values).pow(2).mean()
    return Loss(policy + vf_coef * value - ent_coef * entropy, policy, value, entropy)
