"""Fuzzing the parser: mutated real submissions either parse or raise SubmissionError, each
within a time bound. A fixed slice of the inputs of bench/fuzz_parser.py (which holds the
mutations), seeded from tests/fixtures/submissions and the corpus when present; run that
command for long runs. Pure Python: runs with `-p no:django`."""

import time

import pytest

from bench.fuzz_parser import load_seeds, make_input, seed_files
from filings.submission import Submission, SubmissionError, parse

SEED = 20251201
INPUTS = 300  # about 8 s of CPU (20 s of wall time on a busy machine)
# Linear code parses the largest input (12 MB) in about a second; the quadratic code the
# fuzzer found took minutes on inputs like these.
BOUND = 10.0


@pytest.fixture(autouse=True)
def isolated_data():
    """The parser touches no storage or settings: this overrides the Django-backed
    autouse fixture of tests/conftest.py so the module runs without pytest-django."""
    yield


@pytest.fixture(scope="module")
def seeds():
    paths = seed_files()
    if not paths:
        pytest.skip("no seed submissions in tests/fixtures or the corpus")
    return load_seeds(paths)


def test_mutated_submissions_parse_or_raise_submission_error_in_bounded_time(seeds):
    findings = []
    for index in range(INPUTS):
        data, what = make_input(SEED, index, seeds)
        started = time.perf_counter()
        try:
            result = parse(data, f"fuzz-{index}.txt")
        except SubmissionError:
            result = None
        except Exception as exc:  # noqa: BLE001 - any other exception is a finding
            findings.append(f"#{index} raised {type(exc).__name__}: {str(exc)[:200]} ({what})")
            continue
        elapsed = time.perf_counter() - started
        if result is not None and not (result and all(isinstance(s, Submission) for s in result)):
            findings.append(f"#{index} returned {result!r:.200} ({what})")
        if elapsed > BOUND:
            findings.append(f"#{index} took {elapsed:.1f} s ({what})")

    assert not findings, (
        f"replay one with: .venv/bin/python bench/fuzz_parser.py --seed {SEED} --replay N\n"
        + "\n".join(findings)
    )
