"""filings.sources: paths, directories, globs and archives in; named bytes out, bounded."""
import gzip
import io
import os
import zipfile
import zlib

import pytest

from filings.sources import MAX_DEPTH, display_name, open_upload, read_sources
from tests.builders import tar_bytes, zip_bytes
from tests.conftest import corpus_file

MB = 1024 * 1024
SMALL = "0000320193-99-000010.txt"
OTHER = "0001127602-25-004598.nc"




def _open(name, data, limit=64 * MB):
    return list(open_upload(name, io.BytesIO(data), limit))


def _zeros_gzip(total, chunk=MB):
    """A gzip of `total` zero bytes, made chunk by chunk so the zeros never sit in memory."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: gzip container
    zeros = bytes(chunk)
    parts = [compressor.compress(zeros) for _ in range(total // chunk)]
    parts.append(compressor.flush())
    return b"".join(parts)


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


@pytest.mark.parametrize("name", ["batch.tar.gz", "batch.tgz"])
def test_tar_gz_is_opened_through_both_layers(name, small, other):
    sources = _open(name, tar_bytes({"one.txt": small, "two.nc": other}, mode="w:gz"))
    assert [s.data for s in sources] == [small, other]
    assert [s.name for s in sources] == ["batch.tar!one.txt", "batch.tar!two.nc"]


def test_an_archive_is_recognised_by_content_whatever_its_name(small):
    [source] = _open("upload.bin", zip_bytes({"one.txt": small}))
    assert source.data == small


def test_nested_archives_are_opened(small):
    inner = zip_bytes({"one.txt": small})
    outer = tar_bytes({"inner.zip": inner}, mode="w:gz")
    [source] = _open("outer.tar.gz", outer)
    assert source.name == "outer.tar!inner.zip!one.txt"
    assert source.data == small


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


# --- Bombs and broken archives ------------------------------------------------------------


def test_a_real_gzip_bomb_is_refused_without_expanding_it():
    bomb = _zeros_gzip(300 * MB)
    assert len(bomb) < 1 * MB  # 300 MB of zeros in a few hundred KB
    [source] = _open("bomb.txt.gz", bomb, limit=16 * MB)
    assert source.data is None
    assert "expands past the limit of 16 MB" in source.error
    assert "archive bomb" in source.error


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


def test_a_bomb_nested_in_an_archive_is_refused():
    inner = _zeros_gzip(8 * MB)
    outer = zip_bytes({"inner.txt.gz": inner}, compression=zipfile.ZIP_STORED)
    [source] = _open("outer.zip", outer, limit=4 * MB)
    assert source.data is None
    assert "expands past the limit of 4 MB" in source.error


def test_the_limit_counts_every_member_of_one_upload(small):
    # Each member alone fits, together they do not: the budget is per upload.
    archive = zip_bytes({f"part{i}.txt": bytes(MB) for i in range(5)})
    sources = _open("many.zip", archive, limit=3 * MB)
    assert [s.data is not None for s in sources][:2] == [True, True]
    assert sources[-1].data is None
    assert "past the limit of 3 MB" in sources[-1].error


def test_an_upload_larger_than_the_limit_itself_is_refused():
    [source] = _open("huge.txt", bytes(3 * MB), limit=2 * MB)
    assert source.data is None
    assert "past the limit of 2 MB" in source.error


def test_a_truncated_zip_is_a_broken_archive(small):
    archive = zip_bytes({"one.txt": small})
    [source] = _open("broken.zip", archive[: len(archive) // 2])
    assert source.data is None
    assert source.error.startswith("broken archive:")


def test_a_truncated_gzip_is_a_broken_archive(small):
    data = gzip.compress(small)
    [source] = _open("broken.txt.gz", data[: len(data) // 2])
    assert source.data is None
    assert source.error.startswith("broken archive:")


def test_a_truncated_tar_gz_is_a_broken_archive(small):
    data = tar_bytes({"one.txt": small}, mode="w:gz")
    sources = _open("broken.tar.gz", data[:-200])
    assert sources[-1].data is None
    assert sources[-1].error.startswith("broken archive:")


def test_a_file_named_zip_that_is_not_one_is_a_broken_archive():
    [source] = _open("fake.zip", b"this is not a zip file at all")
    assert source.data is None
    assert source.error.startswith("broken archive:")


def test_display_name_keeps_the_file_and_member_only():
    assert display_name("/srv/in/batch.zip!a/one.txt") == "batch.zip!a/one.txt"
    assert display_name("/srv/in/one.txt") == "one.txt"
