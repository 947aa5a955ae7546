"""Watching a generator build levels (``relaygen watch``): an episode of the environment, step by step.

A policy maps an observation to an action: a trained model's (:func:`model_policy`; by default a
built-in's shipped model, see :func:`open_watch`) or a random one (:func:`random_policy`). The
board shows the grid being edited, the cursor (or turtle) and the cells changed so far; when the
episode ends it shows the playtester's verdict. P plays the finished level in a
:class:`~relaygen.viewer.play.PlaySession`, G starts the next episode.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from relaygen.errors import UserError
from relaygen.render import grid_surface
from relaygen.viewer import KeyTable, dispatch, hud
from relaygen.viewer.play import KEYS as PLAY_KEYS
from relaygen.viewer.play import VERDICT_COLOR, Entry, PlaySession

if TYPE_CHECKING:
    import gymnasium
    import pygame

    from relaygen.agent.policy import Policy as TrainedPolicy
    from relaygen.level import Level
    from relaygen.rules import Rules

Policy = Callable[[dict[str, np.ndarray]], Any]
"""An observation (the environment's Dict) to an action: one, or a map of them (nca)."""

KEYS: KeyTable = {
    "space": ("pause",),
    **dict.fromkeys(("+", "=", "[+]"), ("faster", "2")),
    **dict.fromkeys(("-", "[-]"), ("faster", "0.5")),
    ".": ("step",),
    **dict.fromkeys(("f", "return"), ("finish",)),
    "g": ("generate",),
    "p": ("play",),
    **dict.fromkeys(("h", "?"), ("toggle_help",)),
    "escape": ("back",),
}
"""Key name → (method, argument...) while watching; while playing, the play session's keys."""

HELP = [
    ("Space", "pause / resume"),
    ("+ / -", "faster / slower"),
    (".", "one step"),
    ("F / Enter", "finish the episode now"),
    ("P", "play the finished level (Esc comes back)"),
    ("G", "generate the next level"),
    ("H / ?", "show or hide these keys"),
    ("Esc", "close this help, or quit"),
]


def random_policy(env: gymnasium.Env, seed: int | None = None) -> Policy:
    """Uniformly random actions from ``env``'s action space."""
    space = env.action_space
    space.seed(seed)
    return lambda obs: space.sample()


RANDOM = "random"
"""The ``--model`` value that asks for a random policy."""


def shipped_model(rules: Rules) -> Path | None:
    """The shipped model of ``rules`` when they are an unchanged built-in that has one."""
    from relaygen.drafters import DraftError, default_model
    from relaygen.rules import builtin_names, load_rules

    if rules.name not in builtin_names() or load_rules(rules.name) != rules:
        return None
    try:
        return default_model(rules)
    except DraftError:
        return None


def open_watch(
    rules: str | Path, model: str | None, representation: str | None, difficulty: float, seed: int
) -> WatchSession:
    """A session watching a generator of ``rules`` at ``difficulty``: the model file ``model``, a random
    policy when it is ``"random"``, else the shipped model of a built-in or, when there is none or it
    does not fit (the rules, or ``representation`` if given), a random policy. A
    :class:`~relaygen.errors.UserError` (RulesError, ModelError, DraftError) says why rules,
    representation or model do not fit."""
    from relaygen.rules import load_rules

    loaded = load_rules(rules)
    source = shipped_model(loaded) if model is None else None if model == RANDOM else model
    if source is None:
        return _random_watch(loaded, representation, difficulty, seed, "random policy")
    try:
        return _model_watch(loaded, source, representation, difficulty, seed)
    except UserError:  # a shipped model that does not fit; a bug still shows its traceback
        if model is not None:
            raise
        label = "random policy (the shipped model does not fit)"
        return _random_watch(loaded, representation, difficulty, seed, label)


def _model_watch(
    rules: Rules, model: str | Path, representation: str | None, difficulty: float, seed: int
) -> WatchSession:
    """A session watching the model file ``model`` edit levels of ``rules``; a UserError if it does not fit them."""
    from relaygen.drafters import DraftError, fit_tiles, fit_to_env, size_options
    from relaygen.env.level_env import LevelEnv

    policy, trained = model_policy(model, seed)
    if representation not in (None, trained.representation):
        raise DraftError(f"{model}: the model edits with {trained.representation!r}, not {representation!r}")
    fit_tiles(trained, rules, model)
    options = trained.env_options(difficulty=difficulty, **size_options(trained, rules, model))
    env = LevelEnv(rules=rules, representation=trained.representation, **options)
    fit_to_env(trained, rules, env.unwrapped.batch, model)
    return WatchSession(env, policy, seed=seed, label=f"model {Path(model).name}")


def _random_watch(rules: Rules, representation: str | None, difficulty: float, seed: int, label: str) -> WatchSession:
    """A session watching a random policy edit levels of ``rules``."""
    from relaygen.env.level_env import LevelEnv

    env = LevelEnv(rules=rules, representation=representation, difficulty=difficulty)
    return WatchSession(env, random_policy(env, seed), seed=seed, label=label)


def model_policy(path: str | Path, seed: int = 0) -> tuple[Policy, TrainedPolicy]:
    """A trained model's policy for one observation (actions sampled), and the loaded model's policy
    (its rules, representation and training environment options)."""
    from relaygen.agent.policy import load_policy

    trained = load_policy(path, seed=seed)
    return lambda obs: trained({k: np.asarray(v)[None] for k, v in obs.items()})[0], trained


class WatchSession:
    """One environment, one policy: animates episodes and hands finished levels to a play session."""

    def __init__(
        self, env: gymnasium.Env, policy: Policy, seed: int = 0, speed: float = 20.0, label: str = "policy"
    ) -> None:
        self.env = env
        self.label = label
        """What edits the level, as the HUD names it (``model maze.pt``, ``random policy``)."""
        self.batch = env.unwrapped.batch
        self.policy = policy
        self.seed = seed
        self.speed = speed
        """Environment steps per second."""
        self.keys = {**PLAY_KEYS, **KEYS}
        self.running = True
        self.paused = False
        self.show_help = False
        self.episode = 0
        self.playing: PlaySession | None = None
        self.generate()

    @property
    def rules(self) -> Any:
        return self.batch.rules

    @property
    def grid(self) -> np.ndarray:
        """The grid being edited (a view: it changes as the episode runs)."""
        return self.batch.grid[0]

    # ----- the episode ---------------------------------------------------------------------------

    def generate(self) -> None:
        """Start the next episode."""
        self.obs, self.info = self.env.reset(seed=self.seed + self.episode)
        self.episode += 1
        self.start = self.grid.copy()
        self.problem = ""
        """Why the finished level cannot be played (after P), or empty."""
        self.steps = 0
        self.clock = 0.0
        self.level: Level | None = None

    def step(self) -> None:
        """One action of the policy."""
        if self.level is not None:
            return
        self.obs, _, terminated, truncated, self.info = self.env.step(self.policy(self.obs))
        self.steps += 1
        if terminated or truncated:
            self.level = self.info["level"]
            self.level.name = f"{self.rules.name} #{self.episode}"

    def finish(self) -> None:
        """Run the episode to its end at once."""
        while self.level is None:
            self.step()

    # ----- keys ------------------------------------------------------------------------------------------

    def press(self, name: str) -> bool:
        """Act on a key: the play session's while playing, else the watch keys."""
        if self.playing is not None:
            handled = self.playing.press(name)
            if not self.playing.running:
                self.playing.close()
                self.playing = None
            return handled
        return dispatch(self, KEYS, name)

    def pause(self) -> None:
        self.paused = not self.paused

    def faster(self, factor: str | float) -> None:
        """Animate ``factor`` times faster (1 to 480 steps per second)."""
        self.speed = min(480.0, max(1.0, self.speed * float(factor)))

    def play(self) -> None:
        """Play the finished level (finishing the episode first), unless it cannot be played at all."""
        self.finish()
        assert self.level is not None
        session = PlaySession([Entry(self.level.name, self.level)])
        if session.problem:
            session.close()
            self.problem = session.problem
        else:
            self.playing = session

    def toggle_help(self) -> None:
        self.show_help = not self.show_help

    def back(self) -> None:
        """Esc: close the help, else quit."""
        if self.show_help:
            self.show_help = False
        else:
            self.running = False

    # ----- time --------------------------------------------------------------------------------------------

    def tick(self, dt: float) -> None:
        """Advance the episode (or the play session) by ``dt`` seconds."""
        if self.playing is not None:
            self.playing.tick(dt)
            return
        if self.paused or self.level is not None:
            return
        self.clock += dt * self.speed
        while self.clock >= 1.0 and self.level is None:
            self.clock -= 1.0
            self.step()

    def settle(self) -> None:
        """Finish the play session's animations (an episode keeps the step it is at)."""
        if self.playing is not None:
            self.playing.settle()

    def close(self) -> None:
        if self.playing is not None:
            self.playing.close()
        self.env.close()

    # ----- drawing ---------------------------------------------------------------------------------------------

    def title(self) -> str:
        return self.playing.title() if self.playing else f"relaygen watch — {self.rules.name}"

    def window_size(self, scale: int) -> tuple[int, int]:
        return hud.window_size(self.grid.shape, scale)

    def draw(self, surface: pygame.Surface) -> None:
        """The frame: the grid with cursor and changes, the HUD, the verdict banner, the help."""
        if self.playing is not None:
            self.playing.draw(surface)
            return
        surface.fill(hud.BACKGROUND)
        lay = hud.layout(surface.get_size(), self.grid.shape)
        cursor = None if self.level is not None else tuple(int(v) for v in self.batch.cursor[0])
        changed = self.grid != self.start
        board = grid_surface(self.rules, self.grid, cell_size=lay.cell, cursor=cursor, highlight=changed)
        hud.draw_board(surface, board, lay.board)
        info = self.info
        left = [
            [
                (f"episode {self.episode}", hud.TEXT),
                (f"   {self.rules.name} · {self.batch.rep.name} · {self.label}", hud.DIM),
            ],
            [(f"step {self.steps}   changes {info['changes']}   score {info['score']:.2f}", hud.TEXT)],
        ]
        verdict = [("playable: ", hud.DIM), (info["verdict"], VERDICT_COLOR[info["verdict"]])]
        status = "done" if self.level else "paused" if self.paused else f"{self.speed:g} steps/s"
        right = [verdict, [(f"{status}   ", hud.ACCENT), ("H: keys", hud.DIM)]]
        hud.draw_hud(surface, lay, left, right)
        if self.problem:
            hud.draw_banner(
                surface, lay, [("cannot play", hud.BAD)], [(f"{self.problem} · G generates the next", hud.TEXT)]
            )
        elif self.level is not None:
            good = info["verdict"] == "yes"
            title = ("playable!", hud.GOOD) if good else ("not playable", hud.BAD)
            length = f"solution {info['solution_length']} · " if good else ""
            sub = f"{length}score {info['score']:.2f} · P plays it · G generates the next"
            hud.draw_banner(surface, lay, [title], [(sub, hud.TEXT)])
        if self.show_help:
            hud.draw_help(surface, "relaygen watch — keys", HELP, lay.font_size)
