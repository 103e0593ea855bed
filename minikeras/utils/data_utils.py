"""Keras's ``utils.data_utils``: ``get_file`` (download once, cache, check) and ``Sequence``.

``get_file`` is the one place minikeras touches the network. It never hangs (a short
timeout), never leaves a half-downloaded file in the cache (it downloads to a temporary
file and renames it), checks the file's hash when one is given, and extracts archives
only when every member lands inside the target folder.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

TIMEOUT = 15.0
"""Seconds ``get_file`` waits for the server to answer (each connect and each read)."""

_CHUNK = 1 << 16


class Sequence(ABC):
    """A data set in batches, for ``fit_generator``: ``seq[i]`` is batch ``i``, ``len(seq)`` the count.

    Subclass it and write ``__getitem__`` (return ``(x, y)`` for batch ``i``) and ``__len__``
    (the number of batches, not of samples). ``on_epoch_end`` is called after each epoch:
    shuffle there, never inside ``__getitem__``, which must give the same batch for the same
    ``i`` within an epoch.
    """

    @abstractmethod
    def __getitem__(self, index: int) -> Any:
        """Batch number ``index``."""

    @abstractmethod
    def __len__(self) -> int:
        """The number of batches in one epoch."""

    def on_epoch_end(self) -> None:  # noqa: B027 (a hook: doing nothing is the default)
        """Called at the end of every epoch; does nothing unless you override it."""

    def __iter__(self) -> Any:
        for i in range(len(self)):
            yield self[i]


def cache_root(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """Where downloads go: ``cache_dir``, else ``$KERAS_HOME``, else ``~/.keras``."""
    if cache_dir is None:
        cache_dir = os.environ.get("KERAS_HOME") or os.path.join("~", ".keras")
    return Path(os.path.expanduser(cache_dir))


def hash_file(fpath: str | os.PathLike[str], algorithm: str = "sha256") -> str:
    """The hex digest of a file (``sha256`` or ``md5``), read in chunks."""
    if algorithm not in ("sha256", "md5"):
        raise ValueError(f"Unknown hash_algorithm: {algorithm!r}. Use 'sha256', 'md5' or 'auto'.")
    hasher = hashlib.sha256() if algorithm == "sha256" else hashlib.md5()
    with open(fpath, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            hasher.update(chunk)
    return hasher.hexdigest()


def _algorithm(file_hash: str, hash_algorithm: str) -> str:
    # 'auto': a 64-digit hash is sha256, anything else md5 (Keras's rule).
    if hash_algorithm == "auto":
        return "sha256" if len(file_hash) == 64 else "md5"
    return hash_algorithm


def validate_file(fpath: str | os.PathLike[str], file_hash: str, algorithm: str = "auto") -> bool:
    """Whether the file's hash equals ``file_hash`` (``algorithm='auto'`` picks by length)."""
    return hash_file(fpath, _algorithm(file_hash, algorithm)) == file_hash.lower()


class DownloadError(OSError):
    """``get_file`` could not fetch a file: the message names the URL and where to put the file."""


def _download(origin: str, fpath: Path) -> None:
    """``origin`` to ``fpath`` through a temporary file in the same folder, then one rename."""
    fd, tmp = tempfile.mkstemp(dir=fpath.parent, prefix=fpath.name + ".", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(origin, timeout=TIMEOUT) as response:
            shutil.copyfileobj(response, out, _CHUNK)
            expected = response.headers.get("Content-Length") if response.headers else None
            if expected is not None and out.tell() != int(expected):
                # The server closed the connection early: a partial file must not be cached.
                raise http.client.IncompleteRead(b"", int(expected) - out.tell())
        os.replace(tmp, fpath)
    except BaseException:
        os.unlink(tmp)
        raise


def _member_path(target: Path, name: str) -> Path:
    """Where an archive member would land; refused if that is outside ``target``."""
    if os.path.isabs(name) or name.startswith(("/", "\\")):
        raise ValueError(f"Refusing to extract {name!r}: absolute paths are not allowed in an archive.")
    path = (target / name).resolve()
    if not path.is_relative_to(target.resolve()):
        raise ValueError(f"Refusing to extract {name!r}: it would land outside {target}.")
    return path


def _extract_tar(fpath: Path, target: Path) -> None:
    with tarfile.open(fpath) as archive:
        members = archive.getmembers()
        for member in members:
            _member_path(target, member.name)
            if not (member.isfile() or member.isdir()):
                raise ValueError(f"Refusing to extract {member.name!r}: only plain files and folders "
                                 "are extracted (no links or devices).")
        if hasattr(tarfile, "data_filter"):  # Python >= 3.11.4 also resets odd permissions
            archive.extractall(target, members=members, filter="data")
        else:
            archive.extractall(target, members=members)


def _extract_zip(fpath: Path, target: Path) -> None:
    with zipfile.ZipFile(fpath) as archive:
        for name in archive.namelist():
            _member_path(target, name)
        archive.extractall(target)


def extract_archive(fpath: str | os.PathLike[str], path: str | os.PathLike[str] = ".",
                    archive_format: str | list[str] | None = "auto") -> bool:
    """Extract a tar or zip archive into ``path``; ``False`` if it is none of ``archive_format``.

    Every member is checked before anything is written: an absolute path, a ``..`` that
    climbs out of ``path``, or a link makes the whole extraction fail with nothing written.
    """
    if archive_format is None:
        return False
    formats = ["tar", "zip"] if archive_format == "auto" else (
        [archive_format] if isinstance(archive_format, str) else list(archive_format))
    fpath, target = Path(fpath), Path(path)
    for fmt in formats:
        if fmt == "tar" and tarfile.is_tarfile(fpath):
            _extract_tar(fpath, target)
            return True
        if fmt == "zip" and zipfile.is_zipfile(fpath):
            _extract_zip(fpath, target)
            return True
    return False


def get_file(fname: str, origin: str, untar: bool = False, md5_hash: str | None = None,
             file_hash: str | None = None, cache_subdir: str = "datasets", hash_algorithm: str = "auto",
             extract: bool = False, archive_format: str = "auto",
             cache_dir: str | os.PathLike[str] | None = None) -> str:
    """The path of ``fname`` in the Keras cache, downloaded from ``origin`` if it is not there yet.

    The file lives at ``<cache_dir>/<cache_subdir>/<fname>`` with ``cache_dir`` defaulting
    to ``$KERAS_HOME`` or ``~/.keras``. A cached file whose hash differs from ``file_hash``
    is downloaded again; a downloaded file whose hash differs is deleted and refused.
    ``untar=True`` (old spelling) stores ``<fname>.tar.gz``, extracts it next to it and
    returns the folder ``<fname>``; ``extract=True`` extracts tar or zip archives next to
    the file and returns the archive's path. With no network the error names ``origin`` and
    the path to put the file at by hand.
    """
    if md5_hash is not None and file_hash is None:
        file_hash, hash_algorithm = md5_hash, "md5"
    datadir = cache_root(cache_dir) / cache_subdir
    datadir.mkdir(parents=True, exist_ok=True)
    untar_fpath = datadir / fname
    fpath = Path(str(untar_fpath) + ".tar.gz") if untar else untar_fpath

    download = not fpath.exists()
    if not download and file_hash is not None and not validate_file(fpath, file_hash, hash_algorithm):
        print(f"A local file was found at {fpath}, but its {_algorithm(file_hash, hash_algorithm)} "
              f"hash does not match {file_hash}: downloading it again.")
        download = True
    if download:
        print("Downloading data from", origin)
        try:
            _download(origin, fpath)
        except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as e:
            reason = getattr(e, "reason", None) or e
            raise DownloadError(
                f"Could not download {origin} ({reason}). With no network, download that URL on "
                f"another machine and put the file at {fpath} (set KERAS_HOME to change the "
                f"cache folder, now {cache_root(cache_dir)})."
            ) from e
        if file_hash is not None and not validate_file(fpath, file_hash, hash_algorithm):
            fpath.unlink()
            raise ValueError(f"The file downloaded from {origin} does not match its expected "
                             f"{_algorithm(file_hash, hash_algorithm)} hash {file_hash}: it is "
                             "incomplete or corrupted, and was deleted. Try again.")

    if untar:
        if not untar_fpath.exists():
            extract_archive(fpath, datadir, archive_format="tar")
        return str(untar_fpath)
    if extract:
        extract_archive(fpath, datadir, archive_format)
    return str(fpath)
