"""Every document a search matched, in one zip: `/search.zip` takes the search page's
parameters and streams the documents (as filed, or as the sanitized HTML the pages show)
with a `manifest.csv` listing each file.

The zip is written to a non-seekable stream a chunk at a time (zipfile then writes data
descriptors), so a process holds one document and the manifest, not the archive. Names
inside it are made here, `<accession>/<sequence>-<filename>`, with the filing's file name
cut to its last component and to [A-Za-z0-9._-] (never "..", a slash or a drive), so no
name from a filing becomes a path where the zip is unpacked. At most ZIP_MAX_DOCUMENTS
documents and ZIP_MAX_BYTES of them go in: the zip stops before the document that would
pass either, and the manifest's last row says so and how many more matched.
"""
from __future__ import annotations

import datetime
import html
import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from itertools import islice
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.views.decorators.http import require_GET

from filings import spreadsheet
from filings.models import Document, Kind
from search import results as sr
from search.filters import SearchRequest

FORMATS = {"original": "as filed", "html": "sanitized HTML"}
MANIFEST_COLUMNS = ["file", "accession_number", "sequence", "form_type", "company", "filed",
                    "document_type", "description", "filename", "format", "bytes", "url"]
CHUNK = 1024 * 1024  # bytes written (and sent) at a time
BATCH = 100  # documents read from the database per query
# Extensions for documents filed without a file name.
_EXTENSIONS = {Kind.HTML: ".htm", Kind.IXBRL: ".htm", Kind.XML: ".xml", Kind.XBRL: ".xml",
               Kind.JSON: ".json", Kind.PDF: ".pdf", Kind.TEXT: ".txt", Kind.OTHER: ".txt"}
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
# Files opened from the zip are local pages: nothing in them may load or run anything.
_HTML_HEAD = (
    '<!DOCTYPE html>\n<html><head><meta charset="utf-8">\n'
    '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
    "style-src 'unsafe-inline'; img-src data:\">\n<title>{title}</title></head><body>\n"
)


def safe_name(filename: str, fallback: str) -> str:
    """A file name's last component with only [A-Za-z0-9._-] (others become "_"), no
    leading or trailing dots, at most 100 characters; `fallback` when nothing is left."""
    base = re.split(r"[\\/:]", filename or "")[-1]
    base = _UNSAFE.sub("_", base).strip("._-")[:100].strip("._-")
    return base or fallback


def member_name(accession: str, sequence: int, filename: str, kind: str, fmt: str) -> str:
    stem = safe_name(filename, f"document{_EXTENSIONS.get(kind, '.bin')}")
    if "." not in stem:
        stem += _EXTENSIONS.get(kind, ".bin")
    if fmt == "html":
        stem = stem.rsplit(".", 1)[0] + ".html"
    return f"{accession}/{sequence:04d}-{stem}"


class _Pipe(io.RawIOBase):
    """A write-only, non-seekable stream whose bytes are taken out as they come."""

    def __init__(self):
        self._chunks: list[bytes] = []

    def writable(self):
        return True

    def write(self, data):
        self._chunks.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        return data


def zip_chunks(hits: Iterable, fmt: str, base_url: str, q: str = "",
               max_documents: int | None = None,
               max_bytes: int | None = None) -> Iterator[bytes]:
    """The zip of the documents of `hits` (search results of the documents view), in
    `fmt` ("original" or "html"), as a stream of bytes."""
    max_documents = settings.ZIP_MAX_DOCUMENTS if max_documents is None else max_documents
    max_bytes = settings.ZIP_MAX_BYTES if max_bytes is None else max_bytes
    suffix = "?" + urlencode({"q": q}) if q else ""
    pipe = _Pipe()
    manifest = io.StringIO()
    rows = spreadsheet.writer(manifest)
    rows.writerow(MANIFEST_COLUMNS)
    names: set[str] = set()
    added = total = 0
    stop = ""
    hits = (h for h in hits if h.sequence)  # not the header-only filings: no document
    with zipfile.ZipFile(pipe, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        while not stop:
            batch = list(islice(hits, BATCH))
            if not batch:
                break
            documents = _documents(batch)
            for n, hit in enumerate(batch):
                document = documents.get((hit.accession, hit.sequence))
                if document is None:  # deleted since it was indexed
                    continue
                page = None
                if added >= max_documents:
                    stop = (f"at most {max_documents:,} documents (ZIP_MAX_DOCUMENTS)")
                else:
                    # The bytes it will take, as the manifest counts them: the HTML's
                    # page in UTF-8, not the HTML's length in characters.
                    page = _html_page(document) if fmt == "html" else None
                    size = sum(map(len, page)) if page else document.size
                    if total + size > max_bytes:
                        stop = f"at most {max_bytes / 2**20:.6g} MB of documents (ZIP_MAX_MB)"
                if stop:
                    remaining = len(batch) - n + sum(1 for _ in hits)
                    break
                url = base_url + hit.url + suffix
                try:
                    parts = page or _original(document)
                except OSError:  # its stored file is gone: said, and the zip goes on
                    rows.writerow(["", hit.accession, hit.sequence, hit.form,
                                   "; ".join(p[1] for p in hit.parties), hit.filed,
                                   document.type, document.description, document.filename,
                                   "left out: its stored file could not be read", 0, url])
                    continue
                name = _unique(member_name(hit.accession, hit.sequence, document.filename,
                                           document.kind, fmt), names)
                written = yield from _write(archive, pipe, name, document, parts,
                                            stored=not page and document.is_binary)
                added += 1
                total += written
                rows.writerow([
                    name, hit.accession, hit.sequence, hit.form,
                    "; ".join(p[1] for p in hit.parties), hit.filed, document.type,
                    document.description, document.filename,
                    "html" if page else "original", written, url,
                ])
        if stop:
            rows.writerow([
                f"Stopped: this zip holds {stop}. {remaining:,} more matching document"
                f"{'s are' if remaining != 1 else ' is'} not in it; narrow the search "
                f"to get them."
            ] + [""] * (len(MANIFEST_COLUMNS) - 1))
        info = zipfile.ZipInfo("manifest.csv", _stamp(datetime.date.today()))
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, manifest.getvalue().encode("utf-8"))
    yield pipe.take()


def _documents(batch) -> dict:
    """(accession, sequence) -> the batch's documents, with what writing them needs
    except the large columns (read one document at a time)."""
    pks = [h.pk for h in batch if h.fields.get("pk")]
    rows = (
        Document.objects.filter(pk__in=pks)
        .select_related("filing")
        .only("pk", "sequence", "type", "filename", "description", "kind", "size", "file",
              "filing__accession_number", "filing__filed_on")
    )
    out = {}
    for document in rows:
        out[(document.filing.accession_number, document.sequence)] = document
    return out


def _html_page(document) -> list[bytes] | None:
    """The document's sanitized HTML in a page that loads and runs nothing, as bytes;
    None for a document without display HTML (a binary without text: it goes as filed)."""
    body = Document.objects.filter(pk=document.pk).values_list("html", flat=True).first()
    if not body:
        return None
    title = html.escape(f"{document.filing.accession_number} document "
                        f"{document.sequence} {document.type}")
    return [_HTML_HEAD.format(title=title).encode(), body.encode("utf-8", "replace"),
            b"\n</body></html>\n"]


def _write(archive, pipe, name, document, parts, stored: bool = False):
    """Write one document's `parts` (bytes: its HTML page, or `_original`), `stored`
    without compression (images and PDFs: compressed already); yields the zip's bytes as
    they come, returns the bytes written."""
    info = zipfile.ZipInfo(name, _stamp(document.filing.filed_on))
    info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    written = 0
    with archive.open(info, "w", force_zip64=document.size > 2**30) as dest:
        for part in parts:
            for start in range(0, len(part), CHUNK):
                piece = part[start:start + CHUNK]
                dest.write(piece)
                written += len(piece)
                if out := pipe.take():  # the compressor may hold it back yet
                    yield out
    return written


def _original(document) -> Iterator[bytes]:
    """The document as filed, a chunk at a time. Its stored file is opened here, before
    its zip entry begins: a file that cannot be opened raises OSError now."""
    if document.file:
        return _chunks(document.file.open("rb"))
    content = Document.objects.filter(pk=document.pk).values_list("content", flat=True).first()
    return iter([(content or "").encode("utf-8", "replace")])


def _chunks(fh) -> Iterator[bytes]:
    with fh:
        while piece := fh.read(CHUNK):
            yield piece


def _unique(name: str, names: set[str]) -> str:
    """`name`, or `name` with -2, -3... before its extension when already used."""
    candidate, n = name, 1
    while candidate in names:
        n += 1
        stem, dot, ext = name.rpartition(".")
        candidate = f"{stem}-{n}.{ext}" if dot else f"{name}-{n}"
    names.add(candidate)
    return candidate


def _stamp(day) -> tuple:
    """A zip entry's time: the filed date (zip cannot hold a date before 1980)."""
    if day is None or day.year < 1980:
        return (1980, 1, 1, 0, 0, 0)
    return (day.year, day.month, day.day, 0, 0, 0)


@require_GET
def export_zip(request):
    """Every document the search matched (the documents view of the same parameters),
    as filed (`files=original`, the default) or as sanitized HTML (`files=html`)."""
    fmt = request.GET.get("files") or "original"
    if fmt not in FORMATS:
        return HttpResponseBadRequest(
            "files must be original (documents as filed) or html (sanitized HTML).",
            content_type="text/plain; charset=utf-8")
    params = request.GET.copy()
    params["view"] = "documents"
    req = SearchRequest.from_query(params)
    base = request.build_absolute_uri("/")[:-1]
    response = StreamingHttpResponse(zip_chunks(sr.iter_results(req), fmt, base, req.q),
                                     content_type="application/zip")
    stamp = datetime.date.today().isoformat()
    label = "-html" if fmt == "html" else ""
    response["Content-Disposition"] = f'attachment; filename="edgar-search-{stamp}{label}.zip"'
    return response
