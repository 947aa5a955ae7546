"""Level files: JSON (canonical, lossless, versioned), plain text maps, and XSB for push games.

Every writer is atomic; every reader names the file and the line or field of what it cannot read.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from relaygen.files import atomic_write
from relaygen.level import Level, LevelError
from relaygen.rules import Rules, RulesError, builtin_names, load_rules, parse_rules

FORMAT_ID = "relaygen-level"
VERSION = 1
SUFFIXES = {".json": "json", ".txt": "txt", ".xsb": "xsb"}
XSB_FLOOR = " -_"
XSB_CHARS = "#@+$*." + XSB_FLOOR
NOT_LEVELS = {"ratings.json", "index.json", "summary.json", "run.json"}
"""JSON files that may sit beside levels in a folder without being levels."""


# ----- JSON ------------------------------------------------------------------------------------------


def level_to_dict(level: Level) -> dict[str, Any]:
    """The canonical JSON form: rules (name, digest, full text), rows, legend, pins, legs, meta."""
    rules = level.rules
    return {
        "format": FORMAT_ID,
        "version": VERSION,
        "name": level.name,
        "rules": {"name": rules.name, "digest": rules.digest, "toml": rules.to_toml()},
        "legend": {t.char: t.name for t in rules.tiles},
        "rows": level.rows(),
        "pinned": None if level.pinned is None else ["".join("x" if p else "." for p in row) for row in level.pinned],
        "legs": level.legs,
        "meta": level.meta,
    }


def level_from_dict(data: Any, origin: str, rules: Rules | None = None) -> Level:
    """A level from its JSON form; ``rules`` overrides the rules recorded in the file."""
    if not isinstance(data, dict) or data.get("format") != FORMAT_ID:
        raise LevelError(f"{origin}: not a relaygen level file (field 'format' must be {FORMAT_ID!r})")
    if data.get("version") != VERSION:
        raise LevelError(f"{origin}: field 'version': unsupported version {data.get('version')!r} (expected {VERSION})")
    for key, kind in (("rows", list), ("rules", dict), ("meta", dict), ("name", str), ("legs", str)):
        if not isinstance(data.get(key), kind):
            raise LevelError(f"{origin}: field {key!r}: missing or not a {kind.__name__}")
    for key in ("rows", "pinned"):
        rows = data.get(key) or []
        if not isinstance(rows, list) or not all(isinstance(row, str) for row in rows):
            raise LevelError(f"{origin}: field {key!r}: must be a list of text rows (strings)")
    rules = rules or _recorded_rules(data["rules"], origin)
    try:
        level = Level.from_rows(rules, data["rows"], legs=data["legs"], name=data["name"], meta=data["meta"])
        if data.get("pinned") is not None:
            pinned = np.array([[c == "x" for c in row] for row in data["pinned"]], dtype=bool)
            level = Level(rules, level.grid, pinned, level.legs, level.name, level.meta)
    except LevelError as exc:
        raise LevelError(f"{origin}: field 'rows'/'pinned': {exc}") from exc
    return level


def _recorded_rules(record: dict, origin: str) -> Rules:
    """The rules a level file records: the built-in of that name if unchanged, else the embedded text."""
    name, digest = record.get("name"), record.get("digest")
    if name in builtin_names():
        builtin = load_rules(name)
        if builtin.digest == digest or "toml" not in record:
            return builtin
    if not isinstance(record.get("toml"), str):
        raise LevelError(f"{origin}: field 'rules': unknown ruleset {name!r} and no embedded 'toml'")
    try:
        return parse_rules(record["toml"], f"{origin} (embedded rules)")
    except RulesError as exc:
        raise LevelError(str(exc)) from exc


# ----- text maps -------------------------------------------------------------------------------------------


def levels_to_text(levels: list[Level]) -> str:
    """Text maps separated by blank lines, with ``; key: value`` header lines."""
    blocks = [f"; rules: {levels[0].rules.name}"] if levels else []
    for level in levels:
        head = [f"; name: {level.name}"] if level.name else []
        head += [f"; legs: {level.legs}"] if level.legs else []
        blocks.append("\n".join(head + level.rows()))
    return "\n\n".join(blocks) + "\n"


def levels_from_text(text: str, origin: str, rules: Rules | None = None) -> list[Level]:
    """Levels from text maps; the rules come from ``rules`` or a ``; rules: NAME`` header."""
    levels: list[Level] = []
    for first_line, header, rows in _blocks(text):
        if "rules" in header and rules is None:
            rules = _rules_named(header["rules"], origin)
        if not rows:
            continue
        if rules is None:
            raise LevelError(f"{origin}: no '; rules: NAME' line and no rules given (use --rules)")
        try:
            levels.append(Level.from_rows(rules, rows, legs=header.get("legs", ""), name=header.get("name", "")))
        except LevelError as exc:
            raise LevelError(f"{origin}: level starting at line {first_line}: {exc}") from exc
    return levels


def _rules_named(name: str, origin: str) -> Rules:
    try:
        return load_rules(name)
    except RulesError as exc:
        raise LevelError(f"{origin}: '; rules: {name}': {exc}") from exc


def _blocks(text: str) -> list[tuple[int, dict[str, str], list[str]]]:
    """Split text into (first line number, header fields, rows) blocks at blank lines."""
    blocks: list[tuple[int, dict[str, str], list[str]]] = []
    header: dict[str, str] = {}
    rows: list[str] = []
    start = 1
    for number, line in enumerate([*text.splitlines(), ""], start=1):
        stripped = line.rstrip("\r\n")
        if stripped.startswith(";"):
            key, sep, value = stripped[1:].partition(":")
            header[key.strip() if sep else "title"] = value.strip() if sep else stripped[1:].strip()
        elif stripped.strip():
            if not rows:
                start = number
            rows.append(stripped)
        elif rows or header:
            if rows:
                blocks.append((start, header, rows))
                header = {}
            rows = []
    if header:
        blocks.append((start, header, []))
    return blocks


# ----- XSB -------------------------------------------------------------------------------------------------


def levels_to_xsb(levels: list[Level]) -> str:
    """Push-game levels in XSB, each after a ``; title`` line."""
    blocks = []
    for i, level in enumerate(levels, start=1):
        rules = level.rules
        if rules.mechanic != "push":
            raise LevelError(f"XSB holds push-game levels; rules {rules.name!r} use mechanic {rules.mechanic!r}")
        chars = np.array([_xsb_char(rules.properties_of(t)) for t in range(len(rules.tiles))])
        rows = ["".join(row).rstrip() for row in chars[level.grid]]
        blocks.append("\n".join([f"; {level.name or i}", *rows]))
    return "\n\n".join(blocks) + "\n"


def _xsb_char(props: frozenset[str]) -> str:
    for need, char in (("solid", "#"), ("player", "+@"), ("pushable", "*$"), ("goal", ".")):
        if need in props:
            return char[0] if len(char) == 1 or "goal" in props else char[1]
    return " "


def levels_from_xsb(text: str, origin: str, rules: Rules | None = None) -> list[Level]:
    """Levels from an XSB collection (``;`` comment and title lines, blank-line separated)."""
    rules = rules or load_rules("sokoban")
    if rules.mechanic != "push":
        raise LevelError(f"{origin}: XSB needs push-game rules; {rules.name!r} use {rules.mechanic!r}")
    table = {"#": {"solid"}, "@": {"player"}, "+": {"player", "goal"}, "$": {"pushable"}, "*": {"pushable", "goal"}}
    table["."] = {"goal"}
    index = {c: rules.by_properties.get(frozenset(p)) for c, p in table.items()}
    index |= dict.fromkeys(XSB_FLOOR, rules.by_properties.get(frozenset()))
    levels = []
    titles: list[str] = []
    for first_line, header, rows in _blocks(text):
        titles = [*titles, header.get("title", "")] if header or not rows else titles
        while rows and "#" not in rows[0] and set(rows[0]) - set(XSB_CHARS):
            titles.append(rows.pop(0).strip().strip("'\""))
            first_line += 1
        if not rows:
            continue
        width = max(len(r) for r in rows)
        grid = np.zeros((len(rows), width), dtype=np.uint8)
        for y, row in enumerate(rows):
            for x, c in enumerate(row.ljust(width)):
                if c not in XSB_CHARS:
                    raise LevelError(f"{origin}: line {first_line + y}, column {x + 1}: {c!r} is not an XSB character")
                if index[c] is None:
                    raise LevelError(f"{origin}: rules {rules.name!r} have no tile for XSB {c!r}")
                grid[y, x] = index[c]
        _wall_outside(rules, grid)
        name = " ".join(t for t in titles if t) or f"{Path(origin).stem} {len(levels) + 1}"
        titles = []
        levels.append(Level(rules, grid, name=name))
    return levels


def _wall_outside(rules: Rules, grid: np.ndarray) -> None:
    """Turn the empty floor outside a level's walls (reachable from the map's edge) into wall."""
    from scipy import ndimage

    floor, wall = rules.by_properties.get(frozenset()), rules.by_properties[frozenset({"solid"})]
    empty = grid == floor
    labels, _ = ndimage.label(empty)
    edge = set(np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))) - {0}
    grid[np.isin(labels, list(edge))] = wall


# ----- files ---------------------------------------------------------------------------------------------------


def level_files(path: str | Path) -> list[Path]:
    """The level files a path names: itself, or every level file of a folder in name order."""
    path = Path(path)
    if not path.is_dir():
        return [path]
    return [p for p in sorted(path.iterdir()) if p.suffix.lower() in SUFFIXES and p.name not in NOT_LEVELS]


def read_levels(path: str | Path, rules: Rules | None = None) -> list[Level]:
    """All levels in a file (.json, .txt, .xsb) or in every level file of a folder, in name order."""
    path = Path(path)
    if path.is_dir():
        return [level for f in level_files(path) for level in read_levels(f, rules)]
    if not path.exists():
        raise LevelError(f"{path}: no such file or folder")
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise LevelError(f"{path}: unknown level file type {path.suffix!r} (use {', '.join(SUFFIXES)})")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LevelError(f"{path}: cannot read: {exc}") from exc
    if kind == "json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise LevelError(f"{path}: line {exc.lineno}, column {exc.colno}: invalid JSON: {exc.msg}") from exc
        except RecursionError:
            raise LevelError(f"{path}: JSON nested too deeply to read") from None
        level = level_from_dict(data, str(path), rules)
        level.name = level.name or path.stem
        return [level]
    levels = (levels_from_text if kind == "txt" else levels_from_xsb)(text, str(path), rules)
    for i, level in enumerate(levels, start=1):
        level.name = level.name or (path.stem if len(levels) == 1 else f"{path.stem} {i}")
    return levels


def dump_levels(levels: list[Level], kind: str) -> str:
    """Levels as the text of a ``kind`` file (json holds exactly one level)."""
    if kind == "json":
        if len(levels) != 1:
            raise LevelError(f"a JSON level file holds one level, not {len(levels)}")
        return json.dumps(level_to_dict(levels[0]), indent=1, sort_keys=True) + "\n"
    if kind == "txt":
        return levels_to_text(levels)
    if kind == "xsb":
        return levels_to_xsb(levels)
    raise LevelError(f"unknown level format {kind!r} (use json, txt, xsb)")


def write_levels(levels: list[Level], path: str | Path, kind: str | None = None) -> Path:
    """Write levels atomically; the format comes from ``kind`` or the file's suffix."""
    path = Path(path)
    kind = kind or SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise LevelError(f"{path}: cannot tell the format from suffix {path.suffix!r}")
    return atomic_write(path, dump_levels(levels, kind))
