"""The student pack holds the lessons, the exercises and the check helper, and no answer."""

import subprocess
import sys
import zipfile

import pytest

from conftest import ROOT
from coursekit import pack

SECRETS = ("BEGIN SOLUTION", "HIDDEN TESTS")
NOTEBOOK_SECRETS = SECRETS + ("mistake(",)  # the known mistakes live in hidden tests


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("pack") / "student-pack"
    return out, pack.build(out)


def test_the_pack_holds_lessons_exercises_and_the_check_helper_only(built):
    out, archive = built
    files = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()}
    expected = ({f"notebooks/{p.name}" for p in ROOT.glob("notebooks/*.ipynb")}
                | {f"release/{p.parent.name}/{p.name}" for p in ROOT.glob("release/*/*.ipynb")}
                | {"coursekit/__init__.py", "coursekit/checks.py", "coursekit/values.py",
                   "requirements.txt", "pyproject.toml", "README.md"})
    assert files == expected
    with zipfile.ZipFile(archive) as zipped:
        assert {n.split("/", 1)[1] for n in zipped.namelist() if not n.endswith("/")} == expected


def test_nothing_in_the_pack_gives_an_answer_away(built):
    out, _ = built
    for path in out.rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            secrets = NOTEBOOK_SECRETS if path.suffix == ".ipynb" else SECRETS
            assert not [s for s in secrets if s in text], path
    sources = {p.read_text() for p in ROOT.glob("source/*/*.ipynb")}
    assert not sources & {p.read_text() for p in out.rglob("*.ipynb")}
    requirements = (out / "requirements.txt").read_text()
    assert "nbgrader" not in requirements and "numpy==" in requirements


def test_the_check_helper_works_without_the_grader(built):
    out, _ = built
    probe = ("import sys; sys.path.insert(0, sys.argv[1]); import numpy as np; "
             "from coursekit.checks import check; import coursekit; "
             "check(np.sqrt, np.array([4.0]), expect=[2.0]); "
             "assert coursekit.__file__.startswith(sys.argv[1]), coursekit.__file__; "
             "assert not [m for m in sys.modules if m.startswith('nbgrader')]")
    done = subprocess.run([sys.executable, "-c", probe, str(out)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "✔ sqrt(array([4.])) gives the expected result" in done.stdout
