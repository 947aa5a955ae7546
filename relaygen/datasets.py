"""Datasets at scale: a run's levels in shards, as JSON lines (every game) or Boxoban's text files (push games).

A shard holds consecutive levels of a run, in index order. ``--format jsonl`` writes shards of
10,000 levels, ``levels-00000.jsonl`` onwards, one level a line: the level's JSON form (as a level
file holds it: rows, legend, meta with rules, model, seed and report), with an unchanged built-in's
rules named rather than embedded. ``--format boxoban`` writes Boxoban's own layout, shards of 1,000
levels, ``000.txt`` onwards: each level a ``; N`` line (N from 0 in each file), its XSB rows and a
blank line. Those files carry no meta; the run's manifest (``run.json``) beside them holds it, and
a shard read in its run folder gets it back (rules, model, seed, index and asked difficulty).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from relaygen.formats import (
    json_ready,
    level_from_dict,
    level_to_dict,
    levels_from_xsb,
    parse_json,
    require_format,
    xsb_rows,
)
from relaygen.level import Level, LevelError
from relaygen.rules import Rules, builtin_names, load_rules

MANIFEST = "run.json"
"""A run folder's manifest: what its files depend on (see :mod:`relaygen.runfolder`)."""
SHARDS = "shards"
"""The manifest's field of written shards: file name → ``{"sha256": ..., "levels": ...}``."""
SHARD_SIZES = {"jsonl": 10_000, "boxoban": 1_000}
"""Levels per shard, by dataset format."""


def is_dataset(kind: str) -> bool:
    """Whether ``kind`` is a dataset format (levels in shards) rather than one file per level."""
    return kind in SHARD_SIZES


def check_dataset_format(kind: str, rules: Rules) -> None:
    """Raise :class:`LevelError` when levels of ``rules`` cannot be written as ``kind`` (Boxoban's
    files hold push games only)."""
    if kind == "boxoban":
        try:
            require_format(rules, "xsb")
        except LevelError:
            raise LevelError(
                f"--format boxoban: Boxoban's text files hold push-game levels; rules {rules.name!r} are of "
                f"mechanic {rules.mechanic!r} (use --format jsonl, which holds every game)"
            ) from None


# ----- shard names ---------------------------------------------------------------------------------------


def shard_count(kind: str, n: int, size: int) -> int:
    """How many shards of ``size`` levels hold a run of ``n`` levels."""
    return -(-n // size)


def shard_name(kind: str, number: int, n: int, size: int) -> str:
    """The file name of shard ``number`` of a run of ``n`` levels in shards of ``size``:
    ``levels-00000.jsonl``; Boxoban's ``000.txt``, with more digits when a run has more than 1,000
    shards (names sort in order)."""
    if kind == "jsonl":
        return f"levels-{number:05d}.jsonl"
    return f"{number:0{max(3, len(str(shard_count(kind, n, size) - 1)))}d}.txt"


def shard_number(name: str, manifest: dict[str, Any]) -> int | None:
    """The number of the shard of the dataset run ``manifest`` whose file is ``name``, or None."""
    kind, n, size = manifest["level_format"], manifest["n"], manifest["shard_size"]
    found = re.fullmatch(r"levels-(\d+)\.jsonl" if kind == "jsonl" else r"(\d+)\.txt", name)
    if found is None or not isinstance(n, int) or not isinstance(size, int) or size < 1:
        return None
    number = int(found[1])
    return number if number < shard_count(kind, n, size) and shard_name(kind, number, n, size) == name else None


def shard_levels(number: int, n: int, size: int) -> range:
    """The level indexes shard ``number`` holds."""
    return range(number * size, min(n, (number + 1) * size))


# ----- shard text ----------------------------------------------------------------------------------------


def shard_entry(level: Level, kind: str, position: int, named: bool) -> str:
    """One level's text in a shard (its line, or its Boxoban block at ``position`` in the file);
    ``named``: its rules are an unchanged built-in, named in a line rather than embedded."""
    if kind == "boxoban":
        return "\n".join([f"; {position}", *xsb_rows(level)]) + "\n\n"
    data = level_to_dict(level)
    if named:
        data["rules"] = {"name": level.rules.name, "digest": level.rules.digest}
    return json.dumps(json_ready(data), sort_keys=True, separators=(",", ":"), allow_nan=False) + "\n"


def is_builtin(rules: Rules) -> bool:
    """Whether ``rules`` are a built-in ruleset, unchanged (a line may name them)."""
    return rules.name in builtin_names() and load_rules(rules.name) == rules


def read_shard(path: Path, text: str, rules: Rules | None = None) -> list[Level] | None:
    """The levels of a dataset shard: a ``.jsonl`` file, or a Boxoban text file of a run folder whose
    manifest says so (its levels named and given their meta from the manifest); None for another
    ``.txt`` file."""
    if path.suffix.lower() == ".jsonl":
        return _jsonl_levels(path, text, rules)
    manifest = _manifest(path.parent)
    if manifest is None or manifest["level_format"] != "boxoban":
        return None
    number = shard_number(path.name, manifest)
    if number is None:
        return None
    levels = levels_from_xsb(text, str(path), rules or _recorded_rules(manifest, path))
    for index, level in zip(shard_levels(number, manifest["n"], manifest["shard_size"]), levels, strict=False):
        level.name, level.meta = _level_name(manifest["rules"], index), _meta(manifest, index, level)
    return levels


def _jsonl_levels(path: Path, text: str, rules: Rules | None) -> list[Level]:
    """The levels of a JSON lines file, one a line (blank lines skipped); errors name the line."""
    levels, known = [], {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        data = parse_json(line, str(path), number)
        levels.append(level_from_dict(data, f"{path}: line {number}", rules, known))
    if not levels:
        raise LevelError(f"{path}: no levels in this file (JSON lines)")
    return levels


def _manifest(folder: Path) -> dict[str, Any] | None:
    """The run manifest in ``folder`` when it is a readable one, else None."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return None
    fields = ("level_format", "n", "rules", "rules_digest", "shard_size")
    return manifest if isinstance(manifest, dict) and all(k in manifest for k in fields) else None


def _recorded_rules(manifest: dict[str, Any], path: Path) -> Rules:
    """The rules a run's manifest names (the built-in, or the copy beside the shards), at the run's size."""
    name, digest, size = manifest["rules"], manifest["rules_digest"], manifest.get("size")
    for source in [name, path.parent / f"{name}.toml", path.parent / f"{name}-{digest}.toml"]:
        if (str(source) in builtin_names() or Path(source).is_file()) and load_rules(source).digest == digest:
            return load_rules(source).resized(*size) if size else load_rules(source)
    raise LevelError(f"{path}: the run's rules {name!r} ({digest}) are neither a built-in nor beside it")


def _level_name(rules_name: str, index: int) -> str:
    from relaygen.generate import level_name

    return level_name(rules_name, index)


def _meta(manifest: dict[str, Any], index: int, level: Level) -> dict[str, Any]:
    """What a level file of the run would record besides the report: rules, model, seed, index, difficulty."""
    from relaygen.generate import Difficulties

    spread = manifest.get("difficulty_range")
    asked = Difficulties(manifest["n"], manifest.get("difficulty"), None if spread is None else tuple(spread))
    keys = ("model", "model_digest", "seed")
    return {k: manifest.get(k) for k in keys} | {
        "rules": level.rules.name,
        "rules_digest": level.rules.digest,
        "index": index,
        "difficulty": asked[index],
        "size": [level.width, level.height],
    }
