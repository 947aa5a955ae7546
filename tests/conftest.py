"""Shared test fixtures: headless SDL, Hypothesis profiles, the test data folder, a tiny rules file of
one's own, and an untrained model file. Test modules share helpers through these fixtures, never by
importing one another.

Hypothesis runs derandomized by default (the same examples on every run, so CI's verdict does not
depend on luck); ``HYPOTHESIS_PROFILE=explore`` draws fresh examples and more of them."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
from hypothesis import settings

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

settings.register_profile("derandomized", derandomize=True)
settings.register_profile("explore", max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "derandomized"))

DATA = Path(__file__).parent / "data"


@pytest.fixture
def data_dir() -> Path:
    """The folder of test data shipped with the tests."""
    return DATA


PATH_OBJECTIVE = """
[[objectives]]
metric = "path_length"
target = [3, 10]
"""


def tiny_rules_text(
    width: int = 6,
    height: int = 5,
    *,
    border: str | None = "wall",
    representations: list[str] | None = None,
    weights: Mapping[str, float] | None = None,
    tail: str = PATH_OBJECTIVE,
) -> str:
    """A small walk game as a rules file's text: tiles floor ``.``, wall ``#``, start ``S`` and exit ``E``,
    exactly one start, then ``tail`` (more constraints, the objectives, a difficulty section).
    ``weights`` gives tiles their ``weight`` (none has one otherwise)."""
    weights = weights or {}
    head = f'name = "tiny"\nmechanic = "walk"\nwidth = {width}\nheight = {height}\n'
    if representations is not None:
        head += f"representations = {representations!r}\n".replace("'", '"')
    if border is not None:
        head += f'border = "{border}"\n'
    tiles = [
        ("floor", ".", "#ffffff", ""),
        ("wall", "#", "#000000", "solid = true\n"),
        ("start", "S", "#00ff00", "player = true\n"),
        ("exit", "E", "#ff0000", "exit = true\n"),
    ]
    for name, char, color, extra in tiles:
        weight = f"weight = {weights[name]}\n" if name in weights else ""
        head += f'\n[[tiles]]\nname = "{name}"\nchar = "{char}"\ncolor = "{color}"\n{extra}{weight}'
    return head + '\n[[constraints]]\ntiles = ["start"]\nmin = 1\nmax = 1\n' + tail


@pytest.fixture(scope="session")
def tiny_rules_toml() -> Callable[..., str]:
    """The factory :func:`tiny_rules_text`: a tiny walk game's rules file, as text, sized and weighted
    as a test needs."""
    return tiny_rules_text


def save_untrained(path: Path, rules: str, representation: str, spatial: bool = True) -> Path:
    """An untrained model file for ``rules``; ``spatial=False`` reads the whole map through dense layers."""
    import torch

    from relaygen.agent.model import ActorCritic, build_model, save_model
    from relaygen.env.vector import BatchedLevelEnv
    from relaygen.rules import load_rules

    loaded = load_rules(rules)
    env = BatchedLevelEnv(loaded, representation)
    with torch.random.fork_rng():
        torch.manual_seed(0)  # the same weights in every run, so that what a test sees does not vary
        model = build_model(env, 8, 16)
        if not spatial:
            space = env.single_observation_space
            model = ActorCritic(
                space["map"].shape, space["cond"].shape[0], int(env.single_action_space.n), False, 8, 16
            )
    meta = {
        "rules": loaded.name,
        "rules_digest": loaded.digest,
        "rules_toml": loaded.to_toml(),
        "representation": representation,
    }
    return save_model(path, model, meta)


@pytest.fixture
def untrained_model() -> Callable[..., Path]:
    """The factory :func:`save_untrained`: ``untrained_model(path, rules, representation, spatial=True)``
    writes an untrained model file and returns its path."""
    return save_untrained


def run_relaygen(*args: object, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``python -m relaygen ARGS...`` in a subprocess, its output captured as text."""
    command = [sys.executable, "-m", "relaygen", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=cwd)


def assert_one_error_line(run: subprocess.CompletedProcess[str], *words: str) -> str:
    """The command failed with exit 2 and one ``error:`` line holding every word, and no traceback;
    returns that line."""
    assert run.returncode == 2, run.stderr
    assert "Traceback" not in run.stderr, run.stderr
    lines = [line for line in run.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, run.stderr
    for word in words:
        assert word in lines[0], run.stderr
    return lines[0]


@pytest.fixture(scope="session")
def relaygen_cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    """:func:`run_relaygen`: ``relaygen_cli("generate", "maze", ..., cwd=None, timeout=120)``."""
    return run_relaygen


@pytest.fixture(scope="session")
def one_error_line() -> Callable[..., str]:
    """:func:`assert_one_error_line`: ``one_error_line(run, *words)`` checks a refusal's one line."""
    return assert_one_error_line
