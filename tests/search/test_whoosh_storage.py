"""Whoosh index files read in place through shared maps (search/backends/whoosh_storage.py)."""
import io
import os
import threading

import pytest
from whoosh import fields
from whoosh.filedb.compound import CompoundStorage
from whoosh.filedb.structfile import BufferFile
from whoosh.qparser import QueryParser

from search.backends.whoosh_storage import MappedFile, MappedStorage, MapView

DATA = b"first line\nsecond line\nno newline at the end"


def _view(data=DATA, start=0, length=None):
    import mmap
    import tempfile

    fh = tempfile.TemporaryFile()
    fh.write(b"#" * 7 + data + b"#" * 5)
    fh.flush()
    source = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    fh.close()
    return MapView(source, 7 + start, len(data) - start if length is None else length)


def test_a_view_reads_seeks_and_tells_like_a_file_over_its_bytes():
    view, reference = _view(), io.BytesIO(DATA)
    for op in [("read", 5), ("tell",), ("readline",), ("read", 0), ("seek", 3), ("read", 4),
               ("seek", -4, os.SEEK_END), ("read", 100), ("read", 1), ("tell",),
               ("seek", 2, os.SEEK_SET), ("seek", 3, os.SEEK_CUR), ("readline", 4),
               ("readline",), ("read",), ("seek", 0), ("read", None)]:
        name, *args = op
        assert getattr(view, name)(*args) == getattr(reference, name)(*args), op


def test_a_view_never_reads_outside_its_part_of_the_map():
    view = _view(start=6, length=4)  # "line"
    assert view.read() == b"line"
    assert view.read(10) == b""
    view.seek(0)
    assert view.readline() == b"line"
    view.seek(100)
    assert view.read() == b""
    with pytest.raises(ValueError):
        view.seek(-1)


def test_a_member_never_reads_its_neighbours_bytes():
    import mmap
    import tempfile

    with tempfile.TemporaryFile() as fh:
        fh.write(b"AAAABBBBCCCC")
        fh.flush()
        source = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    member = MappedFile(source, 0, 12).subset(4, 4)
    assert member.get(0, 4) == b"BBBB"
    assert member.get(2, 100) == b"BB"
    assert member.get(10, 2) == b""
    assert member.read() == b"BBBB"
    assert len(member.get_array(0, "i", 1)) == 1


def test_views_of_one_map_keep_their_own_positions_across_threads():
    import mmap
    import tempfile

    with tempfile.TemporaryFile() as fh:
        fh.write(bytes(range(256)) * 64)
        fh.flush()
        source = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    errors = []

    def reader(offset):
        f = MappedFile(source, 0, 256 * 64)
        for _ in range(2000):
            f.seek(offset)
            if f.read(1)[0] != offset % 256:
                errors.append(offset)

    threads = [threading.Thread(target=reader, args=(i * 37,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


def _index(tmp_path):
    schema = fields.Schema(id=fields.ID(stored=True), body=fields.TEXT,
                           year=fields.ID(sortable=True))
    storage = MappedStorage(str(tmp_path))
    ix = storage.create_index(schema)
    for batch in range(3):  # three segments, each a compound file
        with ix.writer() as w:
            for i in range(50):
                w.add_document(id=f"{batch}-{i}", body=f"word{i % 7} common text {batch}",
                               year=str(2000 + i % 5))
    return storage


def test_compound_segments_are_read_through_the_map_without_copies(tmp_path):
    storage = _index(tmp_path)
    ix = storage.open_index()
    opened = []
    original = CompoundStorage.open_file

    def spy(self, name, *args, **kwargs):
        f = original(self, name, *args, **kwargs)
        opened.append(f)
        return f

    CompoundStorage.open_file = spy
    try:
        with ix.searcher() as searcher:
            hits = searcher.search(QueryParser("body", ix.schema).parse("word3 common"),
                                   limit=None, sortedby="year")
            ids = sorted(hit["id"] for hit in hits)
    finally:
        CompoundStorage.open_file = original
    assert ids == sorted(f"{b}-{i}" for b in range(3) for i in range(50) if i % 7 == 3)
    assert opened and all(isinstance(f, MappedFile) for f in opened)
    assert not any(isinstance(f, BufferFile) for f in opened)


def test_the_mapped_index_answers_as_whooshs_own_storage_does(tmp_path):
    from whoosh import index

    storage = _index(tmp_path)
    query = QueryParser("body", storage.open_index().schema).parse("common NOT word2")
    plain_index = index.open_dir(str(tmp_path))
    with storage.open_index().searcher() as mapped, plain_index.searcher() as plain:
        mapped_hits = [(h["id"], h.score) for h in mapped.search(query, limit=None)]
        assert mapped_hits == [(h["id"], h.score) for h in plain.search(query, limit=None)]
        assert len(mapped_hits) == 3 * 50 - 3 * 7
