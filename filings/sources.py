"""Turn what a person hands us (paths, directories, globs, uploads, archives) into a
stream of named byte strings, one per file inside. Pure Python: no Django.

Archives (.gz, .zip, .tar, .tar.gz/.tgz) are opened in memory and never extracted to
disk, so a name inside an archive never becomes a path. Expansion is bounded: a member
or a whole archive that would expand past `max_expanded` bytes is refused (zip and gzip
bombs), as is a nested archive deeper than MAX_DEPTH.
"""
from __future__ import annotations

import glob
import gzip
import hashlib
import io
import os
import tarfile
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

DEFAULT_MAX_EXPANDED = 2 * 1024**3
MAX_DEPTH = 3
CHUNK = 1024 * 1024

# Files we look at when walking a directory; anything else is skipped silently there
# (a file named explicitly is always tried).
SUBMISSION_SUFFIXES = (".txt", ".nc", ".sgml", ".html", ".htm", ".hdr", ".corr", ".pem")
ARCHIVE_SUFFIXES = (".gz", ".tgz", ".zip", ".tar")


@dataclass
class Source:
    """One input file: its name (path, or archive path + member) and its bytes, or
    the reason it could not be read."""

    name: str
    data: bytes | None = None
    error: str = ""

    @property
    def size(self):
        return len(self.data or b"")

    @cached_property
    def sha256(self) -> str:
        return hashlib.sha256(self.data or b"").hexdigest()


class SourceError(ValueError):
    pass


def _is_candidate(path: str) -> bool:
    lower = path.lower()
    return lower.endswith(SUBMISSION_SUFFIXES + ARCHIVE_SUFFIXES) and not lower.endswith(
        "manifest.tsv"
    )


def expand_paths(paths: Iterable[str]) -> Iterator[str | Source]:
    """Files named by `paths` (files, directories walked recursively, glob patterns),
    in a stable order. A path that names nothing comes back as a failed Source."""
    for raw in paths:
        path = os.fspath(raw)
        if os.path.isdir(path):
            for root, dirs, files in os.walk(path):
                dirs.sort()
                for name in sorted(files):
                    full = os.path.join(root, name)
                    if _is_candidate(full):
                        yield full
        elif os.path.isfile(path):
            yield path
        elif glob.has_magic(path):
            matches = sorted(glob.glob(path, recursive=True))
            if not matches:
                yield Source(path, error="no file matches this pattern")
            for match in matches:
                if os.path.isdir(match):
                    yield from expand_paths([match])
                else:
                    yield match
        else:
            yield Source(path, error="no such file or directory")


def read_sources(paths: Iterable[str], max_expanded: int = DEFAULT_MAX_EXPANDED):
    """Every submission file under `paths`, archives opened."""
    for item in expand_paths(paths):
        if isinstance(item, Source):
            yield item
            continue
        try:
            with open(item, "rb") as fh:
                yield from open_upload(item, fh, max_expanded)
        except OSError as exc:
            yield Source(item, error=f"cannot read: {exc.strerror or exc}")


def open_upload(name: str, fileobj, max_expanded: int = DEFAULT_MAX_EXPANDED):
    """The submission files in one file object (a plain file or an archive)."""
    budget = _Budget(max_expanded)
    try:
        data = _read_bounded(fileobj, budget, name)
    except SourceError as exc:
        yield Source(name, error=str(exc))
        return
    yield from _open(name, data, budget, depth=0)


class _Budget:
    def __init__(self, limit):
        self.limit = limit
        self.used = 0

    def take(self, n, name):
        self.used += n
        if self.used > self.limit:
            raise SourceError(
                f"expands past the limit of {self.limit // (1024 * 1024)} MB "
                "(refused as a possible archive bomb)"
            )


def _read_bounded(fileobj, budget, name):
    out = io.BytesIO()
    while True:
        chunk = fileobj.read(CHUNK)
        if not chunk:
            return out.getvalue()
        budget.take(len(chunk), name)
        out.write(chunk)


def _open(name: str, data: bytes, budget: _Budget, depth: int):
    if depth > MAX_DEPTH:
        yield Source(name, error="archives nested too deeply")
        return
    lower = name.lower()
    try:
        if data[:2] == b"\x1f\x8b":
            inner_name = name[: -len(".gz")] if lower.endswith(".gz") else name + "!ungzipped"
            if lower.endswith(".tgz"):
                inner_name = name[: -len(".tgz")] + ".tar"
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as gz:
                inner = _read_bounded(gz, budget, name)
            yield from _open(inner_name, inner, budget, depth + 1)
        elif data[:4] == b"PK\x03\x04" or lower.endswith(".zip"):
            yield from _open_zip(name, data, budget, depth)
        elif _looks_like_tar(data, lower):
            yield from _open_tar(name, data, budget, depth)
        else:
            yield Source(name, data)
    except SourceError as exc:
        yield Source(name, error=str(exc))
    except (OSError, EOFError, zipfile.BadZipFile, tarfile.TarError, gzip.BadGzipFile) as exc:
        yield Source(name, error=f"broken archive: {exc}")


def _looks_like_tar(data, lower):
    if lower.endswith(".tar"):
        return True
    return len(data) > 262 and data[257:262] == b"ustar"


def _open_zip(name, data, budget, depth):
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            member = f"{name}!{info.filename}"
            # The declared size can lie; _read_bounded counts what really comes out.
            if info.file_size > budget.limit - budget.used:
                raise SourceError(
                    f"{info.filename} would expand past the limit of "
                    f"{budget.limit // (1024 * 1024)} MB (refused as a possible archive bomb)"
                )
            with archive.open(info) as fh:
                inner = _read_bounded(fh, budget, member)
            yield from _open(member, inner, budget, depth + 1)


def _open_tar(name, data, budget, depth):
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as archive:
        for info in archive:
            if not info.isfile():
                continue
            member = f"{name}!{info.name}"
            fh = archive.extractfile(info)
            if fh is None:
                continue
            # A tar member is a slice of bytes already counted: reading it expands nothing.
            inner = fh.read()
            yield from _open(member, inner, budget, depth + 1)


def display_name(name: str) -> str:
    """A short form of a source name for messages: the file name, and member if any."""
    head, sep, member = name.partition("!")
    return Path(head).name + (sep + member if sep else "")
