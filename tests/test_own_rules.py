"""A designer's own rules file, end to end: text and XSB outputs replay, errors name the file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from relaygen.formats import read_levels, write_levels
from relaygen.level import Level
from relaygen.rules import Rules, load_rules

LAVA = {"name": "lava", "char": "~", "color": "#ff5500", "hazard": True, "weight": 0.05}
OWN = {
    "lavamaze": load_rules("maze").model_dump(exclude_defaults=True)
    | {"name": "lavamaze", "tiles": [*load_rules("maze").model_dump(exclude_defaults=True)["tiles"], LAVA]},
    "boxes": load_rules("sokoban").model_dump(exclude_defaults=True) | {"name": "boxes", "width": 7, "height": 7},
}
"""A new tile on the maze (text output) and a smaller Sokoban under its own name (XSB output)."""


def cli(*args: object, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}
    return subprocess.run(
        [sys.executable, "-m", "relaygen", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=cwd,
        env=env,
    )


@pytest.fixture
def designer(tmp_path: Path) -> Path:
    """A designer's folder with the rules files; commands run from a sibling folder (no cwd lookups)."""
    folder = tmp_path / "designer"
    folder.mkdir()
    for name, data in OWN.items():
        (folder / f"{name}.toml").write_text(Rules.model_validate(data).to_toml())
    (tmp_path / "elsewhere").mkdir()
    return folder


@pytest.mark.parametrize(("name", "fmt"), [("lavamaze", "txt"), ("boxes", "xsb")])
def test_text_and_xsb_outputs_of_own_rules_replay(designer: Path, name: str, fmt: str) -> None:
    out = designer / "levels"
    elsewhere = designer.parent / "elsewhere"
    rules_file = designer / f"{name}.toml"
    made = cli("generate", rules_file, "-n", 2, "--model", "search", "--format", fmt, "--out", out, cwd=elsewhere)
    assert made.returncode == 0, made.stderr
    copy = out / f"{name}.toml"
    assert load_rules(copy) == load_rules(rules_file), "the rules travel with the levels"
    first = sorted(out.glob(f"*.{fmt}"))[0].read_text()
    assert f"; rules: {name}.toml" in first

    tested = cli("playtest", out, cwd=elsewhere)
    assert tested.returncode == 0, tested.stderr
    assert tested.stdout.count(f"meets {name} rules: yes") == 2, tested.stdout
    shot = cli("play", out, "--screenshot", designer / "shot.png", cwd=elsewhere)
    assert shot.returncode == 0, shot.stderr
    for level in read_levels(out):
        assert level.rules == load_rules(rules_file)


def test_a_built_in_is_named_and_changed_rules_are_copied(tmp_path: Path) -> None:
    maze = load_rules("maze")
    level = Level(maze, read_levels(Path(__file__).parents[1] / "levels" / "examples" / "maze.txt")[0].grid)
    write_levels([level], tmp_path / "plain.txt")
    assert (tmp_path / "plain.txt").read_text().startswith("; rules: maze\n")
    assert not list(tmp_path.glob("*.toml")), "a built-in needs no copy"

    other = Rules.model_validate(maze.model_dump() | {"description": "my maze"})
    write_levels([Level(other, level.grid)], tmp_path / "mine.txt")
    assert (tmp_path / "mine.txt").read_text().startswith("; rules: maze.toml\n")
    third = Rules.model_validate(maze.model_dump() | {"description": "another"})
    write_levels([Level(third, level.grid)], tmp_path / "third.txt")
    assert (tmp_path / "third.txt").read_text().startswith(f"; rules: maze-{third.digest}.toml\n")
    assert read_levels(tmp_path / "mine.txt")[0].rules == other
    assert read_levels(tmp_path / "third.txt")[0].rules == third


def test_a_rules_line_naming_a_file_beside_it_is_found(designer: Path) -> None:
    text = "; rules: lavamaze\n\n" + "\n".join(["#####", "#S.E#", "#####"]) + "\n"
    (designer / "old.txt").write_text(text)
    (level,) = read_levels(designer / "old.txt")
    assert level.rules == load_rules(designer / "lavamaze.toml")


def test_no_shipped_model_suggests_training_on_the_file(designer: Path) -> None:
    rules_file = designer / "lavamaze.toml"
    done = cli("generate", rules_file, "-n", 1, "--out", designer / "levels", cwd=designer.parent / "elsewhere")
    assert done.returncode == 2
    assert f"relaygen train {rules_file}`" in done.stderr, done.stderr
