"""The viewer's commands, ``relaygen play`` and ``relaygen watch``, as typer-ready functions."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from relaygen.cliutil import fail
from relaygen.files import WriteError

if TYPE_CHECKING:
    from relaygen.viewer.play import PlaySession
    from relaygen.viewer.watch import WatchSession

KEYS_HELP = (
    "With --screenshot: keys to press first, as space-separated key names, e.g. "
    "'right right down z' or 'S' (Shift+S plays the solution). Names: up down left right w a s d, "
    "letters, space, backspace, escape, home, end, tab, + -. Running animations finish before the shot."
)
ScaleOpt = Annotated[
    int, typer.Option(min=4, max=256, help="Pixels per tile in the starting window; resize the window to zoom.")
]
ScreenshotOpt = Annotated[
    Path | None, typer.Option(help="Draw one frame off-screen (after --keys), save it as this PNG and exit.")
]
KeysOpt = Annotated[str, typer.Option(help=KEYS_HELP)]


def show(session: PlaySession | WatchSession, scale: int, screenshot: Path | None, keys: str) -> None:
    """Save a screenshot of ``session`` after ``keys`` (and print its path), or run it in a window; then
    close it. A screenshot that cannot be written ends the command with one error line (bad keys, a
    user error, with the CLI's)."""
    from relaygen.viewer import run
    from relaygen.viewer import screenshot as take_screenshot

    try:
        if screenshot is not None:
            typer.echo(take_screenshot(session, scale, screenshot, keys))
        else:
            run(session, scale)
    except WriteError as exc:
        raise fail(str(exc)) from None
    finally:
        session.close()


def play(
    path: Annotated[Path, typer.Argument(help="A level file (.json, .txt, .xsb) or a folder of level files.")],
    rules: Annotated[
        str | None, typer.Option(help="Rules for files that do not name theirs (XSB defaults to sokoban).")
    ] = None,
    scale: ScaleOpt = 40,
    screenshot: ScreenshotOpt = None,
    keys: KeysOpt = "",
) -> None:
    """Play levels with the keyboard, watch the solver's solution, keep or reject each (H shows the keys)."""
    from relaygen.rules import load_rules
    from relaygen.viewer.play import PlaySession

    session = PlaySession.from_path(path, load_rules(rules) if rules else None)
    show(session, scale, screenshot, keys)


def watch(
    rules: Annotated[str, typer.Argument(help="A built-in ruleset name or a rules TOML file.")],
    model: Annotated[
        str | None,
        typer.Option(
            help="A trained model file, or 'random' for a random policy "
            "(default: a built-in's shipped model, else a random policy)."
        ),
    ] = None,
    representation: Annotated[
        str | None, typer.Option(help="How the policy edits (default: the model's, else the rules' first).")
    ] = None,
    difficulty: Annotated[float, typer.Option(min=0.0, max=1.0, help="Difficulty to generate at.")] = 0.5,
    seed: Annotated[int, typer.Option(help="Seed of the first episode (the next ones count up).")] = 0,
    scale: ScaleOpt = 40,
    screenshot: ScreenshotOpt = None,
    keys: Annotated[str, typer.Option(help=KEYS_HELP + " Without keys the shot shows the finished level.")] = "",
) -> None:
    """Watch a generator build levels tile by tile; P plays the finished level, G generates the next."""
    from relaygen.viewer.watch import open_watch

    session = open_watch(rules, model, representation, difficulty, seed)
    show(session, scale, screenshot, keys or "f")
