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
