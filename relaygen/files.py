"""Atomic file writes: a reader sees the old file or the whole new one, never half of it."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path


def atomic_write(path: str | Path, data: bytes | str, durable: bool = True) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder, then rename it.

    ``durable`` also flushes the data to disk before the rename (so that it survives a power cut,
    not only a killed process); it costs milliseconds per file."""
    path = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def file_digest(path: str | Path) -> str:
    """Short content hash of a file (a level records the model that made it)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def _umask() -> int:
    """The process's file-creation mask (read by setting it and putting it back)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask
