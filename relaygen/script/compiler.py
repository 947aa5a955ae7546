"""Parsed sections -> a compiled game: object ids and layers, legend glyphs, levels as bit grids, and each
concrete rule as per-cell object/movement bit masks (PuzzleScript's CellPattern/CellReplacement).

Bits: object i is bit i of a cell's object mask; a cell's movement mask holds 5 bits per collision layer
(up 1, down 2, left 4, right 8, action 16, shifted by 5 * layer).
"""

from __future__ import annotations

from dataclasses import dataclass

from relaygen.script import rules as R
from relaygen.script.errors import ScriptError
from relaygen.script.parser import Source

DIR_BITS = {"": 0, "up": 1, "down": 2, "left": 4, "right": 8, "action": 16}
DIR_STEP = {"up": (-1, 0), "down": (1, 0), "left": (0, -1), "right": (0, 1)}
LAYER_BITS = 0x1F


@dataclass(frozen=True)
class Pattern:
    """One cell of a rule's left side, with what its right side writes there (replace is None if nothing)."""

    obj_all: int
    obj_none: int
    obj_any: tuple[int, ...]
    mov_all: int
    mov_none: int
    replace: tuple[int, int, int, int] | None  # (objects cleared, objects set, movements cleared, movements set)

    def matches(self, obj: int, mov: int) -> bool:
        """Whether a cell (object mask, movement mask) matches this pattern."""
        return (
            obj & self.obj_all == self.obj_all
            and not obj & self.obj_none
            and all(obj & a for a in self.obj_any)
            and mov & self.mov_all == self.mov_all
            and not mov & self.mov_none
        )


@dataclass(frozen=True)
class Rule:
    """A concrete rule: rows of patterns (None marks an ellipsis) scanned in one direction."""

    line: int
    direction: str
    rows: tuple[tuple[Pattern | None, ...], ...]
    commands: tuple[tuple[str, str], ...]
    has_replacements: bool
    obj_mask: int
    mov_mask: int


@dataclass(frozen=True)
class WinCondition:
    """`quantifier name (on other)`: quantifier is 'all', 'some' or 'no'; masks with their aggregate flags."""

    quantifier: str
    name: str
    on: str | None
    mask: int
    aggregate: bool
    on_mask: int
    on_aggregate: bool
    line: int


@dataclass(frozen=True)
class Level:
    """A LEVELS entry: a message, or rows of cell object masks (row-major)."""

    line: int
    message: str | None
    glyph_rows: tuple[str, ...]
    cells: tuple[tuple[int, ...], ...]


def _loop_points(loops: list[tuple[int, int]], groups: list[list[Rule]]) -> dict[int, int]:
    points: dict[int, int] = {}
    for start, end in zip(loops[0::2], loops[1::2], strict=False):
        first = -1
        for gi, group in enumerate(groups):
            line = group[0].line
            if end[0] < line:
                break
            if start[0] <= line <= end[0]:
                if first == -1:
                    first = gi
                if points.get(gi - 1) == first:
                    del points[gi - 1]
                points[gi] = first
    return points


class Compiler:
    """Turns a parsed Source into the tables the engine and the Game read."""

    def __init__(self, src: Source) -> None:
        self.src = src
        self.layers: list[list[str]] = []
        layer_of: dict[str, int] = {}
        for index, (names, _) in enumerate(src.layers):
            for name in names:
                layer_of[name] = index
        for name, obj in src.objects.items():
            if name not in layer_of:
                raise ScriptError(f"object '{name}' is not in any collision layer", obj.line)
        self.layers = [[n for n in names if layer_of[n] == i] for i, (names, _) in enumerate(src.layers)]
        self.names = [n for layer in self.layers for n in dict.fromkeys(layer)]
        self.bit = {n: 1 << i for i, n in enumerate(self.names)}
        self.layer_of = layer_of
        self.layer_masks = [sum(self.bit[n] for n in set(layer)) for layer in self.layers]
        self.properties: dict[str, list[str]] = {}
        self.aggregates: dict[str, list[str]] = {}
        self.synonyms: dict[str, str] = {}
        for entry in src.legend:
            kind, final, found = src.resolve(entry.name)
            if kind == "object":
                self.synonyms[entry.name] = final
            elif kind == "or":
                self.properties[entry.name] = list(found.items)
            elif kind == "and":
                self.aggregates[entry.name] = list(found.items)
        self.legend = R.Legend(layer_of, self.properties, self.aggregates, self.synonyms)

    def mask(self, name: str) -> int:
        """The objects a name may mean (an object, synonym, property or aggregate)."""
        name = self.synonyms.get(name, name)
        members = self.properties.get(name) or self.aggregates.get(name) or [name]
        return sum(self.bit[o] for o in members)

    def glyphs(self) -> dict[str, tuple[str, ...]]:
        """One-character names usable in levels -> the objects each one places."""
        out: dict[str, tuple[str, ...]] = {}
        for name in list(self.src.objects) + [e.name for e in self.src.legend]:
            kind, final, entry = self.src.resolve(name)
            if len(name) == 1 and name not in out and kind in ("object", "and"):
                out[name] = tuple(entry.items) if entry is not None else (final,)
        return out

    def background(self) -> int:
        name = self.synonyms.get("background", "background")
        if name in self.aggregates:
            raise ScriptError("background cannot be an aggregate (declared with 'and')")
        return self.bit[self.properties.get(name, [name])[0]]

    def levels(self) -> list[Level]:
        glyphs = {g: sum(self.bit[o] for o in objs) for g, objs in self.glyphs().items()}
        background = self.background()
        back_layer = next(m for m in self.layer_masks if m & background)
        out = []
        for entry in self.src.levels:
            if entry.message is not None:
                out.append(Level(entry.line, entry.message, (), ()))
                continue
            width = len(entry.rows[0])
            rows = [(r + r[-1] * width)[:width] for r in entry.rows]
            for y, row in enumerate(rows):
                for ch in row:
                    if ch not in glyphs:
                        why = "is a property ('or'), ambiguous" if ch in self.properties else "is not in the legend"
                        raise ScriptError(f"level symbol '{ch}' {why}", entry.line + y)
            cells = [[glyphs[ch] for ch in row] for row in rows]
            found = [cells[y][x] & back_layer for x in range(width) for y in range(len(rows))]
            fill = next((f for f in found if f), background)
            cells = [[c if c & back_layer else c | fill for c in row] for row in cells]
            out.append(Level(entry.line, None, tuple(rows), tuple(tuple(r) for r in cells)))
        return out

    def win_conditions(self) -> list[WinCondition]:
        out = []
        for words, line in self.src.win_conditions:
            quantifier = {"any": "some"}.get(words[0], words[0])
            if (
                quantifier not in ("all", "some", "no")
                or len(words) not in (2, 4)
                or (len(words) == 4 and words[2] != "on")
            ):
                raise ScriptError("win conditions look like 'all X on Y', 'some X (on Y)' or 'no X (on Y)'", line)
            masks = []
            for name in words[1::2]:
                if self.legend_kind(name) == "undeclared":
                    raise ScriptError(f"win condition names '{name}', which is not defined", line)
                masks.append((self.mask(name), self.synonyms.get(name, name) in self.aggregates))
            on_mask, on_agg = masks[1] if len(masks) == 2 else ((1 << len(self.names)) - 1, False)
            on = words[3] if len(words) == 4 else None
            out.append(WinCondition(quantifier, words[1], on, masks[0][0], masks[0][1], on_mask, on_agg, line))
        return out

    def legend_kind(self, name: str) -> str:
        return self.src.resolve(name)[0]

    def rules(self) -> tuple[list[list[Rule]], list[list[Rule]], dict[int, int], dict[int, int]]:
        """(rule groups, late rule groups, loop points, late loop points)."""
        names = set(self.src.objects) | {e.name for e in self.src.legend}
        defs: list[R.RuleDef] = []
        loops: list[tuple[int, int]] = []
        for text, line, original in self.src.rules:
            parsed = R.parse_rule(text, line, original, names, defs[-1] if defs else None)
            if parsed == "dropped":
                continue
            if isinstance(parsed, str):
                if (parsed == "startloop") == (len(loops) % 2 == 1):
                    raise ScriptError(f"{parsed} without its partner (loops cannot nest)", line)
                loops.append((line, 1 if parsed == "startloop" else -1))
            else:
                defs.append(parsed)
        if len(loops) % 2:
            raise ScriptError("startloop without endloop", loops[-1][0])
        early: dict[int, list[Rule]] = {}
        late: dict[int, list[Rule]] = {}
        for rule in R.expand(defs, self.legend):
            compiled = self._compile(rule)
            if compiled is not None:
                (late if rule.late else early).setdefault(rule.group, []).append(compiled)
        groups = [early[k] for k in sorted(early)]
        late_groups = [late[k] for k in sorted(late)]
        return groups, late_groups, _loop_points(loops, groups), _loop_points(loops, late_groups)

    def _layer(self, name: str, line: int) -> int:
        if name in self.layer_of:
            return self.layer_of[name]
        if name in self.legend.single_layer:
            return self.legend.single_layer[name]
        raise ScriptError(f"'{name}' is not assigned to a layer", line)

    def _compile(self, rule: R.RuleDef) -> Rule | None:
        rows = []
        discard = False
        obj_mask = mov_mask = 0
        for j, row in enumerate(rule.lhs):
            patterns: list[Pattern | None] = []
            ellipses = 0
            for k, cell in enumerate(row):
                if any(d == "..." for d, _ in cell):
                    if len(cell) != 1 or k in (0, len(row) - 1):
                        raise ScriptError("an ellipsis stands alone, between two cells", rule.line)
                    ellipses += 1
                    patterns.append(None)
                    continue
                pattern, clash = self._pattern(rule, cell, rule.rhs[j][k] if rule.rhs else None)
                if pattern is None:
                    return None
                discard |= clash
                obj_mask |= pattern.obj_all
                mov_mask |= pattern.mov_all
                patterns.append(pattern)
            if ellipses > 2:
                raise ScriptError("at most two ellipses in one pattern", rule.line)
            rows.append(tuple(patterns))
        if discard:
            return None
        return Rule(rule.line, rule.direction, tuple(rows), tuple(rule.commands), bool(rule.rhs), obj_mask, mov_mask)

    def _pattern(self, rule: R.RuleDef, cell: R.Cell, rcell: R.Cell | None) -> tuple[Pattern | None, bool]:
        present = missing = mov_all = mov_none = obj_layers = 0
        anys: list[int] = []
        used: dict[int, str] = {}
        clash = False
        for d, n in cell:
            layer = self._layer(n, rule.line)
            if d == "no":
                missing |= self.mask(n)
                continue
            clash |= layer in used
            used[layer] = n
            shift = 5 * layer
            if n in self.bit:
                present |= self.bit[n]
                obj_layers |= LAYER_BITS << shift
            else:
                anys.append(self.mask(n))
            if d == "stationary":
                mov_none |= LAYER_BITS << shift
            else:
                mov_all |= DIR_BITS[d] << shift
        if present & missing:
            return None, False
        replace = None
        if rcell is not None:
            replace = self._replacement(rule, rcell, used, present, mov_all, obj_layers, clash)
        return Pattern(present, missing, tuple(anys), mov_all, mov_none, replace), clash

    def _replacement(self, rule, rcell, used_left, present, mov_all, obj_layers_left, clash):
        clear = put = mclear = mset = obj_layers = layer_moves = 0
        used: dict[int, str] = {}
        for d, n in rcell:
            if d == "...":
                break
            layer = self._layer(n, rule.line)
            if d == "no":
                clear |= self.mask(n)
                continue
            if layer in used and not clash:
                raise ScriptError(f"'{n}' and '{used[layer]}' share a layer and cannot be in one cell", rule.line)
            used[layer] = n
            shift = 5 * layer
            if d:
                layer_moves |= LAYER_BITS << shift
            if n in self.bit:
                put |= self.bit[n]
                clear |= self.layer_masks[layer]
                obj_layers |= LAYER_BITS << shift
            if d == "stationary":
                mclear |= LAYER_BITS << shift
            else:
                mset |= DIR_BITS[d] << shift
        if present & ~put:
            clear |= present
        if mov_all & ~mset:
            mclear |= mov_all
        for layer in used_left:
            if layer not in used:
                clear |= self.layer_masks[layer]
                layer_moves |= LAYER_BITS << (5 * layer)
        layer_moves |= obj_layers_left & ~obj_layers
        if not (clear or put or mclear or mset or layer_moves):
            return None
        return (clear, put, mclear | layer_moves, mset)
