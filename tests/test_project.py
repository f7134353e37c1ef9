"""The project as a fresh machine meets it: `make run` sets up without setuptools warnings,
and the README says how to serve on another port or address."""
import re
import tempfile
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_editable_install_is_a_plain_path_entry_without_warnings():
    """`make run` installs the project editable. Without a package directory setuptools
    installs an import finder and warns ("Editable installation. Please be careful with
    folders in your working directory..."); with package-dir "" = "." and no packages it
    writes a plain .pth entry for the project directory, and says nothing."""
    editable_wheel = pytest.importorskip("setuptools.command.editable_wheel")
    from setuptools.config.pyprojecttoml import apply_configuration
    from setuptools.dist import Distribution

    dist = Distribution()
    with warnings.catch_warnings():
        # Older setuptools calls [tool.setuptools] "beta"; the build itself uses
        # setuptools>=68 (pyproject's build-system), where it is not.
        warnings.filterwarnings("ignore", message=r".*is still \*beta\*")
        apply_configuration(dist, ROOT / "pyproject.toml")
    assert dist.packages == []
    command = editable_wheel.editable_wheel(dist)
    command.ensure_finalized()
    strategy = command._select_strategy("edgar_search", "py3-none-any", tempfile.mkdtemp())
    assert type(strategy).__name__ == "_StaticPth"
    assert [str(p) for p in strategy.path_entries] == ["."]


def test_readme_names_port_and_host_for_make_run():
    readme = (ROOT / "README.md").read_text()
    makefile = (ROOT / "Makefile").read_text()
    # The variables the README names are the ones the Makefile serves with.
    assert re.search(r"^HOST\s*\?=\s*127\.0\.0\.1$", makefile, re.M)
    assert re.search(r"^PORT\s*\?=\s*8000$", makefile, re.M)
    assert "runserver $(HOST):$(PORT)" in makefile
    assert re.search(r"make run PORT=\d+", readme)
    assert re.search(r"make run HOST=0\.0\.0\.0", readme)
    assert "`PORT` and `HOST`" in readme


def test_a_web_worker_starts_with_its_index_urls_and_search_templates_loaded(tmp_path):
    # gunicorn imports config.wsgi in each worker: it warms the search engine and loads
    # the URL patterns and the search page's templates, so the first search does not.
    # A template it names that is gone would be logged, not crash the worker: the log
    # must hold nothing.
    import subprocess
    import sys

    from tests.conftest import ROOT, separate_instance

    with separate_instance(tmp_path / "instance") as instance:
        result = subprocess.run(
            [sys.executable, "-c", "import config.wsgi; print('started')"], cwd=ROOT,
            env=instance.env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "started"
    assert "could not" not in result.stderr, result.stderr[-3000:]
