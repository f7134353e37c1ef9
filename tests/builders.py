"""Small builders shared by tests (no Django): archives made in memory, and the documents
of a submission sliced out with a regex independent of the parser under test."""
import io
import re
import tarfile
import zipfile

_DOCUMENT = re.compile(rb"<DOCUMENT>(.*?)</DOCUMENT>", re.S)


def zip_bytes(members: dict, compression=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buf.getvalue()


def tar_bytes(members: dict, mode="w:gz") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def documents(data: bytes) -> list[tuple[str, str, str]]:
    """(type, filename, body between <TEXT> and </TEXT>) of each document in a submission."""
    out = []
    for m in _DOCUMENT.finditer(data):
        block = m.group(1)
        doc_type = re.search(rb"<TYPE>([^\r\n]*)", block)
        filename = re.search(rb"<FILENAME>([^\r\n]*)", block)
        body = re.search(rb"<TEXT>\r?\n?(.*?)</TEXT>", block, re.S)
        out.append(
            (
                doc_type.group(1).decode().strip() if doc_type else "",
                filename.group(1).decode().strip() if filename else "",
                body.group(1).decode("utf-8", "replace") if body else "",
            )
        )
    return out


def pdf_bytes(lines=(), pages: int = 1, stream: bytes | None = None) -> bytes:
    """A minimal PDF (one Helvetica font, uncompressed xref) whose every page draws the
    same Flate-compressed content stream: `lines` of text, one below the other, or a raw
    `stream`. Many pages sharing one huge stream make a small file that balloons."""
    import zlib

    if stream is None:
        shown = b"".join(
            b"(%s) Tj 0 -14 Td " % re.sub(rb"([()\\])", rb"\\\1", line.encode("latin-1"))
            for line in lines
        )
        stream = b"BT /F1 12 Tf 72 720 Td " + shown + b"ET"
    packed = zlib.compress(stream, 9)
    kids = " ".join(f"{5 + i} 0 R" for i in range(pages))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream" % (len(packed), packed),
    ] + [
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792]"
        b" /Resources << /Font << /F1 3 0 R >> >> /Contents 4 0 R >>"
    ] * pages
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)


def balloon_pdf(pages: int = 5) -> bytes:
    """About 50 KB that every page inflates to 26 MB of text operators: a hostile PDF
    that takes a reader seconds of CPU and hundreds of MB."""
    return pdf_bytes(pages=pages, stream=b"BT /F1 12 Tf " + b"(word) Tj T* " * 2_000_000 + b"ET")


def submission_with_pdfs(accession: str, pdfs: dict, form: str = "8-K",
                         company: str = "PDF TEST CO", cik: str = "0000999001") -> bytes:
    """A full submission: a short text document, then each PDF of `pdfs` (filename ->
    bytes) uuencoded inside <PDF>, as EDGAR files them."""
    import binascii

    def uuencode(name, data):
        lines = [b"begin 644 " + name.encode()]
        lines += [binascii.b2a_uu(data[i:i + 45]).rstrip(b"\n") for i in range(0, len(data), 45)]
        return b"\n".join(lines + [b"`", b"end"])

    parts = [
        (f"<SEC-DOCUMENT>{accession}.txt : 20240402\n<SEC-HEADER>{accession}.hdr.sgml : 20240402\n"
         f"ACCESSION NUMBER:\t\t{accession}\nCONFORMED SUBMISSION TYPE:\t{form}\n"
         f"PUBLIC DOCUMENT COUNT:\t\t{len(pdfs) + 1}\nFILED AS OF DATE:\t\t20240402\n\n"
         f"FILER:\n\n\tCOMPANY DATA:\t\n\t\tCOMPANY CONFORMED NAME:\t\t\t{company}\n"
         f"\t\tCENTRAL INDEX KEY:\t\t\t{cik}\n</SEC-HEADER>\n"
         f"<DOCUMENT>\n<TYPE>{form}\n<SEQUENCE>1\n<FILENAME>cover.txt\n<TEXT>\n"
         f"Cover page of a filing with PDF exhibits.\n</TEXT>\n</DOCUMENT>\n").encode()
    ]
    for sequence, (name, data) in enumerate(pdfs.items(), 2):
        parts.append(
            f"<DOCUMENT>\n<TYPE>EX-99.{sequence - 1}\n<SEQUENCE>{sequence}\n"
            f"<FILENAME>{name}\n<DESCRIPTION>Exhibit {sequence - 1}\n<TEXT>\n<PDF>\n".encode()
            + uuencode(name, data) + b"\n</PDF>\n</TEXT>\n</DOCUMENT>\n"
        )
    parts.append(b"</SEC-DOCUMENT>\n")
    return b"".join(parts)
