"""RULES lines -> concrete rules: one absolute direction each, objects only (no properties, aggregates,
synonyms, relative or ambiguous movements), in the order PuzzleScript expands and runs them.

A cell is a list of (movement, name) pairs; movement is '' (any), a direction, 'stationary', 'no' or
'...' for an ellipsis cell.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from relaygen.script.errors import ScriptError, unsupported

Cell = list[tuple[str, str]]
Row = list[Cell]

ABSOLUTE = ("up", "down", "left", "right")
DIRECTION_GROUPS = {
    "horizontal": ("left", "right"),
    "horizontal_par": ("left", "right"),
    "horizontal_perp": ("left", "right"),
    "vertical": ("up", "down"),
    "vertical_par": ("up", "down"),
    "vertical_perp": ("up", "down"),
    "moving": ("up", "down", "left", "right", "action"),
    "orthogonal": ("up", "down", "left", "right"),
    "perpendicular": ("^", "v"),
    "parallel": ("<", ">"),
}
_RELATIVE = ("^", "v", "<", ">", "parallel", "perpendicular")
_RELATIVE_TO = {
    "right": ("up", "down", "left", "right", "horizontal_par", "vertical_perp"),
    "up": ("left", "right", "down", "up", "vertical_par", "horizontal_perp"),
    "down": ("right", "left", "up", "down", "vertical_par", "horizontal_perp"),
    "left": ("down", "up", "right", "left", "horizontal_par", "vertical_perp"),
}
CELL_MOVEMENTS = {
    ">", "<", "^", "v", "up", "down", "left", "right", "moving", "stationary", "no", "randomdir", "random",
    "horizontal", "vertical", "orthogonal", "perpendicular", "parallel", "action",
}  # fmt: skip
COMMANDS = {f"sfx{i}" for i in range(11)} | {"cancel", "checkpoint", "restart", "win", "message", "again"}


@dataclass
class RuleDef:
    """One rule line as written, or, after expansion, one concrete rule."""

    line: int
    direction: str
    directions: list[str]
    lhs: list[Row]
    rhs: list[Row]
    late: bool = False
    group: int = 0
    commands: list[tuple[str, str]] = field(default_factory=list)

    def clone(self) -> RuleDef:
        """A copy whose cells can be edited without touching this rule."""
        rows = ([[list(c) for c in row] for row in side] for side in (self.lhs, self.rhs))
        lhs, rhs = rows
        return RuleDef(
            self.line, self.direction, list(self.directions), lhs, rhs, self.late, self.group, list(self.commands)
        )

    def has_ellipsis(self) -> bool:
        return any(cell and cell[0][0] == "..." for row in self.lhs for cell in row)

    def text(self) -> str:
        """What identifies the rule for PuzzleScript's duplicate removal."""
        directed = any(len(row) > 1 for row in self.lhs)
        rows = [" | ".join(" ".join(f"{d} {n}" for d, n in cell) for cell in row) for row in self.lhs + self.rhs]
        return f"{self.line} {self.direction if directed else ''} {self.late} {rows} {len(self.lhs)} {self.commands}"


def _tokens(line: str) -> list[str]:
    line = line.replace("[", " [ ").replace("]", " ] ").replace("|", " | ").replace("->", " -> ").strip()
    if line.startswith("+"):
        line = "+ " + line[1:]
    return line.split()


def parse_rule(text: str, line: int, original: str, names: set[str], previous: RuleDef | None) -> RuleDef | str:
    """One RULES line -> a RuleDef, or 'startloop' / 'endloop' / 'dropped' (a rule PuzzleScript leaves out)."""
    tokens = _tokens(text)
    if tokens in (["startloop"], ["endloop"]):
        return tokens[0]
    if "->" not in tokens:
        raise ScriptError("a rule needs an arrow '->'", line)
    rule = RuleDef(line, "", [], [], [], group=line)
    cell: Cell = []
    row: Row = []
    pending = ""
    in_row = rhs = False
    for i, token in enumerate(tokens):
        if not in_row and not rule.lhs and not rhs and token != "[":
            if token == "+":
                if previous is None or i != 0:
                    raise ScriptError("'+' joins a rule to the previous rule's group; it must come first", line)
                rule.group = previous.group
            elif token in DIRECTION_GROUPS and token in ("horizontal", "vertical", "orthogonal"):
                rule.directions.extend(DIRECTION_GROUPS[token])
            elif token in ABSOLUTE:
                rule.directions.append(token)
            elif token == "late":
                rule.late = True
            elif token in ("rigid", "random"):
                raise unsupported(token, line)
            else:
                raise ScriptError(f"a rule starts with directions, then '['; found '{token}'", line)
            continue
        if token == "[":
            in_row, cell, row = True, [], []
        elif token in ("|", "]") and in_row:
            if pending:
                raise ScriptError("a movement in a rule must act on an object", line)
            row.append(cell)
            cell = []
            if token == "]":
                (rule.rhs if rhs else rule.lhs).append(row)
                in_row = False
        elif token == "->":
            if rhs and not in_row:
                raise ScriptError("a rule has one '->'", line)
            rhs = rhs or not in_row  # PuzzleScript ignores an arrow inside brackets
        elif token in CELL_MOVEMENTS:
            if token in ("random", "randomdir"):
                raise unsupported(token, line)
            if not in_row:
                continue  # PuzzleScript ignores a direction between patterns
            if pending:
                raise ScriptError("an object can only have one movement at a time", line)
            if rule.late and token != "no":
                raise ScriptError("movements cannot appear in late rules", line)
            pending = token
        elif token == "..." and in_row:
            cell.append(("...", "..."))
        elif token in names and in_row:
            if any(n == token and (d, pending) != ("no", "no") for d, n in cell):
                raise ScriptError(f"'{token}' appears more than once in one cell", line)
            cell.append((pending, token))
            pending = ""
        elif token in COMMANDS:
            if not rhs:
                raise ScriptError(f"the command '{token}' belongs after the '->'", line)
            if token == "message":
                start = re.search(r"\bmessage\b", original, re.IGNORECASE)
                rule.commands.append(("message", original[start.end() :].strip() if start else ""))
                break
            rule.commands.append((token, ""))
        elif token == "rigid" or token in names:
            continue  # rigid inside brackets, or a name outside them: PuzzleScript ignores it
        else:
            raise ScriptError(f"'{token}' in a rule is not an object, direction or command", line)
    if not rule.lhs:
        raise ScriptError("a rule needs a pattern in square brackets", line)
    if rule.rhs or not rule.commands:
        if len(rule.lhs) != len(rule.rhs):
            return "dropped"  # PuzzleScript warns and leaves the rule out
        if any(len(a) != len(b) for a, b in zip(rule.lhs, rule.rhs, strict=True)):
            raise ScriptError("each pattern on the left needs one of equal length on the right", line)
    if not rule.directions:
        rule.directions = list(ABSOLUTE)
    if not _directional(rule):
        rule.directions = rule.directions[:1]
    return rule


def _directional(rule: RuleDef) -> bool:
    if any(len(row) > 1 for row in rule.lhs):
        return True
    return any(d in _RELATIVE for row in rule.lhs + rule.rhs for cell in row for d, _ in cell)


class Legend:
    """What the rule expansion needs to know of names: objects' layers, properties, aggregates, synonyms."""

    def __init__(self, layer_of: dict[str, int], properties: dict[str, list[str]], aggregates: dict[str, list[str]], synonyms: dict[str, str]) -> None:  # fmt: skip
        self.layer_of = layer_of
        self.properties = properties
        self.aggregates = aggregates
        self.synonyms = synonyms
        self.single_layer = {
            name: layer_of[objs[0]]
            for name, objs in properties.items()
            if objs and len({layer_of[o] for o in objs}) == 1
        }


def expand(rules: list[RuleDef], legend: Legend) -> list[RuleDef]:
    """Every concrete rule of the game, in PuzzleScript's order, duplicates removed as it removes them."""
    directed = []
    for rule in rules:
        for direction in rule.directions:
            clone = rule.clone()
            clone.direction = direction
            _absolutify(clone)
            _atomize(clone, legend)
            directed.append(clone)
    concrete = []
    for rule in directed:
        for moved in _concretize_movements(rule):
            concrete.extend(_concretize_properties(moved, legend))
    for rule in concrete:
        _spawn_stationary(rule, legend)
    keep: list[RuleDef] = []
    seen: set[str] = set()
    last_group = None
    for rule in reversed(concrete):
        if rule.group != last_group:
            seen = set()
            last_group = rule.group
        key = rule.text()
        if key not in seen:
            seen.add(key)
            keep.append(rule)
    return keep[::-1]


def _cells(rule: RuleDef):
    for row in rule.lhs + rule.rhs:
        yield from row


def _absolutify(rule: RuleDef) -> None:
    table = _RELATIVE_TO[rule.direction]
    for cell in _cells(rule):
        cell[:] = [(table[_RELATIVE.index(d)] if d in _RELATIVE else d, n) for d, n in cell]
    if not rule.has_ellipsis() and rule.direction in ("up", "left"):
        rule.direction = {"up": "down", "left": "right"}[rule.direction]
        for row in rule.lhs + rule.rhs:
            row.reverse()


def _atomize(rule: RuleDef, legend: Legend) -> None:
    for cell in _cells(rule):
        out: Cell = []
        for d, n in cell:
            if n in legend.aggregates:
                if d == "no":
                    raise ScriptError(f"'no' cannot exclude the aggregate '{n}'", rule.line)
                out.extend((d, o) for o in legend.aggregates[n])
            else:
                out.append((d, n))
        cell[:] = [(d, legend.synonyms.get(n, n)) for d, n in out]


def _replace_in_cell(cell: Cell, old_dir: str, name: str | None, new_dir: str) -> None:
    cell[:] = [(new_dir if d == old_dir and (name is None or n == name) else d, n) for d, n in cell]


def _concretize_movements(rule: RuleDef) -> list[RuleDef]:
    """Split ambiguous movements (moving, horizontal, parallel, ...) into concrete ones, as PuzzleScript does."""
    result: list[tuple[RuleDef, dict, dict]] = [(rule, {}, {})]
    i = 0
    while i < len(result):
        cur, by_name, by_dir = result[i]
        produced = False
        for j, row in enumerate(cur.lhs):
            for k, cell in enumerate(row):
                ambiguous = [(n, d) for d, n in cell if d in DIRECTION_GROUPS]
                if not ambiguous:
                    continue
                produced = True
                name, group = ambiguous[0]
                for concrete in DIRECTION_GROUPS[group]:
                    new = cur.clone()
                    names, dirs = {k2: list(v) for k2, v in by_name.items()}, {k2: list(v) for k2, v in by_dir.items()}
                    _replace_in_cell(new.lhs[j][k], group, name, concrete)
                    if new.rhs:
                        _replace_in_cell(new.rhs[j][k], group, name, concrete)
                    entry = names.get(name + group)
                    if entry is None:
                        names[name + group] = [concrete, 1, group, name, j, k]
                    elif (j, k) != (entry[4], entry[5]):
                        entry[1] += 1
                    if group in dirs:
                        dirs[group][1] += 1
                    else:
                        dirs[group] = [concrete, 1]
                    result.append((new, names, dirs))
        if produced:
            del result[i]
        else:
            i += 1
    out = []
    for cur, by_name, by_dir in result:
        for concrete, count, group, name, _, _ in by_name.values():
            if count == 1:
                for cell in (c for row in cur.rhs for c in row):
                    _replace_in_cell(cell, group, name, concrete)
        for group, (concrete, count) in by_dir.items():
            if count == 1:
                for cell in (c for row in cur.rhs for c in row):
                    _replace_in_cell(cell, group, None, concrete)
        if any(d in DIRECTION_GROUPS for row in cur.rhs for cell in row for d, _ in cell):
            raise ScriptError("an ambiguous movement on the right cannot be inferred from the left", rule.line)
        out.append(cur)
    return out


def _concretize_properties(rule: RuleDef, legend: Legend) -> list[RuleDef]:
    """Split properties into their objects where the rule needs it, as PuzzleScript does."""
    props = legend.properties
    for j, row in enumerate(rule.lhs):
        for k, cell in enumerate(row):
            row[k] = [(d, o) for d, n in cell for o in (props[n] if d == "no" and n in props else [n])]
            if rule.rhs:
                rcell = rule.rhs[j][k]
                rule.rhs[j][k] = [(d, o) for d, n in rcell for o in (props[n] if d == "no" and n in props else [n])]
    ambiguous = set()
    for j, row in enumerate(rule.rhs):
        for k, cell in enumerate(row):
            left = {n for _, n in rule.lhs[j][k] if n in props}
            ambiguous |= {n for _, n in cell if n in props and n not in left}
    result: list[tuple[RuleDef, dict]] = [(rule, {})]
    i = 0
    while i < len(result):
        cur, replaced = result[i]
        split = None
        for j, row in enumerate(cur.lhs):
            for k, cell in enumerate(row):
                for _, n in cell:
                    if n in props and (n not in legend.single_layer or n in ambiguous):
                        split = (j, k, n)
                        break
                if split:
                    break
            if split:
                break
        if split is None:
            i += 1
            continue
        j, k, prop = split
        for concrete in props[prop]:
            new = cur.clone()
            counts = {key: list(v) for key, v in replaced.items()}
            new.lhs[j][k] = [(d, concrete if n == prop else n) for d, n in new.lhs[j][k]]
            if new.rhs:
                new.rhs[j][k] = [(d, concrete if n == prop else n) for d, n in new.rhs[j][k]]
            counts.setdefault(prop, [concrete, 0])[1] += 1
            result.append((new, counts))
        del result[i]
    out = []
    for cur, replaced in result:
        for prop, (concrete, count) in replaced.items():
            if count == 1:
                for row in cur.rhs:
                    for k, cell in enumerate(row):
                        row[k] = [(d, concrete if n == prop else n) for d, n in cell]
        if any(n in ambiguous for row in cur.rhs for cell in row for _, n in cell):
            raise ScriptError("a property on the right cannot be inferred from the left", rule.line)
        out.append(cur)
    return out


def _spawn_stationary(rule: RuleDef, legend: Legend) -> None:
    """An object a rule creates on a layer the left side did not hold starts stationary."""
    if rule.late:
        return
    for j, row in enumerate(rule.rhs):
        for k, cell in enumerate(row):
            left = [o for _, n in rule.lhs[j][k] for o in legend.properties.get(n, [n]) if o in legend.layer_of]
            layers = {legend.layer_of[o] for o in left}
            for idx, (d, n) in enumerate(cell):
                if d or n in legend.properties or n in left or n not in legend.layer_of:
                    continue
                if legend.layer_of[n] not in layers:
                    cell[idx] = ("stationary", n)
