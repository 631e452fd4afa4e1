"""Re-grading: a submission is graded again exactly when something it depends on changed."""

import csv
import shutil

from conftest import ROOT, course_with, grade

from coursekit import fingerprints

A = "01_sigmoid"


def scores(course):
    with open(course / "grades.csv", newline="", encoding="utf-8") as file:
        return {row["student_id"]: float(row["score"]) for row in csv.DictReader(file)
                if row["assignment"] == A}


def graded_line(output):
    return next(line for line in output.splitlines() if line.startswith("grading "))


def test_a_rerun_grades_only_what_changed(tmp_path):
    # sample-tampers-test-cells (deleted cells restored without ids) made nbformat warn on the screen
    course = course_with(tmp_path, [("sample-correct", A), ("sample-partly-wrong", A),
                                    ("sample-tampers-test-cells", A)])
    done = grade(course, "--workers", "2")
    # the instructor's screen: no SQLAlchemy warnings on a student's first grade (see
    # workers.py), no "Kernel is running over TCP" from the reference runs (verdict.py)
    assert done.stderr == "", done.stderr
    first = done.stdout
    assert graded_line(first) == "grading 3 submission(s) with 2 worker(s)"
    before = scores(course)
    assert before == {"sample-correct": 5, "sample-partly-wrong": 2, "sample-tampers-test-cells": 3}
    page = course / "feedback" / "sample-correct" / A / f"{A}.html"
    feedback = page.read_bytes()

    plots = {png: png.stat().st_mtime_ns for png in (course / "grades-report").glob("*.png")}
    again = grade(course, "--workers", "2").stdout
    assert graded_line(again).startswith("grading 0 submission(s)")
    # the report's plots show the same: they are not drawn again
    assert {png: png.stat().st_mtime_ns for png in plots} == plots
    assert "3 unchanged since their last grade" in again
    assert scores(course) == before
    assert page.read_bytes() == feedback
    # the table still shows every grade, none as "not graded"
    assert "sample-correct" in again and "not graded" not in again

    # a notebook replaced by hand (same name, nbgrader's timestamp.txt untouched)
    shutil.copy(ROOT / "submitted" / "sample-partly-wrong" / A / f"{A}.ipynb",
                course / "submitted" / "sample-correct" / A / f"{A}.ipynb")
    resubmitted = grade(course, "--workers", "2").stdout
    assert graded_line(resubmitted).startswith("grading 1 submission(s)")
    assert (course / "grades-report" / f"{A}-scores.png").stat().st_mtime_ns != \
        plots[course / "grades-report" / f"{A}-scores.png"]
    assert scores(course) == {"sample-correct": 2, "sample-partly-wrong": 2, "sample-tampers-test-cells": 3}

    forced = grade(course, "--workers", "2", "--force").stdout
    assert graded_line(forced) == "grading 3 submission(s) with 2 worker(s)"


def test_a_submission_whose_feedback_is_gone_is_graded_again(tmp_path):
    course = course_with(tmp_path, [("sample-correct", A)])
    grade(course, "--workers", "1")
    shutil.rmtree(course / "feedback" / "sample-correct")
    again = grade(course, "--workers", "1").stdout
    assert graded_line(again).startswith("grading 1 submission(s)")
    assert (course / "feedback" / "sample-correct" / A / f"{A}.html").is_file()


def test_the_fingerprint_follows_master_config_code_and_files(tmp_path):
    course = course_with(tmp_path, [("sample-correct", A)])
    plan = {f"{A}.ipynb": f"{A}.ipynb"}

    def now():
        course_hash = fingerprints.course_fingerprint(course, A)
        return course_hash, fingerprints.fingerprint(course, "sample-correct", A, plan, course_hash)

    first = now()
    assert now() == first
    master = course / "source" / A / f"{A}.ipynb"
    master.write_text(master.read_text() + "\n")
    second = now()
    assert second[0] != first[0] and second[1] != first[1]
    with open(course / "nbgrader_config.py", "a") as config:
        config.write("\n# a new setting\n")
    third = now()
    assert third[0] != second[0]
    (course / "submitted" / "sample-correct" / A / "notes.txt").write_text("extra file")
    assert now()[1] != third[1] and now()[0] == third[0]
    # a renamed notebook graded under its expected name is another plan
    assert fingerprints.fingerprint(course, "sample-correct", A, {f"{A}.ipynb": "x.ipynb"},
                                    third[0]) != now()[1]


def _reference_in_child(queue):
    from coursekit.verdict import run_reference
    queue.put(sorted(run_reference(str(ROOT / "source/03_normalize/03_normalize.ipynb"))))


def test_a_forked_worker_can_run_a_reference_after_the_grader_ran_one():
    """Workers are forked from the grader, which has run reference notebooks:
    a worker whose cache missed must be able to run one too (a kernel manager
    driven through a helper thread of the parent's hung there)."""
    import multiprocessing
    from coursekit.verdict import run_reference
    run_reference(str(ROOT / "source/02_reshape/02_reshape.ipynb"))
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_reference_in_child, args=(queue,))
    child.start()
    child.join(90)
    if child.is_alive():
        child.kill()
    assert not child.is_alive() and queue.get(timeout=1) == ["test_normalize_rows"]


def test_the_grader_neither_runs_nor_reads_the_cached_references(graded_course, tmp_path,
                                                                monkeypatch):
    """Grading started a pool of processes that each read a cached master's
    results again (0.56 s at the start of grading a class of 100); a master
    that changed is run again."""
    from coursekit import grade, verdict

    def not_again(*args, **kwargs):
        raise AssertionError("a cached reference was run or read again")

    course = graded_course[0]
    monkeypatch.setattr(grade, "reference_reports", not_again)
    monkeypatch.setattr(grade, "ProcessPoolExecutor", not_again)
    grade.run_references(course, ["01_sigmoid", "06_gradient", "07_logistic_regression"], 3)
    master = course / "source" / A / f"{A}.ipynb"
    edited = tmp_path / "source" / A / master.name
    edited.parent.mkdir(parents=True)
    edited.write_text(master.read_text(encoding="utf-8").replace("sigmoid", "sigmoid ", 1),
                      encoding="utf-8")
    assert verdict.reference_cached(master, str(course))
    assert not verdict.reference_cached(edited, str(course))
