"""The text of a PDF document, for the search index, snippets and the document page.

Pure Python (no Django). A PDF from a filing is hostile input, and a crafted one can make
a parser loop or balloon, so pypdf never runs in the caller's process: each PDF is read by
a fresh interpreter (`python -I` this file) that first limits its own address space, CPU
time, file writes and core dumps, reads the PDF on stdin and writes one JSON object on
stdout. The caller kills it past a wall-clock timeout. A PDF that fails is an error
string for the caller to report as a warning; it never raises.

The child process costs 0.15 to 0.2 s per PDF (interpreter start and pypdf's import), a
one- or two-page letter 0.2 to 0.4 s in all: `bench/bench_pdf_text.py` prints the figures.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from dataclasses import dataclass

# Bounds per PDF. The address-space limit covers the interpreter (about 30 MB) too.
TIMEOUT_SECONDS = 60  # wall clock, then the child is killed
CPU_SECONDS = 30  # the kernel stops the child (SIGXCPU) past this much CPU time
MEMORY_MB = 1024  # RLIMIT_AS: an allocation past it fails in the child
MAX_CHARS = 5_000_000  # text kept; pages after this are not read

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]+")  # tabs and newlines stay
_SPACES = re.compile(r"[ \t\u00a0]+")


@dataclass
class PdfText:
    text: str = ""
    pages: int = 0  # pages in the PDF (0 when it could not be read)
    error: str = ""  # why no text, or why only part of it, was had; "" when all went well


def extract(
    data: bytes,
    timeout: float = TIMEOUT_SECONDS,
    cpu_seconds: int = CPU_SECONDS,
    memory_mb: int = MEMORY_MB,
    max_chars: int = MAX_CHARS,
) -> PdfText:
    """The text of the PDF `data`, read in a child process within the limits given."""
    limits = json.dumps([cpu_seconds, memory_mb, max_chars])
    try:
        child = subprocess.Popen(
            [sys.executable, "-I", os.path.abspath(__file__), limits],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            close_fds=True,
        )
    except OSError as exc:
        return PdfText(error=f"the PDF reader could not be started ({exc})")
    try:
        out, _ = child.communicate(data, timeout=timeout)
    except subprocess.TimeoutExpired:
        child.kill()
        child.communicate()
        return PdfText(error=f"reading the PDF took longer than {timeout:g} s; stopped")
    except OSError:  # the child died before reading all of stdin (e.g. at its limit)
        child.kill()
        out, _ = child.communicate()
    if child.returncode == -signal.SIGXCPU:
        return PdfText(error=f"reading the PDF took more than {cpu_seconds} s of CPU; stopped")
    if child.returncode == -signal.SIGKILL:  # the CPU hard limit, or the system's OOM killer
        return PdfText(error="the PDF reader was killed (out of CPU time or memory)")
    try:
        result = json.loads(out)
    except ValueError:
        if child.returncode:
            return PdfText(error=f"the PDF reader stopped (exit status {child.returncode}),"
                                 f" probably past its {memory_mb} MB memory limit")
        return PdfText(error="the PDF reader gave no answer")
    return PdfText(result.get("text", ""), result.get("pages", 0),
                   _reason(result.get("error", "")))


def _reason(error: str) -> str:
    """An error as a filing's warning can hold it: pypdf names parts of the PDF in its
    messages (a crypt filter /Ev#00il is "/Ev\x00il"), and PostgreSQL refuses NUL."""
    return _CONTROL.sub(" ", error).encode("utf-8", "replace").decode("utf-8")


def clean(text: str) -> str:
    """One line per line of the PDF's text: control characters and runs of spaces become
    one space, blank lines go; lone surrogates (which UTF-8 cannot store) become '?'."""
    text = text.encode("utf-8", "replace").decode("utf-8")
    lines = (_SPACES.sub(" ", _CONTROL.sub(" ", line)).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def _limit_self(cpu_seconds: int, memory_mb: int) -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 5))
    memory = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))  # it writes no file
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _read(data: bytes, max_chars: int) -> dict:
    import io
    import logging

    logging.disable(logging.CRITICAL)  # pypdf's warnings about damaged files: noise here
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            reader.decrypt("")  # an owner password only: readable without one
        pages = reader.pages
        count = len(pages)
    except MemoryError:
        return {"error": "the PDF needs more memory than allowed to open"}
    except Exception as exc:  # noqa: BLE001 - any failure of a hostile file is reported
        return {"error": f"not a readable PDF ({type(exc).__name__}: {exc})"[:300]}
    texts, size, failed, error = [], 0, 0, ""
    for number in range(count):
        try:
            text = clean(pages[number].extract_text() or "")
        except MemoryError:
            error = f"page {number + 1} needs more memory than allowed; text stops there"
            break
        except Exception:  # noqa: BLE001
            failed += 1
            continue
        texts.append(text)
        size += len(text) + 1
        if size > max_chars:
            error = f"text cut at {max_chars:,} characters (page {number + 1} of {count})"
            break
    if failed and not error:
        error = f"{failed} of {count} pages could not be read"
    text = "\n".join(t for t in texts if t)[:max_chars]
    return {"text": text, "pages": count, "error": error}


def _main() -> None:
    cpu_seconds, memory_mb, max_chars = json.loads(sys.argv[1])
    _limit_self(cpu_seconds, memory_mb)
    data = sys.stdin.buffer.read()
    try:
        result = _read(data, max_chars)
    except MemoryError:
        result = {"error": f"the PDF needs more than {memory_mb} MB to read"}
    except RecursionError:
        result = {"error": "the PDF is nested too deeply to read"}
    sys.stdout.write(json.dumps(result))


if __name__ == "__main__":
    _main()
