"""What every ``relaygen`` command shares: the error exit, common argument types and progress bars.

A :class:`~relaygen.errors.UserError` raised by any command is printed as one ``error:`` line and
ends it with exit code 2, in one place (:class:`UserErrorGroup`); any other exception is a bug and
shows its traceback."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from typing import Annotated, Any

import typer
from tqdm import tqdm
from typer.core import TyperGroup

from relaygen.errors import UserError

RulesArg = Annotated[
    str, typer.Argument(help="A built-in ruleset name (see `relaygen rules list`) or a rules TOML file.")
]


def fail(message: str) -> typer.Exit:
    """Print ``message`` as an error and return the exit (code 2) for the caller to raise."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code=2)


class UserErrorGroup(TyperGroup):
    """The command group that turns a :class:`~relaygen.errors.UserError` from any of its commands
    (and their subcommands) into :func:`fail`'s one line and exit code 2."""

    def invoke(self, ctx: typer.Context) -> Any:
        try:
            return super().invoke(ctx)
        except UserError as exc:
            raise fail(str(exc)) from None


LOG_EVERY = 5.0
"""Seconds between progress lines when standard error is not a terminal (a log file)."""


class LogProgress:
    """Progress for a log: a plain line at most every :data:`LOG_EVERY` seconds and one at the end,
    with the same text as tqdm's bar (no carriage-return frames)."""

    def __init__(
        self,
        iterable: Iterable[Any] | None = None,
        total: int | None = None,
        initial: int = 0,
        desc: str = "",
        unit: str = "it",
        unit_scale: bool = False,
        disable: bool = False,
        bar_format: str | None = None,
        **terminal_only: Any,
    ) -> None:
        self.iterable, self.total, self.n, self.desc, self.unit = iterable, total, initial, desc, unit
        self.unit_scale, self.disable, self.postfix, self.closed = unit_scale, disable, "", False
        self.bar_format = bar_format
        self.start = self.last = time.monotonic()

    def __iter__(self) -> Iterator[Any]:
        for item in self.iterable or ():
            yield item
            self.update()
        self.close()

    def __enter__(self) -> LogProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def update(self, n: int = 1) -> None:
        self.n += n
        if time.monotonic() - self.last >= LOG_EVERY:
            self._line()

    def set_postfix(self, postfix: dict[str, Any], refresh: bool = False) -> None:
        self.postfix = ", ".join(f"{k}={v}" for k, v in postfix.items())

    def set_postfix_str(self, postfix: str, refresh: bool = False) -> None:
        self.postfix = postfix

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._line()

    def _line(self) -> None:
        self.last = time.monotonic()
        if not self.disable:
            line = tqdm.format_meter(
                self.n,
                self.total,
                self.last - self.start,
                ncols=0 if self.bar_format is None else None,  # a bar_format draws its own (fixed) bar
                prefix=self.desc,
                unit=self.unit,
                unit_scale=self.unit_scale,
                postfix=self.postfix or None,
                bar_format=self.bar_format,
            )
            print(line, file=sys.stderr, flush=True)


def progress(*args: Any, **kwargs: Any) -> tqdm | LogProgress:
    """A tqdm bar on a terminal; elsewhere (a log file) a :class:`LogProgress` of plain lines."""
    return tqdm(*args, **kwargs) if sys.stderr.isatty() else LogProgress(*args, **kwargs)
