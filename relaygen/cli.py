"""The ``relaygen`` command line: rules, playtest (and the commands the other modules add)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from relaygen.agent import cli as agent_cli
from relaygen.cliutil import RulesArg, fail
from relaygen.drafters import CANDIDATES, SLOTS
from relaygen.level import LevelError
from relaygen.rules import RulesError, builtin_names, load_rules
from relaygen.viewer import cli as viewer_cli

app = typer.Typer(
    help="relaygen: learn to generate tile-puzzle levels from a rules file, and playtest them.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
rules_app = typer.Typer(help="List, show and check rules files.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")
app.command()(agent_cli.train)
app.command("eval")(agent_cli.evaluate)
app.command()(viewer_cli.play)
app.command()(viewer_cli.watch)


@rules_app.command("list")
def rules_list() -> None:
    """List the built-in rulesets."""
    for name in builtin_names():
        rules = load_rules(name)
        typer.echo(f"{name:<10} {rules.mechanic:<6} {rules.width}x{rules.height}  {rules.description}")


@rules_app.command("show")
def rules_show(
    rules: RulesArg,
    toml: Annotated[
        bool, typer.Option("--toml", help="Print the rules as TOML (a starting point for your own).")
    ] = False,
) -> None:
    """Show a ruleset: tiles, constraints, objectives and the difficulty knob."""
    from relaygen.playtest import describe

    try:
        loaded = load_rules(rules)
    except RulesError as exc:
        raise fail(str(exc)) from None
    typer.echo(loaded.to_toml() if toml else describe(loaded))


@rules_app.command("check")
def rules_check(files: Annotated[list[Path], typer.Argument(help="Rules TOML files to validate.")]) -> None:
    """Validate rules files; print one clear message per bad file and exit 2 if any is bad."""
    bad = 0
    for path in files:
        try:
            rules = load_rules(path)
        except RulesError as exc:
            typer.echo(f"error: {exc}", err=True)
            bad += 1
            continue
        typer.echo(f"{path}: ok ({rules.name}, mechanic {rules.mechanic}, {rules.width}x{rules.height})")
    if bad:
        raise typer.Exit(code=2)


@app.command()
def playtest(
    paths: Annotated[list[Path], typer.Argument(help="Level files (.json, .txt, .xsb) or folders of them.")],
    rules: Annotated[
        str | None, typer.Option(help="Rules for files that do not name theirs (XSB defaults to sokoban).")
    ] = None,
    difficulty: Annotated[float, typer.Option(min=0.0, max=1.0, help="Difficulty the score is measured at.")] = 0.5,
    time_limit: Annotated[float, typer.Option(help="Seconds the solver may search per level.")] = 10.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list of reports.")] = False,
) -> None:
    """Playtest levels: playable or not, the solution, its length, the metrics and the score."""
    from relaygen.formats import read_levels
    from relaygen.mechanics import Budget
    from relaygen.playtest import playtest as run_playtest

    try:
        given = load_rules(rules) if rules else None
        batches = [(path, read_levels(path, given)) for path in paths]
    except (RulesError, LevelError) as exc:
        raise fail(str(exc)) from None
    budget = Budget(time_limit=time_limit)
    results = []
    for path, levels in batches:
        for index, level in enumerate(levels):
            report = run_playtest(level, difficulty, budget)
            entry = {"file": str(path), "index": index, "name": level.name, "rules": level.rules.name}
            results.append(entry | report.to_dict())
            if not as_json:
                metrics = ", ".join(f"{k} {v:g}" for k, v in report.metrics.items())
                why = f" ({report.reason})" if report.reason else ""
                typer.echo(
                    f"{path} #{index} {level.name}: playable {report.verdict}{why}, length {report.length}, "
                    f"score {report.score:.3f} [{metrics}]"
                )
                if report.solution:
                    typer.echo(f"  solution: {report.solution}")
    if as_json:
        typer.echo(json.dumps(results, indent=1))


def main() -> None:
    """Entry point for ``python -m relaygen``."""
    app()


@app.command()
def generate(
    rules: RulesArg,
    n: Annotated[int, typer.Option("-n", min=1, help="How many distinct playable levels to write.")] = 10,
    difficulty: Annotated[float | None, typer.Option(help="Difficulty of every level, 0 (easy) to 1 (hard).")] = None,
    difficulty_range: Annotated[
        tuple[float, float] | None, typer.Option(help="Spread the levels evenly over difficulties A..B.")
    ] = None,
    model: Annotated[
        str | None, typer.Option(help="A model file from `relaygen train`, or 'search' for the no-training baseline.")
    ] = None,
    seed: Annotated[
        int, typer.Option(min=0, help="Seed: the same rules, model, seed and -n give identical files.")
    ] = 0,
    out: Annotated[
        Path, typer.Option(help="Run folder the levels are written to (with index.json and run.json).")
    ] = Path("generated"),
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace the levels of another run in --out instead of refusing.")
    ] = False,
    fmt: Annotated[str, typer.Option("--format", help="json, txt, xsb (push games), png or tiled (.tmj).")] = "json",
    pin: Annotated[
        Path | None, typer.Option(help="A partial level (text map with '?' free cells, or JSON with pins) to complete.")
    ] = None,
    size: Annotated[
        str | None, typer.Option(metavar="WxH", help="Level size, e.g. 20x15 (default: the rules' size).")
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1, help="Processes drafting levels in parallel (the files are the same; default: by -n and cores)."
        ),
    ] = None,
    polish: Annotated[
        int,
        typer.Option(min=0, help="Hill-climbing proposals that move a playable draft towards its targets (0: off)."),
    ] = 0,
    candidates: Annotated[
        int,
        typer.Option(min=1, help="Episodes a model drafts per attempt; the one nearest its target is kept."),
    ] = CANDIDATES,
    slots: Annotated[
        int | None,
        typer.Option(
            min=1, help=f"Episodes a model drafts together in each process (default {SLOTS}; the files are the same)."
        ),
    ] = None,
) -> None:
    """Generate playable levels: each one playtested, repaired or redrawn if needed, duplicates dropped."""
    from tqdm import tqdm

    from relaygen.files import WriteError
    from relaygen.formats import read_levels
    from relaygen.generate import GenerateError, Summary, default_workers, parse_size
    from relaygen.runfolder import write_run

    summary = Summary()
    try:
        shape = parse_size(size) if size else None
        loaded = load_rules(rules)
        partial = read_levels(pin, loaded)[0] if pin else None
        paths = write_run(
            out,
            fmt,
            loaded,
            n,
            overwrite=overwrite,
            difficulty=difficulty,
            difficulty_range=difficulty_range,
            model=model,
            seed=seed,
            pin=partial,
            size=shape,
            workers=workers or default_workers(n, model),
            polish=polish,
            candidates=candidates,
            slots=slots,
            summary=summary,
        )
        for _ in tqdm(paths, total=n, desc=f"generate {loaded.name}", unit="level"):
            pass
    except (RulesError, LevelError, GenerateError, WriteError) as exc:
        raise fail(str(exc)) from None
    typer.echo(summary.table())
    typer.echo(f"written to {out}/")
