"""Ingest benchmark: the dev corpus into a fresh DATA_DIR, end to end, as a user runs it.

Prints, for each worker count, MB/s of submission bytes, the CPU seconds (user + system)
of the `ingest` command and its worker processes, CPU seconds per MB, and the peak RSS.
CPU time is the figure to compare: wall time swings 2-3x on a shared machine.

    .venv/bin/python bench/bench_ingest.py                  # --workers 1 and 2
    .venv/bin/python bench/bench_ingest.py --workers 2 --repeat 3
    .venv/bin/python bench/bench_ingest.py --profile        # where the CPU goes
    .venv/bin/python bench/bench_ingest.py --project /tmp/old-checkout   # another tree

`--profile` runs one in-process pass (one worker) under a sampling profiler and shares
the CPU time out by the outermost pipeline step on the stack (parse, text, sanitize, XML
tables, database, index...), with the sanitize step broken down by the library that was
running (html5lib, bleach, tinycss2, lxml and our own code). HTML documents get their
text and sanitized HTML from one parse (`filings.sanitize.text_and_html`), so their text
extraction counts under sanitize, as "filings.text"; the "text" step is the other kinds.
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = Path(os.environ.get("EDGAR_CORPUS", ROOT.parent / "shared" / "corpus"))


def corpus_files(corpus: Path) -> list[Path]:
    files = sorted(p for p in corpus.iterdir() if p.is_file() and p.name != "MANIFEST.tsv")
    if not files:
        raise SystemExit(f"no corpus files in {corpus}")
    return files


def run_measured(cmd: list[str], env: dict, log: Path) -> tuple[int, resource.struct_rusage]:
    """Run `cmd`; its exit code and resource usage, its reaped worker processes included
    (Linux's wait4 reports a child together with the descendants it waited for)."""
    with open(log, "ab") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
        _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, usage


def manage(project: Path) -> list[str]:
    return [sys.executable, str(project / "manage.py")]


def run_ingest(project: Path, files: list[Path], workers: int, scratch: Path) -> dict:
    data_dir = Path(tempfile.mkdtemp(prefix=f"ingest-w{workers}-", dir=scratch))
    env = {**os.environ, "DATA_DIR": str(data_dir), "PYTHONHASHSEED": "0"}
    env.pop("SEARCH_INDEX_DIR", None)
    log = data_dir / "ingest.log"
    code, _ = run_measured([*manage(project), "migrate", "-v", "0"], env, log)
    if code:
        raise SystemExit(f"migrate failed, see {log}")
    cmd = [*manage(project), "ingest", "--no-progress", "--workers", str(workers)]
    started = time.perf_counter()
    code, usage = run_measured([*cmd, *map(str, files)], env, log)
    wall = time.perf_counter() - started
    summary = log.read_text(errors="replace").strip().splitlines()
    return {
        "workers": workers,
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "user": usage.ru_utime,
        "sys": usage.ru_stime,
        "peak_rss_mb": usage.ru_maxrss / 1024,  # kilobytes on Linux
        "exit": code,
        "summary": next((line for line in reversed(summary) if " files, " in line), "?"),
        "data_dir": data_dir,
    }


def report(result: dict, mb: float) -> None:
    r = result
    print(
        f"workers={r['workers']}: {mb / r['wall']:.2f} MB/s wall ({r['wall']:.1f} s), "
        f"CPU {r['cpu']:.1f} s (user {r['user']:.1f} + sys {r['sys']:.1f}) = "
        f"{r['cpu'] / mb:.3f} CPU-s/MB, peak RSS {r['peak_rss_mb']:.0f} MB, exit {r['exit']}"
    )
    print(f"    {r['summary']}")


# --- Profile ---------------------------------------------------------------------------

# The outermost of these on the stack names the step a sample belongs to (the XML tables
# parse with filings.text's parser, the index reads the database: both count as their
# own step). Matched on the start of the module name.
STEPS = [
    ("filings.submission", "parse"),
    ("filings.sanitize", "sanitize"),
    ("filings.xmlview", "XML tables"),
    ("filings.text", "text"),
    ("search", "index"),
    ("whoosh", "index"),
    ("django.db", "database"),
    ("django.core.files", "files (originals, attachments)"),
    ("filings.sources", "read sources"),
]
# Inside the sanitize step: the innermost of these names who was running.
LIBRARIES = [
    ("bleach._vendor.html5lib", "html5lib (bleach's copy)"),
    ("html5lib", "html5lib"),
    ("bleach", "bleach (filter, serialiser)"),
    ("tinycss2", "tinycss2"),
    ("filings.text", "filings.text (lxml parse, text of HTML documents)"),
    ("filings.sanitize", "filings.sanitize (lxml pass, serialising)"),
]


def _match(module: str, table) -> str | None:
    for prefix, name in table:
        if module == prefix or module.startswith(prefix + "."):
            return name
    return None


def classify(frame) -> tuple[str, str | None]:
    modules = []
    while frame is not None:
        modules.append(frame.f_globals.get("__name__", ""))
        frame = frame.f_back
    step = next((s for m in reversed(modules) if (s := _match(m, STEPS))), "other")
    library = None
    if step == "sanitize":
        library = next((lib for m in modules if (lib := _match(m, LIBRARIES))), "other")
    return step, library


def profile(project: Path, files: list[Path], scratch: Path, interval: float) -> None:
    """One in-process ingest under a CPU-time sampling profiler. A sampler rather than
    cProfile: cProfile's cost per call would inflate html5lib's and bleach's many small
    calls, the very shares being measured."""
    data_dir = Path(tempfile.mkdtemp(prefix="ingest-profile-", dir=scratch))
    os.environ["DATA_DIR"] = str(data_dir)
    os.environ.pop("SEARCH_INDEX_DIR", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(project))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)

    steps: Counter = Counter()
    libraries: Counter = Counter()
    last = [time.process_time()]

    # Each sample is weighed by the CPU time since the previous one: signals that arrive
    # during a long C call (an lxml parse, a regex) are merged into one, and would
    # otherwise undercount it.
    def sample(_signum, frame):
        now = time.process_time()
        weight, last[0] = now - last[0], now
        step, library = classify(frame)
        steps[step] += weight
        if library:
            libraries[library] += weight

    signal.signal(signal.SIGPROF, sample)
    cpu = last[0] = time.process_time()
    signal.setitimer(signal.ITIMER_PROF, interval, interval)
    try:
        call_command("ingest", *map(str, files), no_progress=True, workers=1, verbosity=0)
    except SystemExit:
        pass  # failures were reported; the profile still counts
    except Exception as exc:  # noqa: BLE001 - CommandError for failed files
        print(f"ingest: {exc}")
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0, 0)
    cpu = time.process_time() - cpu
    total = sum(steps.values()) or 1
    mb = sum(f.stat().st_size for f in files) / 1e6
    print(f"profile: in-process, 1 worker, {cpu:.1f} CPU-s ({cpu / mb:.3f} CPU-s/MB), "
          f"{total:.1f} CPU-s sampled")
    for step, n in steps.most_common():
        print(f"    {step:32s} {100 * n / total:5.1f}%  ({cpu * n / total:5.1f} s)")
    if libraries:
        print("  sanitize, by who was running:")
        for library, n in libraries.most_common():
            print(f"    {library:44s} {100 * n / total:5.1f}% of all")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="Corpus folder.")
    parser.add_argument("--workers", default="1,2", help="Worker counts, comma-separated.")
    parser.add_argument("--repeat", type=int, default=1, help="Runs per worker count.")
    parser.add_argument("--profile", action="store_true", help="Profile one pass instead.")
    parser.add_argument("--interval", type=float, default=0.002, help="Profile sampling, s.")
    parser.add_argument(
        "--project", type=Path, default=ROOT, help="Project tree to run (default: this one)."
    )
    parser.add_argument("--keep", action="store_true", help="Keep the DATA_DIRs made.")
    args = parser.parse_args()

    files = corpus_files(args.corpus)
    mb = sum(f.stat().st_size for f in files) / 1e6
    scratch = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    print(f"{len(files)} files, {mb:.1f} MB from {args.corpus}; project {args.project}")
    try:
        if args.profile:
            profile(args.project.resolve(), files, scratch, args.interval)
            return
        for workers in (int(w) for w in args.workers.split(",")):
            for _ in range(args.repeat):
                report(run_ingest(args.project.resolve(), files, workers, scratch), mb)
    finally:
        if args.keep:
            print(f"kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
