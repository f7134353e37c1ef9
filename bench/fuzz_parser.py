"""Fuzz the EDGAR parser with mutated real submissions, for as long as asked.

    .venv/bin/python bench/fuzz_parser.py [--seconds 3600] [--seed 1] [--through-ingest]
                                          [--workers 1] [--timeout 60] [--out DIR]
    .venv/bin/python bench/fuzz_parser.py --seed 1 --replay 12345

Seeds are the real submissions in tests/fixtures/submissions and the corpus
(../shared/corpus, or $EDGAR_CORPUS) when present. Each input is rebuilt from (seed,
index) alone, so any finding can be replayed with --replay. Every input must either parse
or raise SubmissionError within --timeout seconds; with --through-ingest it also goes
through filings.ingest.prepare_bytes (text extraction, sanitizing, XML tables). Inputs run
in worker processes, so a hang is killed and recorded rather than stalling the run.

Prints how many inputs ran, what they raised, and the slowest inputs; saves every input
that crashed (raised anything else) or hung to --out with a note of its mutations and
traceback. Not part of the test run: tests/filings/test_fuzz.py runs a fixed slice of the
same inputs.
"""

from __future__ import annotations

import argparse
import collections
import multiprocessing
import os
import random
import re
import sys
import tempfile
import time
import traceback
from multiprocessing.connection import wait
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "submissions"
CORPUS = Path(os.environ.get("EDGAR_CORPUS", ROOT.parent / "shared" / "corpus"))

# Inputs grow by repeated lines and whitespace runs; past this size a mutation is undone,
# which keeps a run's memory and each input's time bounded.
MAX_INPUT = 12 * 1024 * 1024
HEADER_SPAN = 8192  # most header bytes of a submission lie in its first few KB


# --------------------------------------------------------------------------------------
# Seeds and mutations (pure functions of a random.Random: inputs are reproducible)
# --------------------------------------------------------------------------------------


def seed_files() -> list[Path]:
    """The real submissions to mutate, in a stable order, each file name once."""
    files: dict[str, Path] = {}
    for folder in (FIXTURES, CORPUS):
        if folder.is_dir():
            for path in sorted(folder.iterdir()):
                if path.is_file() and path.name != "MANIFEST.tsv" and not path.name.startswith("."):
                    files.setdefault(path.name, path)
    return [files[name] for name in sorted(files)]


def _position(rng: random.Random, data: bytes) -> int:
    """A position biased towards the header, where most of the parser's logic lies."""
    if not data:
        return 0
    if rng.random() < 0.6:
        return rng.randrange(min(len(data), HEADER_SPAN))
    return rng.randrange(len(data))


def _line_start(data: bytes, i: int) -> int:
    j = max(data.rfind(b"\n", 0, i), data.rfind(b"\r", 0, i))
    return j + 1


def _line_at(data: bytes, i: int) -> tuple[int, int]:
    start = _line_start(data, i)
    ends = [e for e in (data.find(b"\n", start), data.find(b"\r", start)) if e >= 0]
    end = min(ends) + 1 if ends else len(data)
    return start, end


def _fit(times: int, unit: int, data: bytes) -> int:
    """`times` copies of `unit` bytes, fewer if they would take the input past MAX_INPUT."""
    return max(1, min(times, (MAX_INPUT - len(data)) // max(1, unit)))


def _flip_bytes(rng, data, seeds):
    out = bytearray(data)
    for _ in range(rng.randint(1, 32)):
        if out:
            out[_position(rng, out)] = rng.randrange(256)
    return bytes(out), "flip bytes"


def _duplicate_line(rng, data, seeds):
    start, end = _line_at(data, _position(rng, data))
    line = data[start:end] if data[start:end].endswith((b"\n", b"\r")) else data[start:end] + b"\n"
    times = _fit(rng.choice((2, 10, 1000, 20_000, 100_000)), len(line), data)
    return data[:start] + line * times + data[end:], f"line x{times}"


def _repeat_header_line(rng, data, seeds):
    """A header line repeated with a distinct value each time (ITEM INFORMATION x 100,000
    was quadratic)."""
    lines = re.findall(rb"(?m)^[ \t]*(?:[A-Z][A-Z -]+:[ \t]*|<[A-Z][A-Z-]+>)", data[:HEADER_SPAN])
    head = rng.choice(lines) if lines else b"ITEM INFORMATION:\t"
    head = rng.choice((head, b"ITEM INFORMATION:\t", b"GROUP MEMBERS:\t", b"<GROUP-MEMBERS>"))
    times = rng.choice((100, 5000, 60_000))
    block = b"".join(head + b"value %d\n" % i for i in range(times))
    at = _line_start(data, _position(rng, data))
    return data[:at] + block + data[at:], f"{head.strip()[:30]!r} x{times} distinct"


def _delete_lines(rng, data, seeds):
    start, _ = _line_at(data, _position(rng, data))
    end = start
    for _ in range(rng.randint(1, 20)):
        end = _line_at(data, end)[1] if end < len(data) else end
    return data[:start] + data[end:], "delete lines"


def _truncate(rng, data, seeds):
    at = rng.randrange(len(data) + 1)
    return data[:at], f"truncate at {at}"


_DIGITS = re.compile(rb"[0-9]+")
_HUGE = (
    b"0",
    b"00000000000000000000",
    b"9" * 11,
    b"9223372036854775809",
    b"18446744073709551617",
    b"9" * 5000,
    b"99991231235959",
    b"00010101",
    b"18991231",
    b"-1",
)


def _huge_number(rng, data, seeds):
    m = _DIGITS.search(data, _position(rng, data)) or _DIGITS.search(data)
    if not m:
        return data, "huge number (no digits)"
    value = rng.choice(_HUGE)
    return data[: m.start()] + value + data[m.end() :], f"number -> {value[:20]!r}"


_ODD_DIGITS = (
    b"\xb2",  # cp1252 superscript two
    b"\xb9",
    "\u0663".encode(),  # Arabic-Indic three
    "\uff13".encode(),  # full-width three
    "\u00b2".encode(),
    "\U0001d7d1".encode(),  # mathematical bold three
)


def _odd_digits(rng, data, seeds):
    m = _DIGITS.search(data, _position(rng, data)) or _DIGITS.search(data)
    if not m:
        return data, "odd digits (no digits)"
    i = rng.randrange(m.start(), m.end())
    digit = rng.choice(_ODD_DIGITS)
    return data[:i] + digit + data[i + 1 :], f"digit -> {digit!r}"


def _whitespace_run(rng, data, seeds):
    run = rng.choice((b" ", b"\t", b"\n", b"\r\n", b" \t", b"\r")) * rng.choice(
        (1000, 100_000, 1_000_000)
    )
    closers = [m.start() for m in re.finditer(rb"</(?:XML|XBRL|TEXT|DOCUMENT|SEC-HEADER)>", data)]
    if closers and rng.random() < 0.5:
        at = rng.choice(closers)
    else:
        at = _position(rng, data)
    return data[:at] + run + data[at:], f"whitespace x{len(run)}"


_TOKENS = (
    b"<DOCUMENT>",
    b"</DOCUMENT>",
    b"<TEXT>",
    b"</TEXT>",
    b"<SEC-HEADER>",
    b"</SEC-HEADER>",
    b"<SEC-DOCUMENT>0000000001-25-000001.txt : 20250101",
    b"</SEC-DOCUMENT>",
    b"<SUBMISSION>",
    b"</SUBMISSION>",
    b"<IMS-HEADER>",
    b"<IMS-DOCUMENT>",
    b"-----BEGIN PRIVACY-ENHANCED MESSAGE-----",
    b"-----END PRIVACY-ENHANCED MESSAGE-----",
    b"Proc-Type: 2001,MIC-CLEAR",
    b"<XML>",
    b"</XML>",
    b"<XBRL>",
    b"</XBRL>",
    b"<PDF>",
    b"<JSON>",
    b"begin 644 image.jpg",
    b"M_]C_X  02D9)1@ !  $ 8 !@  #_VP!#  @&!@<&!0@'!P<)\"0@*#!0-#PP+",
    b"end",
    b"<FILER>",
    b"</FILER>",
    b"<COMPANY-DATA>",
    b"<OWNER-DATA>",
    b"FILER:",
    b"COMPANY DATA:",
    b"FORMER COMPANY:",
    b"UNDERWRITER:",
    b"<ISSUING_ENTITY>",
    b"<SEQUENCE>1",
    b"<TYPE>",
    b"<TYPE>EX-101.INS",
    b"<FILENAME>../../etc/passwd",
    b"<!--",
    b"-->",
    b"<![CDATA[",
    b"<html>",
    b"<?xml version='1.0' encoding='utf-16'?>",
    b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>',
    b"<PRE>",
    b"<SERIES-AND-CLASSES-CONTRACTS-DATA>",
    b"\xef\xbb\xbf",
    b"\x00",
)


def _tag_soup(rng, data, seeds):
    """Structural tokens inserted, repeated or nested at line starts."""
    token = rng.choice(_TOKENS)
    times = rng.choice((1, 1, 2, 50, 20_000))
    at = _line_start(data, _position(rng, data))
    return data[:at] + (token + b"\n") * times + data[at:], f"insert {token[:24]!r} x{times}"


_TAG = re.compile(rb"</?[A-Za-z][A-Za-z0-9_-]*>")


def _remove_tag(rng, data, seeds):
    m = _TAG.search(data, _position(rng, data)) or _TAG.search(data)
    if not m:
        return data, "remove tag (none)"
    return data[: m.start()] + data[m.end() :], f"remove {m.group(0)[:24]!r}"


def _nest(rng, data, seeds):
    """Another submission (or this one) inside this one, or after it."""
    other = rng.choice(seeds) if seeds and rng.random() < 0.7 else data
    other = other[: rng.choice((len(other), 4096, 65536))]
    at = rng.choice((_line_start(data, _position(rng, data)), len(data), 0))
    return data[:at] + other + data[at:], f"nest {len(other)} bytes at {at}"


_VALUES = (
    b"CENTRAL INDEX KEY:\t0000000000",
    b"<CIK>99999999999999999999",
    b"<CIK>-5",
    b"ACCEPTANCE-DATETIME:\t99991231235959",
    b"<ACCEPTANCE-DATETIME>00000000000000",
    b"FILED AS OF DATE:\t99991231",
    b"<FILING-DATE>18500101",
    b"CONFORMED PERIOD OF REPORT:\t20251340",
    b"PUBLIC DOCUMENT COUNT:\t\xb2",
    b"<PUBLIC-DOCUMENT-COUNT>" + b"9" * 5000,
    b"<SEQUENCE>" + b"9" * 5000,
    b"<SEQUENCE>0",
    b"<SEQUENCE>1",
    b"STANDARD INDUSTRIAL CLASSIFICATION:\t2834",
    b"STANDARD INDUSTRIAL CLASSIFICATION:\tX [\xb2\xb2]",
    b"DATE OF NAME CHANGE:\t00000000",
    b"ACCESSION NUMBER:\t\xd9\xa0\xd9\xa0\xd9\xa0\xd9\xa0\xd9\xa0\xd9\xa0\xd9\xa0\xd9\xa0"
    b"\xd9\xa0\xd9\xa1-25-000001",
    b"ACCESSION NUMBER:\t0000000001-25-000001",
    b"<ACCESSION-NUMBER>9999999999-99-999999",
    b"ITEM INFORMATION:\tOther Events",
    b"GROUP MEMBERS:\tX",
    b"SOME_NEW_ROLE:\n\tCOMPANY DATA:\n\t\tCENTRAL INDEX KEY:\t1",
    b"<SOME-NEW-ROLE>\n<OWNER-DATA>\n<CIK>2\n</OWNER-DATA>\n</SOME-NEW-ROLE>",
)


def _inject_value(rng, data, seeds):
    value = rng.choice(_VALUES)
    at = _line_start(data, _position(rng, data))
    return data[:at] + value + b"\n" + data[at:], f"inject {value[:30]!r}"


_BLOCK = re.compile(rb"<DOCUMENT>.*?</DOCUMENT>[\r\n]*", re.S)


def _repeat_block(rng, data, seeds):
    """A whole document repeated: many documents sharing one <SEQUENCE>."""
    m = _BLOCK.search(data, rng.randrange(len(data) + 1)) or _BLOCK.search(data)
    if not m:
        return data, "repeat document (none)"
    block = m.group(0)
    times = _fit(rng.choice((2, 100, 5000)), len(block) + 8, data)
    if rng.random() < 0.5:  # distinct bodies under the same number
        copies = b"".join(block.replace(b"</DOCUMENT>", b"%d</DOCUMENT>" % i) for i in range(times))
    else:
        copies = block * times
    return data[: m.end()] + copies + data[m.end() :], f"document x{times}"


def _line_endings(rng, data, seeds):
    ending = rng.choice((b"\r", b"\r\n", b"\n"))
    return data.replace(b"\r\n", b"\n").replace(b"\n", ending), f"line endings {ending!r}"


MUTATIONS = (
    _flip_bytes,
    _duplicate_line,
    _repeat_header_line,
    _delete_lines,
    _truncate,
    _huge_number,
    _odd_digits,
    _whitespace_run,
    _tag_soup,
    _remove_tag,
    _nest,
    _inject_value,
    _repeat_block,
    _line_endings,
)


def make_input(seed: int, index: int, seeds: list[tuple[str, bytes]]) -> tuple[bytes, str]:
    """Input number `index` of run `seed`: a seed file with one to four mutations, and
    a description of them."""
    rng = random.Random(f"{seed}:{index}")
    name, data = rng.choice(seeds)
    others = [d for _, d in seeds]
    done = []
    for _ in range(rng.choice((1, 1, 2, 2, 3, 4))):
        mutation = rng.choice(MUTATIONS)
        mutated, what = mutation(rng, data, others)
        if len(mutated) <= MAX_INPUT:
            data = mutated
            done.append(what)
    return data, f"{name}: " + "; ".join(done)


def load_seeds(paths: list[Path]) -> list[tuple[str, bytes]]:
    return [(p.name, p.read_bytes()) for p in paths]


# --------------------------------------------------------------------------------------
# Running
# --------------------------------------------------------------------------------------


def run_one(data: bytes, name: str, through_ingest: bool) -> tuple[str, str]:
    """(outcome, detail): outcome is "ok", "SubmissionError: <reason>" or the name of the
    exception that escaped, detail its traceback."""
    from filings.submission import SubmissionError, parse

    try:
        if through_ingest:
            from filings.ingest import prepare_bytes

            prepare_bytes(data, name)
        else:
            parse(data, name)
    except SubmissionError as exc:
        return f"SubmissionError: {_reason_kind(exc.reason)}", ""
    except Exception as exc:  # noqa: BLE001 - counting what escapes is the point
        return f"crash: {type(exc).__name__}", traceback.format_exc()
    return "ok", ""


def _reason_kind(reason: str) -> str:
    """The reason without the specifics of one input, so that counts group."""
    return re.sub(r"[0-9]+", "N", reason)[:80]


def _setup(through_ingest: bool) -> None:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    if through_ingest:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        os.environ.setdefault("DATA_DIR", tempfile.mkdtemp(prefix="fuzz-parser-"))
        import django

        django.setup()


def _worker(conn, seed: int, paths: list[Path], through_ingest: bool) -> None:
    _setup(through_ingest)
    seeds = load_seeds(paths)
    while True:
        index = conn.recv()
        if index is None:
            return
        data, what = make_input(seed, index, seeds)
        started = time.perf_counter()
        outcome, detail = run_one(data, f"fuzz-{seed}-{index}.txt", through_ingest)
        conn.send((index, outcome, time.perf_counter() - started, len(data), what, detail))


class _Worker:
    """A process that runs inputs by index; killed and replaced when one hangs."""

    def __init__(self, ctx, seed, paths, through_ingest):
        self.spec = (ctx, seed, paths, through_ingest)
        self.index: int | None = None
        self.started = 0.0
        self._start()

    def _start(self) -> None:
        ctx, seed, paths, through_ingest = self.spec
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(
            target=_worker, args=(child, seed, paths, through_ingest), daemon=True
        )
        self.process.start()
        child.close()

    def give(self, index: int) -> None:
        self.index, self.started = index, time.perf_counter()
        self.conn.send(index)

    def restart(self) -> None:
        self.process.kill()
        self.process.join()
        self.conn.close()
        self.index = None
        self._start()

    def stop(self) -> None:
        self.process.kill()
        self.process.join()


def _save(out: Path, seed: int, index: int, outcome: str, what: str, detail: str, seeds) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    data, _ = make_input(seed, index, seeds)
    label = re.sub(r"[^A-Za-z0-9]+", "-", outcome).strip("-")
    path = out / f"{label}-seed{seed}-{index}.txt"
    path.write_bytes(data)
    path.with_suffix(".note").write_text(
        f"{outcome}\nseed {seed} index {index}\n{what}\n\n{detail}", encoding="utf-8"
    )
    return path


def _result(w: _Worker, args, seeds) -> tuple | None:
    """The finished input of worker `w` as (index, outcome, seconds, size, what, detail),
    or None while it runs. A worker that died or ran past the timeout is replaced."""
    if w.conn.poll():
        try:
            result = w.conn.recv()
        except EOFError:  # the worker died: out of memory, a signal...
            outcome, detail = "crash: worker died", f"exit code {w.process.exitcode}"
        else:
            w.index = None
            return result
    elif time.perf_counter() - w.started > args.timeout:
        outcome, detail = f"hang: over {args.timeout:.0f} s", ""
    else:
        return None
    index, elapsed = w.index, time.perf_counter() - w.started
    w.restart()
    data, what = make_input(args.seed, index, seeds)
    return index, outcome, elapsed, len(data), what, detail


def fuzz(args) -> int:
    paths = seed_files()
    if not paths:
        print(f"no seed files in {FIXTURES} or {CORPUS}", file=sys.stderr)
        return 2
    seeds = load_seeds(paths)  # the parent rebuilds the inputs it saves
    out = Path(args.out)
    ctx = multiprocessing.get_context("spawn")
    workers = [_Worker(ctx, args.seed, paths, args.through_ingest) for _ in range(args.workers)]
    counts: collections.Counter = collections.Counter()
    slowest: list[tuple] = []
    saved: list[Path] = []
    next_index = args.start
    started = last_report = time.perf_counter()
    deadline = started + args.seconds
    print(
        f"fuzzing {'parse + prepare_bytes' if args.through_ingest else 'parse'} with "
        f"{len(paths)} seed files, seed {args.seed}, {args.workers} worker(s), "
        f"{args.seconds:.0f} s; findings go to {out}",
        flush=True,
    )
    try:
        while True:
            for w in workers:
                if w.index is None and time.perf_counter() < deadline:
                    w.give(next_index)
                    next_index += 1
            busy = [w for w in workers if w.index is not None]
            if not busy:
                break
            first_timeout = min(w.started for w in busy) + args.timeout
            wait([w.conn for w in busy], timeout=max(0.0, first_timeout - time.perf_counter()))
            for w in busy:
                result = _result(w, args, seeds)
                if result is None:
                    continue
                index, outcome, elapsed, size, what, detail = result
                counts[outcome] += 1
                slowest = sorted([*slowest, (elapsed, index, size, outcome, what)])[::-1]
                slowest = slowest[: args.slowest]
                if outcome.startswith(("crash", "hang")):
                    saved.append(_save(out, args.seed, index, outcome, what, detail, seeds))
                    print(f"  {outcome} at index {index}: {saved[-1]}", flush=True)
            if time.perf_counter() - last_report > 60:
                last_report = time.perf_counter()
                print(
                    f"  {sum(counts.values())} inputs, {last_report - started:.0f} s, "
                    f"{len(saved)} findings",
                    flush=True,
                )
    finally:
        for w in workers:
            w.stop()

    total = sum(counts.values())
    print(
        f"\n{total} inputs in {time.perf_counter() - started:.0f} s (seed {args.seed}, "
        f"indexes {args.start}-{args.start + total - 1})"
    )
    for outcome, n in counts.most_common():
        print(f"  {n:>8}  {outcome}")
    print(f"\nslowest {len(slowest)}:")
    for elapsed, index, size, outcome, what in slowest:
        print(f"  {elapsed:7.2f} s  {size / 1e6:6.2f} MB  #{index}  {outcome}  {what[:110]}")
    if saved:
        print(f"\n{len(saved)} findings saved in {out}")
    return 1 if saved else 0


def replay(args) -> int:
    _setup(args.through_ingest)
    seeds = load_seeds(seed_files())
    data, what = make_input(args.seed, args.replay, seeds)
    print(f"input {args.replay} of seed {args.seed}: {len(data)} bytes; {what}")
    started = time.perf_counter()
    outcome, detail = run_one(data, f"fuzz-{args.seed}-{args.replay}.txt", args.through_ingest)
    print(f"{outcome} in {time.perf_counter() - started:.2f} s\n{detail}")
    return 0 if not outcome.startswith("crash") else 1


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=600, help="How long to run (600).")
    parser.add_argument("--seed", type=int, default=1, help="Seed of the run (1).")
    parser.add_argument("--start", type=int, default=0, help="First input index (0).")
    parser.add_argument(
        "--through-ingest",
        action="store_true",
        help="Also run filings.ingest.prepare_bytes (text extraction and sanitizing).",
    )
    parser.add_argument("--workers", type=int, default=1, help="Worker processes (1).")
    parser.add_argument(
        "--timeout", type=float, default=60, help="Seconds after which an input hangs (60)."
    )
    parser.add_argument("--slowest", type=int, default=10, help="How many slow inputs to list.")
    parser.add_argument(
        "--out",
        default=str(Path(tempfile.gettempdir()) / "edgar-fuzz"),
        help="Folder for crashing and hanging inputs (a temporary folder by default).",
    )
    parser.add_argument("--replay", type=int, help="Run only this input index, in process.")
    args = parser.parse_args(argv)
    _setup(False)
    if args.replay is not None:
        return replay(args)
    return fuzz(args)


if __name__ == "__main__":
    sys.exit(main())
