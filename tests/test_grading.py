"""The sample submissions in submitted/ get exactly the marks they deserve."""

import csv
import re

import nbformat
import pytest
from nbgrader.api import Gradebook

from conftest import LEFT_OUT, ROOT

# student -> {test cell: points}; a test that cannot tell right from wrong fails here.
EXPECTED = {
    "sample-correct": {"test_basic_sigmoid": 1, "test_sigmoid": 2, "test_sigmoid_derivative": 2},
    "sample-other-idioms": {"test_basic_sigmoid": 1, "test_sigmoid": 2,
                            "test_sigmoid_derivative": 2},
    # basic_sigmoid hard-codes the visible answer; sigmoid has the sign wrong;
    # sigmoid_derivative is right and must not pay for sigmoid's mistake.
    "sample-partly-wrong": {"test_basic_sigmoid": 0, "test_sigmoid": 0,
                            "test_sigmoid_derivative": 2},
    "sample-blank": {"test_basic_sigmoid": 0, "test_sigmoid": 0, "test_sigmoid_derivative": 0},
    # Attacks (see README, "Security"): each gains nothing for the function it attacks.
    # sigmoid returns x after patching np.allclose, np.isclose, np.testing...
    "sample-patches-allclose": {"test_basic_sigmoid": 1, "test_sigmoid": 0,
                                "test_sigmoid_derivative": 2},
    # sigmoid returns zeros in an ndarray subclass whose == always says True
    "sample-lying-array": {"test_basic_sigmoid": 1, "test_sigmoid": 0,
                           "test_sigmoid_derivative": 2},
    # once basic_sigmoid (right) has run, an input transformer turns every cell
    # that calls check() into `pass`; sigmoid returns -1
    "sample-rewrites-tests": {"test_basic_sigmoid": 1, "test_sigmoid": 0,
                              "test_sigmoid_derivative": 0},
    # replaces check() with one that reports the visible answers, 0.5 otherwise
    "sample-forges-reports": {"test_basic_sigmoid": 0, "test_sigmoid": 0,
                              "test_sigmoid_derivative": 0},
    # Bad files that are still notebooks: graded in full.
    # extra scratch cells that raise, unicode in code, comments and markdown
    "sample-scratch-cells": {"test_basic_sigmoid": 1, "test_sigmoid": 2,
                             "test_sigmoid_derivative": 2},
    # sigmoid prints a megabyte on every call
    "sample-prints-megabytes": {"test_basic_sigmoid": 1, "test_sigmoid": 2,
                                "test_sigmoid_derivative": 2},
    # saved as an nbformat 3 notebook
    "sample-old-format": {"test_basic_sigmoid": 1, "test_sigmoid": 2,
                          "test_sigmoid_derivative": 2},
    # Attacks on the machine, stopped by the sandbox.
    # basic_sigmoid execs the solution from source/; sigmoid tries to write the
    # gradebook, source/ and other submissions, and the network, then answers
    # right; sigmoid_derivative kills its parent and pid 1, then answers right
    "sample-escapes-sandbox": {"test_basic_sigmoid": 0, "test_sigmoid": 2,
                               "test_sigmoid_derivative": 2},
    # sigmoid never returns: the cell times out, the others are graded
    "sample-loops-forever": {"test_basic_sigmoid": 1, "test_sigmoid": 0,
                             "test_sigmoid_derivative": 2},
    # sigmoid allocates 128 GiB
    "sample-eats-memory": {"test_basic_sigmoid": 1, "test_sigmoid": 0,
                           "test_sigmoid_derivative": 2},
    # sigmoid (wrong) silences tracebacks and patches builtins.abs
    "sample-hides-tracebacks": {"test_basic_sigmoid": 1, "test_sigmoid": 0,
                                "test_sigmoid_derivative": 2},
    # sigmoid calls os._exit: the kernel is restarted, only sigmoid loses
    "sample-kernel-dies": {"test_basic_sigmoid": 1, "test_sigmoid": 0,
                           "test_sigmoid_derivative": 2},
    # test cells emptied, renamed, deleted, points raised; sigmoid wrong
    "sample-tampers-test-cells": {"test_basic_sigmoid": 1, "test_sigmoid": 0,
                                  "test_sigmoid_derivative": 2},
}

GRADED = {s: points for s, points in EXPECTED.items() if s not in LEFT_OUT}

NOT_GRADED = {
    "sample-empty-file": "the notebook file is empty",
    "sample-invalid-json": "not valid JSON",
    "sample-not-a-notebook": "JSON but not a notebook",
}


@pytest.mark.parametrize("student", sorted(GRADED))
def test_scores_per_test_cell(graded_course, student):
    course, _ = graded_course
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        scores = {
            grade_id: gradebook.find_grade(grade_id, "01_sigmoid", "01_sigmoid", student).score
            for grade_id in GRADED[student]
        }
    assert scores == GRADED[student]


def test_no_student_can_raise_the_points_on_offer(graded_course):
    course, _ = graded_course
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for student in GRADED:
            submission = gradebook.find_submission("01_sigmoid", student)
            assert submission.max_score == 5, student


@pytest.mark.parametrize("folder", ["source", "release", "submitted"])
def test_grading_leaves_the_course_files_untouched(graded_course, folder):
    course, _ = graded_course
    before = {p.relative_to(ROOT): p.read_bytes() for p in (ROOT / folder).rglob("*")
              if p.is_file() and not LEFT_OUT & set(p.parts)}
    after = {p.relative_to(course): p.read_bytes() for p in (course / folder).rglob("*")
             if p.is_file()}
    assert after == before


def test_the_gradebook_still_holds_the_master_cells(graded_course):
    course, _ = graded_course
    master = {c.metadata.nbgrader.grade_id: c.source
              for c in nbformat.read(ROOT / "source/01_sigmoid/01_sigmoid.ipynb", as_version=4).cells
              if not c.metadata.nbgrader.get("solution")}  # solutions are stored as stubs
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        cells = gradebook.find_notebook("01_sigmoid", "01_sigmoid").source_cells
        stored = {cell.name: cell.source for cell in cells if cell.name in master}
    assert stored == master


def test_no_link_out_of_a_graded_folder_survives(graded_course):
    course, _ = graded_course
    assert not [p for p in (course / "autograded").rglob("*") if p.is_symlink()]


def test_huge_output_is_cut_in_the_graded_notebook(graded_course):
    course, _ = graded_course
    graded = course / "autograded/sample-prints-megabytes/01_sigmoid/01_sigmoid.ipynb"
    assert graded.stat().st_size < 100_000


def test_feedback_hides_the_hidden_tests(graded_course):
    course, _ = graded_course
    for html in (course / "feedback").glob("*/01_sigmoid/01_sigmoid.html"):
        text = html.read_text()
        assert "default_rng" not in text and "HIDDEN TESTS" not in text, html


def test_broken_submissions_are_listed_with_their_reason(graded_course):
    _, output = graded_course
    listed = output.split("Could not grade", 1)[1]
    for student, reason in NOT_GRADED.items():
        line = next(l for l in listed.splitlines() if l.strip().startswith(student))
        assert "01_sigmoid" in line and reason in line


def test_grades_csv_has_every_student(graded_course):
    course, output = graded_course
    with open(course / "grades.csv", newline="") as file:
        rows = {r["student_id"]: float(r["score"]) for r in csv.DictReader(file)}
    expected = {s: sum(points.values()) for s, points in GRADED.items()}
    expected.update({s: 0.0 for s in NOT_GRADED})
    assert rows == expected
    assert re.search(r"^sample-partly-wrong +2 / 5$", output, re.M)


def test_feedback_names_function_input_expected_and_got(graded_course):
    course, _ = graded_course
    html = (course / "feedback/sample-partly-wrong/01_sigmoid/01_sigmoid.html").read_text()
    assert "sigmoid(array([1, 2, 3])): expected [0.73105858 0.88079708 0.95257413]" in html
    assert "got [0.26894142 0.11920292 0.04742587]" in html
    assert "basic_sigmoid(0): expected 0.5, got 0.73105858" in html
