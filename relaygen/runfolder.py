"""A generate run's folder: which run it belongs to, its index, and the files it can reuse.

``run.json`` (the manifest) records what the files depend on: the rules and their digest, the
model and its digest, the seed, the difficulties, the count, the format and the other options
that change a level. ``index.json`` gives each written file its difficulty, solution length and
score, and the digests that verify it (the file's bytes and the level's grid). A rerun with the
same manifest checks every indexed file and only makes the levels that are missing or damaged; a
run with another manifest is refused unless told to overwrite, and so is a folder without a
manifest that holds files the run would replace (the designer's own, or copies). One run writes a
folder at a time (a lock on the folder), and the manifest is written before the first level file,
so a folder that holds files always says which run they belong to. A dataset run (``jsonl``,
``boxoban``) writes shards of many levels instead of level files and records each shard's digest in
its manifest rather than in an index (see :mod:`relaygen.shardfolder`).
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import json
import os
import sys
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from relaygen.datasets import MANIFEST, SHARD_SIZES, SHARDS, is_dataset, shard_number
from relaygen.drafters import SEARCH, model_label
from relaygen.export import EXPORT_FORMATS, TILE_SIZE, check_format, export_level
from relaygen.files import WriteError, atomic_write, file_digest, make_folder, remove_leftovers
from relaygen.formats import level_to_dict
from relaygen.generate import (
    GenerateError,
    Summary,
    generate_iter,
    level_name,
    resolve_candidates,
    resolve_deepen,
    resolve_model,
)
from relaygen.level import Level
from relaygen.rules import Rules, load_rules

INDEX = "index.json"
RUN_FORMAT = "relaygen-run"
INDEX_SECONDS = 1.0
"""Seconds between two writes of a run's index while levels are being written."""
LEVEL_OPTIONS = ("polish", "repair", "attempts", "tile_map")
"""Options of :func:`~relaygen.generate.generate_iter` that change the levels (their defaults are
generate_iter's own; ``candidates`` too, whose default is the model's own: see :func:`run_manifest`)."""
RATINGS = "ratings.json"
"""The viewer's keep/reject ratings of a folder's levels, by level name (``relaygen play``): they rate
another run's levels once that run is replaced, so they go with it."""


def write_run(
    out: Path,
    kind: str,
    rules: str | Path | Rules,
    n: int,
    *,
    overwrite: bool = False,
    tile_size: int = TILE_SIZE,
    summary: Summary | None = None,
    **options: Any,
) -> Iterator[Path]:
    """Generate ``n`` levels of ``rules`` into the run folder ``out`` as ``kind`` files, yielding
    each level's file once it is written (the verified files of an earlier try of the same run first,
    without redoing them; a dataset's shard once per level it holds). ``options`` are :func:`~relaygen.generate.generate_iter`'s; ``overwrite`` replaces the
    files of another run instead of refusing to touch them; pictures get ``tile_size`` pixels per tile."""
    if not str(out).strip() or Path(out) == Path():
        raise GenerateError("--out: give a folder of its own for the run, not the current folder")
    summary = summary if summary is not None else Summary()
    source, rules = rules, load_rules(rules)
    check_format(kind, rules)
    options["model"] = resolve_model(rules, options.get("model"), source)
    manifest = run_manifest(rules, n, kind, options | {"tile_size": tile_size})
    with _folder_class(kind).open(out, kind, manifest, overwrite) as folder:
        folder.rules = rules
        summary.reused, summary.redone = folder.reused, folder.damaged
        yield from folder.reused_paths()
        if folder.reused == n:
            return
        for level in generate_iter(rules, n, done=folder.digests(), summary=summary, **options):
            folder.write(level)
            yield from folder.finished()
        yield from folder.finished(wait=True)


def _folder_class(kind: str) -> type[RunFolder]:
    """The writer of a run of ``kind``: level files, or a dataset's shards."""
    if not is_dataset(kind):
        return RunFolder
    from relaygen.shardfolder import ShardFolder

    return ShardFolder


def run_manifest(rules: Rules, n: int, kind: str, options: dict[str, Any]) -> dict[str, Any]:
    """What the files of a run depend on (checked before anything is written)."""
    defaults = inspect.signature(generate_iter).parameters
    model = options["model"]
    if str(model) != SEARCH and not Path(model).is_file():
        raise GenerateError(f"{model}: no such model file")
    pin = options.get("pin")
    spread = options.get("difficulty_range")
    return {
        "format": RUN_FORMAT,
        "rules": rules.name,
        "rules_digest": rules.digest,
        "model": SEARCH if str(model) == SEARCH else model_label(model),
        "model_digest": None if str(model) == SEARCH else file_digest(model),
        "seed": options.get("seed", 0),
        "n": n,
        "difficulty": options.get("difficulty"),
        "difficulty_range": None if spread is None else list(spread),
        "level_format": kind,
        "size": None if options.get("size") is None else list(options["size"]),
        "pin": None if pin is None else _text_digest(json.dumps(level_to_dict(pin), sort_keys=True)),
        **{key: options.get(key, defaults[key].default) for key in LEVEL_OPTIONS},
        "tile_size": options.get("tile_size", TILE_SIZE),
        "candidates": resolve_candidates(model, options.get("candidates")),
        "deepen": resolve_deepen(model, options.get("deepen")),
    } | ({"shard_size": SHARD_SIZES[kind]} if is_dataset(kind) else {})


class RunFolder:
    """An open, locked run folder: its manifest, its verified index rows, and the writer of new levels."""

    rules: Rules | None = None
    """The run's rules as given (not resized), set by :func:`write_run`: a dataset of files that name no
    rules (Boxoban's) keeps a copy beside them of rules other than an unchanged built-in."""

    def __init__(self, out: Path, kind: str, manifest: dict[str, Any], rows: dict[int, dict], clear: bool) -> None:
        """``rows``: the index rows of an earlier try of this run (checked here); ``clear``: another
        run's files are to be removed before the first new one is written."""
        self.out, self.kind, self.manifest, self.clear = out, kind, manifest, clear
        self.done = {index: out / row["file"] for index, row in rows.items() if self._verified(row)}
        """Level index → the file of a level an earlier try of this run wrote and that checks out."""
        self.rows = {index: row for index, row in rows.items() if index in self.done}
        """Level index → its index row (file name, difficulty, length, score and digests)."""
        self.damaged = len(rows) - len(self.done)
        """Indexed files that are missing or do not match their row (they are made again)."""
        self.reused = len(self.done)
        """Levels an earlier try of this run wrote that check out."""
        self.started = bool(rows)
        self.written, self.pending = time.monotonic(), False
        self._writer: ThreadPoolExecutor | None = None
        self._writes: deque[tuple[Path, Future[tuple[int, dict[str, Any]]]]] = deque()

    @classmethod
    @contextlib.contextmanager
    def open(cls, out: Path, kind: str, manifest: dict[str, Any], overwrite: bool) -> Iterator[RunFolder]:
        """The folder ``out`` for the run ``manifest``, created if needed and locked while open; it is
        removed again if it was created here and the run stops before writing anything."""
        created = not out.exists()
        try:
            make_folder(out)
        except WriteError as exc:
            raise GenerateError(f"--out {exc}") from None
        try:
            with _locked(out):
                for name in (MANIFEST, INDEX):
                    if (out / name).is_dir():
                        raise GenerateError(f"{out / name}: is a folder, where the run's {name} belongs; move it away")
                taken = (out / MANIFEST).exists() or (out / INDEX).exists()
                if taken:  # a run killed mid-write leaves a temporary file; no other run writes here now
                    remove_leftovers(out)
                old = None if overwrite else _read_json(out / MANIFEST, "run manifest")
                reuse = isinstance(old, dict) and {k: v for k, v in old.items() if k != SHARDS} == manifest
                if taken and not reuse and not overwrite:
                    raise GenerateError(f"--out {out}: {_difference(old, manifest)}")
                foreign = None if taken or overwrite else _foreign_file(out, manifest)
                if foreign is not None:
                    raise GenerateError(
                        f"--out {out}: holds {foreign.name}, which no run of relaygen wrote there and this run "
                        "would replace; use --overwrite to replace such files, or another --out"
                    )
                rows = cls.earlier(out, old, manifest) if reuse else {}
                folder = cls(out, kind, manifest, rows, clear=not reuse and (taken or overwrite))
                try:
                    yield folder
                finally:
                    folder.close(quiet=sys.exc_info()[0] is not None)
        except BaseException:
            if created and not any(out.iterdir()):
                out.rmdir()
            raise

    @classmethod
    def earlier(cls, out: Path, old: dict[str, Any], manifest: dict[str, Any]) -> dict[Any, dict[str, Any]]:
        """What an earlier try of the same run says it wrote (unchecked): its index rows by level index."""
        return _index_rows(_read_json(out / INDEX, "level index"), manifest, out / INDEX)

    def reused_paths(self) -> Iterable[Path]:
        """The files of the levels an earlier try wrote that check out, one per level, in index order."""
        return self.done.values()

    def digests(self) -> dict[int, str]:
        """Level index → level digest, of the levels an earlier try wrote that check out."""
        return {index: row["level"] for index, row in self.rows.items()}

    def write(self, level: Level) -> None:
        """Start writing one level's file atomically, in a writer thread so that drafting goes on
        meanwhile; :meth:`finished` hands out its path when it is written."""
        if not self.started:
            self._start()
        path = self.out / f"{level.name}{EXPORT_FORMATS[self.kind]}"
        if self._writer is None:
            self._writer = ThreadPoolExecutor(1, thread_name_prefix="relaygen-writer")
        self._writes.append((path, self._writer.submit(self._write_file, level, path)))

    def finished(self, wait: bool = False) -> list[Path]:
        """The files written since the last call, in the order they were started (all of them,
        waiting, with ``wait``), their rows added to the index (written every second and on close).
        A write that failed raises here."""
        paths = self._collect(wait)
        if time.monotonic() - self.written > INDEX_SECONDS:
            self.flush()
        return paths

    def _write_file(self, level: Level, path: Path) -> tuple[int, dict[str, Any]]:
        """Write ``level`` to ``path``: its index and index row."""
        export_level(level, path, self.kind, durable=False, tile_size=self.manifest["tile_size"])
        report = level.meta["report"]
        return level.meta["index"], {
            "file": path.name,
            "difficulty": level.meta["difficulty"],
            "length": report["length"],
            "score": report["score"],
            "digest": file_digest(path),
            "level": level.digest(),
        }

    def _collect(self, wait: bool) -> list[Path]:
        """Add the rows of the leading finished writes (of all, waiting, with ``wait``); their paths."""
        paths = []
        while self._writes and (wait or self._writes[0][1].done()):
            path, write = self._writes.popleft()
            index, row = write.result()
            self.rows[index], self.pending = row, True
            paths.append(path)
        return paths

    def close(self, quiet: bool = False) -> None:
        """Wait for the writes still running, stop the writer thread and write the index (``quiet``:
        ignore a failed write, when the run is already stopping on another error)."""
        try:
            self._collect(wait=True)
        except Exception:
            if not quiet:
                raise
        finally:
            if self._writer is not None:
                self._writer.shutdown(wait=True)
            self.flush(quiet)

    def flush(self, quiet: bool = False) -> None:
        """Write the index if rows were added since its last write (``quiet``: ignore a failed write,
        when the run is already stopping on another error)."""
        if not self.pending:
            return
        index = {row["file"]: {k: v for k, v in row.items() if k != "file"} for _, row in sorted(self.rows.items())}
        try:
            atomic_write(self.out / INDEX, json.dumps(index, indent=1) + "\n")
        except WriteError:
            if not quiet:
                raise
            return
        self.written, self.pending = time.monotonic(), False

    def _start(self) -> None:
        """Before the first new file: remove another run's files (when overwriting) and write the manifest."""
        if self.clear:
            _clear(self.out)
        atomic_write(self.out / MANIFEST, json.dumps(self.manifest, indent=1) + "\n")
        self.started = True

    def _verified(self, row: dict[str, Any]) -> bool:
        """Whether a row's file is there with the bytes it was written with (so it holds the level
        the row describes, in any format)."""
        path = self.out / row["file"]
        try:
            return path.is_file() and file_digest(path) == row["digest"]
        except OSError:
            return False


def _index_rows(index: Any, manifest: dict[str, Any], path: Path) -> dict[int, dict[str, Any]]:
    """The rows of a run's index by level index; rows that do not name a level of the run are left out."""
    if index is None:
        return {}
    if not isinstance(index, dict):
        raise GenerateError(f"{path}: unreadable level index: not a JSON object; use --overwrite to replace it")
    fields = {"difficulty", "length", "score", "digest", "level"}
    rows = {}
    for name, row in index.items():
        number = _level_number(name, manifest)
        if number is not None and isinstance(row, dict) and fields <= set(row):
            rows[number] = {"file": name} | row
    return rows


def _level_number(name: str, manifest: dict[str, Any]) -> int | None:
    """The index of the level of the run ``manifest`` whose file is ``name`` (of a dataset: the
    number of its shard), or None when no file of that run has this name."""
    if is_dataset(manifest["level_format"]):
        return shard_number(name, manifest)
    suffix = EXPORT_FORMATS[manifest["level_format"]]
    stem = f"{manifest['rules']}-"
    digits = name[len(stem) : -len(suffix)] if name.startswith(stem) and name.endswith(suffix) else ""
    if not digits.isascii() or not digits.isdigit():
        return None
    number = int(digits)
    return number if number < manifest["n"] and level_name(manifest["rules"], number) + suffix == name else None


def _foreign_file(out: Path, manifest: dict[str, Any]) -> Path | None:
    """A file in ``out``, which holds no run's manifest or index, that the run ``manifest`` would
    replace: one of its level files (or the tileset of its Tiled maps)."""
    for path in sorted(out.iterdir()):
        if _level_number(path.name, manifest) is not None:
            return path
        tileset = path.name.startswith(f"{manifest['rules']}-tileset") and path.suffix == ".png"
        if manifest["level_format"] == "tiled" and tileset:
            return path
    return None


def _read_json(path: Path, what: str, strict: bool = True) -> Any:
    """A JSON file's content, or None when there is none (or, unless ``strict``, when it is unreadable)."""
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        if not strict:
            return None
        reason = str(exc) or type(exc).__name__
        raise GenerateError(f"{path}: unreadable {what}: {reason}; use --overwrite to replace it") from None


def _difference(old: dict[str, Any] | None, new: dict[str, Any]) -> str:
    """Why a folder belongs to another run, in words."""
    if old is None:
        return "holds levels but no run manifest (run.json) saying which run made them; use --overwrite to replace them"
    if not isinstance(old, dict):
        return (
            f"its run manifest ({MANIFEST}) is not a JSON object but a {type(old).__name__}, so it cannot say "
            "which run made the levels there; use --overwrite to replace them"
        )
    changed = [f"{k} {old.get(k)!r} there, {new[k]!r} here" for k in new if old.get(k) != new[k]]
    return f"holds the levels of another run ({'; '.join(changed)}); use --overwrite to replace them, or another --out"


def _clear(out: Path) -> None:
    """Remove the files another run wrote into ``out``: its levels (by the index and by name),
    tileset, index, manifest and the ratings of its levels; other files are left alone."""
    old = _read_json(out / MANIFEST, "run manifest", strict=False)
    index = _read_json(out / INDEX, "level index", strict=False)
    names = set(index) if isinstance(index, dict) else set()
    if isinstance(old, dict) and is_dataset(str(old.get("level_format"))) and {"n", "shard_size"} <= set(old):
        names |= {p.name for p in out.iterdir() if shard_number(p.name, old) is not None}
    elif isinstance(old, dict) and old.get("level_format") in EXPORT_FORMATS:
        pattern = f"{old.get('rules')}-[0-9][0-9][0-9][0-9]*{EXPORT_FORMATS[old['level_format']]}"
        names |= {p.name for p in out.glob(pattern)}
    for name in names:
        if "/" not in name and (out / name).is_file():
            (out / name).unlink()
    for name in (INDEX, MANIFEST, RATINGS):
        (out / name).unlink(missing_ok=True)


@contextlib.contextmanager
def _locked(out: Path) -> Iterator[None]:
    """Hold an exclusive lock on the folder (one run writes it at a time; another waits for it)."""
    try:
        import fcntl
    except ImportError:  # no flock (Windows): one run at a time is up to the user
        yield
        return
    fd = os.open(out, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"relaygen generate: waiting for another run writing to {out}", file=sys.stderr)
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _text_digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]
