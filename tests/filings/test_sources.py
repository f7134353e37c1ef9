"""filings.sources: paths, directories, globs and archives in; named bytes out, bounded."""
import bz2
import gzip
import io
import lzma
import os
import tarfile
import tracemalloc
import zipfile
import zlib

import pytest

from filings.sources import MAX_DEPTH, display_name, open_upload, read_sources
from tests.builders import tar_bytes, zip_bytes
from tests.conftest import corpus_file

MB = 1024 * 1024
GB = 1024 * MB
SMALL = "0000320193-99-000010.txt"
OTHER = "0001127602-25-004598.nc"

COMPRESS = {"gz": gzip.compress, "bz2": bz2.compress, "xz": lzma.compress}
# Memory a decoder needs whatever it reads: xz's default preset has an 8 MiB dictionary.
DECODER = {"xz": 9 * MB}


def _open(name, data, limit=64 * MB, member=256 * MB):
    return list(open_upload(name, io.BytesIO(data), limit, member))


def _zeros_gzip(total, chunk=MB):
    """A gzip of `total` zero bytes, made chunk by chunk so the zeros never sit in memory."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: gzip container
    zeros = bytes(chunk)
    parts = [compressor.compress(zeros) for _ in range(total // chunk)]
    parts.append(compressor.flush())
    return b"".join(parts)


def _zeros(fmt, total, prefix=b"", piece=8 * MB):
    """`prefix` then `total` zero bytes, compressed with `fmt`. gzip, bzip2 and xz all
    read concatenated streams as one, so one compressed piece repeated makes a bomb of
    any size cheaply (4 GiB of zeros is 24 KB of bzip2)."""
    compress = COMPRESS[fmt]
    one = compress(bytes(piece))
    return (compress(prefix) if prefix else b"") + one * (total // piece)


def _tar_header(name, size):
    info = tarfile.TarInfo(name)
    info.size = size
    return info.tobuf(format=tarfile.GNU_FORMAT)


def _one_file(fmt, data, name="one.txt"):
    """`data` as an upload of format `fmt`, and the name the submission inside gets."""
    if fmt == "zip":
        return "up.zip", zip_bytes({name: data}), f"up.zip!{name}"
    if fmt in COMPRESS:
        return f"{name}.{fmt}", COMPRESS[fmt](data), name
    mode = {"tar": "w", "tar.gz": "w:gz", "tgz": "w:gz", "tar.bz2": "w:bz2", "tar.xz": "w:xz"}
    return f"up.{fmt}", tar_bytes({name: data}, mode=mode[fmt]), f"up.tar!{name}"


class CountingReader(io.BytesIO):
    """A file object that records how many bytes were read from it."""

    def __init__(self, data, seekable=True):
        super().__init__(data)
        self.bytes_read = 0
        self._seekable = seekable

    def read(self, size=-1):
        data = super().read(size)
        self.bytes_read += len(data)
        return data

    def readinto(self, buffer):
        n = super().readinto(buffer)
        self.bytes_read += n
        return n

    def seekable(self):
        return self._seekable


def _peak(fn):
    """(result of fn(), peak bytes Python allocated while it ran)."""
    tracemalloc.start()
    try:
        result = fn()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.fixture
def small():
    return corpus_file(SMALL).read_bytes()


@pytest.fixture
def other():
    return corpus_file(OTHER).read_bytes()


# --- Paths ------------------------------------------------------------------------------


def test_a_plain_file_comes_back_whole(small):
    path = corpus_file(SMALL)
    [source] = read_sources([str(path)])
    assert source.name == str(path)
    assert source.data == small
    assert source.error == ""


def test_a_directory_is_walked_recursively_in_order_skipping_other_files(tmp_path, small, other):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "one.txt").write_bytes(small)
    (tmp_path / "a.nc").write_bytes(other)
    (tmp_path / "notes.pdf").write_bytes(b"%PDF")
    (tmp_path / "MANIFEST.tsv").write_text("file\n")
    names = [os.path.relpath(s.name, tmp_path) for s in read_sources([str(tmp_path)])]
    assert names == ["a.nc", os.path.join("b", "one.txt")]


def test_a_file_named_explicitly_is_tried_whatever_its_suffix(tmp_path, small):
    path = tmp_path / "filing.dat"
    path.write_bytes(small)
    [source] = read_sources([str(path)])
    assert source.data == small


def test_a_glob_expands_to_its_matches_in_order(tmp_path, small, other):
    (tmp_path / "x2.txt").write_bytes(small)
    (tmp_path / "x1.txt").write_bytes(other)
    (tmp_path / "y.txt").write_bytes(small)
    sources = list(read_sources([str(tmp_path / "x*.txt")]))
    assert [os.path.basename(s.name) for s in sources] == ["x1.txt", "x2.txt"]


def test_a_glob_matching_nothing_is_a_failed_source(tmp_path):
    [source] = read_sources([str(tmp_path / "none*.txt")])
    assert source.data is None
    assert source.error == "no file matches this pattern"


def test_a_missing_path_is_a_failed_source_and_the_rest_go_on(tmp_path, small):
    good = tmp_path / "good.txt"
    good.write_bytes(small)
    missing, found = read_sources([str(tmp_path / "missing.txt"), str(good)])
    assert missing.error == "no such file or directory"
    assert found.data == small


# --- Archives -----------------------------------------------------------------------------

FORMATS = ["gz", "bz2", "xz", "zip", "tar", "tar.gz", "tgz", "tar.bz2", "tar.xz"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_each_format_yields_the_submission_inside(fmt, small):
    name, data, inner = _one_file(fmt, small)
    [source] = _open(name, data)
    assert (source.name, source.error) == (inner, "")
    assert source.data == small


@pytest.mark.parametrize("fmt", FORMATS)
def test_each_format_is_read_from_disk_when_walking_a_directory(fmt, tmp_path, small):
    name, data, inner = _one_file(fmt, small)
    (tmp_path / name).write_bytes(data)
    [source] = read_sources([str(tmp_path)])
    assert source.name == str(tmp_path / inner)
    assert source.data == small


@pytest.mark.parametrize("fmt", FORMATS)
def test_each_format_is_read_from_a_stream_that_cannot_seek(fmt, small):
    name, data, inner = _one_file(fmt, small)
    [source] = open_upload(name, CountingReader(data, seekable=False))
    assert (source.name, source.data) == (inner, small)


def test_gzip_yields_the_file_inside_named_without_the_suffix(small):
    [source] = _open("upload/0000320193-99-000010.txt.gz", gzip.compress(small))
    assert source.name == "upload/0000320193-99-000010.txt"
    assert source.data == small


def test_zip_yields_each_member_named_after_the_archive(small, other):
    sources = _open("batch.zip", zip_bytes({"a/one.txt": small, "two.nc": other, "dir/": b""}))
    assert [(s.name, s.data) for s in sources] == [
        ("batch.zip!a/one.txt", small),
        ("batch.zip!two.nc", other),
    ]


def test_tar_yields_each_regular_member(small, other):
    sources = _open("batch.tar", tar_bytes({"one.txt": small, "two.nc": other}, mode="w"))
    assert [(s.name, s.data) for s in sources] == [
        ("batch.tar!one.txt", small),
        ("batch.tar!two.nc", other),
    ]


@pytest.mark.parametrize(
    "name, mode",
    [("batch.tar.gz", "w:gz"), ("batch.tgz", "w:gz"), ("batch.tar.bz2", "w:bz2"),
     ("batch.tbz2", "w:bz2"), ("batch.tar.xz", "w:xz"), ("batch.txz", "w:xz")],
)
def test_compressed_tars_are_opened_through_both_layers(name, mode, small, other):
    sources = _open(name, tar_bytes({"one.txt": small, "two.nc": other}, mode=mode))
    assert [s.data for s in sources] == [small, other]
    assert [s.name for s in sources] == ["batch.tar!one.txt", "batch.tar!two.nc"]


@pytest.mark.parametrize("fmt", ["gz", "bz2", "xz", "zip", "tar", "tar.gz", "tar.bz2"])
def test_an_archive_is_recognised_by_content_whatever_its_name(fmt, small):
    _, data, _ = _one_file(fmt, small)
    [source] = _open("upload.bin", data)
    assert source.data == small
    assert source.name.startswith("upload.bin")


def test_memory_stays_flat_however_many_members_an_archive_holds():
    # tarfile keeps every header it reads unless told otherwise (some 360 bytes each):
    # what is held while reading member 3,000 is what was held at member 500.
    count = 3000
    data = tar_bytes({f"m{i:05d}.txt": b"%d" % i for i in range(count)}, mode="w:gz")
    held = {}
    tracemalloc.start()
    try:
        upload = CountingReader(data, seekable=False)
        for i, source in enumerate(open_upload("many.tar.gz", upload)):
            assert (source.name, source.data) == (f"many.tar!m{i:05d}.txt", b"%d" % i)
            if i in (500, count - 1):
                held[i] = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert held[count - 1] - held[500] < 100 * 1024


def test_nested_archives_are_opened(small):
    inner = zip_bytes({"one.txt": small})
    outer = tar_bytes({"inner.zip": inner}, mode="w:gz")
    [source] = _open("outer.tar.gz", outer)
    assert source.name == "outer.tar!inner.zip!one.txt"
    assert source.data == small


@pytest.mark.parametrize("fmt", ["gz", "bz2", "xz", "zip", "tar.bz2"])
def test_each_format_nested_in_a_tar_is_opened(fmt, small, other):
    name, data, inner = _one_file(fmt, small)
    outer = tar_bytes({name: data, "two.nc": other}, mode="w:xz")
    sources = _open("outer.tar.xz", outer)
    assert [(s.name, s.data) for s in sources] == [
        (f"outer.tar!{inner}", small),
        ("outer.tar!two.nc", other),
    ]


def test_archives_nested_past_the_depth_limit_are_refused(small):
    data, name = small, "one.txt"
    for level in range(MAX_DEPTH + 2):
        data, name = zip_bytes({name: data}), f"level{level}.zip"
    sources = _open(name, data)
    assert [s.error for s in sources] == ["archives nested too deeply"]
    assert sources[0].data is None


def test_member_names_with_dot_dot_never_touch_the_disk(tmp_path, small, monkeypatch):
    monkeypatch.chdir(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    archive = zip_bytes({"../../escaped.txt": small, "/etc/absolute.txt": small})
    tarball = tar_bytes({"../escaped-tar.txt": small}, mode="w")
    before = sorted(p for p in tmp_path.rglob("*"))
    sources = _open(str(work / "evil.zip"), archive) + _open(str(work / "evil.tar"), tarball)
    # The hostile names survive only as labels on in-memory bytes.
    assert [s.data for s in sources] == [small, small, small]
    assert sources[0].name.endswith("evil.zip!../../escaped.txt")
    assert sorted(p for p in tmp_path.rglob("*")) == before
    assert not (tmp_path.parent / "escaped.txt").exists()
    assert display_name(sources[0].name) == "evil.zip!../../escaped.txt"


def test_member_names_are_labels_safe_to_print(small):
    # A name may carry a terminal escape sequence or bytes that are not UTF-8 (tarfile
    # keeps those as surrogates, which no terminal or database takes).
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as archive:
        for name in ("clear\x1b[2J\n.txt", "caf\udce9.txt"):
            info = tarfile.TarInfo(name)
            info.size = len(small)
            archive.addfile(info, io.BytesIO(small))
    sources = _open("odd.tar", buf.getvalue())
    assert [s.name for s in sources] == ["odd.tar!clear\\x1b[2J\\x0a.txt", "odd.tar!caf\ufffd.txt"]
    assert all(s.data == small for s in sources)
    zipped = _open("odd.zip", zip_bytes({"bell\x07.txt": small}))
    assert [s.name for s in zipped] == ["odd.zip!bell\\x07.txt"]


# --- Bombs: refused early, memory near the limit --------------------------------------------

BOMBS = {
    # name: (upload, what the budget refuses in the end)
    "gz": lambda: ("bomb.txt.gz", _zeros("gz", 4 * GB)),
    "bz2": lambda: ("bomb.txt.bz2", _zeros("bz2", 4 * GB)),
    "xz": lambda: ("bomb.txt.xz", _zeros("xz", 4 * GB)),
    "tar.gz": lambda: ("bomb.tar.gz", _zeros("gz", 4 * GB, _tar_header("z.txt", 4 * GB))),
    "tgz": lambda: ("bomb.tgz", _zeros("gz", 4 * GB, _tar_header("z.txt", 4 * GB))),
    "tar.bz2": lambda: ("bomb.tar.bz2", _zeros("bz2", 4 * GB, _tar_header("z.txt", 4 * GB))),
    "tar.xz": lambda: ("bomb.tar.xz", _zeros("xz", 4 * GB, _tar_header("z.txt", 4 * GB))),
}


@pytest.mark.parametrize("fmt", sorted(BOMBS))
def test_a_bomb_of_each_compressed_format_is_refused_early_in_bounded_memory(fmt):
    name, bomb = BOMBS[fmt]()
    upload = CountingReader(bomb, seekable=False)  # read as a stream, not in one call
    limit = 16 * MB
    sources, peak = _peak(lambda: list(open_upload(name, upload, limit, 64 * MB)))
    refusal = sources[-1]
    assert refusal.name == name
    assert refusal.data is None
    assert "expands past the limit of 16 MB (refused as a possible archive bomb)" in refusal.error
    # Stopped near the limit: most of the 4 GiB was never decompressed, nor held.
    assert upload.bytes_read < len(bomb) / 4
    assert peak < limit + 6 * MB + DECODER.get(fmt.rpartition(".")[2], 0)
    # The 4 GiB tar member is larger than the largest submission: refused unread first.
    if fmt.startswith("t"):
        assert sources[0].name.endswith("!z.txt")
        assert "is 4096 MB, larger than the largest submission stored (64 MB" in sources[0].error


def test_a_real_gzip_bomb_is_refused_without_expanding_it():
    bomb = _zeros_gzip(128 * MB)  # one gzip member, as a real bomb would be
    assert len(bomb) < 1 * MB  # 128 MB of zeros in a few hundred KB
    [source] = _open("bomb.txt.gz", bomb, limit=16 * MB)
    assert source.data is None
    assert "expands past the limit of 16 MB" in source.error
    assert "archive bomb" in source.error


def test_a_zip_bomb_is_refused_before_its_member_is_read():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        with archive.open("zeros.txt", "w", force_zip64=True) as member:
            for _ in range(64):
                member.write(bytes(MB))
    upload = buf.getvalue()
    assert len(upload) < MB
    [source], peak = _peak(lambda: _open("bomb.zip", upload, limit=16 * MB))
    assert source.name == "bomb.zip"
    assert "zeros.txt would expand past the limit of 16 MB" in source.error
    assert peak < 2 * MB


def test_a_zip_member_declaring_a_size_past_the_limit_is_refused(small):
    archive = zip_bytes({"one.txt": small, "big.txt": bytes(3 * MB)})
    sources = _open("bomb.zip", archive, limit=2 * MB)
    assert sources[0].data == small  # the member before the bomb is read
    assert sources[-1].data is None
    assert "big.txt would expand past the limit of 2 MB" in sources[-1].error


def test_a_zip_member_lying_about_its_size_is_refused_not_expanded():
    # Declared sizes rewritten to 1 byte get past the declared-size check; what comes
    # out is then cut at the declared size and fails the CRC, so nothing is yielded.
    archive = bytearray(zip_bytes({"liar.txt": bytes(3 * MB)}))
    real = (3 * MB).to_bytes(4, "little")
    offsets = [i for i in range(len(archive)) if archive[i : i + 4] == real]
    assert len(offsets) == 2  # the local header and the central directory
    for offset in offsets:
        archive[offset : offset + 4] = (1).to_bytes(4, "little")
    [source] = _open("liar.zip", bytes(archive), limit=2 * MB)
    assert source.data is None
    assert source.error.startswith("broken archive: Bad CRC-32")


@pytest.mark.parametrize("method", [zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])
def test_zip_members_compressed_without_an_output_bound_are_refused(method, small):
    # zipfile would expand these in one unbounded call: a few KB of bzip2 can hold GBs.
    archive = zip_bytes({"odd.txt": small, "plain.txt": small}, compression=method)
    sources = _open("odd.zip", archive)
    assert [s.name for s in sources] == ["odd.zip!odd.txt", "odd.zip!plain.txt"]
    assert all(s.data is None for s in sources)
    assert f"zip compression method {method} is not supported" in sources[0].error


def test_an_encrypted_zip_member_is_refused_and_the_rest_go_on(small, other):
    archive = bytearray(zip_bytes({"secret.txt": small, "two.nc": other}))
    # Set the "encrypted" flag of the first member in its local and central headers.
    for signature, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = archive.index(signature) + flag_at
        archive[at] |= 0x1
    sources = _open("locked.zip", bytes(archive))
    assert sources[0].name == "locked.zip!secret.txt"
    assert sources[0].error == "encrypted: cannot be read"
    assert (sources[1].name, sources[1].data) == ("locked.zip!two.nc", other)


def test_a_bomb_nested_in_an_archive_is_refused():
    inner = _zeros_gzip(8 * MB)
    outer = zip_bytes({"inner.txt.gz": inner}, compression=zipfile.ZIP_STORED)
    [source] = _open("outer.zip", outer, limit=4 * MB)
    assert source.name == "outer.zip"
    assert source.data is None
    assert "expands past the limit of 4 MB" in source.error
    assert source.error.endswith("while expanding outer.zip!inner.txt.gz")


def test_archives_nested_in_a_compressed_tar_count_against_the_same_budget(small):
    # Each gzip member alone fits; the tar's own gzip layer and the members' layers
    # draw on one budget, so the third member is refused.
    members = {f"part{i}.txt.gz": _zeros_gzip(4 * MB) for i in range(4)}
    outer = tar_bytes(members, mode="w:bz2")
    sources = _open("nested.tar.bz2", outer, limit=10 * MB)
    assert [s.name for s in sources] == [
        "nested.tar!part0.txt",
        "nested.tar!part1.txt",
        "nested.tar.bz2",
    ]
    assert [len(s.data) for s in sources[:2]] == [4 * MB, 4 * MB]
    assert "expands past the limit of 10 MB" in sources[2].error
    assert sources[2].error.endswith("while expanding nested.tar!part2.txt.gz")


def test_the_limit_counts_every_member_of_one_upload(small):
    # Each member alone fits, together they do not: the budget is per upload.
    archive = zip_bytes({f"part{i}.txt": bytes(MB) for i in range(5)})
    sources = _open("many.zip", archive, limit=3 * MB)
    assert [s.data is not None for s in sources][:2] == [True, True]
    assert sources[-1].data is None
    assert "past the limit of 3 MB" in sources[-1].error


def test_a_huge_tar_header_record_is_refused_before_it_is_read_into_memory(small):
    # A GNU long-name record is read whole by tarfile: 64 MB of "name" must not be.
    record = tarfile.TarInfo("././@LongLink")
    record.type = tarfile.GNUTYPE_LONGNAME
    record.size = 64 * MB
    data = record.tobuf(format=tarfile.GNU_FORMAT) + bytes(64 * MB) + tar_bytes(
        {"one.txt": small}, mode="w"
    )
    upload = CountingReader(data, seekable=False)
    [source], peak = _peak(lambda: list(open_upload("long.tar", upload)))
    assert source.name == "long.tar"
    assert source.error == "broken archive: a tar header record of 64 MB"
    assert peak < 4 * MB


def test_a_sparse_tar_member_counts_its_holes_against_the_budget():
    # GNU sparse: a 40 MB member stored as one 512-byte block, the rest holes (zeros).
    info = tarfile.TarInfo("holes.txt")
    info.type = tarfile.GNUTYPE_SPARSE
    info.size = 512
    header = bytearray(info.tobuf(format=tarfile.GNU_FORMAT))
    # The old-GNU sparse map: one region of 512 bytes at offset 0, and the real size.
    header[386:398] = b"%011o\0" % 0
    header[398:410] = b"%011o\0" % 512
    header[483:495] = b"%011o\0" % (40 * MB)
    header[148:156] = b" " * 8
    header[148:156] = b"%06o\0 " % sum(header[:512])
    data = bytes(header) + b"x" * 512 + bytes(1024)
    [source] = _open("sparse.tar", data, limit=8 * MB, member=64 * MB)
    assert source.name == "sparse.tar"
    assert "expands past the limit of 8 MB" in source.error


# --- The largest submission stored ----------------------------------------------------------


def test_a_file_larger_than_the_largest_submission_is_refused_unread(tmp_path, small):
    big = tmp_path / "huge.txt"
    big.write_bytes(bytes(3 * MB))
    (tmp_path / "ok.txt").write_bytes(small)
    upload = CountingReader(big.read_bytes())
    [source] = open_upload(str(big), upload, 64 * MB, 2 * MB)
    assert source.name == str(big)
    assert source.data is None
    assert source.error == (
        "is 3 MB, larger than the largest submission stored (2 MB, MAX_SUBMISSION_MB)"
    )
    assert upload.bytes_read <= 512  # only sniffed
    huge, ok = read_sources([str(big), str(tmp_path / "ok.txt")], max_member=2 * MB)
    assert "larger than the largest submission" in huge.error
    assert ok.data == small


@pytest.mark.parametrize("fmt", ["zip", "tar", "tar.gz", "tar.bz2"])
def test_an_archive_member_too_large_is_refused_and_the_rest_go_on(fmt, small):
    big = bytes(24 * MB)
    if fmt == "zip":
        data = zip_bytes({"big.txt": big, "one.txt": small})
    else:
        mode = {"tar": "w", "tar.gz": "w:gz", "tar.bz2": "w:bz2"}[fmt]
        data = tar_bytes({"big.txt": big, "one.txt": small}, mode=mode)
    name = f"batch.{fmt}"
    (refused, source), peak = _peak(lambda: _open(name, data, member=16 * MB))
    assert refused.name.endswith("!big.txt")
    assert refused.error.startswith("is 24 MB, larger than the largest submission stored (16 MB")
    assert source.data == small
    assert peak < 8 * MB  # the big member was never read into memory


@pytest.mark.parametrize("fmt", ["gz", "bz2", "xz"])
def test_a_compressed_file_too_large_is_refused_while_it_is_read(fmt):
    data = _zeros(fmt, 64 * MB, piece=4 * MB)
    [source], peak = _peak(lambda: _open(f"big.txt.{fmt}", data, limit=GB, member=8 * MB))
    assert source.name == "big.txt"
    assert source.error == (
        "is larger than the largest submission stored (8 MB, MAX_SUBMISSION_MB)"
    )
    assert peak < 8 * MB + 4 * MB + DECODER.get(fmt, 0)


# --- Broken archives -------------------------------------------------------------------------


def test_a_truncated_zip_is_a_broken_archive(small):
    archive = zip_bytes({"one.txt": small})
    [source] = _open("broken.zip", archive[: len(archive) // 2])
    assert source.data is None
    assert source.error.startswith("broken archive:")


@pytest.mark.parametrize("fmt", ["gz", "bz2", "xz"])
def test_a_truncated_compressed_file_is_a_broken_archive(fmt, small):
    data = COMPRESS[fmt](small)
    [source] = _open(f"broken.txt.{fmt}", data[: len(data) // 2])
    assert source.name == f"broken.txt.{fmt}"
    assert source.data is None
    assert source.error.startswith("broken archive:")


@pytest.mark.parametrize("name, mode", [("broken.tar.gz", "w:gz"), ("broken.tar.xz", "w:xz")])
def test_a_truncated_compressed_tar_is_a_broken_archive(name, mode, small):
    data = tar_bytes({"one.txt": small}, mode=mode)
    sources = _open(name, data[:-200])
    assert sources[-1].data is None
    assert sources[-1].error.startswith("broken archive:")


@pytest.mark.parametrize("name", ["fake.zip", "fake.txt.gz", "fake.tar.bz2", "fake.xz"])
def test_a_file_named_as_an_archive_that_is_not_one_is_a_broken_archive(name):
    [source] = _open(name, b"this is not an archive at all")
    assert source.name == name
    assert source.data is None
    assert source.error.startswith("broken archive:")


def test_display_name_keeps_the_file_and_member_only():
    assert display_name("/srv/in/batch.zip!a/one.txt") == "batch.zip!a/one.txt"
    assert display_name("/srv/in/one.txt") == "one.txt"
