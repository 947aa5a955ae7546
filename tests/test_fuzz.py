"""Inputs a fuzzer found (issue 15) that once ended in a traceback, were accepted, or got a misleading
message: each now gets one clear line naming the file or option, the field and the reason, and exit 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from relaygen.agent.model import ModelError, load_model, save_model
from relaygen.formats import level_to_dict
from relaygen.generate import generate

CLI = [sys.executable, "-m", "relaygen"]


def refused(*args: str) -> str:
    """Run a relaygen command that must be refused; its one error line."""
    run = subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr
    (line,) = [x for x in run.stderr.splitlines() if x.startswith("error:")]
    return line


@pytest.fixture(scope="module")
def flipped(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped Sokoban model saved again (so with a digest), then one byte flipped in the middle."""
    folder = tmp_path_factory.mktemp("models")
    model, meta = load_model(Path(__file__).parent.parent / "relaygen" / "models" / "sokoban.pt")
    data = bytearray(save_model(folder / "model.pt", model, meta).read_bytes())
    data[len(data) // 2] ^= 0x10
    (folder / "flipped.pt").write_bytes(bytes(data))
    return folder / "flipped.pt"


def test_a_saved_model_loads_and_a_flipped_byte_is_refused(flipped: Path) -> None:
    load_model(flipped.with_name("model.pt"))
    with pytest.raises(ModelError, match="damaged model file: its content does not match the digest"):
        load_model(flipped)


@pytest.mark.parametrize(
    "command",
    [
        ["generate", "sokoban", "-n", "1", "--model", "{model}", "--out", "{tmp}/out"],
        ["eval", "{model}", "--episodes", "1"],
        ["train", "sokoban", "--init-from", "{model}", "--steps", "1", "--runs-dir", "{tmp}/runs"],
    ],
)
def test_every_command_refuses_a_flipped_model(command: list[str], flipped: Path, tmp_path: Path) -> None:
    line = refused(*(arg.format(model=flipped, tmp=tmp_path) for arg in command))
    assert line == f"error: {flipped}: damaged model file: its content does not match the digest it was saved with"
    assert not (tmp_path / "out").exists() and not (tmp_path / "runs").exists()


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (lambda: torch.nn.Linear(2, 2), "not a relaygen model file (it holds Python objects relaygen never writes)"),
        (lambda: b"hello", "not a relaygen model file (not a torch file at all)"),
    ],
)
def test_a_file_that_is_no_model_is_named_so(content, reason: str, tmp_path: Path) -> None:
    path = tmp_path / "thing.pt"
    value = content()
    path.write_bytes(value) if isinstance(value, bytes) else torch.save(value, path)
    line = refused("eval", str(path))
    assert line == f"error: {path}: {reason}" and "weights_only" not in line


@pytest.fixture(scope="module")
def level_dict() -> dict:
    return level_to_dict(generate("maze", 1, model="search", seed=0)[0])


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda d: "[" * 100_000 + "]" * 100_000, "JSON nested too deeply to read"),
        (lambda d: json.dumps(d | {"rows": [1, 2, 3]}), "field 'rows': must be a list of text rows (strings)"),
        (lambda d: json.dumps(d | {"pinned": 7}), "field 'pinned': must be a list of text rows (strings)"),
    ],
)
def test_a_broken_level_file_is_one_line(change, reason: str, level_dict: dict, tmp_path: Path) -> None:
    path = tmp_path / "level.json"
    path.write_text(change(level_dict))
    assert refused("playtest", str(path)) == f"error: {path}: {reason}"


def test_a_deeply_nested_train_config_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("x = " + "[" * 100_000 + "]" * 100_000 + "\n")
    assert refused("train", "--config", str(path)) == f"error: {path}: TOML nested too deeply to read"


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ("{tmp}/missing/shot.png", "folder {tmp}/missing does not exist"),
        ("{tmp}/file.txt/shot.png", "{tmp}/file.txt is a file, not a folder"),
        ("{tmp}", "it is a folder"),
        ("/proc/shot.png", "folder /proc does not accept new files"),
    ],
)
def test_a_screenshot_that_cannot_be_written_is_one_line(target: str, reason: str, tmp_path: Path) -> None:
    (tmp_path / "file.txt").write_text("x")
    examples = Path(__file__).parent.parent / "levels" / "examples" / "maze.txt"
    path = target.format(tmp=tmp_path)
    line = refused("play", str(examples), "--screenshot", path)
    assert line == f"error: {path}: cannot write: {reason.format(tmp=tmp_path)}"
