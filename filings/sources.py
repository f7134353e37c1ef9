"""Turn what a person hands us (paths, directories, globs, uploads, archives) into a
stream of named byte strings, one per submission file inside. Pure Python: no Django.

Archives (.zip, .tar) and compressed streams (.gz, .bz2, .xz and the tar forms .tgz,
.tar.bz2, .tar.xz) are read forward, a layer at a time, and never extracted to disk, so
a name inside an archive never becomes a path. Every byte a decompressor or a zip member
yields passes through one reader, `_Stream`, which charges it to the upload's budget
(`max_expanded`) before passing it on: a bomb is refused as soon as it expands past the
budget, whatever the layer, and memory holds at most one submission (`max_member`, the
largest one stored) plus read buffers and a decoder's own state (xz's dictionary). A zip
found inside another archive needs random access, so it alone is buffered (in memory,
then an anonymous temporary file). Names inside archives are only labels, made safe to
print (no control characters, no undecodable bytes).
"""
from __future__ import annotations

import bz2
import glob
import gzip
import hashlib
import io
import lzma
import os
import shutil
import struct
import tarfile
import tempfile
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

MB = 1024 * 1024
DEFAULT_MAX_EXPANDED = 2048 * MB
DEFAULT_MAX_MEMBER = 256 * MB
MAX_DEPTH = 3
CHUNK = MB
SNIFF = 512  # a tar header's magic sits at offset 257
SPOOL_IN_MEMORY = 16 * MB
SMALL = MB  # files and members up to this size are read in one call
# tarfile reads a long-name or pax header record whole into memory; real ones are a few
# hundred bytes.
MAX_TAR_HEADER = MB

# Files we look at when walking a directory; anything else is skipped silently there
# (a file named explicitly is always tried).
SUBMISSION_SUFFIXES = (".txt", ".nc", ".sgml", ".html", ".htm", ".hdr", ".corr", ".pem")
ARCHIVE_SUFFIXES = (".gz", ".tgz", ".bz2", ".tbz", ".tbz2", ".xz", ".txz", ".zip", ".tar")

GZIP, BZIP2, XZ, ZIP, TAR, PLAIN = "gzip", "bzip2", "xz", "zip", "tar", "plain"
_DECOMPRESSORS = {
    GZIP: lambda stream: gzip.GzipFile(fileobj=stream, mode="rb"),
    BZIP2: bz2.BZ2File,
    XZ: lambda stream: lzma.LZMAFile(stream, format=lzma.FORMAT_XZ),
}
# How a compressed file's name becomes the name of what is inside it.
_RENAMES = {
    GZIP: ((".tgz", ".tar"), (".gz", "")),
    BZIP2: ((".tbz2", ".tar"), (".tbz", ".tar"), (".bz2", "")),
    XZ: ((".txz", ".tar"), (".xz", "")),
}
# What third-party readers raise on malformed input (zipfile decodes flagged member
# names as UTF-8 and unpacks headers with struct, hence ValueError and struct.error).
_BROKEN = (
    OSError,
    EOFError,
    ValueError,
    struct.error,
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    tarfile.TarError,
    lzma.LZMAError,
    zlib.error,
    NotImplementedError,
)
# zipfile expands bzip2 and LZMA members without an output bound (a few KB of bzip2
# can become gigabytes in one call), so only these methods are read.
_ZIP_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
_TAR_HEADER_RECORDS = (
    tarfile.GNUTYPE_LONGNAME,
    tarfile.GNUTYPE_LONGLINK,
    tarfile.XHDTYPE,
    tarfile.XGLTYPE,
    tarfile.SOLARIS_XHDTYPE,
)
# A member name goes into messages, logs and a terminal: control characters (an escape
# sequence could rewrite the user's screen) are shown escaped.
_VISIBLE = {c: f"\\x{c:02x}" for c in (*range(0x20), *range(0x7F, 0xA0))}


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


class SourceError(Exception):
    """The upload's expansion budget is spent: nothing more of it is read."""


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


def read_sources(
    paths: Iterable[str],
    max_expanded: int = DEFAULT_MAX_EXPANDED,
    max_member: int = DEFAULT_MAX_MEMBER,
) -> Iterator[Source]:
    """Every submission file under `paths`, archives opened."""
    for item in expand_paths(paths):
        if isinstance(item, Source):
            yield item
            continue
        try:
            fh = open(item, "rb")
        except OSError as exc:
            yield Source(item, error=f"cannot read: {exc.strerror or exc}")
            continue
        with fh:
            yield from open_upload(item, fh, max_expanded, max_member)


def open_upload(
    name: str,
    fileobj,
    max_expanded: int = DEFAULT_MAX_EXPANDED,
    max_member: int = DEFAULT_MAX_MEMBER,
) -> Iterator[Source]:
    """The submission files in one binary file object (a plain file or an archive),
    read forward. At most `max_expanded` bytes may come out of its decompressors and
    zip members together; a submission larger than `max_member` is refused unread.
    The file object must stay open until the iterator is exhausted."""
    limits = _Limits(name, max_expanded, max_member)
    random_access = fileobj if _seekable(fileobj) else None
    size = _size(random_access)
    try:
        if size is not None and size <= SMALL:
            yield from _open_bytes(name, fileobj.read(size), limits, 0)
        else:
            yield from _open(name, _Stream(fileobj), limits, 0, size, random_access)
    except SourceError as exc:
        yield Source(name, error=str(exc))
    except _BROKEN as exc:  # the file itself, not an archive layer, could not be read
        yield Source(name, error=f"cannot read: {exc}")


class _Limits:
    def __init__(self, top: str, expanded: int, member: int):
        self.top = top
        self.expanded = expanded
        self.member = member
        self.used = 0

    def charge(self, n: int, layer: str):
        self.used += n
        if self.used > self.expanded:
            where = "" if layer == self.top else f" while expanding {display_name(layer)}"
            raise SourceError(
                f"expands past the limit of {_human(self.expanded)} "
                f"(refused as a possible archive bomb){where}"
            )

    def make_room(self, n: int, what: str):
        if n > self.expanded - self.used:
            raise SourceError(
                f"{what} would expand past the limit of {_human(self.expanded)} "
                "(refused as a possible archive bomb)"
            )

    def too_large(self, size: int | None = None) -> str:
        actual = f"is {_human(size)}, " if size is not None else "is "
        return (
            f"{actual}larger than the largest submission stored "
            f"({_human(self.member)}, MAX_SUBMISSION_MB)"
        )


class _Stream(io.RawIOBase):
    """The bytes of one layer, read forward. With `limits`, the layer expands (a
    decompressor or a zip member) and every byte is charged before it is passed on:
    the one place where expansion is counted and a bomb refused. `sniff()` looks at
    the first bytes without consuming them."""

    def __init__(self, inner, limits: _Limits | None = None, label: str = ""):
        super().__init__()
        self._inner = inner
        self._limits = limits
        self._label = label
        self._head = b""

    def readable(self):
        return True

    def sniff(self, n: int) -> bytes:
        while len(self._head) < n:
            more = self._pull(n - len(self._head))
            if not more:
                break
            self._head += more
        return self._head

    def read(self, size=-1):
        if size is None or size < 0:
            return self.readall()  # RawIOBase.readall calls read() a buffer at a time
        if self._head:
            out, self._head = self._head[:size], self._head[size:]
            return out
        return self._pull(size)

    def readinto(self, buffer):
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def _pull(self, size: int) -> bytes:
        # Never asks the layer below for more than `size` bytes: the stdlib readers
        # bound their output by the request, so expansion is checked a chunk at a time.
        data = self._inner.read(size)
        if self._limits is not None:
            self._limits.charge(len(data), self._label)
        return data


def _open(name, stream: _Stream, limits: _Limits, depth: int, size=None, random_access=None):
    """The submissions in `stream`, whose first byte is the first byte of `name`.
    `size` is its length where known; `random_access` a seekable file holding it.
    A failure to read a plain file propagates: the layer it came from is what broke."""
    kind = _kind(stream.sniff(SNIFF), name.lower())
    if kind == PLAIN:
        yield _read_whole(name, stream, limits, size)
        return
    if depth > MAX_DEPTH:
        yield Source(name, error="archives nested too deeply")
        return
    try:
        if kind in _DECOMPRESSORS:
            inner = _Stream(_DECOMPRESSORS[kind](stream), limits, label=name)
            yield from _open(_inner_name(name, kind), inner, limits, depth + 1)
        elif kind == ZIP and random_access is not None:
            yield from _open_zip(name, random_access, limits, depth)
        elif kind == ZIP:
            with _spool(stream) as spool:
                yield from _open_zip(name, spool, limits, depth)
        else:
            yield from _open_tar(name, stream, limits, depth)
    except _BROKEN as exc:
        yield Source(name, error=f"broken archive: {exc}")


def _open_bytes(name: str, data: bytes, limits: _Limits, depth: int):
    """Like `_open`, for a small file or member already read whole: most submissions
    are small, and one read is much cheaper than a stream."""
    if _kind(data[:SNIFF], name.lower()) != PLAIN:
        buffer = io.BytesIO(data)
        yield from _open(name, _Stream(buffer), limits, depth, len(data), buffer)
    elif len(data) > limits.member:
        yield Source(name, error=limits.too_large(len(data)))
    else:
        yield Source(name, data)


def _open_member(name: str, fh, size: int, limits: _Limits, depth: int, expands: bool):
    """One member of an archive, `size` bytes long (as declared: zip sizes can lie).
    A zip member `expands`: its bytes are charged to the budget."""
    if size <= SMALL:
        # Both readers stop at the declared size, so this is bounded even for a liar.
        data = fh.read(size + 1)
        if expands:
            limits.charge(len(data), name)
        yield from _open_bytes(name, data, limits, depth)
    else:
        stream = _Stream(fh, limits, label=name) if expands else _Stream(fh)
        yield from _open(name, stream, limits, depth, size)


def _kind(head: bytes, lower: str) -> str:
    if head.startswith(b"\x1f\x8b") or lower.endswith((".gz", ".tgz")):
        return GZIP
    if head.startswith(b"BZh") or lower.endswith((".bz2", ".tbz", ".tbz2")):
        return BZIP2
    if head.startswith(b"\xfd7zXZ\x00") or lower.endswith((".xz", ".txz")):
        return XZ
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")) or lower.endswith(".zip"):
        return ZIP
    if head[257:262] == b"ustar" or lower.endswith(".tar"):
        return TAR
    return PLAIN


def _inner_name(name: str, kind: str) -> str:
    lower = name.lower()
    for suffix, replacement in _RENAMES[kind]:
        if lower.endswith(suffix):
            return name[: -len(suffix)] + replacement
    return f"{name}!decompressed"


def _read_whole(name: str, stream: _Stream, limits: _Limits, size: int | None) -> Source:
    """One submission, read whole unless it is larger than the largest one stored."""
    if size is not None and size > limits.member:
        return Source(name, error=limits.too_large(size))
    out = io.BytesIO()  # getvalue() hands over its buffer: the bytes are held once
    while True:
        # Where the size is known, ask for no more than is left (many small members
        # stay cheap: no megabyte buffer each), then one byte to see the end.
        read = out.tell()
        want = CHUNK if size is None or read > size else max(1, min(CHUNK, size - read))
        chunk = stream.read(want)
        if not chunk:
            return Source(name, out.getvalue())
        if out.tell() + len(chunk) > limits.member:
            return Source(name, error=limits.too_large())
        out.write(chunk)


def _open_zip(name: str, fileobj, limits: _Limits, depth: int):
    with zipfile.ZipFile(fileobj) as archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            member = f"{name}!{_label(info.filename)}"
            if info.flag_bits & 0x1:
                yield Source(member, error="encrypted: cannot be read")
                continue
            if info.compress_type not in _ZIP_METHODS:
                yield Source(
                    member,
                    error=f"zip compression method {info.compress_type} is not supported "
                    "(use deflate)",
                )
                continue
            # Declared sizes can lie; the stream below counts what really comes out.
            limits.make_room(info.file_size, info.filename)
            with archive.open(info) as fh:
                yield from _open_member(member, fh, info.file_size, limits, depth + 1, True)


def _open_tar(name: str, stream: _Stream, limits: _Limits, depth: int):
    # Streamed ("r|"): members are read in order and skipping one reads past it, so a
    # compressed tar is never rewound and decompressed again.
    buffered = io.BufferedReader(stream, CHUNK)
    with tarfile.open(fileobj=buffered, mode="r|", tarinfo=_TarInfo) as archive:
        while (info := archive.next()) is not None:
            # TarFile keeps every header it has read; with many members that list
            # would grow with the archive, and nothing here looks back.
            archive.members.clear()
            if not info.isfile():
                continue
            member = f"{name}!{_label(info.name)}"
            fh = archive.extractfile(info)
            # A sparse member's holes come out as zeros stored nowhere: it expands.
            expands = info.issparse()
            yield from _open_member(member, fh, info.size, limits, depth + 1, expands)


class _TarInfo(tarfile.TarInfo):
    @classmethod
    def frombuf(cls, buf, encoding, errors):
        info = super().frombuf(buf, encoding, errors)
        if info.type in _TAR_HEADER_RECORDS and info.size > MAX_TAR_HEADER:
            # Raised before tarfile reads the record whole into memory.
            raise tarfile.ReadError(f"a tar header record of {_human(info.size)}")
        return info


def _label(member: str) -> str:
    """A member name safe to print: tarfile keeps undecodable bytes as surrogates."""
    if member.isascii() and member.isprintable():
        return member  # nearly every name: no need to look closer
    text = member.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return text.translate(_VISIBLE)


def _spool(stream: _Stream):
    """A seekable copy of a zip found inside another layer (zip needs random access).
    The copy is charged as it is read, like any expansion."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)
    shutil.copyfileobj(stream, spool, CHUNK)
    spool.seek(0)
    return spool


def _seekable(fileobj) -> bool:
    try:
        return bool(fileobj.seekable())
    except (AttributeError, OSError, ValueError):
        return False


def _size(fileobj) -> int | None:
    """Bytes left in a seekable file, without reading them."""
    if fileobj is None:
        return None
    try:
        start = fileobj.tell()
        end = fileobj.seek(0, os.SEEK_END)
        fileobj.seek(start)
    except (AttributeError, OSError, ValueError):
        return None
    return end - start


def _human(n: int) -> str:
    if n >= MB:
        return f"{n // MB} MB" if n % MB == 0 else f"{n / MB:.1f} MB"
    if n >= 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n} bytes"


def display_name(name: str) -> str:
    """A short form of a source name for messages: the file name, and member if any."""
    head, sep, member = name.partition("!")
    return Path(head).name + (sep + member if sep else "")
