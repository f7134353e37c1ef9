"""Sanitized HTML and extracted text of every HTML and inline-XBRL document of the corpus
stay byte-for-byte what they were when the fixture was recorded.

The fixture holds SHA-256 digests, keyed by corpus file, accession number and document
sequence. It was recorded before ingest's derive step was made faster, so any change of
output (deliberate or not) shows here. To record it again, after checking that a
difference is wanted:

    .venv/bin/python tests/filings/test_sanitize_corpus.py --record
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

import pytest

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "sanitize_corpus_digests.json"
CORPUS = Path(
    os.environ.get("EDGAR_CORPUS") or Path(__file__).resolve().parents[3] / "shared" / "corpus"
)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def corpus_names() -> list[str]:
    if not CORPUS.is_dir():
        return []
    return sorted(p.name for p in CORPUS.iterdir() if p.is_file() and p.name != "MANIFEST.tsv")


def digests_of(name: str) -> dict[str, dict[str, str]]:
    """{"<file> <accession> <sequence>": {"html": sha256, "text": sha256}} for one file,
    derived by the ingest pipeline's own prepare step."""
    from filings import submission as sub
    from filings.ingest import prepare_bytes

    data = (CORPUS / name).read_bytes()
    try:
        prepared = prepare_bytes(data, name)
    except sub.SubmissionError:
        # Document-only files (`noacc-*`) name no accession: lend them one, so their
        # malformed HTML is compared too.
        try:
            prepared = prepare_bytes(data, "0000000000-00-000000.txt")
        except sub.SubmissionError:
            return {}
    out = {}
    for item in prepared:
        for p in item.documents:
            if p.document.kind not in (sub.HTML, sub.IXBRL):
                continue
            key = f"{name} {item.submission.accession_number} {p.document.sequence}"
            assert key not in out, f"{key} is not unique"
            out[key] = {"html": _sha256(p.html), "text": _sha256(p.text)}
    return out


@pytest.fixture(scope="module")
def recorded() -> dict[str, dict[str, str]]:
    return json.loads(FIXTURE.read_text())


def test_fixture_covers_the_html_documents_of_the_corpus(recorded):
    # A digest file that lost its entries would make the comparison below vacuous.
    assert len(recorded) > 100
    assert {key.split(" ", 1)[0] for key in recorded} >= {
        "0001193125-25-066253.txt",  # inline XBRL, many documents
        "noacc-424B4-camp4.txt",  # malformed, document-only, 3.8 MB
    }


@pytest.mark.parametrize("name", corpus_names() or ["(corpus absent)"])
def test_derived_html_and_text_are_unchanged(name, recorded):
    if not CORPUS.is_dir():
        pytest.skip(f"the corpus {CORPUS} is absent")
    expected = {k: v for k, v in recorded.items() if k.split(" ", 1)[0] == name}
    actual = digests_of(name)
    assert actual.keys() == expected.keys()
    changed = [
        f"{key} {part}"
        for key in sorted(expected)
        for part in ("html", "text")
        if actual[key][part] != expected[key][part]
    ]
    assert not changed, f"derived output changed: {changed}"


def _record() -> None:
    import django

    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    names = corpus_names()
    if not names:
        raise SystemExit(f"the corpus {CORPUS} is absent")
    digests = {}
    for name in names:
        digests.update(digests_of(name))
    FIXTURE.write_text(json.dumps(digests, indent=0, sort_keys=True) + "\n")
    print(f"{len(digests)} documents of {len(names)} files recorded in {FIXTURE}")


if __name__ == "__main__":
    if sys.argv[1:] != ["--record"]:
        raise SystemExit(__doc__)
    _record()
