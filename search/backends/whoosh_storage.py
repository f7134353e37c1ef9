"""Whoosh's index files read through shared memory maps, never copied into the process.

Whoosh's own `FileStorage` maps each compound segment file and then wraps every part of
it in `BufferFile`, whose `BytesIO(memoryview)` copies the part into private memory: a
web worker ends up holding a private copy of most of the index (1.1 GB at 25k documents),
and every worker its own. Here each file is mapped read-only and read in place: its
pages live once in the kernel's page cache, shared by every process that reads the index,
and a worker's own memory no longer grows with the collection.

Index files are safe to map: Whoosh writes each segment's files once under a new name
and replaces the table of contents by renaming a new file over it; nothing is rewritten
in place. A map outlives the deletion of its file (a merged-away segment, an old
generation after a rebuild) until its readers let go of it.
"""
from __future__ import annotations

import mmap
import os
from array import array

from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import _SIZEMAP, StructFile
from whoosh.system import IS_LITTLE


class MapView:
    """A read-only file over bytes `start`..`start + length` of a memory map, with a
    position of its own (views of one map may be read by several threads at once)."""

    __slots__ = ("_map", "_start", "_end", "_pos", "closed")

    def __init__(self, source, start: int, length: int):
        self._map = source
        self._start = start
        self._end = start + length
        self._pos = start
        self.closed = False

    def read(self, size: int | None = -1) -> bytes:
        pos = self._pos
        end = self._end if size is None or size < 0 else min(self._end, pos + size)
        if end <= pos:
            return b""
        self._pos = end
        return self._map[pos:end]

    def readline(self, size: int | None = -1) -> bytes:
        pos = self._pos
        newline = self._map.find(b"\n", pos, self._end)
        end = self._end if newline < 0 else newline + 1
        if size is not None and size >= 0:
            end = min(end, pos + size)
        if end <= pos:
            return b""
        self._pos = end
        return self._map[pos:end]

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if whence == os.SEEK_SET:
            pos = self._start + offset
        elif whence == os.SEEK_CUR:
            pos = self._pos + offset
        elif whence == os.SEEK_END:
            pos = self._end + offset
        else:
            raise ValueError(f"invalid whence {whence!r}")
        if pos < self._start:
            raise ValueError("negative seek position")
        self._pos = pos
        return pos - self._start

    def tell(self) -> int:
        return self._pos - self._start

    def close(self):
        self.closed = True  # the map itself goes when nothing refers to it


class MappedFile(StructFile):
    """Whoosh's structured file over a `MapView`: reads are slices of the map."""

    def __init__(self, source, start: int, length: int, name=None, onclose=None):
        view = MapView(source, start, length)
        super().__init__(view, name=name, onclose=onclose)
        self._source = source
        self._start = start
        self._length = length
        self.is_real = False  # no fileno: Whoosh must not map it again or read it with fromfile
        # The hot calls go straight to the view (one call, not two).
        self.read = view.read
        self.seek = view.seek
        self.tell = view.tell

    def subset(self, position, length, name=None):
        """A part of this file (a compound file's member) over the same map."""
        return MappedFile(self._source, self._start + position, length,
                          name=name or self._name)

    def get(self, position, length):
        """`length` bytes from `position`, never past this file's end (as a slice of
        Whoosh's own buffer would be): a damaged file cannot read its neighbour's bytes."""
        end = self._start + self._length
        start = min(self._start + position, end)
        return self._source[start:min(start + length, end)]

    def get_array(self, position, typecode, length):
        a = array(typecode)
        a.frombytes(self.get(position, length * _SIZEMAP[typecode]))
        if IS_LITTLE:
            a.byteswap()
        return a


class MappedStorage(FileStorage):
    """A `FileStorage` whose files are opened as `MappedFile`s. It says it does not
    support mmap, so that Whoosh's compound files take their members through
    `MappedFile.subset` instead of mapping (and copying) them again."""

    supports_mmap = False

    def open_file(self, name, **kwargs):
        with open(self._fpath(name), "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size == 0:
                return StructFile(open(self._fpath(name), "rb"), name=name, **kwargs)
            source = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        return MappedFile(source, 0, size, name=name, **kwargs)
