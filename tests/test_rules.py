"""Rules files: the built-ins load and round-trip; bad files get one clear message."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from relaygen.rules import RulesError, builtin_names, load_rules, parse_rules

BUILTINS = builtin_names()


def test_five_builtins_ship() -> None:
    assert BUILTINS == ["boxoban", "dungeon", "maze", "relay", "sokoban"]


@pytest.mark.parametrize("name", BUILTINS)
def test_builtin_round_trips_through_toml(name: str) -> None:
    rules = load_rules(name)
    again = parse_rules(rules.to_toml(), "round trip")
    assert again == rules
    assert again.digest == rules.digest


@pytest.mark.parametrize("name", BUILTINS)
def test_builtin_difficulty_moves_its_metric_and_the_ramped_objectives(name: str) -> None:
    rules = load_rules(name)
    assert rules.difficulty is not None
    easy, hard = rules.targets(0.0), rules.targets(1.0)
    moved = [m for m in easy if easy[m] != hard[m]]
    assert moved == [o.metric for o in rules.knob_objectives]
    assert all(hard[m][0] > easy[m][0] for m in moved)


@pytest.mark.parametrize("d", [0.0, 0.5, 1.0])
def test_objective_with_easy_and_hard_follows_the_knob(d: float) -> None:
    """Boxoban's knob moves pushes (its metric) and solver effort (an objective's own easy and hard)."""
    rules = load_rules("boxoban")
    targets = rules.targets(d)
    assert targets["pushes"] == pytest.approx((2 + 18 * d, 6 + 34 * d))
    assert targets["solver_nodes"] == pytest.approx((1 + 129 * d, 30 + 570 * d))
    assert targets["regions"] == (1.0, 1.0)
    rows = rules.target_ranges(np.array([d, 0.0]))
    assert rows[0].tolist() == [list(targets[o.metric]) for o in rules.objectives]


@pytest.mark.parametrize("d", [0.0, 0.25, 0.5, 1.0])
def test_relay_turn_target_follows_seed_formula(d: float) -> None:
    lo, hi = load_rules("relay").targets(d)["turns"]
    t = 2 * (1 - 1 / (d + 1))  # the seed's saturating curve, 0 at d = 0 and 1 at d = 1
    assert lo == pytest.approx(1 + 8 * t) and hi == pytest.approx(lo + 1)
    seed = 50 * (1 - 1 / (d + 1)) + 1  # the seed project's turn count: 1 .. 26, on the same 14x9 grid
    assert lo == pytest.approx(1 + (seed - 1) * (9 - 1) / (26 - 1))  # scaled to the 9 turns the grid holds


def test_digest_changes_with_content(tiny_rules_toml: Callable[..., str]) -> None:
    a = parse_rules(tiny_rules_toml())
    b = parse_rules(tiny_rules_toml(width=7))
    assert a.digest != b.digest


def test_out_of_range_difficulty_is_refused() -> None:
    with pytest.raises(ValueError, match="difficulty"):
        load_rules("maze").targets(1.5)


Edit = Callable[[str], str]
"""An edit of the tiny rules file's text (the ``tiny_rules_toml`` fixture's) that makes it bad."""

BAD: dict[str, tuple[Edit, str]] = {
    "syntax": (lambda t: t.replace('name = "tiny"', 'name = "tiny'), "TOML syntax error"),
    "unknown field": (lambda t: t.replace("border =", "colour_scheme = 3\nborder ="), "colour_scheme: unknown field"),
    "unknown tile in constraint": (
        lambda t: t.replace('tiles = ["start"]', 'tiles = ["dragon"]'),
        "unknown tile 'dragon'",
    ),
    "impossible constraint": (
        lambda t: (
            t.replace("width = 6", "width = 5")
            .replace("height = 5", "height = 5")
            .replace("min = 1\nmax = 1", "min = 20")
        ),
        "needs 20 tiles but the 5x5 grid has only 9",
    ),
    "missing mechanic": (lambda t: t.replace('mechanic = "walk"\n', ""), "mechanic: Field required"),
    "unknown mechanic": (
        lambda t: t.replace('"walk"', '"fly"'),
        "mechanic: unknown mechanic 'fly' (known: walk, keys, push, relay, script)",
    ),
    "unknown metric": (lambda t: t.replace('metric = "path_length"', 'metric = "fun"'), "objectives[0].metric: 'fun'"),
    "mechanic needs property": (lambda t: t.replace("exit = true", ""), "needs a tile with exit = true"),
    "bad colour": (lambda t: t.replace("#ff0000", "red"), "tiles[3].color"),
    "duplicate char": (lambda t: t.replace('char = "E"', 'char = "S"'), "duplicate tile char"),
    "reversed target": (lambda t: t.replace("[3, 10]", "[10, 3]"), "hi below lo"),
}

MANY_TILES = "".join(f'\n[[tiles]]\nname = "t{i}"\nchar = "{chr(0x100 + i)}"\ncolor = "#123456"\n' for i in range(296))
DIFFICULTY = '\n[difficulty]\nmetric = "path_length"\neasy = [3, 10]\nhard = [12, 30]\n'
FUZZED = {
    "no representations": (
        lambda t: t.replace("border =", "representations = []\nborder ="),
        "representations: List should have at least 1 item",
    ),
    "300 tiles": (lambda t: t + MANY_TILES, "tiles: List should have at most 255 items"),
    "all weights 0": (
        lambda t: t.replace('color = "#', 'weight = 0\ncolor = "#'),
        "tiles: every weight is 0, so a random start_map cannot draw a tile",
    ),
    "nan target": (lambda t: t.replace("[3, 10]", "[nan, nan]"), "objectives[0].target: [nan, nan] is not a range"),
    "inf lo target": (
        lambda t: t.replace("[3, 10]", "[inf, inf]"),
        "objectives[0].target: [inf, inf]: lo must be finite",
    ),
    "player border": (
        lambda t: t.replace('border = "wall"', 'border = "start"'),
        "border: tile 'start' fills the whole outer ring, so it cannot be player",
    ),
    "player forbidden": (
        lambda t: t.replace("min = 1\nmax = 1", "max = 0"),
        "constraints: the rules cannot be met: mechanic 'walk' needs a player tile",
    ),
    "reversed easy": (
        lambda t: t.replace("target = [3, 10]", "") + DIFFICULTY.replace("[3, 10]", "[10, 3]"),
        "difficulty.easy: [10.0, 3.0] has hi below lo",
    ),
    "infinite hard": (
        lambda t: t.replace("target = [3, 10]", "") + DIFFICULTY.replace("[12, 30]", "[inf, inf]"),
        "difficulty.hard: [inf, inf]: both ends must be finite",
    ),
    "carve with walk": (
        lambda t: t.replace('border = "wall"', 'representations = ["carve"]\nstart_map = "wall"'),
        "representations: 'carve' builds levels of mechanic 'relay' only; it needs mechanic 'relay', not 'walk'",
    ),
    "boolean width": (lambda t: t.replace("width = 6", "width = true"), "width: Input should be a valid integer"),
    "unknown border": (lambda t: t.replace('border = "wall"', 'border = "lava"'), "border: unknown tile 'lava'"),
    "unknown start_map": (
        lambda t: t.replace('border = "wall"', 'start_map = "lava"'),
        "start_map: unknown tile 'lava' (tiles are ['floor', 'wall', 'start', 'exit'] or random)",
    ),
    "easy without hard": (
        lambda t: t.replace("target = [3, 10]", "easy = [3, 10]") + DIFFICULTY.replace("path_length", "regions"),
        "objectives[0]: easy and hard go together",
    ),
    "easy beside target": (
        lambda t: t.replace("target = [3, 10]", "target = [3, 10]\neasy = [3, 10]\nhard = [5, 20]"),
        "objectives[0]: give either target or easy and hard, not both",
    ),
    "easy without a knob": (
        lambda t: t.replace("target = [3, 10]", "easy = [3, 10]\nhard = [5, 20]"),
        "objectives[0]: easy and hard need a [difficulty] block naming another metric",
    ),
    "easy on the knob's metric": (
        lambda t: t.replace("target = [3, 10]", "easy = [3, 10]\nhard = [5, 20]") + DIFFICULTY,
        "objectives[0]: 'path_length' is the difficulty metric: its easy and hard are [difficulty]'s",
    ),
    "deep nesting": (lambda t: "x = " + "[" * 100_000 + "]" * 100_000 + "\n", "TOML nested too deeply to read"),
}
"""Rules files that `rules check` once accepted (or answered with a traceback or a misleading message)."""
BAD |= FUZZED


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_rules_file_names_file_field_and_reason(
    case: str, tmp_path: Path, tiny_rules_toml: Callable[..., str]
) -> None:
    edit, reason = BAD[case]
    path = tmp_path / "my_rules.toml"
    path.write_text(edit(tiny_rules_toml()))
    with pytest.raises(RulesError) as info:
        load_rules(path)
    message = str(info.value)
    assert message.startswith(str(path)), message
    assert reason in message, message


def test_missing_file_and_unknown_name() -> None:
    with pytest.raises(RulesError, match="not a built-in ruleset"):
        load_rules("no_such_game")


def test_rules_check_cli_gives_one_line_and_exit_2(tmp_path: Path, tiny_rules_toml: Callable[..., str]) -> None:
    good, bad = tmp_path / "good.toml", tmp_path / "bad.toml"
    good.write_text(tiny_rules_toml())
    bad.write_text(BAD["unknown tile in constraint"][0](tiny_rules_toml()))
    run = subprocess.run(
        [sys.executable, "-m", "relaygen", "rules", "check", str(good), str(bad)], capture_output=True, text=True
    )
    assert run.returncode == 2
    assert f"{good}: ok (tiny" in run.stdout
    assert "Traceback" not in run.stderr
    assert run.stderr.strip().splitlines() == [
        f"error: {bad}: constraints[0]: unknown tile 'dragon' (tiles are ['floor', 'wall', 'start', 'exit'])"
    ]


@pytest.mark.parametrize(
    "command", [["rules", "list"], ["rules", "show", "sokoban"], ["rules", "show", "relay", "--toml"]]
)
def test_rules_commands_print(command: list[str]) -> None:
    run = subprocess.run([sys.executable, "-m", "relaygen", *command], capture_output=True, text=True, check=True)
    assert ("sokoban" in run.stdout) or ("relay" in run.stdout)
    if "--toml" in command:
        assert parse_rules(run.stdout).name == "relay"


def test_rules_check_refuses_every_fuzzed_file_in_one_line_each(
    tmp_path: Path, tiny_rules_toml: Callable[..., str]
) -> None:
    paths = []
    for i, case in enumerate(sorted(FUZZED)):
        paths.append(tmp_path / f"fuzz{i}.toml")
        paths[-1].write_text(FUZZED[case][0](tiny_rules_toml()))
    run = subprocess.run(
        [sys.executable, "-m", "relaygen", "rules", "check", *map(str, paths)], capture_output=True, text=True
    )
    assert run.returncode == 2 and "Traceback" not in run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == len(paths)
    for line, path, case in zip(lines, paths, sorted(FUZZED), strict=True):
        assert line.startswith(f"error: {path}: ") and FUZZED[case][1] in line, line


def test_byte_order_mark_is_read_past(tmp_path: Path, tiny_rules_toml: Callable[..., str]) -> None:
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + tiny_rules_toml().encode())
    assert load_rules(path) == parse_rules(tiny_rules_toml())
