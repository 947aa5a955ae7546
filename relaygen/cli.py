"""The ``relaygen`` command line: rules, playtest (and the commands the other modules add)."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from relaygen.agent import cli as agent_cli
from relaygen.cliutil import RulesArg, UserErrorGroup, fail, progress
from relaygen.drafters import CANDIDATES, SLOTS
from relaygen.export import TILE_SIZE
from relaygen.level import LevelError
from relaygen.rules import Rules, RulesError, builtin_names, load_rules, size_from_text
from relaygen.viewer import cli as viewer_cli

app = typer.Typer(
    help="relaygen: learn to generate tile-puzzle levels from a rules file, and playtest them.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    cls=UserErrorGroup,
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
    from relaygen.agent.config import TrainConfig
    from relaygen.agent.run import starting_points
    from relaygen.agent.tilemap import TileMap
    from relaygen.playtest import describe

    loaded = load_rules(rules)
    if toml:
        typer.echo(loaded.to_toml())
        return
    typer.echo(describe(loaded))
    typer.echo("  shipped models to start training from (relaygen train RULES --init-from MODEL):")
    points = starting_points(TrainConfig(rules=rules))
    for path, fit in points:
        typer.echo(f"    {path}: {fit.summary()}" if isinstance(fit, TileMap) else f"    {fit}")
    if not points:
        typer.echo(f"    none plays mechanic {loaded.mechanic!r}")


@rules_app.command("import")
def rules_import(
    game: Annotated[Path, typer.Argument(help="A PuzzleScript game (.txt).")],
    out: Annotated[
        Path | None, typer.Option("--out", help="The rules file to write (default: the game's name with .toml).")
    ] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing --out file.")] = False,
    size: Annotated[
        str | None,
        typer.Option(
            metavar="WxH",
            help="Level size to generate, e.g. 7x6 (default: the median of the game's levels, within 64 cells); "
            "tiles, counts and the knob are read from the game's levels all the same.",
        ),
    ] = None,
) -> None:
    """Write the rules a PuzzleScript game implies, for you to edit: a tile per glyph its levels use,
    the median level size (within 64 cells), the border, count ranges of its pieces, and a difficulty
    knob on solution length from its own levels (each solved with a 10 s budget)."""
    from relaygen.files import atomic_write
    from relaygen.mechanics.script import imported_rules

    out = out or game.with_suffix(".toml")
    if out.exists() and not overwrite:
        raise fail(f"--out {out}: already exists; use --overwrite to replace it, or another --out")
    rules = imported_rules(game, out.parent, size_from_text(size) if size else None)
    atomic_write(
        out, f"# Rules of the PuzzleScript game {game.name}, written by relaygen rules import.\n{rules.to_toml()}"
    )
    typer.echo(f"wrote {out} ({len(rules.tiles)} tiles, {len(rules.constraints)} count ranges)")


def _unreadable_sprites(rules: Rules) -> list[str]:
    """One line per tile whose sprite file is there but is not an image pygame can open."""
    from relaygen.render import require_pygame, sprite

    pg = require_pygame()
    problems = []
    for i, tile in enumerate(rules.tiles):
        try:
            if tile.sprite is not None:
                sprite(tile.sprite, rules.folder)
        except (pg.error, OSError) as exc:
            problems.append(f"tiles[{i}] ({tile.name}): sprite {tile.sprite!r}: not an image: {exc}")
    return problems


@rules_app.command("check")
def rules_check(files: Annotated[list[Path], typer.Argument(help="Rules TOML files to validate.")]) -> None:
    """Validate rules files; print one clear message per bad file and exit 2 if any is bad (a sprite
    file that is not an image is an error; sprites that cannot be found are warnings)."""
    from relaygen.render import sprite_problems

    bad = 0
    for path in files:
        try:
            rules = load_rules(path)
        except RulesError as exc:
            typer.echo(f"error: {exc}", err=True)
            bad += 1
            continue
        broken = _unreadable_sprites(rules)
        for problem in broken:
            typer.echo(f"error: {path}: {problem}", err=True)
        if broken:
            bad += 1
            continue
        typer.echo(f"{path}: ok ({rules.name}, mechanic {rules.mechanic}, {rules.width}x{rules.height})")
        for problem in sprite_problems(rules):
            typer.echo(f"warning: {path}: {problem}", err=True)
    if bad:
        raise typer.Exit(code=2)


PLAYTEST_FAILED = 1
"""``playtest``'s exit code when a level is not both solvable and within its rules (2 is bad input)."""


@app.command()
def playtest(
    paths: Annotated[list[Path], typer.Argument(help="Level files (.json, .txt, .xsb, .sok) or folders of them.")],
    rules: Annotated[
        str | None, typer.Option(help="Rules for files that do not name theirs (XSB defaults to sokoban).")
    ] = None,
    difficulty: Annotated[float, typer.Option(min=0.0, max=1.0, help="Difficulty the score is measured at.")] = 0.5,
    time_limit: Annotated[float, typer.Option(help="Seconds the solver may search per level (above 0).")] = 10.0,
    max_nodes: Annotated[
        int | None, typer.Option(help="States the solver may expand per level (1 or more): the same answer anywhere.")
    ] = None,
    optimal: Annotated[
        bool, typer.Option("--optimal", help="Push games: search on for a move-optimal solution (fewest moves).")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list of reports.")] = False,
) -> None:
    """Playtest levels. Two answers for each: solvable (yes / no / unknown when the search budget runs
    out) with its solution, and whether it meets its rules (the constraints it breaks); then the score.

    Exit code: 0 when every level is solvable and meets its rules, 1 when one is not (or is unknown),
    2 for bad input (each bad file gets its own error line; the others are still playtested)."""
    from relaygen.formats import json_ready, level_files, read_levels
    from relaygen.mechanics import Budget
    from relaygen.playtest import explain
    from relaygen.playtest import playtest as run_playtest

    if not 0 < time_limit < math.inf:
        raise fail(f"--time-limit: must be a positive number of seconds, not {time_limit}")
    if max_nodes is not None and max_nodes < 1:
        raise fail(f"--max-nodes: must be 1 or more, not {max_nodes}")
    try:
        given = load_rules(rules) if rules else None
    except RulesError as exc:
        raise fail(str(exc)) from None
    budget = Budget(max_nodes=max_nodes, time_limit=time_limit, optimal=optimal)
    results, bad, failed = [], 0, 0
    for path in paths:
        try:
            files = level_files(path)
        except LevelError as exc:
            files, bad = [], bad + 1
            typer.echo(f"error: {exc}", err=True)
        for file in files:
            try:
                levels = read_levels(file, given)
            except LevelError as exc:
                bad += 1
                typer.echo(f"error: {exc}", err=True)
                continue
            for index, level in enumerate(levels, start=1):
                report = run_playtest(level, difficulty, budget)
                failed += not report.playable
                entry = {"file": str(file), "index": index, "name": level.name, "rules": level.rules.name}
                results.append(entry | report.to_dict())
                if not as_json:
                    lines = explain(report, level.rules.name, optimal)
                    typer.echo("\n  ".join([f"{file} #{index} {level.name}", *lines]))
    if as_json:
        typer.echo(json.dumps(json_ready(results), indent=1, allow_nan=False))
    raise typer.Exit(code=2 if bad else PLAYTEST_FAILED if failed else 0)


@app.command()
def collect(
    paths: Annotated[list[Path], typer.Argument(help="Level files or folders to gather, in this order.")],
    out: Annotated[
        Path, typer.Option(help="The collection file: .xsb or .sok (push games) or .txt (any rules), one file.")
    ],
    rules: Annotated[
        str | None, typer.Option(help="Rules for files that do not name theirs (XSB defaults to sokoban).")
    ] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing --out file.")] = False,
) -> None:
    """Gather levels of one ruleset into one collection file, the way Sokoban sets travel (written
    atomically; an existing file is replaced only with --overwrite, and never one of the inputs)."""
    from relaygen.formats import level_files, read_levels, write_levels

    given = load_rules(rules) if rules else None
    files = [file for path in paths for file in level_files(path)]
    for file in files:
        if file.exists() and out.exists() and file.samefile(out):
            raise fail(f"--out {out}: is one of the files collected; write the collection elsewhere")
    if out.exists() and not overwrite:
        raise fail(f"--out {out}: already exists; use --overwrite to replace it, or another --out")
    levels = [level for file in files for level in read_levels(file, given)]
    try:
        write_levels(levels, out)
    except OSError as exc:
        raise fail(f"{out}: cannot write the collection: {exc.strerror or exc}") from None
    typer.echo(f"{len(levels)} levels written to {out}")


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
        str, typer.Option(metavar="FOLDER", help="Run folder the levels are written to (with index.json and run.json).")
    ] = "generated",
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace the levels of another run in --out instead of refusing.")
    ] = False,
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            help="json, txt, xsb (push games), png, tiled (.tmj), puzzlescript (PuzzleScript games: "
            "json files and one game.txt with its levels replaced by these); datasets in shards: jsonl "
            "(10,000 levels a file, every game) or boxoban (Boxoban's text files of 1,000, push games).",
        ),
    ] = "json",
    scale: Annotated[
        int, typer.Option(min=1, max=256, help="Pixels per tile of png pictures and tiled tilesets.")
    ] = TILE_SIZE,
    pin: Annotated[
        Path | None, typer.Option(help="A partial level (text map with '?' free cells, or JSON with pins) to complete.")
    ] = None,
    size: Annotated[
        str | None, typer.Option(metavar="WxH", help="Level size, e.g. 20x15 (default: the rules' size).")
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Processes drafting levels in parallel, or Ray actors with --backend ray (the files are the "
            "same; default: by -n and cores, or one actor per CPU of the cluster).",
        ),
    ] = None,
    backend: Annotated[
        str, typer.Option(help="local (processes on this machine) or ray (actors on a Ray cluster).")
    ] = "local",
    address: Annotated[
        str | None,
        typer.Option(help="With --backend ray: the cluster's HOST:PORT (default: a local Ray instance)."),
    ] = None,
    polish: Annotated[
        int,
        typer.Option(min=0, help="Hill-climbing proposals that move a playable draft towards its targets (0: off)."),
    ] = 0,
    deepen: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="Push games: the states a reverse search may see to move a too easy draft's boxes and player "
            "to the start of its room farther from solved (0: off; default: the model's recommendation, "
            "off for all but the boxoban model).",
        ),
    ] = None,
    candidates: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Episodes a model drafts per attempt; the one nearest its target is kept "
            f"(default: the model's recommendation, else {CANDIDATES}).",
        ),
    ] = None,
    slots: Annotated[
        int | None,
        typer.Option(
            min=1, help=f"Episodes a model drafts together in each process (default {SLOTS}; the files are the same)."
        ),
    ] = None,
    tile_map: Annotated[
        str | None,
        typer.Option(
            metavar="NEW=OLD,...",
            help="For a model of a game that matches the rules up to tile names: tiles mapped onto its tiles by hand.",
        ),
    ] = None,
) -> None:
    """Generate playable levels: each one playtested, repaired or redrawn if needed, duplicates dropped."""
    from relaygen.export import check_format
    from relaygen.formats import read_levels, require_format, write_levels
    from relaygen.generate import Summary, check_model, default_workers, parse_size, plan_workers
    from relaygen.runfolder import write_run

    if not out.strip():
        raise fail("--out: give a folder for the run (an empty name would write into the current folder)")
    summary = Summary()
    shape = parse_size(size) if size else None
    loaded = load_rules(rules)
    collection = fmt == "puzzlescript"
    if collection:
        require_format(loaded, fmt)
    fmt = "json" if collection else fmt
    check_format(fmt, loaded)
    if fmt in ("png", "tiled"):
        bad = _unreadable_sprites(loaded)
        if bad:
            raise fail(f"--format {fmt}: {bad[0]}")
    partial = None
    if pin is not None:
        pinned = read_levels(pin, loaded)
        if len(pinned) != 1:
            raise fail(f"--pin {pin}: holds {len(pinned)} levels; give a file of the one level to complete")
        partial = pinned[0]
    sized = loaded.resized(*shape) if shape else loaded
    check_model(sized, model, rules, tile_map, partial is not None)  # before any progress line
    if backend == "ray":
        count = workers  # actors: by default one per CPU of the cluster
    elif workers:
        count = plan_workers(workers, n, model)
    else:
        count = default_workers(n, model)
    bar = progress(total=n, desc=f"generate {loaded.name}", unit="level")
    summary.watch = _show_drafting(bar)
    paths = write_run(
        Path(out),
        fmt,
        rules,
        n,
        overwrite=overwrite,
        difficulty=difficulty,
        difficulty_range=difficulty_range,
        model=model,
        seed=seed,
        pin=partial,
        size=shape,
        workers=count,
        backend=backend,
        address=address,
        polish=polish,
        deepen=deepen,
        candidates=candidates,
        slots=slots,
        tile_map=tile_map,
        tile_size=scale,
        summary=summary,
    )
    with bar:
        written = [bar.update(1) or path for path in paths]
    if collection:
        levels = [level for path in sorted(written) for level in read_levels(path)]
        game = write_levels(levels, Path(out) / "game.txt")
        typer.echo(f"the game with these levels: {game}")
    typer.echo(summary.table())
    typer.echo(f"written to {out}/")


def _show_drafting(bar: Any) -> Callable[[Any], None]:
    """A :class:`~relaygen.generate.Summary` watcher that shows on ``bar`` how drafting goes (drafts
    made, episode steps run) at most every half second: a level of a large map takes minutes."""
    shown = [0.0]

    def watch(summary: Any) -> None:
        now = time.monotonic()
        if now - shown[0] >= 0.5:
            shown[0] = now
            bar.set_postfix_str(f"drafting: {summary.drafts} drafts, {summary.steps} episode steps", refresh=False)
            bar.update(0)

    return watch


@app.command()
def report(
    folder: Annotated[Path, typer.Argument(help="A folder of levels written by `relaygen generate`.")],
    out: Annotated[Path, typer.Option(help="The report image (PNG); an HTML page is written beside it.")] = Path(
        "report.png"
    ),
) -> None:
    """Draw one picture of a batch of levels: contact sheet, metric histograms, difficulty, diversity."""
    from relaygen.report import figure, write_report

    if out.suffix.lower() != ".png":
        raise fail(f"{out}: the report image must be a .png file")
    try:
        numbers = write_report(folder, out)
    except LevelError as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        raise fail(f"{exc.filename or out}: {exc.strerror or exc}") from None
    for name, value in numbers.items():
        typer.echo(f"{name}: {figure(name, value)}")
    typer.echo(f"written {out} and {out.with_suffix('.html')}")
