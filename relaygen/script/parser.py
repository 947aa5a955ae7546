"""PuzzleScript source text -> its sections, as written (names lowercased, as PuzzleScript reads them).

Comments are nested parentheses and may span lines; text after a `message` is never a comment. The
parser checks names as PuzzleScript's editor does (a legend line may only use names declared before it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from relaygen.script.errors import ScriptError, unsupported

SECTIONS = ("objects", "legend", "sounds", "collisionlayers", "rules", "winconditions", "levels")
VALUE_KEYS = (
    "title", "author", "homepage", "background_color", "text_color", "key_repeat_interval", "realtime_interval",
    "again_interval", "flickscreen", "zoomscreen", "color_palette", "youtube",
)  # fmt: skip
FLAG_KEYS = (
    "run_rules_on_level_start", "norepeat_action", "require_player_movement", "debug", "verbose_logging",
    "throttle_movement", "noundo", "noaction", "norestart", "scanline",
)  # fmt: skip
_MIXED_CASE_KEYS = ("title", "author", "homepage")
_WORD = re.compile(r"[^\W]+", re.UNICODE)
_SPRITE_CHARS = set(".0123456789")


@dataclass
class ObjectDef:
    """One OBJECTS entry: its colour tokens and sprite rows ('.' transparent, digits index the colours)."""

    name: str
    line: int
    colors: list[str] = field(default_factory=list)
    sprite: list[str] = field(default_factory=list)


@dataclass
class LegendEntry:
    """`name = a`, `name = a and b ...` (kind 'and', objects) or `name = a or b ...` (kind 'or', objects)."""

    name: str
    kind: str  # "synonym", "and" or "or"
    items: list[str]
    line: int


@dataclass
class LevelEntry:
    """A LEVELS entry: a message, or glyph rows (lowercased) starting at `line`."""

    line: int
    message: str | None = None
    rows: list[str] = field(default_factory=list)


@dataclass
class Source:
    """Every section of a PuzzleScript game, in source order."""

    metadata: dict[str, str] = field(default_factory=dict)
    metadata_lines: dict[str, int] = field(default_factory=dict)
    objects: dict[str, ObjectDef] = field(default_factory=dict)
    legend: list[LegendEntry] = field(default_factory=list)
    layers: list[tuple[list[str], int]] = field(default_factory=list)
    rules: list[tuple[str, int, str]] = field(default_factory=list)  # (lowercased text, line, original line)
    win_conditions: list[tuple[list[str], int]] = field(default_factory=list)
    levels: list[LevelEntry] = field(default_factory=list)

    def lookup(self, name: str) -> LegendEntry | ObjectDef | None:
        """The object or legend entry that defines a name (synonyms not followed)."""
        if name in self.objects:
            return self.objects[name]
        for entry in self.legend:
            if entry.name == name:
                return entry
        return None

    def resolve(self, name: str) -> tuple[str, str, LegendEntry | None]:
        """(kind, final name, entry) following synonym chains: kind is 'object', 'and', 'or' or 'undeclared'."""
        seen = set()
        while name not in seen:
            seen.add(name)
            found = self.lookup(name)
            if isinstance(found, ObjectDef):
                return "object", name, None
            if found is None:
                return "undeclared", name, None
            if found.kind != "synonym":
                return found.kind, name, found
            name = found.items[0]
        return "undeclared", name, None


def _split_comment(text: str, depth: int) -> tuple[list[str], int]:
    """The pieces of a line outside comments, and the comment depth at its end."""
    if not depth and "(" not in text and ")" not in text:
        return [text], 0
    pieces, start = [], 0
    for i, ch in enumerate(text):
        if ch == "(":
            if depth == 0:
                pieces.append(text[start:i])
            depth += 1
        elif ch == ")" and depth > 0:
            depth -= 1
            if depth == 0:
                start = i + 1
    if depth == 0:
        pieces.append(text[start:])
    return pieces, depth


class _Parser:
    def __init__(self) -> None:
        self.src = Source()
        self.section = ""
        self.depth = 0
        self.object: ObjectDef | None = None
        self.object_stage = 0  # 0 name, 1 just named, 2 colours read, 3 reading sprite
        self.level: LevelEntry | None = None

    def feed(self, number: int, raw: str) -> None:
        lower = raw.lower()
        opened_in_comment = self.depth > 0
        if self.section == "levels" and not opened_in_comment and "(" not in lower and ")" not in lower:
            row = lower.strip()  # the common case, a plain level row or blank line
            if not row:
                self._blank()
                return
            if not row.startswith(("message", "=")):
                self._levels(number, row, raw)
                return
        if self.section in ("rules", "levels") and not opened_in_comment:
            message = self._message_start(lower)
            if message is not None:
                self._message(number, raw, lower, message)
                return
        if not opened_in_comment and lower.lstrip().startswith(")"):
            return  # a stray ')': PuzzleScript warns and skips the line
        pieces, self.depth = _split_comment(lower, self.depth)
        if not pieces:
            return  # wholly inside a comment
        text = pieces[0] if self.section in ("rules", "levels", "winconditions", "") else " ".join(pieces)
        if self.section == "levels" and len(pieces) == 1 and opened_in_comment and not pieces[0].strip():
            return
        stripped = text.strip()
        if not stripped:
            if not opened_in_comment and not lower.strip():
                self._blank()
            return
        if self.section != "levels":
            head = stripped.split()[0] if stripped else ""
            if head in SECTIONS and stripped == head:
                self._enter(head, number)
                return
            if stripped.startswith("="):
                return
        elif set(stripped) <= {"="}:
            return
        handler = getattr(self, f"_{self.section or 'prelude'}")
        handler(number, stripped, raw)

    def _message_start(self, lower: str) -> int | None:
        """Where a message's text starts on this line, if the line carries one outside comments."""
        if self.section == "levels":
            m = re.match(r"\s*message", lower)
            return m.end() if m else None
        depth_free = lower.split("(", 1)[0]
        m = re.search(r"(?:^|[\s\]|])message(?:\s|$)", depth_free)
        return m.end() if m else None

    def _message(self, number: int, raw: str, lower: str, start: int) -> None:
        if self.section == "levels":
            self._end_level()
            self.src.levels.append(LevelEntry(number, message=raw[start:].strip()))
            return
        self.src.rules.append((lower.split("(", 1)[0].strip(), number, raw))

    def _blank(self) -> None:
        if self.section == "objects":
            self.object_stage = 0
        elif self.section == "levels":
            self._end_level()

    def _end_level(self) -> None:
        if self.level is not None and self.level.rows:
            self.src.levels.append(self.level)
        self.level = None

    def _enter(self, section: str, number: int) -> None:
        if section in SECTIONS[: SECTIONS.index(self.section) + 1 if self.section else 0]:
            raise ScriptError(f"section {section.upper()} appears twice or out of order", number)
        self.section = section
        self.object_stage = 0

    def _prelude(self, number: int, text: str, raw: str) -> None:
        key, _, value = text.partition(" ")
        key = key.strip()
        if key in VALUE_KEYS:
            if key in _MIXED_CASE_KEYS:
                value = raw.split("(", 1)[0].strip()[len(key) :]
            self.src.metadata[key] = value.strip()
            self.src.metadata_lines[key] = number
            if key == "realtime_interval":
                raise unsupported("realtime_interval", number)
        elif key in FLAG_KEYS:
            self.src.metadata[key] = "true"
            self.src.metadata_lines[key] = number

    def _objects(self, number: int, text: str, raw: str) -> None:
        if self.object_stage == 1:
            self.object_stage = 2
            assert self.object is not None
            self.object.colors = text.split()
            return
        if self.object_stage == 2 and text[0] in _SPRITE_CHARS and self.object is not None:
            self.object.sprite = [text]
            self.object_stage = 3
            return
        if self.object_stage == 3 and text[0] in _SPRITE_CHARS and self.object is not None:
            self.object.sprite.append(text)
            if len(self.object.sprite) == 5:
                self.object_stage = 0
            return
        first = _WORD.match(text)
        if first is None:
            return  # PuzzleScript skips such junk with a warning
        name, names = first.group(), text[first.end() :].split()
        if name in self.src.objects:
            raise ScriptError(f"object '{name}' defined twice", number)
        self.object = ObjectDef(name, number)
        self.src.objects[name] = self.object
        for alias in names:
            self.src.legend.append(LegendEntry(alias, "synonym", [name], number))
        self.object_stage = 1

    def _legend(self, number: int, text: str, raw: str) -> None:
        lhs, eq, rhs = text.partition("=")
        name, words = lhs.strip(), rhs.split()
        if not eq or not name or " " in name or not words or len(words) % 2 == 0:
            raise ScriptError("legend lines look like 'A = B', 'A = B and C ...' or 'A = B or C ...'", number)
        items, joins = words[0::2], set(words[1::2])
        if joins - {"and", "or"} or len(joins) > 1:
            raise ScriptError("a legend line joins its names with only 'and' or only 'or'", number)
        for item in items:
            if item == name or self.src.resolve(item)[0] == "undeclared":
                raise ScriptError(f"legend entry '{name}' uses '{item}', which is not defined before it", number)
        if not joins:
            self.src.legend.append(LegendEntry(name, "synonym", items, number))
            return
        kind = joins.pop()
        flat: list[str] = []
        for item in items:
            found, final, entry = self.src.resolve(item)
            if kind == "and" and found == "or":
                raise ScriptError(f"aggregate '{name}' cannot contain the property '{item}'", number)
            if kind == "or" and found == "and":
                raise ScriptError(f"property '{name}' cannot contain the aggregate '{item}'", number)
            for obj in entry.items if entry is not None else [final]:
                if obj not in flat:
                    flat.append(obj)
        self.src.legend.append(LegendEntry(name, kind, flat, number))

    def _sounds(self, number: int, text: str, raw: str) -> None:
        """Sounds change nothing in play."""

    def _collisionlayers(self, number: int, text: str, raw: str) -> None:
        layer: list[str] = []
        for word in text.replace(",", " ").split():
            found, final, entry = self.src.resolve(word)
            if found == "undeclared":
                raise ScriptError(f"cannot add '{word}' to a collision layer: it is not defined", number)
            if found == "and":
                raise ScriptError(f"'{word}' is an aggregate and cannot go in one collision layer", number)
            layer.extend(o for o in (entry.items if entry is not None else [final]) if o not in layer)
        self.src.layers.append((layer, number))

    def _rules(self, number: int, text: str, raw: str) -> None:
        self.src.rules.append((text, number, raw))

    def _winconditions(self, number: int, text: str, raw: str) -> None:
        self.src.win_conditions.append((text.split(), number))

    def _levels(self, number: int, text: str, raw: str) -> None:
        if self.level is None:
            self.level = LevelEntry(number)
        self.level.rows.append(text)


def parse(text: str) -> Source:
    """Split a PuzzleScript source into its sections; ScriptError for what PuzzleScript rejects outright."""
    parser = _Parser()
    for number, raw in enumerate(text.split("\n"), start=1):
        parser.feed(number, raw.rstrip("\r"))
    parser._end_level()
    src = parser.src
    if not src.objects:
        raise ScriptError("no OBJECTS section (or it is empty)")
    for name in ("player", "background"):
        if src.resolve(name)[0] == "undeclared":
            raise ScriptError(f"there must be an object or legend entry called {name}")
    if not src.layers:
        raise ScriptError("no collision layers defined")
    return src
