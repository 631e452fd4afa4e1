"""Notebooks are source code: no stray outputs, counts, paths or kernels."""

import json
import re

import pytest

from conftest import ROOT

SOURCES = sorted(ROOT.glob("source/*/*.ipynb"))
LESSONS = sorted(ROOT.glob("notebooks/*.ipynb"))
MACHINE_PATH = re.compile(r"(/home/|/root/|/tmp/|/Users/|/work/|[A-Z]:\\\\Users)")
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
TOP_LEVEL_METADATA = {"kernelspec", "language_info"}
# an ungraded solution cell where the student pastes answers of earlier sections
EARLIER_ANSWERS = "earlier_answers"


def load(path):
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", SOURCES + LESSONS, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_machine_paths_or_private_kernels(path):
    text = path.read_text(encoding="utf-8")
    assert not MACHINE_PATH.search(text), f"{path.name} mentions a machine path"
    notebook = load(path)
    assert notebook["metadata"].get("kernelspec") == KERNELSPEC
    assert set(notebook["metadata"]) <= TOP_LEVEL_METADATA, sorted(notebook["metadata"])


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.parent.name)
def test_source_notebooks_are_saved_clean(path):
    for cell in load(path)["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, cell["id"]


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_lessons_are_executed_in_order(path):
    counts = [c["execution_count"] for c in load(path)["cells"] if c["cell_type"] == "code"]
    assert counts == list(range(1, len(counts) + 1))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.parent.name)
def test_every_graded_function_has_a_test_cell_of_checks(path):
    cells = load(path)["cells"]
    ids = {c["metadata"].get("nbgrader", {}).get("grade_id"): c for c in cells}
    for cell in cells:
        meta = cell["metadata"].get("nbgrader", {})
        if meta.get("solution") and cell["cell_type"] == "code" and meta["grade_id"] != EARLIER_ANSWERS:
            name = re.search(r"^(?:def|class) (\w+)", "".join(cell["source"]), re.M).group(1)
            assert meta["grade_id"] == name
            tests = [c for g, c in ids.items() if g and re.fullmatch(f"test_{name.lower()}(_\\w+)?", g)]
            assert tests, f"{name} has no test cell"
            for test in tests:
                assert "check(" in "".join(test["source"]), f"{test['id']} calls no check"


def graded_names(path):
    """{name: assignment} of the graded functions of the master notebook `path`."""
    return {c["metadata"]["nbgrader"]["grade_id"]: path.parent.name for c in load(path)["cells"]
            if c["metadata"].get("nbgrader", {}).get("solution")
            and c["metadata"]["nbgrader"]["grade_id"] != EARLIER_ANSWERS}


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.parent.name)
def test_earlier_answers_are_ungraded_and_served_to_the_checks(path):
    """An earlier-answers cell holds graded functions of earlier sections only, as a
    solution (the release shows stubs); it scores nothing here, and checks name each
    function in uses=, so that the reference's answers are served at grading."""
    cells = load(path)["cells"]
    earlier = [c for c in cells if c["metadata"].get("nbgrader", {}).get("grade_id") == EARLIER_ANSWERS]
    if not earlier:
        pytest.skip(f"{path.parent.name} uses no earlier answer")
    meta = earlier[0]["metadata"]["nbgrader"]
    assert len(earlier) == 1 and earlier[0]["cell_type"] == "code"
    assert meta["solution"] and not meta["grade"] and not meta.get("locked")
    source = "".join(earlier[0]["source"])
    assert "### BEGIN SOLUTION" in source
    before = {}
    for other in SOURCES:
        if other.parent.name < path.parent.name:
            before.update(graded_names(other))
    tests = "".join("".join(c["source"]) for c in cells
                    if c["metadata"].get("nbgrader", {}).get("grade"))
    for name in re.findall(r"^def (\w+)", source, re.M):
        assert name in before, f"{name} is not a graded function of a section before {path.parent.name}"
        assert not re.search(f"grade_id.*test_{name.lower()}", json.dumps(cells)), f"{name} is graded here"
        assert re.search(f"[\"']{name}[\"']", tests), f"no check serves {name} with uses="
