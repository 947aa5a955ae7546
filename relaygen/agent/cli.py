"""The ``relaygen train`` and ``relaygen eval`` commands (mounted by :mod:`relaygen.cli`).

Bad input (unknown rules, a bad config file, a damaged checkpoint or model file: a
:class:`~relaygen.errors.UserError`) gets one clear message and exit code 2, from :mod:`relaygen.cliutil`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from relaygen.agent.config import ConfigError, TrainConfig

RESUME_OPTIONS = ("total_steps", "max_minutes", "workers", "backend", "ray_address", "progress")
RESUME_HELP = "--steps, --minutes, --workers, --backend, --address and --progress"
OPTIONS = {
    "total_steps": "--steps",
    "max_minutes": "--minutes",
    "envs_per_worker": "--envs",
    "learning_rate": "--lr",
    "ray_address": "--address",
    "workers": "--workers",
    "representation": "--representation",
    "seed": "--seed",
    "t_max": "--t-max",
    "episode_steps": "--episode-steps",
    "difficulty": "--difficulty",
    "sizes": "--sizes",
    "crop_size": "--crop-size",
    "solver_budget": "--solver-budget",
    "search_at_end": "--search-at-end",
    "blind": "--blind",
    "privileged_critic": "--privileged-critic",
    "backend": "--backend",
    "runs_dir": "--runs-dir",
    "init_from": "--init-from",
    "tile_map": "--tile-map",
}
"""Config field → the ``train`` option that sets it, so that an error names what the user typed."""


def _with_option(message: str) -> str:
    """A config error's message with the option that sets the field it starts with, e.g.
    ``--minutes (max_minutes) must be positive``."""
    for name, option in OPTIONS.items():
        if message.startswith((f"{name} ", f"{name}:")):
            return f"{option} ({name}){message[len(name) :]}"
    return message


def train(
    rules: Annotated[
        str | None, typer.Argument(help="Built-in ruleset name or rules TOML file (not needed with --resume).")
    ] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes (or Ray actors).")] = None,
    steps: Annotated[int | None, typer.Option(help="Environment steps to train for, in all.")] = None,
    minutes: Annotated[
        float | None,
        typer.Option(help="Wall-clock budget in minutes, in all (counted over resumes); stops with a checkpoint."),
    ] = None,
    representation: Annotated[str | None, typer.Option(help="narrow, turtle, wide, carve, nca or backtrack.")] = None,
    seed: Annotated[int | None, typer.Option(min=0, help="Seed of the run.")] = None,
    envs: Annotated[int | None, typer.Option(help="Environments per worker.")] = None,
    t_max: Annotated[int | None, typer.Option(help="Steps per environment between updates.")] = None,
    lr: Annotated[float | None, typer.Option(help="Initial learning rate.")] = None,
    episode_steps: Annotated[
        int | None, typer.Option(help="Steps after which an episode is cut short (default: 3x the editable cells).")
    ] = None,
    difficulty: Annotated[
        float | None, typer.Option(help="Fixed difficulty in [0, 1] (default: drawn per episode).")
    ] = None,
    sizes: Annotated[
        str | None,
        typer.Option(
            metavar="WxH,...", help="Train one model on these map sizes, in turn (needs --crop-size or wide/nca)."
        ),
    ] = None,
    crop_size: Annotated[
        int | None, typer.Option(help="Side (odd) of the crop a narrow/turtle policy sees (default: the whole map).")
    ] = None,
    solver_budget: Annotated[
        int | None,
        typer.Option(
            help="States the playtester may expand per level in the reward (default 2,000); raise it for "
            "games whose levels need a longer search."
        ),
    ] = None,
    search_at_end: Annotated[
        bool | None,
        typer.Option(
            "--search-at-end",
            help="Search only the level each episode ends with (one search per episode, not per edit), "
            "for games whose search is costly.",
        ),
    ] = None,
    blind: Annotated[
        bool | None,
        typer.Option(
            "--blind",
            help="Hide the metrics only a search measures from the policy and end episodes only when their "
            "edits run out: the reward still searches every edit, but the model drafts with one search per level.",
        ),
    ] = None,
    privileged_critic: Annotated[
        bool | None,
        typer.Option(
            "--privileged-critic",
            help="With --blind: show the value head (never the policy) the metrics hidden from the policy.",
        ),
    ] = None,
    backend: Annotated[str | None, typer.Option(help="local (processes) or ray (a Ray cluster).")] = None,
    address: Annotated[str | None, typer.Option(help="Ray cluster address (with --backend ray).")] = None,
    runs_dir: Annotated[str | None, typer.Option(help="Folder of run folders.")] = None,
    init_from: Annotated[
        str | None,
        typer.Option(
            help="Start from this model's weights (fine-tuning): tiles mapped by their properties, the same "
            "representation and view (any map size for a crop or fully convolutional model)."
        ),
    ] = None,
    tile_map: Annotated[
        str | None,
        typer.Option(
            metavar="NEW=OLD,...", help="With --init-from: tiles of the rules mapped onto the model's by hand."
        ),
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", help="TOML file of TrainConfig fields (options override it).")
    ] = None,
    resume: Annotated[
        Path | None, typer.Option("--resume", help="Continue the run in this folder from its checkpoint.")
    ] = None,
    progress: Annotated[bool | None, typer.Option("--progress/--no-progress", help="Show the progress bar.")] = None,
) -> None:
    """Train a level generator with A3C; the run folder gets config, TensorBoard logs, checkpoints, model.pt.

    Exit codes: 0 when the budget is spent, 2 for bad input or a file that cannot be written, and
    128 + the signal (130 for Ctrl-C, 143 for SIGTERM) when a signal stopped the run (it is
    checkpointed and can be resumed)."""
    from relaygen.agent.trainer import Stopped
    from relaygen.agent.trainer import train as run_training

    overrides: dict[str, Any] = {
        "rules": rules,
        "workers": workers,
        "total_steps": steps,
        "max_minutes": minutes,
        "representation": representation,
        "seed": seed,
        "envs_per_worker": envs,
        "t_max": t_max,
        "learning_rate": lr,
        "episode_steps": episode_steps,
        "difficulty": difficulty,
        "sizes": sizes,
        "crop_size": crop_size,
        "solver_budget": solver_budget,
        "search_at_end": search_at_end,
        "blind": blind,
        "privileged_critic": privileged_critic,
        "backend": backend,
        "ray_address": address,
        "runs_dir": runs_dir,
        "init_from": init_from,
        "tile_map": tile_map,
        "progress": progress,
    }
    try:
        if resume is not None:
            allowed = {k: overrides.pop(k) for k in RESUME_OPTIONS}
            given = sorted(k for k, v in overrides.items() if v is not None)
            if given or config is not None:
                raise ConfigError(f"--resume continues a run with its own config; only {RESUME_HELP} may change")
            folder = run_training(resume=resume, **allowed)
        else:
            if rules is None and config is None:
                raise ConfigError("give a rules name or file (or --config FILE, or --resume RUN_DIR)")
            base = TrainConfig.from_toml(config) if config is not None else TrainConfig()
            folder = run_training(base.replace(**overrides))
    except ConfigError as exc:
        raise ConfigError(_with_option(str(exc))) from None
    except Stopped as stop:
        typer.echo(f"run folder: {stop.folder}  (stopped early; resume with --resume {stop.folder})")
        raise typer.Exit(code=128 + stop.signum) from None
    typer.echo(f"run folder: {folder}  (model: {folder / 'model.pt'})")


def evaluate(
    model: Annotated[Path, typer.Argument(help="A model file (a run folder's model.pt).")],
    episodes: Annotated[int, typer.Option(min=1, help="Levels to generate with each agent.")] = 200,
    difficulty: Annotated[
        float | None, typer.Option(min=0.0, max=1.0, help="Fixed difficulty (default: drawn per level).")
    ] = None,
    greedy: Annotated[bool, typer.Option(help="Most probable action instead of sampling.")] = False,
    seed: Annotated[int, typer.Option(help="Seed of the environments and the sampling.")] = 0,
    keep_best: Annotated[
        bool, typer.Option(help="Judge the best level of each episode (as `generate` keeps), not the last.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False,
) -> None:
    """Evaluate a generator: playable rate, score, objectives, diversity, time — next to a random agent."""
    from relaygen.agent.evaluate import evaluate as run_evaluation
    from relaygen.agent.evaluate import format_table

    if model.is_dir():
        model = model / "model.pt"
    result = run_evaluation(model, episodes, difficulty, greedy, seed, keep_best=keep_best, progress=True)
    typer.echo(json.dumps(result, indent=1) if as_json else format_table(result))
