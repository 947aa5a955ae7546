"""A pool of environment slots that drafts many levels at once with one forward pass per step.

:class:`DraftPool` runs episodes of a trained policy in one :class:`~relaygen.env.vector.BatchedLevelEnv`
of ``slots`` environments. Every step, the active slots are observed together and the model runs
once over them (in fixed-size chunks); a slot whose episode ends hands in its level (the best its
episode built) and starts the next episode in the queue. Each episode draws its start map and its
action sampling from its own random streams, seeded by the episode's seed alone,
and the model's output for a row does not depend on the other rows of its chunk, so an episode's
level depends only on its seed: the same with any pool size, in any process.
"""

from __future__ import annotations

import copy
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from gymnasium.utils.seeding import np_random

from relaygen.agent.model import ActorCritic, to_tensors
from relaygen.env.vector import BatchedLevelEnv
from relaygen.level import Level

CHUNK = 64
"""Rows per forward pass; the last chunk is padded, so a row's output never depends on the batch size."""


@dataclass(frozen=True)
class Episode:
    """One episode to run: its seed, difficulty and (optional) partial level whose pins it keeps."""

    seed: int
    difficulty: float
    pinned: Level | None = None


class DraftPool:
    """Runs episodes of ``model`` in ``env`` (made with ``keep_best=True, autoreset=False``)."""

    def __init__(self, model: ActorCritic, env: BatchedLevelEnv) -> None:
        if not env.keep_best or env.autoreset:
            raise ValueError("a draft pool needs an environment with keep_best=True and autoreset=False")
        # A copy in channels-last layout: its convolutions run 1.6 times as fast on one CPU thread.
        self.model, self.env = copy.deepcopy(model).eval().to(memory_format=torch.channels_last), env
        self._noise = [np.random.default_rng(0)] * env.num_envs

    def run(self, episodes: Sequence[Episode], on_step: Callable[[int], None] | None = None) -> list[Level]:
        """The level each episode kept, in the order given; ``meta`` holds its difficulty. ``on_step``
        hears after every step how many episodes took it (progress while a long episode runs)."""
        env = self.env
        queue = deque(enumerate(episodes))
        running: dict[int, int] = {}  # slot -> episode number
        levels: list[Level | None] = [None] * len(episodes)
        free = list(range(env.num_envs))
        while queue or running:
            starting: list[tuple[int, Episode]] = []
            while queue and free:
                number, episode = queue.popleft()
                slot = free.pop(0)
                starting.append((slot, episode))
                running[slot] = number
            self._begin(starting)
            active = np.array(sorted(running))
            _, terminated, truncated = env.advance(self._act(active), active)
            if on_step is not None:
                on_step(len(active))
            for slot in active[terminated | truncated].tolist():
                levels[running.pop(slot)] = env.final_level(slot, full_report=False)
                free.append(slot)
            free.sort()
        return [level for level in levels if level is not None]

    def _begin(self, starting: list[tuple[int, Episode]]) -> None:
        """Start each (slot, episode), its start map and its action noise seeded by its seed; the
        episodes that share a partial level start together (one scoring call)."""
        for slot, episode in starting:
            map_seed, noise_seed = np.random.SeedSequence(episode.seed).generate_state(2)
            self.env.rngs[slot] = np_random(int(map_seed))[0]
            self._noise[slot] = np.random.default_rng(int(noise_seed))
        for pinned in {id(episode.pinned): episode.pinned for _, episode in starting}.values():
            group = [(slot, episode) for slot, episode in starting if episode.pinned is pinned]
            self.env.begin(np.array([slot for slot, _ in group]), [e.difficulty for _, e in group], pinned)

    def _act(self, active: np.ndarray) -> np.ndarray:
        """One sampled action per active slot (per cell for a cellwise policy), by inverse transform:
        the first action whose cumulative probability exceeds a uniform number from the slot's own stream."""
        logits = self._logits(self.env.observe(active))
        shape = logits.shape[1:-1]
        uniform = np.stack([self._noise[slot].random(shape, np.float32) for slot in active.tolist()])
        probs = np.exp(logits - logits.max(axis=-1, keepdims=True))
        threshold = uniform * probs.sum(axis=-1)
        cumulative, action = np.zeros_like(threshold), np.zeros(threshold.shape, np.int64)
        for a in range(logits.shape[-1] - 1):
            cumulative += probs[..., a]
            action += cumulative < threshold
        return action

    def _logits(self, obs: dict[str, np.ndarray]) -> np.ndarray:
        """The model's logits for a stack of observations, computed in padded chunks of :data:`CHUNK` rows."""
        rows = len(obs["cond"])
        out = []
        with torch.inference_mode():
            for start in range(0, rows, CHUNK):
                part = {k: v[start : start + CHUNK] for k, v in obs.items()}
                short = CHUNK - len(part["cond"])
                if short:
                    part = {k: np.concatenate([v, np.zeros((short, *v.shape[1:]), v.dtype)]) for k, v in part.items()}
                tensors = to_tensors(part)
                tensors["map"] = tensors["map"].contiguous(memory_format=torch.channels_last)
                logits, _ = self.model(tensors)
                out.append(logits[: CHUNK - short].numpy())
        return np.concatenate(out)
