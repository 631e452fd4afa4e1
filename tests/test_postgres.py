"""The gradebook on PostgreSQL, through nbgrader's own db_url, against a real server.

The test grades into a throw-away PostgreSQL server (the `postgres` fixture
of conftest.py, which skips, saying what to install, where there is none).
"""

from nbgrader.api import Gradebook

from conftest import course_with, grade
from samples import scores


def test_grading_writes_a_postgresql_gradebook(postgres, tmp_path):
    db_url = postgres()
    graded = [("sample-slips", "02_reshape"), ("sample-slips", "05_losses"),
              ("sample-wrong-axis", "05_losses")]
    course = course_with(tmp_path, graded, config=f"\nc.CourseDirectory.db_url = {db_url!r}\n")
    done = grade(course, "--workers", "2")
    assert not (course / "gradebook.db").exists()
    expected = {key: points for key, points in scores().items() if key in graded}
    with Gradebook(db_url) as gradebook:
        got = {(student, assignment): {cell: gradebook.find_grade(
                   cell, assignment, assignment, student).score for cell in points}
               for (student, assignment), points in expected.items()}
    assert got == expected
    assert "report: grades-report.html" in done.stdout
