"""One A3C worker: its own environments and model copy, n-step rollouts, gradients, shared updates.

:class:`Learner` holds what every backend's worker shares (environments, local model, rollout,
loss and gradients). :func:`run_worker` is the local backend's worker process: a top-level
function with picklable arguments, so that it runs under the spawn start method.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from relaygen.agent.config import TrainConfig
from relaygen.agent.losses import a3c_loss, gae
from relaygen.agent.model import ActorCritic, Obs, build_model, to_tensors
from relaygen.agent.seeding import seed_everything
from relaygen.agent.shared_optim import push_gradients, set_lr
from relaygen.children import die_with_parent
from relaygen.rules import Rules


@dataclass
class Update:
    """What one worker update reports to the main process."""

    worker: int
    steps: int
    """Environment steps taken in the rollout."""
    policy_loss: float
    value_loss: float
    entropy: float
    episodes: list[dict[str, float]] = field(default_factory=list)
    """One entry per finished episode: return, playable, score, met, changes."""


def make_env(config: TrainConfig, rules: Rules, n: int) -> Any:
    """The batched environment a worker steps: ``n`` environments of ``rules`` and the representation
    (training reads the in-episode scores of finished levels, never a full playtest of them)."""
    from relaygen.env.vector import BatchedLevelEnv

    return BatchedLevelEnv(rules, config.representation, n, final_reports=False, **config.env_options())


def make_envs(config: TrainConfig, rules: Rules, n: int) -> list[Any]:
    """A worker's batched environments: one of ``n`` environments per size of ``config.sizes``
    (just the rules' size by default)."""
    sizes = config.map_sizes()
    if sizes is None:
        return [make_env(config, rules, n)]
    return [make_env(config, rules.resized(width, height), n) for width, height in sizes]


def env_seeds(seed: int, n: int) -> list[int]:
    """``n`` environment seeds drawn from one worker seed (distinct workers never share one)."""
    return [int(s) for s in np.random.SeedSequence(seed).generate_state(n)]


def stack_obs(steps: list[Obs]) -> Obs:
    """Observations of T steps of N environments as one flat batch of T·N."""
    return {key: torch.cat([obs[key] for obs in steps]) for key in steps[0]}


def episode_records(infos: dict[str, Any], ended: np.ndarray, returns: np.ndarray) -> list[dict[str, float]]:
    """One record per environment whose episode ended at this step (infos describe its last level)."""
    return [
        {
            "return": float(returns[i]),
            "playable": float(infos["playable"][i]),
            "score": float(infos["score"][i]),
            "met": float(infos["met"][i]),
            "changes": float(infos["changes"][i]),
        }
        for i in np.flatnonzero(ended)
    ]


class Learner:
    """A worker's environments and local model: act for t_max steps, then compute gradients.
    With several map sizes, each update steps the next size's environments."""

    def __init__(self, config: TrainConfig, rules: Rules, index: int, seed: int) -> None:
        self.config = config
        self.index = index
        self.envs = make_envs(config, rules, config.envs_per_worker)
        self.model: ActorCritic = build_model(self.envs[0], config.channels, config.hidden)
        n = config.envs_per_worker
        seeds = env_seeds(seed, n * len(self.envs))
        self.observations = [
            to_tensors(env.reset(seed=seeds[k * n : (k + 1) * n])[0]) for k, env in enumerate(self.envs)
        ]
        self.returns = [np.zeros(n) for _ in self.envs]
        self.turn = 0

    def load(self, state: dict[str, torch.Tensor]) -> None:
        """Take the shared model's weights."""
        self.model.load_state_dict(state)

    def gradients(self) -> Update:
        """One n-step rollout, the A3C loss over it, and its (clipped) gradients in the local model."""
        config, k = self.config, self.turn
        self.turn = (k + 1) % len(self.envs)
        env, returns, current = self.envs[k], self.returns[k], self.observations[k]
        observations, actions, values, rewards, dones = [], [], [], [], []
        episodes: list[dict[str, float]] = []
        with torch.no_grad():
            for _ in range(config.t_max):
                logits, value = self.model(current)
                action = torch.distributions.Categorical(logits=logits).sample()
                obs, reward, terminated, truncated, infos = env.step(action.numpy())
                ended = np.logical_or(terminated, truncated)
                returns += reward
                episodes += episode_records(infos, ended, returns)
                returns[ended] = 0.0
                observations.append(current)
                actions.append(action)
                values.append(value)
                rewards.append(torch.as_tensor(reward, dtype=torch.float32))
                dones.append(torch.as_tensor(ended))
                current = to_tensors(obs)
            self.observations[k] = current
            _, last_value = self.model(current)
        advantages, returns = gae(
            torch.stack(rewards), torch.stack(values), torch.stack(dones), last_value, config.gamma, config.gae_lambda
        )
        logits, value = self.model(stack_obs(observations))
        loss = a3c_loss(
            logits, torch.cat(actions), value, returns.flatten(), advantages.flatten(), config.vf_coef, config.ent_coef
        )
        self.model.zero_grad(set_to_none=False)
        loss.total.backward()
        nn.utils.clip_grad_norm_(self.model.parameters(), config.max_grad_norm)
        return Update(
            self.index,
            config.t_max * env.num_envs,
            loss.policy.item(),
            loss.value.item(),
            loss.entropy.item(),
            episodes,
        )

    def grads(self) -> list[torch.Tensor]:
        """The local model's gradients, in parameter order."""
        return [p.grad for p in self.model.parameters()]  # type: ignore[misc]


@dataclass
class Shared:
    """What the local backend's workers share with each other and with the main process."""

    model: ActorCritic
    optimizer: torch.optim.Optimizer
    steps: Any
    """mp.Array of per-worker environment steps (each slot written by its worker only: no lock)."""
    updates: Any
    """mp.Array of per-worker update counts."""
    stop: Any
    """mp.Event that asks every worker to finish its update and return."""
    base_step: int = 0
    """Steps done before this session (a resumed run's checkpoint step)."""

    def global_step(self) -> int:
        return self.base_step + sum(self.steps[:])


def run_worker(
    index: int, seed: int, config: TrainConfig, rules: Rules, shared: Shared, stats: Any, parent: int
) -> None:
    """The local worker process: sync, roll out, push gradients, step the shared optimizer, repeat.
    It ends with ``parent``, the main process, however that one ends."""
    die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group; the main process decides
    torch.set_num_threads(1)
    seed_everything(seed)
    learner = Learner(config, rules, index, seed)
    stats.cancel_join_thread()
    while not shared.stop.is_set():
        step = shared.global_step()
        if step >= config.total_steps:
            break
        learner.load(shared.model.state_dict())
        update = learner.gradients()
        push_gradients(learner.grads(), shared.model)
        set_lr(shared.optimizer, config.lr_at(step))
        shared.optimizer.step()
        shared.steps[index] += update.steps
        shared.updates[index] += 1
        stats.put(update)
