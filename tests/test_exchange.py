"""nbgrader's exchange works on one machine out of the box, and so does release_feedback."""

import shutil
import sys

import pytest

from conftest import ROOT, copy_course, nbgrader, run, through_api
from test_jupyterhub import LACKING as HUB_LACKS

ASSIGNMENTS = sorted(p.name for p in (ROOT / "source").iterdir())


def test_release_feedback_works_on_the_graded_samples(graded_course):
    """nbgrader's release_feedback for every assignment, as the formgrader runs it
    (NbGraderAPI, in one process: the command would import nbgrader seven times)."""
    course, _ = graded_course
    through_api(course, "release_feedback", ASSIGNMENTS)
    released = list((course / "exchange/numpy-for-deep-learning/feedback").glob("*.html"))
    assert len(released) > len(ASSIGNMENTS)  # one page per graded submission


@pytest.mark.skipif(HUB_LACKS is None, reason="tests/test_jupyterhub.py makes this round trip "
                                               "through a real hub, with two students")
def test_a_student_fetches_submits_and_gets_feedback_through_the_exchange(tmp_path):
    """Where the JupyterHub test cannot run (not root, no browser or node): the
    same round trip with nbgrader's commands, the student in a folder of their own."""
    empty = tmp_path / "nobody"
    empty.mkdir()
    course = copy_course(tmp_path / "course", submitted=empty, generated=True)
    student = tmp_path / "student"
    student.mkdir()
    as_student = ("--course", "numpy-for-deep-learning", f"--Exchange.root={course / 'exchange'}")

    def ok(done):
        assert done.returncode == 0, done.stdout + done.stderr
        return done

    ok(nbgrader("release_assignment", "01_sigmoid", cwd=course))
    ok(nbgrader("fetch_assignment", "01_sigmoid", *as_student, cwd=student))
    shutil.copy(ROOT / "submitted/sample-correct/01_sigmoid/01_sigmoid.ipynb",
                student / "01_sigmoid/01_sigmoid.ipynb")
    ok(nbgrader("submit", "01_sigmoid", *as_student, cwd=student))
    ok(nbgrader("collect", "01_sigmoid", cwd=course))
    graded = ok(run(sys.executable, "-m", "coursekit.grade", cwd=course))
    assert "Every submission was graded." in graded.stdout
    assert " 5 / 5" in graded.stdout
    ok(nbgrader("release_feedback", "01_sigmoid", cwd=course))
    ok(nbgrader("fetch_feedback", "01_sigmoid", *as_student, cwd=student))
    assert list((student / "01_sigmoid/feedback").glob("*/01_sigmoid.html"))
