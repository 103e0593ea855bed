"""Writing a file so that it is either completely there or not changed at all.

Every saver (``.h5``, ``.keras``, ``.weights.h5``) writes through ``atomic_path``: a temporary
file in the target's directory, synced and renamed over the target only once it is complete.
A student's usual surprise: ``open(path, "wb")`` empties the old file *first*, so a crash
half-way through a save loses the old model too.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from collections.abc import Iterator
from typing import Any


@contextlib.contextmanager
def atomic_path(filepath: Any, overwrite: bool = True) -> Iterator[str]:
    """A temporary path to write; it replaces ``filepath`` when the block ends without error.

    It is ``.<name>.<random>.tmp`` next to the target (``os.replace`` is atomic only within
    one file system), synced to disk before the rename. Any exception, even
    ``KeyboardInterrupt``, deletes it: the old file stays as it was, nothing else is written.
    """
    path = os.path.realpath(os.fspath(filepath))  # through a symlink, to the file it names
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"{path}: the file exists and overwrite=False; pass overwrite=True to "
                              "replace it.")
    directory, base = os.path.split(path)
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"Cannot save to {path}: the directory {directory} does not exist.")
    tmp = os.path.join(directory, f".{base}.{secrets.token_hex(4)}.tmp")
    try:
        yield tmp
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        if os.path.exists(path):
            with contextlib.suppress(OSError):
                shutil.copymode(path, tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise
