"""No traceback for what the user can fix, and nothing silently ignored (issue 28): every user error
derives from one base that the command line prints as one ``error:`` line with exit code 2, while a
bug still shows its traceback; options that cannot be honoured are refused, naming the option."""

from __future__ import annotations

import json
import socket
import subprocess
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from relaygen.formats import read_levels, write_levels
from relaygen.level import Level
from relaygen.rules import RulesError, load_rules, parse_rules

ROOT = Path(__file__).resolve().parents[1]
MAZE_MODEL = ROOT / "relaygen" / "models" / "maze.pt"
PIN_9X9 = "#########\n#S??????#\n" + "#???????#\n" * 5 + "#??????E#\n#########\n"
"""A maze text map of 9x9 whose inner cells are left to the generator."""


# ----- one error base ----------------------------------------------------------------------------------------


def user_error_classes() -> list[type]:
    from relaygen.agent.checkpoint import CheckpointError
    from relaygen.agent.config import ConfigError
    from relaygen.agent.model import ModelError
    from relaygen.agent.tilemap import TileMapError
    from relaygen.agent.trainer import TrainingError
    from relaygen.drafters import DraftError
    from relaygen.env.representations.base import RepresentationError
    from relaygen.files import WriteError
    from relaygen.generate import GenerateError
    from relaygen.level import LevelError

    return [
        CheckpointError,
        ConfigError,
        DraftError,
        GenerateError,
        LevelError,
        ModelError,
        RepresentationError,
        RulesError,
        TileMapError,
        TrainingError,
        WriteError,
    ]


@pytest.mark.parametrize("error", user_error_classes(), ids=lambda cls: cls.__name__)
def test_every_user_error_derives_from_the_one_base(error: type) -> None:
    from relaygen.errors import UserError

    assert issubclass(error, UserError)


def test_a_bug_in_a_command_shows_its_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    """``eval`` used to print any ValueError as a user error; a bug is not the user's to fix."""
    from relaygen.agent import evaluate
    from relaygen.cli import app

    def bug(*args: object, **kwargs: object) -> None:
        raise ValueError("an index went wrong inside relaygen")

    monkeypatch.setattr(evaluate, "evaluate", bug)
    result = CliRunner().invoke(app, ["eval", str(MAZE_MODEL)])
    assert isinstance(result.exception, ValueError) and result.exit_code == 1


def test_a_user_error_from_any_command_is_one_line_and_exit_2(monkeypatch: pytest.MonkeyPatch) -> None:
    from relaygen.agent import evaluate
    from relaygen.agent.model import ModelError
    from relaygen.cli import app

    def refuse(*args: object, **kwargs: object) -> None:
        raise ModelError("m.pt: field 'arch': missing")

    monkeypatch.setattr(evaluate, "evaluate", refuse)
    result = CliRunner().invoke(app, ["eval", str(MAZE_MODEL)])
    assert result.exit_code == 2 and result.output.strip() == "error: m.pt: field 'arch': missing"


# ----- --pin ---------------------------------------------------------------------------------------------


@pytest.fixture
def pin9(tmp_path: Path) -> Path:
    path = tmp_path / "pin9.txt"
    path.write_text(f"; rules: maze\n{PIN_9X9}")
    return path


def test_a_pin_with_a_model_that_cannot_start_from_a_level_is_one_line(
    pin9: Path,
    tmp_path: Path,
    relaygen_cli: Callable[..., subprocess.CompletedProcess[str]],
    one_error_line: Callable[..., str],
) -> None:
    run = relaygen_cli("generate", "maze", "-n", "1", "--pin", pin9, "--size", "9x9", "--out", tmp_path / "out")
    one_error_line(run, "--pin", "backtrack", "--model search")
    assert not (tmp_path / "out").exists()


def test_a_pin_of_another_size_is_refused_without_size(
    pin9: Path,
    tmp_path: Path,
    relaygen_cli: Callable[..., subprocess.CompletedProcess[str]],
    one_error_line: Callable[..., str],
) -> None:
    run = relaygen_cli("generate", "maze", "-n", "1", "--model", "search", "--pin", pin9, "--out", tmp_path / "out")
    one_error_line(run, "9x9", "16x16", "--size")


def test_a_pin_file_of_several_levels_or_of_no_pinned_cell_is_refused(
    data_dir: Path,
    tmp_path: Path,
    relaygen_cli: Callable[..., subprocess.CompletedProcess[str]],
    one_error_line: Callable[..., str],
) -> None:
    three = write_levels(read_levels(data_dir / "microban.xsb")[:3], tmp_path / "three.xsb")
    run = relaygen_cli("generate", "sokoban", "-n", "1", "--model", "search", "--pin", three, "--out", tmp_path / "o")
    one_error_line(run, "--pin", "3 levels")
    from relaygen.generate import GenerateError, generate

    level = Level.from_rows(load_rules("sokoban"), ["#" * 9] * 9)
    with pytest.raises(GenerateError, match="pins no cell"):
        generate("sokoban", 1, model="search", pin=level)


def test_an_impossible_pin_is_named_in_the_error() -> None:
    from relaygen.generate import GenerateError, generate

    rows = ["#########", "#S#?????#", "###?????#", *["#???????#"] * 4, "#??????E#", "#########"]
    walled_in = Level.from_rows(load_rules("maze"), rows, name="walled")
    with pytest.raises(GenerateError, match="pinned level 'walled'"):
        generate("maze", 1, model="search", pin=walled_in, size=(9, 9), attempts=2, repair=20)


# ----- sprites ------------------------------------------------------------------------------------------------


@pytest.fixture
def bad_sprite_rules(tmp_path: Path, tiny_rules_toml: Callable[..., str]) -> Path:
    (tmp_path / "wall.png").write_text("not a picture\n")
    text = tiny_rules_toml().replace("solid = true\n", 'solid = true\nsprite = "wall.png"\n')
    path = tmp_path / "tiny.toml"
    path.write_text(text)
    return path


def test_rules_check_opens_sprite_files(
    bad_sprite_rules: Path,
    relaygen_cli: Callable[..., subprocess.CompletedProcess[str]],
    one_error_line: Callable[..., str],
) -> None:
    one_error_line(relaygen_cli("rules", "check", bad_sprite_rules), "wall.png", "not an image")


def test_pictures_of_rules_with_a_broken_sprite_are_refused_before_any_file(
    bad_sprite_rules: Path,
    tmp_path: Path,
    relaygen_cli: Callable[..., subprocess.CompletedProcess[str]],
    one_error_line: Callable[..., str],
) -> None:
    for fmt in ("png", "tiled"):
        out = tmp_path / fmt
        run = relaygen_cli("generate", bad_sprite_rules, "-n", "1", "--model", "search", "--format", fmt, "--out", out)
        one_error_line(run, f"--format {fmt}", "wall.png")
        assert not out.exists()


# ----- models that fit --------------------------------------------------------------------------------------------


def test_watch_with_a_representation_of_action_maps() -> None:
    """nca's action is a map of actions; the watcher's policies hand it over whole."""
    from relaygen.viewer.watch import open_watch

    session = open_watch("maze", None, "nca", 0.5, 0)
    try:
        for _ in range(3):
            session.step()
    finally:
        session.close()


def test_the_shipped_model_of_rules_that_dropped_its_representation_is_one_line(
    tmp_path: Path, relaygen_cli: Callable[..., subprocess.CompletedProcess[str]], one_error_line: Callable[..., str]
) -> None:
    text = load_rules("maze").to_toml()
    mine = tmp_path / "mymaze.toml"
    mine.write_text(text.replace("representations = [", 'representations = ["narrow", "wide"]\n# was ['))
    assert load_rules(mine).representations == ["narrow", "wide"]
    run = relaygen_cli("generate", mine, "-n", "1", "--model", MAZE_MODEL, "--out", tmp_path / "out")
    one_error_line(run, str(MAZE_MODEL), "backtrack", "narrow, wide")


def test_generate_and_watch_agree_on_a_spatial_model_at_another_size(
    tmp_path: Path, untrained_model: Callable[..., Path]
) -> None:
    """One answer to "does this model fit these rules": a wide model plays any map size."""
    from relaygen.generate import generate
    from relaygen.viewer.watch import open_watch

    model = untrained_model(tmp_path / "wide.pt", "maze", "wide")
    smaller = tmp_path / "maze12.toml"
    smaller.write_text(load_rules("maze").resized(12, 12).to_toml())
    (level,) = generate(smaller, 1, model=model, seed=1, candidates=1, slots=4)
    assert (level.width, level.height) == (12, 12)
    session = open_watch(str(smaller), str(model), None, 0.5, 0)
    try:
        session.step()
        assert session.label == "model wide.pt"
    finally:
        session.close()


# ----- options that cannot be honoured --------------------------------------------------------------------------


def test_difficulty_beside_difficulty_range_is_refused(
    tmp_path: Path, relaygen_cli: Callable[..., subprocess.CompletedProcess[str]], one_error_line: Callable[..., str]
) -> None:
    run = relaygen_cli(
        "generate", "maze", "--difficulty", "0.3", "--difficulty-range", "0", "1", "--out", tmp_path / "o"
    )
    one_error_line(run, "--difficulty", "--difficulty-range")
    assert not (tmp_path / "o").exists()


def test_deepen_for_a_game_without_a_reverse_search_is_refused(
    tmp_path: Path, relaygen_cli: Callable[..., subprocess.CompletedProcess[str]], one_error_line: Callable[..., str]
) -> None:
    run = relaygen_cli("generate", "maze", "--deepen", "1000", "--out", tmp_path / "o")
    one_error_line(run, "--deepen", "walk mechanic", "no reverse search")
    assert not (tmp_path / "o").exists()


def test_train_names_the_option_it_refuses(
    tmp_path: Path, relaygen_cli: Callable[..., subprocess.CompletedProcess[str]], one_error_line: Callable[..., str]
) -> None:
    one_error_line(relaygen_cli("train", "maze", "--minutes", "0", "--runs-dir", tmp_path), "--minutes")
    assert not any(tmp_path.iterdir())


def test_train_address_without_the_ray_backend_is_refused(
    tmp_path: Path, relaygen_cli: Callable[..., subprocess.CompletedProcess[str]], one_error_line: Callable[..., str]
) -> None:
    run = relaygen_cli("train", "maze", "--address", "10.0.0.1:6379", "--steps", "1", "--runs-dir", tmp_path / "runs")
    one_error_line(run, "--address", "ray")
    assert not (tmp_path / "runs").exists()


def test_train_on_a_ray_address_where_nothing_listens_fails_soon(
    tmp_path: Path, relaygen_cli: Callable[..., subprocess.CompletedProcess[str]], one_error_line: Callable[..., str]
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    runs = tmp_path / "runs"
    run = relaygen_cli(
        "train", "maze", "--backend", "ray", "--address", f"127.0.0.1:{port}", "--runs-dir", runs, timeout=60
    )
    one_error_line(run, f"127.0.0.1:{port}")
    assert not runs.exists() or not any(runs.iterdir())


def test_playtest_rules_do_not_override_a_files_own(
    tmp_path: Path, relaygen_cli: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    level = ROOT / "levels" / "maze" / "maze-0000.json"
    run = relaygen_cli("playtest", level, "--rules", "sokoban", "--json")
    assert run.returncode == 0, run.stderr
    assert [entry["rules"] for entry in json.loads(run.stdout)] == ["maze"]


def test_a_run_manifest_that_is_no_object_is_named_as_such(
    tmp_path: Path, relaygen_cli: Callable[..., subprocess.CompletedProcess[str]], one_error_line: Callable[..., str]
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "run.json").write_text("[1, 2]\n")
    one_error_line(relaygen_cli("generate", "maze", "-n", "2", "--out", out), "run.json", "not a JSON object")


@pytest.mark.parametrize("name", [".", "..", ".hidden"])
def test_rules_names_are_file_names_that_are_not_hidden(name: str, tiny_rules_toml: Callable[..., str]) -> None:
    with pytest.raises(RulesError, match="name"):
        parse_rules(tiny_rules_toml().replace('name = "tiny"', f'name = "{name}"'), "mine.toml")


# ----- workers and memory ------------------------------------------------------------------------------------


def test_workers_are_capped_at_the_cores(capsys: pytest.CaptureFixture[str]) -> None:
    from relaygen.generate import plan_workers, usable_cores

    cores = usable_cores()
    assert plan_workers(cores + 60, 10_000, "search") == cores
    assert f"--workers {cores + 60} capped at {cores}" in capsys.readouterr().err


def test_workers_whose_memory_cannot_fit_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from relaygen import generate

    monkeypatch.setattr(generate, "_available_memory", lambda: 100 * 2**20)
    with pytest.raises(generate.GenerateError, match="--workers 1: needs about"):
        generate.plan_workers(1, 10, None)


def test_a_huge_count_plans_nothing_up_front() -> None:
    from relaygen.generate import generate_iter

    tracemalloc.start()
    try:
        levels = generate_iter("maze", 10**7, model="search", difficulty_range=(0.0, 1.0), repair=20)
        first = next(levels)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert first.meta["index"] == 0 and peak < 30 * 2**20


# ----- defaults live once --------------------------------------------------------------------------------------


def test_nca_trains_with_its_own_change_limit() -> None:
    from relaygen.agent.config import TrainConfig
    from relaygen.agent.run import prepare
    from relaygen.env.representations import KINDS

    for name in load_rules("maze").representations:
        _, config = prepare(TrainConfig(rules="maze", representation=name))
        assert config.change_limit == max(0.5, KINDS[name].change_limit), name
    assert prepare(TrainConfig(rules="maze", representation="nca"))[1].change_limit == 1.0


def test_the_run_manifest_takes_generates_defaults() -> None:
    import inspect

    from relaygen.generate import generate_iter
    from relaygen.runfolder import LEVEL_OPTIONS, run_manifest

    manifest = run_manifest(load_rules("maze"), 3, "json", {"model": "search"})
    defaults = inspect.signature(generate_iter).parameters
    assert {key: manifest[key] for key in LEVEL_OPTIONS} == {key: defaults[key].default for key in LEVEL_OPTIONS}


def test_watch_falls_back_only_when_the_shipped_model_does_not_fit(monkeypatch: pytest.MonkeyPatch) -> None:
    """A shipped model that does not fit gives way to a random policy; a bug is not hidden that way."""
    from relaygen.viewer import watch

    def bug(*args: object) -> None:
        raise ValueError("an index went wrong inside relaygen")

    monkeypatch.setattr(watch, "_model_watch", bug)
    with pytest.raises(ValueError, match="inside relaygen"):
        watch.open_watch("maze", None, None, 0.5, 0)


def running(name: str) -> bool:
    """Whether a process of this name runs on the machine."""
    for comm in Path("/proc").glob("[0-9]*/comm"):
        try:
            if comm.read_text().strip() == name:
                return True
        except OSError:  # it ended meanwhile
            continue
    return False


@pytest.mark.slow
def test_train_on_ray_with_no_cluster_to_join_is_one_line(
    tmp_path: Path,
    relaygen_cli: Callable[..., subprocess.CompletedProcess[str]],
    one_error_line: Callable[..., str],
) -> None:
    pytest.importorskip("ray")
    if running("raylet"):
        pytest.skip("a Ray cluster runs on this machine: --address auto would join it")
    runs = tmp_path / "runs"
    run = relaygen_cli("train", "maze", "--backend", "ray", "--address", "auto", "--runs-dir", runs, timeout=300)
    one_error_line(run, "--address auto", "Ray")
    assert not runs.exists() or not any(runs.iterdir())
