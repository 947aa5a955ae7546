"""A dataset run's folder: levels written in shards, each shard's sha256 in the run's manifest.

Levels arrive in index order; a shard's text is gathered in memory and written whole (a temporary
file, then a rename) when its last level arrives, and only then does the manifest (``run.json``)
list it with its digest. A rerun of the same run checks each listed shard against its digest (a
million levels are a few hundred files to hash, not a million to parse) and makes only the shards
that are missing or damaged; a killed run loses at most the shard it was gathering.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from relaygen.datasets import (
    MANIFEST,
    SHARDS,
    is_builtin,
    shard_entry,
    shard_levels,
    shard_name,
    shard_number,
)
from relaygen.files import atomic_write, file_sha256
from relaygen.formats import read_levels, rules_beside
from relaygen.level import Level
from relaygen.runfolder import RunFolder


class ShardFolder(RunFolder):
    """An open, locked dataset run folder: its manifest, its verified shards, the writer of new ones."""

    def __init__(self, out: Path, kind: str, manifest: dict[str, Any], rows: dict[str, dict], clear: bool) -> None:
        """``rows``: the shards an earlier try of this run listed (checked here); ``clear``: another
        run's files are to be removed before the first shard is written."""
        self.out, self.kind, self.manifest, self.clear = out, kind, manifest, clear
        self.n, self.size = manifest["n"], manifest["shard_size"]
        self.shards = {name: row for name, row in sorted(rows.items()) if self._checks_out(name, row)}
        """Shard file name → its row (``sha256``, ``levels``), for the shards written that check out."""
        self.reused = sum(row["levels"] for row in self.shards.values())
        self.damaged = sum(row["levels"] for name, row in rows.items() if name not in self.shards)
        self.started = bool(rows)
        self._entries: list[str] = []
        self._written: list[Path] = []
        self._named: bool | None = None

    @classmethod
    def earlier(cls, out: Path, old: dict[str, Any], manifest: dict[str, Any]) -> dict[Any, dict[str, Any]]:
        """The shards the manifest of an earlier try of the same run lists (unchecked)."""
        shards = old.get(SHARDS)
        return {k: v for k, v in shards.items() if isinstance(v, dict)} if isinstance(shards, dict) else {}

    def reused_paths(self) -> Iterator[Path]:
        """The shards that check out, each once per level it holds, in index order."""
        for name, row in self.shards.items():
            yield from [self.out / name] * row["levels"]

    def digests(self) -> dict[int, str]:
        """Level index → level digest, of the levels of the shards that check out (read back)."""
        found = {}
        for name in self.shards:
            number = shard_number(name, self.manifest)
            assert number is not None
            span = shard_levels(number, self.n, self.size)
            found |= {i: level.digest() for i, level in zip(span, read_levels(self.out / name), strict=True)}
        return found

    def write(self, level: Level) -> None:
        """Add a level (the next of its shard); write the shard when this is its last level."""
        if not self.started:
            self._start()
            if self.kind == "boxoban" and self.rules is not None:  # a Boxoban file names no rules
                rules_beside(self.rules, self.out)
        index = level.meta["index"]
        number = index // self.size
        span = shard_levels(number, self.n, self.size)
        if self._named is None:
            self._named = is_builtin(level.rules)
        self._entries.append(shard_entry(level, self.kind, index - span.start, self._named))
        if index == span[-1]:
            self._write_shard(number, "".join(self._entries))
            self._entries = []

    def finished(self, wait: bool = False) -> list[Path]:
        """The shards written since the last call, each once per level it holds."""
        paths, self._written = self._written, []
        return paths

    def close(self, quiet: bool = False) -> None:
        """Nothing is pending: a shard not yet whole is dropped (a rerun makes it)."""
        self._entries = []

    def _write_shard(self, number: int, text: str) -> None:
        """Write shard ``number`` atomically, then list it with its digest in the manifest."""
        name, data = shard_name(self.kind, number, self.n, self.size), text.encode("utf-8")
        atomic_write(self.out / name, data)
        count = len(shard_levels(number, self.n, self.size))
        self.shards[name] = {"sha256": hashlib.sha256(data).hexdigest(), "levels": count}
        self.shards = dict(sorted(self.shards.items()))
        atomic_write(self.out / MANIFEST, json.dumps(self.manifest | {SHARDS: self.shards}, indent=1) + "\n")
        self._written += [self.out / name] * count

    def _checks_out(self, name: str, row: dict[str, Any]) -> bool:
        """Whether a listed shard is one of this run's, whole, with the bytes it was written with."""
        number = shard_number(name, self.manifest)
        if number is None or row.get("levels") != len(shard_levels(number, self.n, self.size)):
            return False
        try:
            return file_sha256(self.out / name) == row.get("sha256")
        except OSError:
            return False
