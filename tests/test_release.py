"""release/ is exactly what nbgrader makes of source/, and gives nothing away."""

import filecmp
import re

import nbformat
import pytest

from conftest import ROOT, nbgrader

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


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.parent.name)
def test_reference_solution_passes_every_test(source):
    done = nbgrader("validate", str(source), cwd=ROOT)
    assert "Success! Your notebook passes all the tests." in done.stdout, done.stdout + done.stderr


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.parent.name)
def test_blank_release_fails_every_test(source):
    done = nbgrader("validate", "--invert", str(released(source)), cwd=ROOT)
    assert "Success! The notebook does not pass any tests." in done.stdout, (
        done.stdout + done.stderr)
