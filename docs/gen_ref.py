"""The reference pages written from the code at build time, so that they cannot drift from it.

Each ``*_reference()`` function returns one page's Markdown: the rules-file schema from the pydantic
models' field descriptions, the command line from the typer app, the training configuration from
``TrainConfig``'s field docstrings. ``mkdocs.yml`` names this file as a hook: :func:`on_files` adds
the pages to the site (they are never written into ``docs/``); ``python docs/gen_ref.py`` prints them.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from collections.abc import Callable, Iterator
from typing import Any

REFERENCE_PAGES: dict[str, str] = {
    "reference/rules.md": "rules_reference",
    "reference/cli.md": "cli_reference",
    "reference/config.md": "config_reference",
}
"""Each generated page and the function (of this module) that writes it."""

GENERATED_NOTE = (
    "<!-- Written by docs/gen_ref.py from {source} when the site is built; edit the code, not this page. -->"
)


def _markdown(text: object) -> str:
    """A docstring's text as Markdown on one line: reST's ``code`` and :role:`~a.b` become `code` and `b`."""
    text = re.sub(r":[a-z]+:`~?([^`]+)`", lambda m: f"`{m.group(1)}`", " ".join(str(text).split()))
    return text.replace("``", "`")


def _cell(text: object) -> str:
    """Text fit for one cell of a Markdown table: one line, pipes escaped."""
    return _markdown(text).replace("|", "\\|")


def _type_name(annotation: Any) -> str:
    """A field's annotation as a reader writes it: ``int``, ``list[str]``, ``float | None``."""
    if isinstance(annotation, type) and not typing.get_args(annotation):
        return annotation.__name__
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Literal:
        return " | ".join(f'"{a}"' for a in args)
    if origin in (typing.Union, types.UnionType):
        return " | ".join(_type_name(a) for a in args).replace("NoneType", "None")
    if origin is not None:
        return f"{getattr(origin, '__name__', str(origin))}[{', '.join(_type_name(a) for a in args)}]"
    return str(annotation).replace("typing.", "")


def _value(value: Any) -> str:
    """A default as TOML would spell it, in code."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, str):
        return f'`"{value}"`'
    if isinstance(value, list | tuple):
        return "`[" + ", ".join(_value(v).strip("`") for v in value) + "]`"
    return f"`{value}`"


# ----- rules files ---------------------------------------------------------------------------------


def _bounds(field: Any) -> str:
    """The limits a pydantic field puts on its value (``>= 3``, ``at most 255 items``, a pattern)."""
    words = {"ge": ">= {}", "gt": "> {}", "le": "<= {}", "lt": "< {}", "min_length": "length >= {}"}
    words |= {"max_length": "length <= {}", "pattern": "matches `{}`"}
    found = []
    for item in field.metadata:
        for attr, form in words.items():
            value = getattr(item, attr, None)
            if value is not None:
                found.append(form.format(value))
    return "; ".join(found)


def _model_table(model: Any) -> list[str]:
    lines = ["| field | type | default | limits | meaning |", "|---|---|---|---|---|"]
    for name, field in model.model_fields.items():
        default = "**required**" if field.is_required() else _value(field.get_default(call_default_factory=True))
        row = [f"`{name}`", _type_name(field.annotation), default, _bounds(field), field.description or ""]
        lines.append("| " + " | ".join(_cell(c) for c in row) + " |")
    return lines


def rules_reference() -> str:
    """The rules-file reference: every table of the schema, then the mechanics and their metrics."""
    from relaygen.mechanics import MECHANICS
    from relaygen.rules import Constraint, Difficulty, Objective, Rules, Tile

    sections = [
        ("Top level", Rules, "The keys at the top of the file."),
        ("`[[tiles]]`", Tile, "One table per tile."),
        ("`[[constraints]]`", Constraint, "One table per constraint."),
        ("`[[objectives]]`", Objective, "One table per objective."),
        ("`[difficulty]`", Difficulty, "One table, or none."),
    ]
    lines = [
        GENERATED_NOTE.format(source="relaygen/rules.py"),
        "# Rules-file reference",
        "",
        "Every field a rules file may hold, with its type, its default and what it means, as the schema in",
        "`relaygen/rules.py` declares them; a key the schema does not know is refused. See",
        "[Rules files](../your-game/rules-files.md) for how they fit together.",
    ]
    for title, model, intro in sections:
        lines += ["", f"## {title}", "", _markdown(model.__doc__ or "") + " " + intro, "", *_model_table(model)]
    lines += [
        "",
        "## Mechanics",
        "",
        "The values of `mechanic`, the metrics their playtester measures (which objectives may name), and the",
        "representations only that mechanic's levels can be built with.",
        "",
        "| mechanic | what it plays | metrics | its own representations | its own fields |",
        "|---|---|---|---|---|",
    ]
    for mechanic in MECHANICS.values():
        doc = (type(mechanic).__doc__ or "").strip().split("\n\n")[0]
        row = [
            f"`{mechanic.name}`",
            doc,
            ", ".join(f"`{m}`" for m in mechanic.metrics),
            ", ".join(f"`{r}`" for r in mechanic.own_representations),
            ", ".join(f"`{s}`" for s in mechanic.settings),
        ]
        lines.append("| " + " | ".join(_cell(c) for c in row) + " |")
    return "\n".join(lines) + "\n"


# ----- command line --------------------------------------------------------------------------------


def _commands(command: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every command of the app, depth first, with the words that call it."""
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _commands(sub, (*path, name))


def _option_row(param: Any, ctx: Any) -> list[str]:
    if param.param_type_name == "argument":
        name = f"`{param.name.upper()}`" + (" ..." if param.nargs == -1 else "")
        default = "**required**" if param.required else _value(param.default)
    else:
        name = ", ".join(f"`{opt}`" for opt in (*param.opts, *param.secondary_opts))
        flag = getattr(param, "is_flag", False)
        default = "**required**" if param.required else ("off" if flag and not param.default else _value(param.default))
    kind = param.metavar or param.display_type(ctx).strip("<>").removesuffix(" range")
    limits = [
        f"{word} {value}" for word, value in ((">=", getattr(param, "min", None)), ("<=", getattr(param, "max", None)))
    ]
    kind = ", ".join([kind, *(limit for limit in limits if not limit.endswith(" None"))])
    return [name, kind, default, param.help or ""]


def cli_reference() -> str:
    """The command-line reference: every command of ``relaygen`` with each argument and option."""
    import typer
    import typer.main

    from relaygen.cli import app

    root = typer.main.get_command(app)
    lines = [
        GENERATED_NOTE.format(source="the typer app in relaygen/cli.py"),
        "# Command-line reference",
        "",
        "Every command of `relaygen`, its arguments and options, as `relaygen COMMAND --help` prints them.",
    ]
    for path, command in _commands(root, ("relaygen",)):
        lines += ["", f"{'#' * min(len(path) + 1, 4)} `{' '.join(path)}`", "", (command.help or "").strip()]
        if hasattr(command, "commands"):
            lines += ["", "Commands: " + ", ".join(f"`{' '.join((*path, n))}`" for n in command.commands) + "."]
            continue
        ctx = typer.Context(command, info_name=path[-1])
        params = [p for p in command.params if not getattr(p, "hidden", False)]
        lines += ["", "| argument or option | value | default | meaning |", "|---|---|---|---|"]
        lines += ["| " + " | ".join(_cell(c) for c in _option_row(p, ctx)) + " |" for p in params]
    return "\n".join(lines) + "\n"


# ----- training configuration ----------------------------------------------------------------------


def config_reference() -> str:
    """The training-configuration reference: every field of ``TrainConfig``, its type, default and docstring."""
    from relaygen.agent import config

    docs = config.field_docs()
    hints = typing.get_type_hints(config.TrainConfig)
    lines = [
        GENERATED_NOTE.format(source="relaygen/agent/config.py"),
        "# Training-configuration reference",
        "",
        _markdown(config.TrainConfig.__doc__ or ""),
        "A `--config FILE.toml` of `relaygen train` sets any of these fields; the run writes the whole",
        "configuration it used to its folder's `config.toml`. See [Training](../training.md).",
        "",
        "| field | type | default | meaning |",
        "|---|---|---|---|",
    ]
    for field in dataclasses.fields(config.TrainConfig):
        row = [f"`{field.name}`", _type_name(hints[field.name]), _value(field.default), docs.get(field.name, "")]
        lines.append("| " + " | ".join(_cell(c) for c in row) + " |")
    return "\n".join(lines) + "\n"


# ----- the MkDocs hook -----------------------------------------------------------------------------


def page_writers() -> dict[str, Callable[[], str]]:
    """Each generated page's path under ``docs/`` and the function that writes it."""
    return {path: globals()[name] for path, name in REFERENCE_PAGES.items()}


def on_files(files: Any, config: Any) -> Any:
    """MkDocs hook: add the generated reference pages to the site's files."""
    from mkdocs.structure.files import File

    for path, write in page_writers().items():
        files.append(File.generated(config, path, content=write()))
    return files


SPHINX_ROLE = re.compile(r":(?:class|func|meth|attr|data|mod|exc|obj):<code>~?([^<]*)</code>")
"""A Sphinx cross-reference role in a docstring, as mkdocstrings leaves it in the page's HTML."""


def on_page_content(html: str, page: Any, config: Any, files: Any) -> str:
    """MkDocs hook: show the docstrings' Sphinx roles (``:class:`Rules```) as code, not as text."""
    return SPHINX_ROLE.sub(lambda m: f"<code>{m.group(1)}</code>", html)


if __name__ == "__main__":
    for write in page_writers().values():
        print(write())
