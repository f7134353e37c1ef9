"""Print what reading archives costs through filings.sources: CPU time per member for
archives of many small members, and time and peak memory (RSS) for bombs and a large
expansion with the default limits (MAX_EXPANDED_MB 2048, MAX_SUBMISSION_MB 256).

    .venv/bin/python bench/bench_sources.py [--members 100000] [--ingest]

Each case runs in a fresh child process so its peak RSS is its own. `--ingest` also
times `manage.py ingest` on the many-member .tar.gz in a new DATA_DIR (the whole
pipeline: the members are junk, so every one is reported failed).
"""
import argparse
import bz2
import gzip
import io
import json
import lzma
import os
import resource
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MB = 1024 * 1024
GB = 1024 * MB
COMPRESS = {"gz": gzip.compress, "bz2": bz2.compress, "xz": lzma.compress}
TAR_MODES = {"tar": "w", "tar.gz": "w:gz", "zip": None}


# --- Inputs --------------------------------------------------------------------------------


def many_members(path: Path, count: int):
    member = b"<SEC-DOCUMENT>not a filing, just a small member of a big archive\n" * 3
    if path.suffix == ".zip":
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            for i in range(count):
                archive.writestr(f"m/{i:07d}.txt", member)
        return
    mode = "w:gz" if path.name.endswith(".tar.gz") else "w"
    with tarfile.open(path, mode) as archive:
        for i in range(count):
            info = tarfile.TarInfo(f"m/{i:07d}.txt")
            info.size = len(member)
            archive.addfile(info, io.BytesIO(member))


def zeros(path: Path, fmt: str, total: int, prefix: bytes = b""):
    """`prefix` and `total` zero bytes as concatenated compressed streams (gzip, bzip2
    and xz readers take them as one): a bomb of any size, written in seconds."""
    piece = 64 * MB if fmt != "xz" else 16 * MB
    one = COMPRESS[fmt](bytes(piece))
    with open(path, "wb") as fh:
        if prefix:
            fh.write(COMPRESS[fmt](prefix))
        for _ in range(total // piece):
            fh.write(one)


def tar_header(name: str, size: int) -> bytes:
    info = tarfile.TarInfo(name)
    info.size = size
    return info.tobuf(format=tarfile.GNU_FORMAT)


def large_text_tar(path: Path, size: int):
    """A .tar.gz holding one text submission of `size` bytes (a real filing repeated)."""
    sample = next((ROOT / "tests" / "fixtures" / "submissions").glob("*.txt")).read_bytes()
    body = (sample * (size // len(sample) + 1))[:size]
    with tarfile.open(path, "w:gz", compresslevel=1) as archive:
        info = tarfile.TarInfo("big.txt")
        info.size = len(body)
        archive.addfile(info, io.BytesIO(body))


# --- One case, in a child process ------------------------------------------------------------


def peak_rss() -> int:
    """This process's peak resident memory. VmHWM, not ru_maxrss: Linux carries the
    forking parent's peak into ru_maxrss across exec, and the parent built the inputs."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def read_case(path: str) -> dict:
    from filings.sources import DEFAULT_MAX_EXPANDED, DEFAULT_MAX_MEMBER, read_sources

    cpu, wall = time.process_time(), time.perf_counter()
    count, failed, held, last_error = 0, 0, 0, ""
    for source in read_sources([path], DEFAULT_MAX_EXPANDED, DEFAULT_MAX_MEMBER):
        count += 1
        held = max(held, source.size)
        if source.error:
            failed += 1
            last_error = source.error
    return {
        "sources": count,
        "failed": failed,
        "largest": held,
        "cpu": time.process_time() - cpu,
        "wall": time.perf_counter() - wall,
        "peak_rss": peak_rss(),
        "error": last_error,
    }


def run_child(path: Path) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(path)],
        capture_output=True, text=True, check=True,
    )
    return json.loads(out.stdout)


def baseline_rss() -> int:
    out = subprocess.run(
        [sys.executable, __file__, "--baseline"],
        capture_output=True, text=True, check=True,
    )
    return json.loads(out.stdout)["peak_rss"]


def ingest_case(path: Path) -> dict:
    with tempfile.TemporaryDirectory() as data_dir:
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SEARCH_INDEX_DIR")}
        env["DATA_DIR"] = data_dir
        manage = [sys.executable, str(ROOT / "manage.py")]
        subprocess.run([*manage, "migrate", "-v0"], env=env, check=True, cwd=ROOT)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        wall = time.perf_counter()
        done = subprocess.run(
            [*manage, "ingest", "--no-progress", str(path)],
            env=env, cwd=ROOT, capture_output=True, text=True,
        )
        wall = time.perf_counter() - wall
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall": wall, "cpu": cpu, "summary": done.stdout.strip().splitlines()[-1]}


# --- Report -----------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=100_000, help="members per archive")
    parser.add_argument("--ingest", action="store_true", help="also time `manage.py ingest`")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--baseline", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.baseline:
        import filings.sources  # noqa: F401 - what every case loads

        print(json.dumps({"peak_rss": peak_rss()}))
        return
    if args.child:
        print(json.dumps(read_case(args.child)))
        return

    base = baseline_rss()
    print(f"python {sys.version.split()[0]}; a child that only imports filings.sources peaks "
          f"at {base / MB:.0f} MB RSS\n")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        print(f"Many small members ({args.members:,} and a quarter as many: linear if the "
              "CPU per member stays put)")
        for suffix in ("tar", "tar.gz", "zip"):
            for count in (args.members // 4, args.members):
                path = tmp / f"many-{count}.{suffix}"
                many_members(path, count)
                r = run_child(path)
                assert r["sources"] == count, r
                print(f"  {suffix:7} {count:>8,} members: {r['cpu']:6.2f} s CPU "
                      f"({r['cpu'] / count * 1e6:5.1f} µs/member), {r['wall']:6.2f} s wall, "
                      f"peak RSS {r['peak_rss'] / MB:5.0f} MB")
        if args.ingest:
            path = tmp / f"many-{args.members}.tar.gz"
            r = ingest_case(path)
            print(f"  manage.py ingest on the {args.members:,}-member .tar.gz: "
                  f"{r['wall']:.1f} s wall, {r['cpu']:.1f} s CPU\n    {r['summary']}")

        print("\nBombs and large expansions (limits: 2048 MB expanded, 256 MB per submission)")
        cases = [
            ("3 GiB .txt.gz bomb", "bomb.txt.gz", lambda p: zeros(p, "gz", 3 * GB)),
            ("3 GiB .txt.bz2 bomb", "bomb.txt.bz2", lambda p: zeros(p, "bz2", 3 * GB)),
            ("3 GiB .txt.xz bomb", "bomb.txt.xz", lambda p: zeros(p, "xz", 3 * GB)),
            (
                "3 GiB .tar.gz bomb (one member)",
                "bomb.tar.gz",
                lambda p: zeros(p, "gz", 3 * GB, tar_header("zeros.txt", 3 * GB)),
            ),
            (
                "3 GiB .tar.bz2 bomb (one member)",
                "bomb.tar.bz2",
                lambda p: zeros(p, "bz2", 3 * GB, tar_header("zeros.txt", 3 * GB)),
            ),
            ("200 MB submission in a .tar.gz", "big.tar.gz", lambda p: large_text_tar(p, 200 * MB)),
        ]
        for label, name, make in cases:
            path = tmp / name
            make(path)
            r = run_child(path)
            outcome = f"read, {r['largest'] / MB:.0f} MB"
            if r["error"]:
                outcome = f"refused: {r['error']}"
            print(f"  {label} ({path.stat().st_size / 1024:,.0f} KB on disk): "
                  f"{r['wall']:.2f} s, peak RSS {r['peak_rss'] / MB:.0f} MB\n    {outcome}")
            path.unlink()


if __name__ == "__main__":
    main()
