"""release/ is exactly what nbgrader makes of source/, and gives nothing away."""

import filecmp
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from conftest import ROOT

SOURCES = sorted(ROOT.glob("source/*/*.ipynb"))
HIDDEN = re.compile(r"### BEGIN (SOLUTION|HIDDEN TESTS)\n(.*?)### END \1", re.S)


def released(source):
    return ROOT / "release" / source.parent.name / source.name


@pytest.fixture(scope="module")
def regenerated(graded_course):
    """The graded course, whose release/ was generated afresh from source/."""
    return graded_course[0]


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.parent.name)
def test_release_matches_what_source_generates(regenerated, source):
    fresh = regenerated / "release" / source.parent.name / source.name
    assert filecmp.cmp(fresh, released(source), shallow=False), (
        f"release/ is out of date for {source.parent.name}: run `make release` and commit")


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.parent.name)
def test_release_holds_no_solution_or_hidden_test(source):
    text = "\n".join(c.source for c in nbformat.read(released(source), as_version=4).cells)
    assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text
    secret = [line.strip() for cell in nbformat.read(source, as_version=4).cells
              for _, block in HIDDEN.findall(cell.source) for line in block.splitlines()]
    shown = {line.strip() for line in text.splitlines()}
    leaked = [line for line in secret if line and line in shown]
    assert not leaked, f"{released(source)} shows lines from solutions or hidden tests: {leaked}"


def validate(*notebooks, invert=False):
    """{notebook: what `nbgrader validate` said of it}, all in one nbgrader process."""
    done = subprocess.run([sys.executable, "-m", "nbgrader", "validate", *(["--invert"] if invert else []),
                           *map(str, notebooks)], cwd=ROOT, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, stdin=subprocess.DEVNULL, timeout=600)
    parts = re.split(r"^\[ValidateApp \| INFO\] Validating '(.*)'$", done.stdout, flags=re.M)
    return {Path(path): said for path, said in zip(parts[1::2], parts[2::2])}


def test_reference_solutions_pass_every_test():
    said = validate(*SOURCES)
    for source in SOURCES:
        assert "Success! Your notebook passes all the tests." in said.get(source, ""), (source, said)


def test_blank_releases_fail_every_test():
    said = validate(*map(released, SOURCES), invert=True)
    for source in SOURCES:
        assert "Success! The notebook does not pass any tests." in said.get(released(source), ""), (
            source, said)
