"""Atomic file writes: a reader sees the old file or the whole new one, never half of it."""

from __future__ import annotations

import errno
import hashlib
import os
import re
import tempfile
from pathlib import Path

from relaygen.errors import UserError


class WriteError(UserError, OSError):
    """A file that could not be written (a full disk, a missing folder...); the message names the
    file and the reason, and the file is as it was before."""


def atomic_write(path: str | Path, data: bytes | str, durable: bool = True) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder, then rename it.

    ``durable`` also flushes the data to disk before the rename (so that it survives a power cut,
    not only a killed process); it costs milliseconds per file. Raises :class:`WriteError`."""
    path = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise write_error(path, exc) from None
    try:
        os.chmod(tmp, 0o666 & ~UMASK)
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise write_error(path, exc) from None
        raise
    return path


LEFTOVER = re.compile(r"\..+\.[a-z0-9_]{8}\.tmp")
"""The name of the temporary file of an :func:`atomic_write` (``.NAME.XXXXXXXX.tmp``)."""


def remove_leftovers(folder: Path) -> list[Path]:
    """Remove the temporary files that writes killed mid-way (SIGKILL, power cut) left in ``folder``;
    returns them. Call it only while no other process writes there (under the folder's lock)."""
    found = [path for path in sorted(folder.glob(".*.tmp")) if LEFTOVER.fullmatch(path.name) and path.is_file()]
    for path in found:
        path.unlink(missing_ok=True)
    return found


def make_folder(path: Path) -> None:
    """Create the folder ``path`` and its parents if missing; :class:`WriteError` says why it cannot be."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        nearest = next(p for p in [path, *path.parents] if p.exists())
        if not nearest.is_dir():
            reason = f"{nearest} is a file, not a folder"
        elif exc.errno == errno.ENOENT:  # e.g. under /proc
            reason = f"folder {nearest} does not accept new folders"
        else:
            reason = exc.strerror or str(exc)
        error = WriteError(f"{path}: cannot create the folder: {reason}")
        error.errno = exc.errno
        raise error from None


def write_error(path: Path, exc: OSError) -> WriteError:
    """A :class:`WriteError` for ``path`` that says why in words: its folder, or the system's reason."""
    folder = path.parent
    if not folder.exists():
        reason = f"folder {folder} does not exist"
    elif not folder.is_dir():
        reason = f"{folder} is a file, not a folder"
    elif path.is_dir():
        reason = "it is a folder"
    elif exc.errno == errno.ENOENT:  # e.g. /proc, where the folder exists but takes no new files
        reason = f"folder {folder} does not accept new files"
    else:
        reason = exc.strerror or str(exc)
    error = WriteError(f"{path}: cannot write: {reason}")
    error.errno = exc.errno
    return error


def file_sha256(path: str | Path) -> str:
    """The sha256 of a file's bytes (hex), read in blocks, so a large file is not held in memory."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_digest(path: str | Path) -> str:
    """Short content hash of a file (a level records the model that made it)."""
    return file_sha256(path)[:16]


def _read_umask() -> int:
    """The process's file-creation mask (read by setting it and putting it back)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


UMASK = _read_umask()
"""The file-creation mask, read once when relaygen starts, before any thread: reading it sets it to 0
for a moment, and a file another thread created in that moment would be writable by anyone."""
