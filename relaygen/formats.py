"""Level files: JSON (canonical, lossless, versioned), plain text maps, and XSB for push games (datasets
of many levels in shards, JSON lines and Boxoban's text files, are :mod:`relaygen.datasets`'s).

Every writer is atomic; every reader names the file and the line or field of what it cannot read.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from relaygen.files import atomic_write
from relaygen.level import Level, LevelError
from relaygen.mechanics import get_mechanic
from relaygen.mechanics.script import is_script, script_levels
from relaygen.rules import Rules, RulesError, builtin_names, load_rules, parse_rules

FORMAT_ID = "relaygen-level"
VERSION = 1
SUFFIXES = {".json": "json", ".txt": "txt", ".xsb": "xsb", ".sok": "xsb", ".jsonl": "jsonl"}
XSB_FLOOR = " -_"
XSB_CHARS = "#@+$*." + XSB_FLOOR
RULES_LINE = re.compile(r"^;\s*rules:[ \t]*(.*?)\s*$", re.MULTILINE)
"""The header line that names a file's rules; it makes a .txt file a relaygen text map (without it, a .txt
is read as XSB)."""
XSB_RULES = "sokoban"
"""The rules of an XSB file that names none."""
NOT_LEVELS = {"ratings.json", "index.json", "summary.json", "run.json", "game.txt"}
"""Files that may sit beside levels in a folder without being levels of their own (``game.txt``: the
PuzzleScript game a ``--format puzzlescript`` run writes, holding the run's levels again)."""


# ----- JSON ------------------------------------------------------------------------------------------


def level_to_dict(level: Level) -> dict[str, Any]:
    """The canonical JSON form: rules (name, digest, full text and the text of the files the game is
    made of, e.g. a script), rows, legend, pins, the mechanic's payload fields, meta."""
    rules = level.rules
    sources = rules.sources()
    return {
        "format": FORMAT_ID,
        "version": VERSION,
        "name": level.name,
        "rules": {"name": rules.name, "digest": rules.digest, "toml": rules.to_toml()}
        | ({"sources": sources} if sources else {}),
        "legend": {t.char: t.name for t in rules.tiles},
        "rows": level.rows(),
        "pinned": None if level.pinned is None else ["".join("x" if p else "." for p in row) for row in level.pinned],
        "meta": level.meta,
    } | payload_fields(level)


V1_PAYLOAD = {"legs": ""}
"""Version 1 level files carry a ``legs`` field on every level, empty where the mechanic keeps no
payload, so that files written before payloads belonged to their mechanic are written byte for byte
as before (run folders verify files by digest)."""


def payload_fields(level: Level) -> dict[str, str]:
    """The fields a level file holds for the level's payload (see :data:`V1_PAYLOAD`)."""
    return V1_PAYLOAD | ({} if level.payload is None else level.payload.fields())


def level_from_dict(data: Any, origin: str, rules: Rules | None = None, known: dict[str, Rules] | None = None) -> Level:
    """A level from its JSON form, with the rules it records (``rules`` only when it names rules
    that are neither a built-in nor embedded); ``known`` keeps the rules already read by their
    record, for a file of many levels that record the same."""
    if not isinstance(data, dict) or data.get("format") != FORMAT_ID:
        raise LevelError(f"{origin}: not a relaygen level file (field 'format' must be {FORMAT_ID!r})")
    if data.get("version") != VERSION:
        raise LevelError(f"{origin}: field 'version': unsupported version {data.get('version')!r} (expected {VERSION})")
    for key, kind in (("rows", list), ("rules", dict), ("meta", dict), ("name", str)):
        if not isinstance(data.get(key), kind):
            raise LevelError(f"{origin}: field {key!r}: missing or not a {kind.__name__}")
    for key in ("rows", "pinned"):
        rows = data.get(key) or []
        if not isinstance(rows, list) or not all(isinstance(row, str) for row in rows):
            raise LevelError(f"{origin}: field {key!r}: must be a list of text rows (strings)")
    key = json.dumps(data["rules"], sort_keys=True) if known is not None else ""
    rules = known[key] if known and key in known else _recorded_rules(data["rules"], origin, rules)
    if known is not None:
        known[key] = rules
    try:
        payload = get_mechanic(rules.mechanic).read_payload(data, origin)
        level = Level.from_rows(rules, data["rows"], payload=payload, name=data["name"], meta=data["meta"])
        if data.get("pinned") is not None:
            pinned = np.array([[c == "x" for c in row] for row in data["pinned"]], dtype=bool)
            level = Level(rules, level.grid, pinned, level.payload, level.name, level.meta)
    except LevelError as exc:
        raise LevelError(f"{origin}: field 'rows'/'pinned': {exc}") from exc
    return level


def _recorded_rules(record: dict, origin: str, given: Rules | None = None) -> Rules:
    """The rules a level file records: the built-in of that name if unchanged, else the embedded
    text, else ``given``."""
    name, digest = record.get("name"), record.get("digest")
    if name in builtin_names():
        builtin = load_rules(name)
        if builtin.digest == digest or "toml" not in record:
            return builtin
    if not isinstance(record.get("toml"), str) and given is not None:
        return given
    if not isinstance(record.get("toml"), str):
        raise LevelError(f"{origin}: field 'rules': unknown ruleset {name!r} and no embedded 'toml'")
    try:
        sources = record.get("sources") or {}
        if not isinstance(sources, dict) or not all(isinstance(v, str) for v in sources.values()):
            raise LevelError(f"{origin}: field 'rules.sources': must map file names to their text")
        return parse_rules(record["toml"], f"{origin} (embedded rules)", sources=sources)
    except RulesError as exc:
        raise LevelError(str(exc)) from exc


# ----- text maps -------------------------------------------------------------------------------------------


def levels_to_text(levels: list[Level], rules_ref: str | None = None) -> str:
    """Text maps separated by blank lines, with ``; key: value`` header lines; ``; rules:`` gives
    ``rules_ref`` (default: the rules' name). A mechanic with a language of its own writes the
    collection in it instead (a PuzzleScript game with these levels)."""
    own = get_mechanic(levels[0].rules.mechanic).collection_text(levels) if levels else None
    if own is not None:
        return own
    blocks = [f"; rules: {rules_ref or levels[0].rules.name}"] if levels else []
    for level in levels:
        head = [f"; name: {level.name}"] if level.name else []
        head += [f"; {key}: {value}" for key, value in payload_fields(level).items() if value]
        blocks.append("\n".join(head + level.rows()))
    return "\n\n".join(blocks) + "\n"


def levels_from_text(text: str, origin: str, rules: Rules | None = None) -> list[Level]:
    """Levels from text maps; the rules come from a ``; rules: NAME`` header, else ``rules``."""
    levels: list[Level] = []
    for first_line, header, rows in _blocks(text):
        if "rules" in header:
            rules = _rules_named(header["rules"], origin)
        if not rows:
            continue
        if rules is None:
            raise LevelError(f"{origin}: no '; rules: NAME' line and no rules given (use --rules)")
        try:
            payload = get_mechanic(rules.mechanic).read_payload(header, origin)
            levels.append(Level.from_rows(rules, rows, payload=payload, name=header.get("name", "")))
        except LevelError as exc:
            raise LevelError(f"{origin}: level starting at line {first_line}: {exc}") from exc
    return levels


def _rules_named(name: str, origin: str) -> Rules:
    """The rules a ``; rules:`` line of file ``origin`` names: a built-in, or a rules file, looked
    for beside ``origin`` first (as NAME and NAME.toml)."""
    folder = Path(origin).parent
    beside = [folder / name, folder / f"{name}.toml"]
    source = name if name in builtin_names() else next((str(p) for p in beside if p.is_file()), name)
    try:
        return load_rules(source)
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


# ----- XSB and SOK -------------------------------------------------------------------------------------------

XSB_BOARD = re.compile(r"(?:\d{0,3}[#@+$*. _|-])+")
"""A board row: XSB characters, ``|`` between run-length encoded rows, counts before a character."""
XSB_KEY = re.compile(r"([A-Za-z][\w-]*):[ \t]*(.*)")
"""A SOK ``Key: value`` line after a board (``Title:``, ``Author:``, ``Comment:`` ...)."""


def levels_to_xsb(levels: list[Level], rules_ref: str | None = None) -> str:
    """Push-game levels in XSB, each after a ``; title`` line and before its SOK lines (``meta["sok"]``);
    rules other than the built-in sokoban (the XSB default) are named by a first ``; rules: RULES_REF`` line."""
    ref = rules_ref or (levels[0].rules.name if levels else XSB_RULES)
    blocks = [] if ref == XSB_RULES else [f"; rules: {ref}"]
    for i, level in enumerate(levels, start=1):
        blocks.append("\n".join([f"; {level.name or i}", *xsb_rows(level), *_sok_lines(level.meta.get("sok", {}))]))
    return "\n\n".join(blocks) + "\n"


def xsb_rows(level: Level) -> list[str]:
    """A push-game level's rows in XSB characters (:func:`require_format` says which rules have them)."""
    rules = level.rules
    require_format(rules, "xsb")
    chars = np.array([_xsb_char(rules.properties_of(t)) for t in range(len(rules.tiles))])
    return ["".join(row).rstrip() for row in chars[level.grid]]


def _sok_lines(fields: dict[str, str]) -> list[str]:
    """SOK fields as lines: ``Key: value``, or ``Key:`` ... ``Key-End:`` around a value of several lines."""
    lines: list[str] = []
    for key, value in fields.items():
        lines += [f"{key}:", *value.splitlines(), f"{key}-End:"] if "\n" in value else [f"{key}: {value}"]
    return lines


def require_format(rules: Rules, kind: str) -> None:
    """Raise :class:`LevelError` unless levels of ``rules`` can be written as ``kind`` (their mechanic's
    ``level_formats``: XSB holds push games only)."""
    formats = get_mechanic(rules.mechanic).level_formats
    if kind not in formats:
        raise LevelError(
            f"{kind.upper()} cannot hold levels of rules {rules.name!r} (mechanic {rules.mechanic!r}); "
            f"their formats: {', '.join(formats)}"
        )


def _xsb_char(props: frozenset[str]) -> str:
    for need, char in (("solid", "#"), ("player", "+@"), ("pushable", "*$"), ("goal", ".")):
        if need in props:
            return char[0] if len(char) == 1 or "goal" in props else char[1]
    return " "


@dataclass
class _Board:
    """One board of an XSB/SOK file as read: its rows, its title and SOK metadata."""

    rows: list[str]
    title: str
    meta: dict[str, str] = field(default_factory=dict)


def _xsb_boards(text: str, origin: str) -> list[_Board]:
    """The boards of an XSB/SOK collection with their titles (the text before) and ``Key: value`` lines (after)."""
    lines = [line.rstrip() for line in text.splitlines()]
    boards: list[_Board] = []
    paragraph: list[str] = []
    title = ""
    i = 0
    while i < len(lines):
        line = lines[i]
        key = XSB_KEY.fullmatch(line)
        if _is_board(line):
            start = i
            while i < len(lines) and _is_board(lines[i]):
                i += 1
            rows = [row for raw in lines[start:i] for row in _run_length(raw)]
            boards.append(_Board(rows, " ".join(paragraph) or title))
            paragraph, title = [], ""
            if i < len(lines) and "#" in lines[i] and not (lines[i].startswith(";") or XSB_KEY.fullmatch(lines[i])):
                raise _bad_char(origin, i, lines[i])
            continue
        if key:  # after a board, its metadata; before the first, the collection's (not kept)
            i = _read_key(lines, i, key, boards[-1].meta if boards else {})
            continue
        if RULES_LINE.match(line):  # the rules (levels_from_xsb reads them), not a title
            i += 1
            continue
        if not line.strip():
            title, paragraph = " ".join(paragraph) or title, []
        elif line.lstrip(";").strip():
            paragraph.append(line.lstrip(";").strip().strip("'\""))
            if i + 1 < len(lines) and "#" in line and not line.startswith(";") and _is_board(lines[i + 1]):
                raise _bad_char(origin, i, line)
        i += 1
    return boards


def _is_board(line: str) -> bool:
    return "#" in line and XSB_BOARD.fullmatch(line) is not None


def _run_length(line: str) -> list[str]:
    """A board line's rows: run-length counts expanded, ``|`` splitting rows."""
    expanded = re.sub(r"(\d+)(\D)", lambda m: m[2] * int(m[1]), line)
    return expanded.split("|")


def _read_key(lines: list[str], i: int, key: re.Match[str], meta: dict[str, str]) -> int:
    """Read the SOK ``Key: value`` at line ``i`` into ``meta``; return the line after it.

    ``Key:`` alone starts a block of lines that ends at ``Key-End:`` (or, without one, at a blank line)."""
    name, value = key[1], key[2].strip()
    if value:
        meta[name] = value
        return i + 1
    ends = {f"{name.lower()}-end:", f"{name.lower()}_end:"}
    stop = next((j for j in range(i + 1, len(lines)) if lines[j].strip().lower() in ends or _is_board(lines[j])), None)
    if stop is not None and not _is_board(lines[stop]):
        meta[name] = "\n".join(lines[i + 1 : stop]).strip()
        return stop + 1
    stop = next((j for j in range(i + 1, len(lines)) if not lines[j].strip()), len(lines))
    meta[name] = "\n".join(lines[i + 1 : stop]).strip()
    return stop


def _bad_char(origin: str, i: int, line: str) -> LevelError:
    """The error for a line beside a board that is not a board row (a count with no character ends it)."""
    column = next((x for x, c in enumerate(line) if c not in XSB_CHARS + "#|0123456789"), len(line) - 1)
    return LevelError(f"{origin}: line {i + 1}, column {column + 1}: {line[column]!r} is not an XSB character")


def levels_from_xsb(text: str, origin: str, rules: Rules | None = None) -> list[Level]:
    """Levels from an XSB or SOK collection: ``;`` and title lines before each board, SOK
    ``Title:``/``Author:``/``Comment:`` lines after it (the title names the level, the others go to
    ``meta["sok"]``, as written: ``{"Author": ...}``). The rules are those a ``; rules:`` line
    names, else ``rules``, else the built-in sokoban."""
    named = RULES_LINE.search(text)
    rules = _rules_named(named[1], origin) if named else rules or load_rules(XSB_RULES)
    try:
        require_format(rules, "xsb")
    except LevelError as exc:
        raise LevelError(f"{origin}: {exc}") from None
    table = {"#": {"solid"}, "@": {"player"}, "+": {"player", "goal"}, "$": {"pushable"}, "*": {"pushable", "goal"}}
    table["."] = {"goal"}
    index = {c: rules.by_properties.get(frozenset(p)) for c, p in table.items()}
    index |= dict.fromkeys(XSB_FLOOR, rules.by_properties.get(frozenset()))
    levels = []
    for board in _xsb_boards(text, origin):
        width = max(len(r) for r in board.rows)
        grid = np.zeros((len(board.rows), width), dtype=np.uint8)
        for y, row in enumerate(board.rows):
            for x, c in enumerate(row.ljust(width)):
                if index[c] is None:
                    raise LevelError(f"{origin}: rules {rules.name!r} have no tile for XSB {c!r}")
                grid[y, x] = index[c]
        _wall_outside(rules, grid)
        title = next((board.meta.pop(k) for k in list(board.meta) if k.lower() == "title"), "")
        levels.append(Level(rules, grid, name=title or board.title, meta={"sok": board.meta} if board.meta else {}))
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
    """The level files a path names: itself, or every level file of a folder in name order (regular
    files only: a pipe or device named like a level would block the reader)."""
    path = Path(path)
    if not path.is_dir():
        return [path]
    files = [
        p for p in sorted(path.iterdir()) if p.suffix.lower() in SUFFIXES and p.name not in NOT_LEVELS and p.is_file()
    ]
    if not files:
        raise LevelError(f"{path}: no level files ({', '.join(SUFFIXES)}) in this folder")
    return files


def read_levels(path: str | Path, rules: Rules | None = None) -> list[Level]:
    """All levels in a file (.json, .txt, .xsb, .jsonl) or in every level file of a folder, in name order."""
    path = Path(path)
    if path.is_dir():
        return [level for f in level_files(path) for level in read_levels(f, rules)]
    if not path.exists():
        raise LevelError(f"{path}: no such file or folder")
    if not path.is_file():
        raise LevelError(f"{path}: not a regular file (a level file or a folder of them)")
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise LevelError(f"{path}: unknown level file type {path.suffix!r} (use {', '.join(SUFFIXES)})")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LevelError(f"{path}: cannot read: {exc}") from exc
    if kind == "json":
        level = level_from_dict(parse_json(text, str(path)), str(path), rules)
        level.name = level.name or path.stem
        return [level]
    if kind in ("jsonl", "txt"):
        from relaygen.datasets import read_shard

        shard = read_shard(path, text, rules)
        if shard is not None:
            return shard
    if kind == "txt" and is_script(text):
        return script_levels(path, rules)
    if (
        kind == "txt"
        and (rules is None or "xsb" in get_mechanic(rules.mechanic).level_formats)
        and not RULES_LINE.search(text)
    ):
        kind = "xsb"  # a Sokoban collection in a .txt file, as Boxoban's
        try:
            levels = levels_from_xsb(text, str(path), rules)
        except LevelError as exc:
            raise LevelError(f"{exc} (a .txt file without a '; rules: NAME' line is read as XSB)") from exc
    else:
        levels = (levels_from_text if kind == "txt" else levels_from_xsb)(text, str(path), rules)
    if not levels:
        raise LevelError(f"{path}: no levels in this file ({'XSB' if kind == 'xsb' else 'text maps'})")
    for i, level in enumerate(levels, start=1):
        level.name = level.name or (path.stem if len(levels) == 1 else f"{path.stem} {i}")
    return levels


def parse_json(text: str, origin: str, first_line: int = 1) -> Any:
    """The JSON value ``text`` holds; a :class:`LevelError` names ``origin`` and the line (counted from
    ``first_line``) and column of what cannot be read."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno + first_line - 1}, column {exc.colno}"
        raise LevelError(f"{origin}: {where}: invalid JSON: {exc.msg}") from None
    except RecursionError:
        raise LevelError(f"{origin}: JSON nested too deeply to read") from None


def dump_levels(levels: list[Level], kind: str, rules_ref: str | None = None) -> str:
    """Levels as the text of a ``kind`` file (json holds exactly one level); text and XSB files hold
    levels of one ruleset and name it as ``rules_ref`` (default: the rules' name)."""
    mixed = {level.rules.digest: level for level in levels}
    if len(mixed) > 1:
        first, other = list(mixed.values())[:2]
        raise LevelError(
            f"one {kind} file holds levels of one ruleset; {first.name or 'a level'} is of rules "
            f"{first.rules.name!r}, {other.name or 'another'} of rules {other.rules.name!r} (collect them apart)"
        )
    if kind == "json":
        if len(levels) != 1:
            raise LevelError(f"a JSON level file holds one level, not {len(levels)}")
        return json.dumps(json_ready(level_to_dict(levels[0])), indent=1, sort_keys=True, allow_nan=False) + "\n"
    if kind == "txt":
        return levels_to_text(levels, rules_ref)
    if kind == "xsb":
        return levels_to_xsb(levels, rules_ref)
    raise LevelError(f"unknown level format {kind!r} (use json, txt, xsb)")


def json_ready(value: Any) -> Any:
    """``value`` with every infinite or NaN float replaced by None: JSON has no Infinity (an
    unbounded target is written ``null``; readers take both)."""
    if isinstance(value, dict):
        return {k: json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    return None if isinstance(value, float) and not math.isfinite(value) else value


def write_levels(levels: list[Level], path: str | Path, kind: str | None = None, durable: bool = True) -> Path:
    """Write levels atomically; the format comes from ``kind`` or the file's suffix. Text and XSB
    files of rules other than an unchanged built-in get a copy of the rules beside them (see
    :func:`rules_beside`), so that they can be read back anywhere."""
    path = Path(path)
    kind = kind or SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise LevelError(f"{path}: cannot tell the format from suffix {path.suffix!r}")
    named = kind in ("txt", "xsb") and bool(levels)
    ref = rules_beside(levels[0].rules, path.parent, durable) if named else None
    return atomic_write(path, dump_levels(levels, kind, ref), durable)


def rules_beside(rules: Rules, folder: Path, durable: bool = True) -> str:
    """How a text or XSB file in ``folder`` names ``rules``: an unchanged built-in by its name, other
    rules by the name of their copy in ``folder`` (NAME.toml, or NAME-DIGEST.toml when NAME.toml holds
    other rules), which is written unless it is there."""
    if rules.name in builtin_names() and load_rules(rules.name) == rules:
        return rules.name
    copy = folder / f"{rules.name}.toml"
    if copy.exists() and _digest_of(copy) != rules.digest:
        copy = folder / f"{rules.name}-{rules.digest}.toml"
    if _digest_of(copy) != rules.digest:
        atomic_write(copy, rules.to_toml(), durable)
    return copy.name


def _digest_of(path: Path) -> str | None:
    """The digest of the rules file ``path``, or None when there is none or it cannot be read."""
    try:
        return load_rules(path).digest if path.is_file() else None
    except RulesError:
        return None
