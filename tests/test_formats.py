"""Level files: every format round-trips, writes are atomic, bad files get a clear error."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relaygen.files import atomic_write
from relaygen.formats import dump_levels, level_to_dict, read_levels, write_levels
from relaygen.level import Level, LevelError
from relaygen.mechanics import get_mechanic
from relaygen.rules import builtin_names, load_rules, parse_rules

NAMES = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789 -", max_size=12).map(str.strip)


@st.composite
def levels(draw: st.DrawFn, rules_name: str, bordered: bool = False) -> Level:
    rules = load_rules(rules_name)
    h, w = draw(st.integers(3, 9)), draw(st.integers(3, 9))
    grid = np.array(draw(st.lists(st.integers(0, len(rules.tiles) - 1), min_size=h * w, max_size=h * w)))
    grid = grid.reshape(h, w)
    if bordered:
        wall = rules.tile_index["wall"]
        grid[0, :] = grid[-1, :] = grid[:, 0] = grid[:, -1] = wall
    pinned = draw(st.none() | st.lists(st.booleans(), min_size=h * w, max_size=h * w))
    legs = draw(st.text(alphabet="udlr", max_size=6))
    meta = draw(st.dictionaries(st.sampled_from(["seed", "difficulty", "model"]), st.integers(0, 99)))
    payload = get_mechanic(rules.mechanic).read_payload({"legs": legs}, "drawn")
    return Level(rules, grid, None if pinned is None else np.array(pinned).reshape(h, w), payload, draw(NAMES), meta)


FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.mark.parametrize("name", builtin_names())
@given(data=st.data())
@FAST
def test_json_round_trip_is_lossless(name: str, data: st.DataObject, tmp_path: Path) -> None:
    level = data.draw(levels(name))
    path = write_levels([level], tmp_path / "level.json")
    (back,) = read_levels(path)
    assert back == level or (not level.name and back.name == "level")


@pytest.mark.parametrize("name", builtin_names())
@given(data=st.data())
@FAST
def test_text_round_trip_keeps_grid_name_and_payload(name: str, data: st.DataObject, tmp_path: Path) -> None:
    batch = [data.draw(levels(name)) for _ in range(data.draw(st.integers(1, 3)))]
    path = write_levels(batch, tmp_path / "levels.txt")
    back = read_levels(path)
    assert len(back) == len(batch)
    for a, b in zip(batch, back, strict=True):
        assert np.array_equal(a.grid, b.grid) and a.payload == b.payload
        assert b.name == (a.name or b.name) and b.rules.digest == a.rules.digest


@given(data=st.data())
@FAST
def test_xsb_round_trip(data: st.DataObject, tmp_path: Path) -> None:
    batch = [data.draw(levels("sokoban", bordered=True)) for _ in range(data.draw(st.integers(1, 3)))]
    path = write_levels(batch, tmp_path / "levels.xsb")
    back = read_levels(path)
    assert [b.grid.tolist() for b in back] == [a.grid.tolist() for a in batch]


def test_microban_reads_155_levels_with_titles(data_dir: Path) -> None:
    levels_ = read_levels(data_dir / "microban.xsb")
    assert len(levels_) == 155
    assert levels_[0].name == "1" and levels_[154].name.startswith("155")
    first = levels_[0]
    assert first.rows()[3] == "#*@--#"
    assert first.count("box") + first.count("box_on_goal") == first.count("goal") + first.count("box_on_goal")
    # floor outside the walls becomes wall, so the level is one closed room
    assert first.rows()[0] == "######"


def test_user_rules_travel_inside_the_json_file(tmp_path: Path) -> None:
    text = load_rules("maze").to_toml().replace('name = "maze"', 'name = "my_maze"')
    rules = parse_rules(text)
    level = Level.from_rows(rules, ["#####", "#S.E#", "#####"], name="mine")
    path = write_levels([level], tmp_path / "mine.json")
    (back,) = read_levels(path)
    assert back.rules.name == "my_maze" and back == level


def test_free_cells_in_text_maps_become_unpinned() -> None:
    rules = load_rules("maze")
    level = Level.from_rows(rules, ["#####", "#S?E#", "#####"])
    assert level.pinned is not None
    assert level.pinned.sum() == 14 and not level.pinned[1, 2]


BAD_FILES = {
    "bad.json": ('{\n  "format": "relaygen-level",\n  oops\n}', "bad.json: line 3, column 3: invalid JSON"),
    "foreign.json": ('{"hello": 1}', "foreign.json: not a relaygen level file"),
    "version.json": ('{"format": "relaygen-level", "version": 9}', "field 'version': unsupported version 9"),
    "norules.txt": ("#####\n#S.E#\n#####\n", "'S' is not an XSB character (a .txt file without a '; rules: NAME' line"),
    "badchar.txt": ("; rules: maze\n\n#####\n#S.E#\n##z##\n", "line 3, column 3: 'z' is not a tile of maze"),
    "ragged.txt": ("; rules: maze\n#####\n#S.E#\n###\n", "rows have different lengths"),
    "badchar.xsb": ("; 1\n#####\n#@$.#\n#####\n#  x#\n", "badchar.xsb: line 5, column 4: 'x' is not an XSB character"),
    "level.png": ("", "unknown level file type '.png'"),
    "empty.xsb": ("", "empty.xsb: no levels in this file (XSB)"),
    "empty.txt": ("\n\n", "empty.txt: no levels in this file (XSB)"),
    "empty-maze.txt": ("; rules: maze\n", "empty-maze.txt: no levels in this file (text maps)"),
    "prose.xsb": ("These are my levels.\nI hope # you like them!\n", "prose.xsb: no levels in this file (XSB)"),
    "badrow.sok": ("Level 1\n#x###\n#@$.#\n#####\n", "badrow.sok: line 2, column 2: 'x' is not an XSB character"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_malformed_file_gets_clear_error(name: str, tmp_path: Path) -> None:
    text, reason = BAD_FILES[name]
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(LevelError) as info:
        read_levels(path)
    assert reason in str(info.value)
    assert str(path) in str(info.value)


def test_folder_without_level_files_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "notes.md").write_text("levels to come")
    with pytest.raises(LevelError, match=f"{tmp_path}: no level files"):
        read_levels(tmp_path)


def test_json_level_with_bad_row_names_the_field(tmp_path: Path) -> None:
    level = Level.from_rows(load_rules("maze"), ["#####", "#S.E#", "#####"])
    data = json.loads(dump_levels([level], "json"))
    data["rows"][1] = "#S?Z#"
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(data))
    with pytest.raises(LevelError, match=r"edited.json: field 'rows'/'pinned': line 2, column 4: 'Z'"):
        read_levels(path)


def test_folder_reads_every_level_file_and_skips_ratings(tmp_path: Path) -> None:
    rules = load_rules("maze")
    for i in range(3):
        write_levels([Level.from_rows(rules, ["#####", "#S.E#", "#####"], name=f"l{i}")], tmp_path / f"{i}.json")
    (tmp_path / "ratings.json").write_text("{}")
    assert [lv.name for lv in read_levels(tmp_path)] == ["l0", "l1", "l2"]


def test_atomic_write_leaves_old_file_when_interrupted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "out.txt"
    atomic_write(path, "old")

    def boom(src: str, dst: str) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(KeyboardInterrupt):
        atomic_write(path, "new" * 1000)
    assert path.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


# ----- public collections ---------------------------------------------------------------------------------

COLLECTIONS = {
    "microban.xsb": 155,
    "boxoban-medium-valid-000-first50.txt": 50,
    "boxoban-hard-000-first200.txt": 200,
    "microban-sample.sok": 5,
}


@pytest.mark.parametrize("name", sorted(COLLECTIONS))
@pytest.mark.parametrize("kind", ["xsb", "txt"])
def test_collection_round_trips(name: str, kind: str, data_dir: Path, tmp_path: Path) -> None:
    levels_ = read_levels(data_dir / name)
    assert len(levels_) == COLLECTIONS[name]
    back = read_levels(write_levels(levels_, tmp_path / f"copy.{kind}"))
    if kind == "xsb":  # XSB keeps the names and the SOK metadata too
        assert back == levels_
    else:
        assert [(b.name, b.grid.tolist()) for b in back] == [(a.name, a.grid.tolist()) for a in levels_]


def test_boxoban_txt_is_read_as_sokoban(data_dir: Path) -> None:
    levels_ = read_levels(data_dir / "boxoban-hard-000-first200.txt")
    assert [lv.name for lv in levels_[:3]] == ["0", "1", "2"] and levels_[-1].name == "199"
    assert all(lv.rules.name == "sokoban" and lv.count("box") + lv.count("box_on_goal") == 4 for lv in levels_)
    assert all(lv.grid.shape == (10, 10) for lv in levels_)


def test_sok_titles_authors_comments_and_run_length_rows(data_dir: Path) -> None:
    sok = read_levels(data_dir / "microban-sample.sok")
    microban = read_levels(data_dir / "microban.xsb")[:5]
    assert [lv.grid.tolist() for lv in sok] == [lv.grid.tolist() for lv in microban]
    assert [lv.name for lv in sok] == [f"Microban {i}" for i in range(1, 6)]
    assert all(lv.meta["sok"]["Author"] == "David W. Skinner" for lv in sok)
    assert sok[0].meta["sok"]["Comment"] == "one box is already home"
    assert sok[1].meta["sok"]["Comment"] == "Written with - floors.\nThree boxes, two of them on goals."
    assert sok[3].meta == {"sok": {"Author": "David W. Skinner"}}  # not the collection's own Title/Author


def test_xsb_writes_sok_metadata_lines() -> None:
    level = Level.from_rows(load_rules("sokoban"), ["#####", "#@$.#", "#####"], name="tiny")
    level.meta = {"sok": {"Author": "me", "Comment": "two\nlines"}, "seed": 3, "model": "search"}
    assert (
        dump_levels([level], "xsb") == "; tiny\n#####\n#@$.#\n#####\nAuthor: me\nComment:\ntwo\nlines\nComment-End:\n"
    )


def test_json_has_no_infinity_and_old_files_still_read(tmp_path: Path) -> None:
    level = Level.from_rows(load_rules("sokoban"), ["#####", "#@$.#", "#####"], name="tiny")
    level.meta = {"report": {"targets": {"pushes": [2.0, float("inf")]}}}
    text = dump_levels([level], "json")

    def strict(constant: str) -> None:
        raise ValueError(f"not strict JSON: {constant}")

    assert json.loads(text, parse_constant=strict)["meta"]["report"]["targets"]["pushes"] == [2.0, None]
    old = tmp_path / "old.json"
    old.write_text(json.dumps(level_to_dict(level)))  # as written before: Infinity
    assert "Infinity" in old.read_text()
    assert read_levels(old)[0].meta["report"]["targets"]["pushes"] == [2.0, float("inf")]


@given(text=st.text(alphabet="#@+$*. -_|0123456789;:\nTitleAuthorComment-End'x", max_size=300))
@FAST
def test_any_xsb_text_reads_or_gets_a_level_error(text: str, tmp_path: Path) -> None:
    path = tmp_path / "any.xsb"
    path.write_text(text)
    try:
        levels_ = read_levels(path)
    except LevelError as exc:
        assert str(exc).startswith(str(path))
    else:
        assert levels_ and all(lv.name for lv in levels_)
