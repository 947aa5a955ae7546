"""A training run's folder and bookkeeping, shared by the local and the Ray backends.

``runs/<rules>__<representation>__<seed>__<time>/`` holds ``config.toml``, ``rules.toml``,
TensorBoard event files, ``checkpoint.pt`` (model, optimizer, step, RNG states, config; written
atomically every few minutes and on exit), ``model.pt`` (the latest weights, loadable by
``relaygen eval`` and the generator) and ``log.txt`` (worker deaths and restarts).

A run may start from a trained model's weights (``init_from``, fine-tuning) when that model's
architecture fits: the same representation and observation shapes (any map size for a fully
convolutional model), and tiles that map onto the
model's by their properties (or by ``tile_map``; see :mod:`relaygen.agent.tilemap`).
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from relaygen.agent.checkpoint import CHECKPOINT_NAME, CheckpointError, load_checkpoint, save_checkpoint
from relaygen.agent.config import DEFAULT_WIDTHS, ConfigError, TrainConfig, training_change_limit
from relaygen.agent.model import ActorCritic, ModelError, build_model, save_model
from relaygen.agent.policy import Policy, load_policy
from relaygen.agent.seeding import capture_rng, restore_rng, seed_everything
from relaygen.agent.shared_optim import make_optimizer
from relaygen.agent.tilemap import (
    TileMap,
    TileMapError,
    map_conditions,
    map_tiles,
    parse_tile_map,
    remap_conditions,
    remap_critic,
    remap_model,
)
from relaygen.agent.worker import Update, make_env
from relaygen.cliutil import progress
from relaygen.drafters import misfits_in
from relaygen.files import WriteError, atomic_write, file_digest, make_folder, remove_leftovers
from relaygen.rules import Rules, RulesError, load_rules, parse_rules

MODEL_NAME = "model.pt"
EPISODE_CHARTS = {
    "return": "episodic_return",
    "playable": "playable_rate",
    "score": "score",
    "met": "met_rate",
    "changes": "tiles_changed",
}
"""Episode record key → TensorBoard chart (means over the episodes ended since the last write)."""


CONSOLE_SECONDS = 30.0
"""Without a progress bar, seconds between two status lines on the console (and one at the end)."""


def prepare(config: TrainConfig, start: Policy | None = None) -> tuple[Rules, TrainConfig]:
    """The rules of ``config`` and the config with its defaults that depend on them filled in:
    the representation (``start``'s, the model the run starts from, if the rules offer it, else
    the rules' first), the change limit, the model widths and what the policy observes (crop size,
    budget, measures and blindness: ``start``'s where the config leaves them unset, so its model fits)."""
    rules = load_rules(config.rules)
    offered = rules.representations
    preferred = start.representation if start is not None and start.representation in offered else offered[0]
    representation = config.representation or preferred
    if representation not in offered:
        raise ConfigError(
            f"representation {representation!r} is not offered by rules {rules.name!r} "
            f"(they offer {', '.join(offered)})"
        )
    limit = config.change_limit or training_change_limit(representation)
    widths = start.model.arch if start is not None else DEFAULT_WIDTHS
    seen = start.env_options() if start is not None else {}
    prepared = config.replace(
        representation=representation,
        change_limit=limit,
        channels=config.channels or widths["channels"],
        hidden=config.hidden or widths["hidden"],
        crop_size=config.crop_size or seen.get("crop_size"),
        observe_budget=config.observe_budget or seen.get("observe_budget", False),
        observe_metrics=config.observe_metrics or seen.get("observe_metrics", False),
        blind=config.blind or seen.get("blind", False),
        privileged_critic=config.privileged_critic or seen.get("privileged_critic", False),
    )
    if prepared.sizes is not None:
        check_sizes(rules, representation, prepared)
    return rules, prepared


def check_sizes(rules: Rules, representation: str, config: TrainConfig) -> None:
    """Raise :class:`ConfigError` unless one model can train on every size of ``config.sizes``:
    the rules must fit each, and a crop-observing representation needs a fixed crop_size."""
    from relaygen.env.representations import KINDS

    if KINDS[representation].egocentric and config.crop_size is None:
        raise ConfigError(
            f"sizes: the {representation} representation observes a crop of the map, whose default "
            "side follows the map size; set crop_size so that one model fits every size"
        )
    for width, height in config.map_sizes() or []:
        try:
            rules.resized(width, height)
        except RulesError as exc:
            raise ConfigError(f"sizes: {exc}") from None


def fit_start(start: Policy, rules: Rules, config: TrainConfig) -> TileMap:
    """Fit ``start``, the model a run of ``rules`` with the prepared ``config`` starts from, to the
    rules' tiles (its model is remapped in place, see :mod:`relaygen.agent.tilemap`) and return the
    tile map. Raise :class:`ModelError` naming the model file unless it fits: tiles that map, the
    same representation, widths and observation and action shapes."""

    def refused(reasons: list[str]) -> ModelError:
        return ModelError(
            f"{config.init_from}: a run of rules {rules.name!r} cannot start from this model "
            f"(trained on rules {start.rules.name!r}): " + "; ".join(reasons)
        )

    arch = start.model.arch
    differences = [
        f"{key} {theirs} in the model, {ours} here"
        for key, theirs, ours in [
            ("representation", start.representation, config.representation),
            ("channels", arch["channels"], config.channels),
            ("hidden", arch["hidden"], config.hidden),
        ]
        if theirs != ours
    ]
    try:
        tiles = map_tiles(rules, start.rules, parse_tile_map(config.tile_map))
    except TileMapError as exc:
        raise refused([*differences, str(exc)]) from None
    start.model = remap_model(start.model, tiles, start.representation)
    env = make_env(config, rules, 1)
    start_env = start.make_env(1)
    conditions = map_conditions(env.cond_names(), start_env.cond_names(), tiles)
    start.model = remap_conditions(start.model, conditions)
    start.model = remap_critic(start.model, map_conditions(env.critic_names(), start_env.critic_names(), tiles))
    tiles = replace(tiles, conditions=conditions)
    differences += misfits_in(start, rules, env)
    if differences:
        raise refused(differences)
    return tiles


def starting_points(config: TrainConfig) -> list[tuple[Path, TileMap | str]]:
    """The shipped models that play the mechanic of ``config``'s rules, each with the tile map that a
    run of ``config`` starting from it would use, or the reason it cannot start from it."""
    from relaygen.drafters import shipped_models

    mechanic = load_rules(config.rules).mechanic
    points: list[tuple[Path, TileMap | str]] = []
    for path in shipped_models():
        if load_rules(path.stem).mechanic != mechanic:  # a shipped model plays its built-in's mechanic
            continue
        start = load_policy(path)
        try:
            rules, prepared = prepare(config.replace(init_from=str(path)), start)
            points.append((path, fit_start(start, rules, prepared)))
        except (ConfigError, ModelError) as exc:
            points.append((path, str(exc)))
    return points


@dataclass
class Tally:
    """Worker reports gathered between two log writes."""

    updates: int = 0
    losses: np.ndarray = field(default_factory=lambda: np.zeros(3))
    """Sums of the policy loss, value loss and entropy."""
    episodes: list[dict[str, float]] = field(default_factory=list)

    def add(self, update: Update) -> None:
        self.updates += 1
        self.losses += (update.policy_loss, update.value_loss, update.entropy)
        self.episodes += update.episodes


class Run:
    """One run: its folder, model, optimizer, TensorBoard writer, progress bar and checkpoints."""

    def __init__(self, config: TrainConfig, rules: Rules, folder: Path, checkpoint: dict[str, Any] | None = None):
        self.config, self.rules, self.folder = config, rules, folder
        self.model: ActorCritic = build_model(make_env(config, rules, 1), config.channels, config.hidden)
        self.optimizer = make_optimizer(config.optimizer, self.model, config.learning_rate)
        self.step, self.elapsed = 0, 0.0
        self.launches = [0] * config.workers
        """Per worker slot: how many times a worker was started (seeds differ on each launch)."""
        self.worker_updates = [0] * config.workers
        """Per worker slot: updates it reported."""
        self.origin: dict[str, str] = {}
        """init_from and init_digest (the model file's) when the run started from a model's weights."""
        if checkpoint is not None:
            try:
                self.model.load_state_dict(checkpoint["model"])
                self.optimizer.load_state_dict(checkpoint["optimizer"])
                restore_rng(checkpoint["rng"])
            except (KeyError, TypeError, ValueError, RuntimeError) as exc:
                raise CheckpointError(f"{folder / CHECKPOINT_NAME}: does not fit this run's model: {exc}") from None
            self.step, self.elapsed = int(checkpoint["step"]), float(checkpoint.get("elapsed", 0.0))
            self.launches = _resized(checkpoint.get("launches", []), config.workers)
            self.worker_updates = _resized(checkpoint.get("worker_updates", []), config.workers)
            self.origin = dict(checkpoint.get("origin", {}))
        self.started = time.time()
        self.tally, self.last_log, self.last_log_step = Tally(), time.time(), self.step
        self.last_line = 0.0
        """When the console last got a status line (without a progress bar)."""
        self.last_checkpoint: float | None = None
        """When this session last wrote a checkpoint (None: not yet, so the first comes after one update)."""
        self.session_step = self.step
        self.stopped_by = 0
        """The signal that stopped the run early (0 when it was not stopped)."""
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(str(folder))
        self.speed = 0.0
        """Steps per second at the latest log."""
        self.episode_stats = "no episode ended yet"
        """The latest episodes' statistics, as the progress bar and the console show them."""
        self.bar = progress(
            total=1.0,
            initial=self.budget_spent()[0],
            desc=f"train {rules.name}",
            bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}<{remaining}{postfix}",
            dynamic_ncols=True,
            disable=not config.progress,
        )

    # ----- creating and resuming ---------------------------------------------------------------

    @classmethod
    def create(cls, config: TrainConfig) -> Run:
        """A new run folder under ``config.runs_dir``, seeded and with its config written; its model
        starts from ``config.init_from``'s weights if given (checked to fit before anything is written)."""
        start = load_policy(config.init_from) if config.init_from else None
        given, (rules, config) = config, prepare(config, start)
        tiles = fit_start(start, rules, config) if start is not None else None
        points = starting_points(given) if start is None else []
        stamp = time.strftime("%Y%m%d-%H%M%S")
        folder = Path(config.runs_dir) / f"{rules.name}__{config.representation}__{config.seed}__{stamp}"
        try:
            make_folder(folder.parent)
            folder.mkdir()
        except (WriteError, FileExistsError) as exc:
            raise ConfigError(f"runs_dir: {exc}") from None
        atomic_write(folder / "config.toml", config.to_toml())
        atomic_write(folder / "rules.toml", rules.to_toml())
        seed_everything(config.seed)
        run = cls(config, rules, folder)
        if start is not None and tiles is not None:
            run.start_from(start, tiles)
        for path, fit in points:
            if isinstance(fit, TileMap):
                run.report(f"this run could start from a shipped model instead: --init-from {path} ({fit.summary()})")
        run.hparams()
        return run

    def start_from(self, start: Policy, tiles: TileMap) -> None:
        """Begin with the weights of ``start``, the model ``config.init_from`` names (fine-tuning),
        fitted to the rules' tiles by ``tiles``."""
        path = str(self.config.init_from)
        self.model.load_state_dict(start.model.state_dict())
        self.origin = {"init_from": path, "init_digest": file_digest(path)}
        self.report(
            f"starting from the weights of {path} (digest {self.origin['init_digest']}, "
            f"rules {start.rules.name!r}, {start.meta.get('steps', '?')} steps; {tiles.summary()})"
        )

    @classmethod
    def resume(cls, folder: str | Path, **overrides: Any) -> Run:
        """Continue the run in ``folder`` from its checkpoint; ``overrides`` (e.g. total_steps) win."""
        folder = Path(folder)
        checkpoint = load_checkpoint(folder)
        remove_leftovers(folder)  # a checkpoint or log the killed run was writing
        recorded = dict(checkpoint["config"])
        if overrides.get("backend") == "local":  # a Ray run continued here no longer has a cluster
            recorded["ray_address"] = None
        config = TrainConfig.from_dict(recorded, str(folder / CHECKPOINT_NAME)).replace(**overrides)
        rules = parse_rules(
            checkpoint["rules_toml"], str(folder / CHECKPOINT_NAME), sources=checkpoint.get("rules_sources")
        )
        run = cls(config, rules, folder, checkpoint)
        run.report(f"resumed at step {run.step} of {config.total_steps}")
        return run

    def hparams(self) -> None:
        """The configuration, once, as a TensorBoard text table."""
        rows = "\n".join(f"|{k}|{v}|" for k, v in self.config.to_dict().items())
        self.writer.add_text("hyperparameters", "|param|value|\n|-|-|\n" + rows)

    # ----- during training ---------------------------------------------------------------------

    def worker_seed(self, index: int) -> int:
        """The seed of worker ``index``'s next launch: seed + index at first, new values on restarts."""
        seed = self.config.seed + index + self.config.workers * self.launches[index]
        self.launches[index] += 1
        return seed

    def record(self, update: Update) -> None:
        """Take in one worker update's losses and episodes."""
        self.tally.add(update)
        self.worker_updates[update.worker] += 1

    def advance(self, step: int) -> None:
        """Set the global step counter (the backend's count of environment steps) and move the bar."""
        self.step = step
        self.bar.update(min(self.budget_spent()[0], 1.0) - self.bar.n)
        self.bar.set_postfix_str(self.status(), refresh=False)

    def status(self) -> str:
        """The budget spent, the speed and the latest episodes' statistics, in one line."""
        return f"{self.budget_spent()[1]}, {self.speed:.0f} steps/s, {self.episode_stats}"

    def budget_spent(self) -> tuple[float, str]:
        """The share of the run's budget spent, by the budget that will stop it first (the steps, or
        the minutes when their share is ahead), and both budgets as text, the first one first."""
        steps = self.step / self.config.total_steps
        counted = f"steps {_count(self.step)}/{_count(self.config.total_steps)}"
        if self.config.max_minutes is None:
            return steps, counted
        seconds, budget = self.elapsed + time.time() - self.started, 60.0 * self.config.max_minutes
        timed = f"time {_clock(seconds)}/{_clock(budget)}"
        if seconds / budget <= steps:
            return steps, f"{counted} ({timed})"
        return seconds / budget, f"{timed} ({counted})"

    def log(self, force: bool = False) -> None:
        """Write TensorBoard scalars and refresh the progress bar, every ``log_seconds``."""
        now = time.time()
        if not force and (now - self.last_log < self.config.log_seconds or self.step == self.last_log_step):
            return
        tally, scalars = self.tally, {}
        scalars["charts/steps_per_second"] = (self.step - self.last_log_step) / max(now - self.last_log, 1e-9)
        scalars["charts/learning_rate"] = self.config.lr_at(self.step)
        if tally.updates:
            policy, value, entropy = tally.losses / tally.updates
            scalars |= {"losses/policy_loss": policy, "losses/value_loss": value, "losses/entropy": entropy}
        if tally.episodes:
            for key, name in EPISODE_CHARTS.items():
                scalars[f"charts/{name}"] = float(np.mean([e[key] for e in tally.episodes]))
            self.episode_stats = (
                f"{len(tally.episodes)} episodes: return {scalars['charts/episodic_return']:.2f}, "
                f"playable {scalars['charts/playable_rate']:.2f}, score {scalars['charts/score']:.2f}"
            )
        for name, value in scalars.items():
            self.writer.add_scalar(name, value, self.step)
        self.writer.flush()
        self.speed = scalars["charts/steps_per_second"]
        if not self.config.progress and (force or now - self.last_line >= CONSOLE_SECONDS):
            tqdm.write(f"relaygen train: {self.status()}", file=sys.stderr)
            self.last_line = now
        self.tally, self.last_log, self.last_log_step = Tally(), now, self.step

    def report(self, message: str) -> None:
        """Tell the user (above the progress bar) and append to the run's log.txt."""
        tqdm.write(f"relaygen train: {message}", file=sys.stderr)
        with open(self.folder / "log.txt", "a", encoding="utf-8") as log:
            log.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} step {self.step}: {message}\n")

    @property
    def done(self) -> bool:
        """The step budget is spent, or the time budget (counted over resumes) is."""
        budget = self.config.max_minutes
        over_time = budget is not None and self.elapsed + time.time() - self.started >= 60.0 * budget
        return over_time or self.step >= self.config.total_steps

    def checkpoint_due(self) -> bool:
        """A checkpoint is due after the session's first update (so a killed run is soon resumable),
        then every ``checkpoint_minutes``."""
        if self.last_checkpoint is None:
            return self.step > self.session_step
        return time.time() - self.last_checkpoint >= 60.0 * self.config.checkpoint_minutes

    def save(self) -> Path:
        """Write the checkpoint and the model file (atomically)."""
        state = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
        elapsed = self.elapsed + time.time() - self.started
        path = save_checkpoint(
            self.folder,
            {
                "model": state,
                "optimizer": self.optimizer.state_dict(),
                "step": self.step,
                "elapsed": elapsed,
                "launches": list(self.launches),
                "worker_updates": list(self.worker_updates),
                "config": self.config.to_dict(),
                "rules_toml": self.rules.to_toml(),
                "rules_sources": self.rules.sources(),
                "origin": self.origin,
                "rng": capture_rng(),
            },
        )
        save_model(self.folder / MODEL_NAME, self.model, self.model_meta())
        self.last_checkpoint = time.time()
        return path

    def model_meta(self) -> dict[str, Any]:
        """What a model file records about where it came from."""
        return {
            "rules": self.rules.name,
            "rules_digest": self.rules.digest,
            "rules_toml": self.rules.to_toml(),
            **({"rules_sources": self.rules.sources()} if self.rules.sources() else {}),
            "representation": self.config.representation,
            "config": self.config.to_dict(),
            "steps": self.step,
            "run": self.folder.name,
            **self.origin,
        }

    def discard(self) -> None:
        """Close the logs and remove the run folder: a run that failed before its first checkpoint
        leaves nothing to resume, so no half-made folder stays."""
        self.bar.close()
        self.writer.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    def finish(self, stopped_by: int) -> None:
        """Write the last checkpoint and logs; say how to resume if the signal ``stopped_by`` (0: none)
        stopped the run. A checkpoint that cannot be written leaves the last good one in place."""
        self.stopped_by = stopped_by
        try:
            self.save()
        finally:
            self.log(force=True)
            self.bar.close()
            self.writer.close()
        if stopped_by:
            self.report(
                f"stopped by signal {stopped_by} at step {self.step}; checkpoint written, "
                f"resume with --resume {self.folder}"
            )


@contextlib.contextmanager
def stop_signals() -> Iterator[Callable[[], int]]:
    """Turn SIGINT and SIGTERM into a flag: the first signal received, or 0 (the training loop
    then checkpoints and exits)."""
    received: list[int] = []
    handler = lambda signum, frame: received.append(signum)  # noqa: E731
    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield lambda: received[0] if received else 0
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _count(n: int) -> str:
    """A step count in three significant digits: 950, 12.3k, 3M."""
    for size, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if n >= size:
            return f"{n / size:.3g}{suffix}"
    return str(n)


def _clock(seconds: float) -> str:
    """Seconds as m:ss (or h:mm:ss)."""
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _resized(values: list[int], size: int) -> list[int]:
    """Per-worker counters from a checkpoint, fitted to ``size`` workers."""
    return (list(values) + [0] * size)[:size]
