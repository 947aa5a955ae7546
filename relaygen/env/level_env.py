"""The level-construction environment: one Gymnasium environment for every rules file."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

from relaygen.env.vector import BatchedLevelEnv
from relaygen.level import Level
from relaygen.rules import Rules


class LevelEnv(gym.Env):
    """
    ## Description

    An agent builds a level of a tile puzzle described by a rules file, one edit at a time, and is
    rewarded by the automatic playtester (:func:`relaygen.playtest.playtest`). No per-game code:
    the rules name the tiles, the mechanic that plays the level and the objectives that score it.
    The representation (``narrow``, ``turtle``, ``wide``, ``carve``, ``nca`` or ``backtrack``, among those the rules
    offer) says what an action means. A level's pinned cells (and the rules' fixed border) are
    frozen: edits to them do nothing.

    Besides ``rules`` and ``representation``, it takes keyword arguments only: ``render_mode``,
    ``cell_size`` (pixels per cell of a rendered frame), the options of
    :class:`~relaygen.env.options.EnvOptions` (``difficulty``, ``crop_size``, ``change_limit``,
    ``max_steps``, ``pinned_share``, ``solver_budget``, ``start_level``, ``reward_scale``,
    ``observe_budget``, ``observe_metrics``, ``blind``, ``privileged_critic``, ``keep_best``; see the sections below) and the representation's own (narrow's
    ``order``, carve's and backtrack's ``penalty``).

    ## Action Space

    ``Discrete``; ``n`` = number of tiles, ``H x W`` the grid.

    | representation | actions | meaning |
    |---|---|---|
    | narrow | n + 1 | put tile ``a`` on the shown cell; ``n`` leaves it |
    | turtle | 4 + n | ``0..3`` move the cursor up, down, left, right; ``4 + t`` put tile t under it |
    | wide | n * H * W | ``a = tile * (H * W) + row * W + col``; ``spatial_actions`` is True |
    | carve | 4 | forward, turn left, turn right (turns also step), end (see ``Carve``) |
    | backtrack | 4 | dig forward, left, right (two cells each), put the exit here (see ``Backtrack``) |

    ## Observation

    A ``Dict``:

    - ``"map"``: float32 ``(n + 2, h, w)``: one-hot tile planes, then a frozen plane (pinned cells
      and the fixed border), then an outside-the-grid plane. For narrow, turtle, carve and backtrack it is an
      egocentric ``crop_size`` square (odd, default ``2 * max(H, W) - 1``) centred on the cursor,
      padded outside the grid (carve's and backtrack's crop is rotated so the turtle faces up); for wide, the whole map.
    - ``"position"``: float32 ``(2,)``: the cursor as (row / H, col / W).
    - ``"cond"``: float32 ``(1 + 2k,)``: the difficulty, then each of the k objectives' target
      (lo, hi), divided by the objective's largest finite bound over difficulties and clipped to
      [-2, 2] (so an infinite bound reads 2); with ``observe_budget``, one more entry: the share of
      the episode's edits left (1 at the start, 0 when ``change_limit`` truncates it), so that a
      policy can finish its level before the budget runs out; with ``observe_metrics``, two entries
      per count constraint, then per objective: the current count or value minus the low end of its
      range and minus the high end, over the count's largest bound or the objective's scale above,
      clipped to [-2, 2] (the agent sees where it stands, as in controllable PCGRL; with ``blind``,
      the objectives only a search measures read 0, as in a level scored without one); then the
      representation's own entries (backtrack's four path-length entries). With ``vary_counts``
      each episode draws its own count ranges inside the rules' and is scored by them; the measures
      above read those ranges.
    - ``"critic"``, only with ``blind`` and ``privileged_critic`` (and objectives a search measures): float32 ``(2s,)``, the s
      hidden objectives' measures as ``cond`` would show them. The policy never reads it; the value
      head does, as an asymmetric actor-critic's privileged critic (Pinto et al. 2018), so that
      training judges each edit by the solver's figures that drafting goes without.

    ## Rewards

    ``reward_scale * (score_t - score_{t-1}) + playable_bonus * (playable_t - playable_{t-1})``,
    plus carve's penalty for an invalid move. The score is the rules' quality score in [0, 1] and
    ``playable_bonus`` comes from the rules, so the return of an episode is
    ``reward_scale * (final score - initial score) + playable_bonus * (final - initial playable)``
    (+ penalties). ``reward_scale`` defaults to 10. Sokoban levels are solved with a small node
    budget (``solver_budget``); a level the solver gives up on counts as unplayable.

    ## Starting State

    A map drawn from the rules' tile weights (or filled with ``start_map``; carve adds the start
    tile), with the fixed border. ``start_level`` (or ``reset(options={"level": ...})``) starts
    from a level instead: without a pinned mask its grid is the start map; with one, its pinned
    cells are kept and frozen and the others drawn at random. ``pinned_share`` freezes a random
    share of the editable cells each episode. The difficulty is ``difficulty`` or, when None,
    drawn uniformly per episode (``reset(options={"difficulty": d})`` overrides it once).

    ## Episode End

    Terminated when every objective and constraint is met (never with ``blind``: only when the
    edits run out, as when the reward searches only the last level) or by carve's end action. Truncated when
    the number of edits reaches ``change_limit`` of the editable cells (default 0.2; 1.0 for
    carve) or after ``max_steps`` steps (default three times the editable cells). ``info`` holds
    the playtest of the current level (``playable``, ``verdict``, ``score``, ``solution_length``,
    ``metrics``, ``terms``, ``met``) and ``changes``; the last step adds ``level``, the finished
    :class:`~relaygen.level.Level` with ``meta["report"]`` and ``meta["difficulty"]``. With
    ``keep_best``, that level is the best the episode built (playable first, then the highest
    score) rather than the last: what a generator hands out.

    ## Registered Configurations

    ``relaygen/{rules}-{representation}-v0`` for every built-in ruleset and the representations
    its file lists (e.g. ``relaygen/maze-narrow-v0``, ``relaygen/relay-carve-v0``), and
    ``relaygen/level-v0`` for any rules: ``gymnasium.make("relaygen/level-v0",
    rules="my_rules.toml", representation="turtle")``.
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["ansi", "rgb_array", "human"], "render_fps": 8}

    def __init__(
        self,
        rules: str | Path | Rules = "maze",
        representation: str | None = None,
        *,
        render_mode: str | None = None,
        cell_size: int = 24,
        **options: Any,
    ) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']}, got {render_mode!r}")
        self.render_mode, self.cell_size = render_mode, cell_size
        self.batch = BatchedLevelEnv(rules, representation, 1, autoreset=False, **options)
        self.rules = self.batch.rules
        self.representation = self.batch.rep.name
        self.spatial_actions = self.batch.spatial_actions
        self.observation_space = self.batch.single_observation_space
        self.action_space = self.batch.single_action_space
        self._window: Any = None
        self._clock: Any = None

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        super().reset(seed=seed)
        self.batch.rngs[0] = self.np_random
        self.batch.reset_envs(np.array([0]), options)
        if self.render_mode == "human":
            self.render()
        return self._observation(), self.batch.info(0)

    def step(self, action: int | np.ndarray) -> tuple[dict[str, np.ndarray], float, bool, bool, dict[str, Any]]:
        reward, terminated, truncated = self.batch.advance(np.array([action]))
        info = self.batch.info(0)
        if terminated[0] or truncated[0]:
            info["level"] = self.batch.final_level(0)
        if self.render_mode == "human":
            self.render()
        return self._observation(), float(reward[0]), bool(terminated[0]), bool(truncated[0]), info

    def _observation(self) -> dict[str, np.ndarray]:
        return {k: v[0] for k, v in self.batch.observe().items()}

    # ----- rendering -----------------------------------------------------------------------------

    def render(self) -> str | np.ndarray | None:
        if self.render_mode is None:
            gym.logger.warn("render() called without a render_mode; pass render_mode= to make()")
            return None
        if self.render_mode == "ansi":
            return "\n".join(Level(self.rules, self.batch.grid[0].copy()).rows()) + "\n"
        from relaygen.render import render_grid

        frame = render_grid(
            self.rules,
            self.batch.grid[0],
            cell_size=self.cell_size,
            pinned=self.batch.frozen[0] & ~self.batch.fixed,
            cursor=tuple(int(v) for v in self.batch.cursor[0]),
        )
        if self.render_mode == "rgb_array":
            return frame
        self._show(frame)
        return None

    def _show(self, frame: np.ndarray) -> None:
        import pygame

        if self._window is None:
            pygame.display.init()
            self._window = pygame.display.set_mode(frame.shape[1::-1])
            pygame.display.set_caption(f"relaygen: {self.rules.name} ({self.representation})")
            self._clock = pygame.time.Clock()
        pygame.event.pump()
        self._window.blit(pygame.surfarray.make_surface(frame.swapaxes(0, 1)), (0, 0))
        pygame.display.flip()
        self._clock.tick(self.metadata["render_fps"])

    def close(self) -> None:
        if self._window is not None:
            import pygame

            pygame.display.quit()
            self._window = None
