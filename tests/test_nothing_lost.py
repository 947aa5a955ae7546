"""Nothing lost, nothing hung (issue 28): no command replaces a file it did not write without being
told to, a collection never eats its own inputs, a report is written whole or not at all, files are
created with the user's mask, a pipe among level files blocks nothing, and ``kill -9`` of
``generate`` takes its drafting processes along."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from relaygen import files
from relaygen.formats import level_files, read_levels, write_levels

ROOT = Path(__file__).resolve().parents[1]
MAZES = ROOT / "levels" / "maze"
"""Two maze levels of a run of relaygen, with their run's index."""


# ----- generate's --out --------------------------------------------------------------------------------


@pytest.mark.slow
def test_generate_refuses_a_folder_of_level_files_no_run_wrote(
    tmp_path: Path, relaygen_cli: Callable[..., subprocess.CompletedProcess[str]], one_error_line: Callable[..., str]
) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "maze-0000.json").write_text("my own level\n")
    refused = relaygen_cli("generate", "maze", "-n", "3", "--out", mine)
    one_error_line(refused, "maze-0000.json", "--overwrite")
    assert sorted(p.name for p in mine.iterdir()) == ["maze-0000.json"]
    assert (mine / "maze-0000.json").read_text() == "my own level\n"
    replaced = relaygen_cli("generate", "maze", "-n", "3", "--out", mine, "--overwrite")
    assert replaced.returncode == 0, replaced.stderr
    assert len(read_levels(mine)) == 3


def test_generate_refuses_level_files_copied_out_of_another_run(
    tmp_path: Path, relaygen_cli: Callable[..., subprocess.CompletedProcess[str]], one_error_line: Callable[..., str]
) -> None:
    keep = tmp_path / "keep"
    keep.mkdir()
    for name in ("maze-0000.json", "maze-0001.json"):
        (keep / name).write_bytes((MAZES / name).read_bytes())
    before = {p.name: p.read_bytes() for p in keep.iterdir()}
    one_error_line(relaygen_cli("generate", "maze", "-n", "3", "--seed", "3", "--out", keep), "--overwrite")
    assert {p.name: p.read_bytes() for p in keep.iterdir()} == before


@pytest.mark.slow
def test_generate_leaves_other_files_alone_and_writes_beside_them(
    tmp_path: Path, relaygen_cli: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine\n")
    (out / "maze-0005.json").write_text("not a level this run writes\n")
    assert relaygen_cli("generate", "maze", "-n", "2", "--out", out).returncode == 0
    assert (out / "notes.txt").read_text() == "mine\n"
    assert (out / "maze-0005.json").read_text() == "not a level this run writes\n"


def test_generate_refuses_an_empty_out(
    tmp_path: Path, relaygen_cli: Callable[..., subprocess.CompletedProcess[str]], one_error_line: Callable[..., str]
) -> None:
    one_error_line(relaygen_cli("generate", "maze", "-n", "2", "--out", "", cwd=tmp_path), "--out")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_overwrite_drops_the_ratings_of_the_levels_it_replaces(
    tmp_path: Path, relaygen_cli: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    out = tmp_path / "out"
    assert relaygen_cli("generate", "maze", "-n", "2", "--out", out).returncode == 0
    (out / "ratings.json").write_text(json.dumps({"maze-0000": "keep", "maze-0001": "reject"}))
    assert relaygen_cli("generate", "maze", "-n", "2", "--seed", "5", "--out", out, "--overwrite").returncode == 0
    assert not (out / "ratings.json").exists()
    assert sorted(p.name for p in out.iterdir()) == ["index.json", "maze-0000.json", "maze-0001.json", "run.json"]


@pytest.mark.slow
def test_a_rerun_of_the_same_run_keeps_its_ratings(
    tmp_path: Path, relaygen_cli: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    out = tmp_path / "out"
    assert relaygen_cli("generate", "maze", "-n", "2", "--out", out).returncode == 0
    (out / "ratings.json").write_text("{}")
    assert relaygen_cli("generate", "maze", "-n", "2", "--out", out).returncode == 0
    assert (out / "ratings.json").read_text() == "{}"


# ----- collect ------------------------------------------------------------------------------------------


@pytest.fixture
def xsb_folder(tmp_path: Path, data_dir: Path) -> Path:
    """A folder of two small XSB files."""
    folder = tmp_path / "xsbdir"
    folder.mkdir()
    levels = read_levels(data_dir / "microban.xsb")[:4]
    write_levels(levels[:2], folder / "a.xsb")
    write_levels(levels[2:], folder / "b.xsb")
    return folder


def test_collect_never_writes_over_one_of_its_inputs(
    xsb_folder: Path, relaygen_cli: Callable[..., subprocess.CompletedProcess[str]], one_error_line: Callable[..., str]
) -> None:
    before = {p.name: p.read_bytes() for p in xsb_folder.iterdir()}
    one_error_line(relaygen_cli("collect", xsb_folder, "--out", xsb_folder / "a.xsb", "--overwrite"), "a.xsb")
    assert {p.name: p.read_bytes() for p in xsb_folder.iterdir()} == before
    first = relaygen_cli("collect", xsb_folder, "--out", xsb_folder / "all.xsb")
    assert first.returncode == 0 and len(read_levels(xsb_folder / "all.xsb")) == 4
    again = relaygen_cli("collect", xsb_folder, "--out", xsb_folder / "all.xsb", "--overwrite")
    one_error_line(again, "all.xsb")
    assert len(read_levels(xsb_folder / "all.xsb")) == 4  # it does not grow on each run


def test_collect_replaces_an_existing_file_only_with_overwrite(
    xsb_folder: Path,
    tmp_path: Path,
    relaygen_cli: Callable[..., subprocess.CompletedProcess[str]],
    one_error_line: Callable[..., str],
) -> None:
    out = tmp_path / "mine.xsb"
    out.write_text("; my notes\n")
    one_error_line(relaygen_cli("collect", xsb_folder, "--out", out), str(out), "--overwrite")
    assert out.read_text() == "; my notes\n"
    assert relaygen_cli("collect", xsb_folder, "--out", out, "--overwrite").returncode == 0
    assert len(read_levels(out)) == 4


def test_collect_refuses_two_rulesets_in_one_file(
    data_dir: Path,
    tmp_path: Path,
    relaygen_cli: Callable[..., subprocess.CompletedProcess[str]],
    one_error_line: Callable[..., str],
) -> None:
    out = tmp_path / "mixed.txt"
    one_error_line(relaygen_cli("collect", MAZES, data_dir / "microban-sample.sok", "--out", out), "maze", "sokoban")
    assert not out.exists()


# ----- report ------------------------------------------------------------------------------------------


def test_report_writes_both_files_or_neither(tmp_path: Path) -> None:
    from relaygen.report import write_report

    clash = tmp_path / "clash"
    (clash / "r.html").mkdir(parents=True)
    with pytest.raises(OSError):
        write_report(MAZES, clash / "r.png")
    assert sorted(p.name for p in clash.iterdir()) == ["r.html"]
    (clash / "old.png").write_bytes(b"an older picture")
    (clash / "old.html").mkdir()
    with pytest.raises(OSError):
        write_report(MAZES, clash / "old.png")
    assert (clash / "old.png").read_bytes() == b"an older picture"


def test_report_cli_leaves_no_picture_without_its_page(
    tmp_path: Path, relaygen_cli: Callable[..., subprocess.CompletedProcess[str]], one_error_line: Callable[..., str]
) -> None:
    (tmp_path / "r.html").mkdir()
    one_error_line(relaygen_cli("report", MAZES, "--out", tmp_path / "r.png"), "r.html")
    assert not (tmp_path / "r.png").exists()


# ----- the file-creation mask -----------------------------------------------------------------------------


def test_atomic_write_never_touches_the_processs_mask(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Setting the mask to 0, even for a moment, lets a file another thread creates then be
    writable by anyone; the mask is read once, at start."""
    calls: list[int] = []
    real = os.umask
    monkeypatch.setattr(os, "umask", lambda mask: calls.append(mask) or real(mask))
    for i in range(3):
        path = files.atomic_write(tmp_path / f"f{i}.txt", "x")
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~files.UMASK
    assert calls == []


def test_only_the_leftovers_of_killed_writes_are_removed(tmp_path: Path) -> None:
    leftovers = [".run.json.a1b2c3d4.tmp", ".maze-0001.json.zz__9x0q.tmp"]
    others = [".notes.tmp", "maze-0001.json.a1b2c3d4.tmp", ".draft.json.toolong99.tmp", "run.json"]
    for name in leftovers + others:
        (tmp_path / name).write_text("x")
    assert sorted(path.name for path in files.remove_leftovers(tmp_path)) == sorted(leftovers)
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(others)


def test_files_get_the_mask_of_the_process(tmp_path: Path) -> None:
    script = (
        "import os, stat, sys; os.umask(0o027); from relaygen.files import atomic_write; "
        "print(oct(stat.S_IMODE(atomic_write(sys.argv[1], 'x').stat().st_mode)))"
    )
    run = subprocess.run([sys.executable, "-c", script, str(tmp_path / "f")], capture_output=True, text=True)
    assert run.stdout.strip() == "0o640", run.stderr


# ----- pipes among level files ----------------------------------------------------------------------------


def test_a_pipe_among_level_files_hangs_nothing(
    tmp_path: Path, relaygen_cli: Callable[..., subprocess.CompletedProcess[str]], one_error_line: Callable[..., str]
) -> None:
    folder = tmp_path / "levels"
    folder.mkdir()
    (folder / "maze-0000.json").write_bytes((MAZES / "maze-0000.json").read_bytes())
    os.mkfifo(folder / "pipe.txt")
    assert [p.name for p in level_files(folder)] == ["maze-0000.json"]
    run = relaygen_cli("playtest", folder, timeout=60)
    assert run.returncode == 0, run.stderr
    one_error_line(relaygen_cli("playtest", folder / "pipe.txt", timeout=60), "pipe.txt", "regular file")


# ----- kill -9 -----------------------------------------------------------------------------------------------


def descendants(pid: int) -> set[int]:
    """The living processes below ``pid`` (children, grandchildren...), zombies left out."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] != "Z":
            parents[int(entry.name)] = int(fields[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pids: set[int]) -> set[int]:
    living = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state != "Z":
            living.add(pid)
    return living


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process table from /proc")
def test_kill_9_of_generate_takes_its_processes_along(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "relaygen", "generate", "maze", "-n", "300000", "--workers", "2"]
    process = subprocess.Popen([*command, "--out", str(tmp_path / "big")], stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 90
        while not (tmp_path / "big" / "index.json").exists() and time.monotonic() < deadline:
            time.sleep(0.2)  # the index is written once levels are: the worker is drafting by then
        children = descendants(process.pid)
        assert process.poll() is None and len(children) >= 2, "the worker and resource tracker never started"
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    deadline = time.monotonic() + 10
    while alive(children) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = alive(children)
    for pid in left:  # a failed check leaves nothing behind either
        os.kill(pid, signal.SIGKILL)
    assert left == set()


# ----- the solver's time limit -----------------------------------------------------------------------------


def huge_room(side: int = 1000) -> str:
    """An XSB room of ``side`` x ``side`` cells: one box, one goal far away, the player in a corner."""
    rows = [["#"] + [" "] * (side - 2) + ["#"] for _ in range(side)]
    rows[0] = rows[-1] = ["#"] * side
    rows[1][1], rows[2][2], rows[side // 2][side // 2] = "@", "$", "."
    return "\n".join("".join(row) for row in rows) + "\n"


def test_the_time_limit_covers_the_solvers_set_up() -> None:
    from relaygen.formats import levels_from_xsb
    from relaygen.mechanics import Budget
    from relaygen.playtest import playtest

    (level,) = levels_from_xsb(huge_room(), "huge.xsb")
    started = time.perf_counter()
    report = playtest(level, 0.5, Budget(time_limit=1.0))
    assert time.perf_counter() - started < 5.0
    assert report.to_dict()["solvable"] in ("unknown", "yes")


def test_a_board_past_its_deadline_stops_with_unknown() -> None:
    from relaygen.solver.board import Board, OutOfTime

    side = 60
    walls = [c for c in range(side * side) if c % side in (0, side - 1) or c // side in (0, side - 1)]
    with pytest.raises(OutOfTime):
        Board(side, side, walls, [side * 30 + 30], [side * 2 + 2], side + 1, deadline=time.perf_counter() - 1)
    board = Board(side, side, walls, [side * 30 + 30], [side * 2 + 2], side + 1)
    assert board.feasible


# ----- a long level shows its drafting ------------------------------------------------------------------------


@pytest.mark.slow
def test_a_level_that_takes_long_says_so_and_shows_its_drafting(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "relaygen", "generate", "sokoban", "-n", "1", "--size", "64x64"]
    process = subprocess.Popen([*command, "--out", str(tmp_path / "o")], stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(process.stderr or []), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 90
        while not any("episode steps" in line for line in lines) and time.monotonic() < deadline:
            time.sleep(0.5)
    finally:
        process.kill()
        process.wait()
    assert "64x64" in lines[0] and "steps" in lines[0] and "minutes" in lines[0], lines
    assert any("drafting:" in line and "episode steps" in line for line in lines), lines
