"""What every ``relaygen`` command shares: the error exit and common argument types."""

from __future__ import annotations

from typing import Annotated

import typer

RulesArg = Annotated[
    str, typer.Argument(help="A built-in ruleset name (see `relaygen rules list`) or a rules TOML file.")
]


def fail(message: str) -> typer.Exit:
    """Print ``message`` as an error and return the exit (code 2) for the caller to raise."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code=2)
