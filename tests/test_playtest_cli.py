"""`relaygen playtest` on designers' collections: two answers per level, files labelled, exit codes,
bad files reported one by one; `relaygen collect`; progress lines in logs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from relaygen import cliutil
from relaygen.formats import read_levels
from relaygen.mechanics import get_mechanic

pytestmark = pytest.mark.slow  # trains or runs subprocesses: the full lane only

LEVELS = Path(__file__).resolve().parent.parent / "levels"
TINY = "; tiny\n#####\n#@$.#\n#####\n"
STUCK = "; stuck\n######\n#@$#.#\n######\n"


def strict(constant: str) -> None:
    """A JSON reader's hook for Infinity and NaN, which strict readers reject."""
    raise ValueError(f"not strict JSON: {constant}")


def relaygen(*args: object, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "relaygen", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout)


def reports(*args: object) -> tuple[list[dict], subprocess.CompletedProcess[str]]:
    run = relaygen("playtest", *args, "--json")
    assert "Traceback" not in run.stderr, run.stderr
    return json.loads(run.stdout), run


def replays(file: Path, entry: dict) -> bool:
    """The entry's solution wins its level in the one simulator."""
    level = read_levels(file)[entry["index"] - 1]
    mechanic = get_mechanic(level.rules.mechanic)
    state = mechanic.start(level)
    for move in entry["solution"]:
        state = mechanic.step(level, state, move.lower())
        if state is None:
            return False
    return state.won


# ----- acceptance on committed public collections -------------------------------------------------------


def test_microban_all_155_solvable_or_unknown_never_no(data_dir: Path) -> None:
    file = data_dir / "microban.xsb"
    entries, run = reports(file, "--max-nodes", 20000)
    assert len(entries) == 155 and [e["index"] for e in entries] == list(range(1, 156))
    assert {e["file"] for e in entries} == {str(file)}
    solvable = [e for e in entries if e["solvable"] == "yes"]
    unknown = [e for e in entries if e["solvable"] == "unknown"]
    assert len(solvable) + len(unknown) == 155 and len(solvable) >= 140  # 144 at this budget
    assert all(e["reason"] == "solver: unknown after 20000 nodes" and e["solution"] is None for e in unknown)
    assert all(replays(file, e) for e in solvable)
    four_boxes = [e for e in entries if e["metrics"]["boxes"] > 3]
    assert four_boxes and all(not e["meets_rules"] and not e["playable"] for e in four_boxes)
    assert any(e["solvable"] == "yes" for e in four_boxes)  # solvable, only the rules say no
    assert run.returncode == 1


def test_sok_file_gives_both_answers_in_text(data_dir: Path) -> None:
    run = relaygen("playtest", data_dir / "microban-sample.sok")
    blocks = run.stdout.split(f"{data_dir / 'microban-sample.sok'} #")[1:]
    assert [b.splitlines()[0] for b in blocks] == [f"{i} Microban {i}" for i in range(1, 6)]
    assert all("\n  solvable: yes, " in b and "\n  solution: " in b for b in blocks)
    assert "meets sokoban rules: yes" in blocks[0]
    assert "\n  meets sokoban rules: no (box+box_on_goal 4 > 3)" in blocks[4]
    assert run.returncode == 1 and run.stderr == ""


def test_boxoban_txt_every_level_solvable_none_meets_the_sokoban_rules(data_dir: Path) -> None:
    file = data_dir / "boxoban-hard-000-first200.txt"
    entries, run = reports(file, "--max-nodes", 20000)
    assert len(entries) == 200 and all(e["solvable"] == "yes" for e in entries)
    assert all(e["broken"] == ["box+box_on_goal 4 > 3"] for e in entries)
    assert all(replays(file, e) for e in entries[:20]) and run.returncode == 1


# ----- answers and exit codes ----------------------------------------------------------------------------------


def test_budget_exhaustion_says_unknown(data_dir: Path, tmp_path: Path) -> None:
    level = data_dir.joinpath("microban.xsb").read_text().split("; 6\n")[1].split("; 7\n")[0]
    (tmp_path / "six.xsb").write_text("; 6\n" + level)
    run = relaygen("playtest", tmp_path / "six.xsb", "--max-nodes", 10)
    assert "  solvable: unknown (solver: unknown after 10 nodes)" in run.stdout
    assert "solvable: no" not in run.stdout and run.returncode == 1


@pytest.mark.parametrize(("text", "code"), [(TINY, 0), (STUCK, 1)])
def test_exit_code_says_whether_every_level_is_fine(text: str, code: int, tmp_path: Path) -> None:
    (tmp_path / "one.xsb").write_text(text)
    run = relaygen("playtest", tmp_path / "one.xsb")
    assert run.returncode == code, run.stdout + run.stderr
    assert ("solvable: no" in run.stdout) == (code == 1)


def test_folder_reports_each_file_and_each_bad_file_alone(tmp_path: Path) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "a_good.xsb").write_text(TINY + "\n" + TINY.replace("tiny", "tiny too"))
    (folder / "b_badchar.xsb").write_text("; 1\n#####\n#@$x#\n#####\n")
    (folder / "c_empty.txt").write_text("")
    (folder / "d_prose.xsb").write_text("Some levels I like.\nMore to come.\n")
    (folder / "e_good.txt").write_text(TINY)
    run = relaygen("playtest", folder)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert run.stderr.splitlines() == [
        f"error: {folder / 'b_badchar.xsb'}: line 3, column 4: 'x' is not an XSB character",
        f"error: {folder / 'c_empty.txt'}: no levels in this file (XSB)",
        f"error: {folder / 'd_prose.xsb'}: no levels in this file (XSB)",
    ]
    labels = [line for line in run.stdout.splitlines() if not line.startswith(" ")]
    assert labels == [
        f"{folder / 'a_good.xsb'} #1 tiny",
        f"{folder / 'a_good.xsb'} #2 tiny too",
        f"{folder / 'e_good.txt'} #1 tiny",
    ]


def test_play_names_the_empty_file(tmp_path: Path) -> None:
    (tmp_path / "empty.xsb").write_text("")
    run = relaygen("play", tmp_path / "empty.xsb")
    assert run.returncode == 2
    assert run.stderr.strip() == f"error: {tmp_path / 'empty.xsb'}: no levels in this file (XSB)"


@pytest.mark.parametrize(
    ("option", "value", "reason"),
    [
        *(
            ("--time-limit", v, f"must be a positive number of seconds, not {float(v)}")
            for v in ("-1", "0", "nan", "inf")
        ),
        ("--max-nodes", "0", "must be 1 or more, not 0"),
    ],
)
def test_budget_options_are_checked(option: str, value: str, reason: str, tmp_path: Path) -> None:
    (tmp_path / "one.xsb").write_text(TINY)
    run = relaygen("playtest", tmp_path / "one.xsb", option, value)
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr.strip() == f"error: {option}: {reason}"


def test_optimal_says_move_optimal_or_not_proven(data_dir: Path, tmp_path: Path) -> None:
    level = data_dir.joinpath("microban.xsb").read_text().split("; 4\n")[1].split("; 5\n")[0]
    (tmp_path / "four.xsb").write_text("; 4\n" + level)
    plain = relaygen("playtest", tmp_path / "four.xsb").stdout
    best = relaygen("playtest", tmp_path / "four.xsb", "--optimal").stdout
    short = relaygen("playtest", tmp_path / "four.xsb", "--optimal", "--max-nodes", 50).stdout
    assert "solvable: yes, 29 moves\n" in plain
    assert "solvable: yes, 23 moves (move-optimal: fewest moves, then fewest pushes)" in best
    assert "solvable: yes, 29 moves (not proven optimal: optimal search out of budget after" in short


def test_json_output_is_strict_json(tmp_path: Path) -> None:
    (tmp_path / "one.xsb").write_text(TINY)
    run = relaygen("playtest", tmp_path / "one.xsb", "--json")
    (entry,) = json.loads(run.stdout, parse_constant=strict)
    assert entry["targets"]["pushes"] == [2.0, None] and entry["solvable"] == "yes" and entry["meets_rules"]


def test_shipped_level_files_are_strict_json() -> None:
    files = sorted(LEVELS.glob("*/*.json"))
    assert len(files) >= 200
    for file in files:
        json.loads(file.read_text(), parse_constant=strict)


# ----- collect ---------------------------------------------------------------------------------------------


def test_collect_writes_one_collection_file(data_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "one.xsb").write_text(TINY)
    out = tmp_path / "set.sok"
    run = relaygen("collect", data_dir / "microban-sample.sok", tmp_path / "one.xsb", "--out", out)
    assert run.returncode == 0 and run.stdout.strip() == f"6 levels written to {out}"
    back = read_levels(out)
    assert [lv.name for lv in back] == [*(f"Microban {i}" for i in range(1, 6)), "tiny"]
    assert back[:5] == read_levels(data_dir / "microban-sample.sok")


@pytest.mark.parametrize(
    ("name", "reason"),
    [("set.json", "a JSON level file holds one level, not 2"), ("set.png", "cannot tell the format from suffix")],
)
def test_collect_refuses_without_writing(name: str, reason: str, tmp_path: Path) -> None:
    (tmp_path / "two.xsb").write_text(TINY + "\n" + TINY)
    run = relaygen("collect", tmp_path / "two.xsb", "--out", tmp_path / name)
    assert run.returncode == 2 and reason in run.stderr and len(run.stderr.splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["two.xsb"]


# ----- progress in logs ------------------------------------------------------------------------------------


def test_generate_writes_plain_progress_lines_into_a_log(tmp_path: Path) -> None:
    run = relaygen("generate", "sokoban", "-n", 2, "--model", "search", "--out", tmp_path / "out")
    assert run.returncode == 0, run.stderr
    assert "\r" not in run.stderr and run.stderr.splitlines()[-1].startswith("generate sokoban: 100% 2/2")


def test_log_progress_writes_a_line_at_most_every_few_seconds(capsys: pytest.CaptureFixture[str]) -> None:
    for _ in cliutil.LogProgress(range(1000), total=1000, desc="work", unit="level"):
        pass
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("work: 100% 1000/1000")
