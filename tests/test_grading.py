"""The sample submissions in submitted/ get exactly the marks they deserve."""

import csv
import json
import re
import shutil
import sys
from html import escape, unescape

import nbformat
import pytest
from nbgrader.api import Gradebook

import samples
from conftest import LEFT_OUT, ROOT, copy_course, course_with, grade, run

SCORES = samples.scores()
GRADED = {key: points for key, points in SCORES.items() if key[0] not in LEFT_OUT}
NOT_GRADED = samples.rows(samples.NOT_GRADED)
ASSIGNMENTS = sorted(samples.SCORES)


def test_every_sample_is_in_the_tables():
    on_disk = {p.relative_to(ROOT / "submitted").parts[:2]
               for p in (ROOT / "submitted").rglob("*") if p.is_file()}
    listed = set(SCORES) | {(student, entry) for student, entry, _ in NOT_GRADED}
    assert on_disk == listed


def points_on_offer(assignment):
    notebook = nbformat.read(ROOT / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    return sum(c.metadata.nbgrader.get("points", 0) for c in notebook.cells
               if c.metadata.get("nbgrader", {}).get("grade"))


@pytest.mark.parametrize("student, assignment", sorted(GRADED),
                         ids=[f"{s}/{a}" for s, a in sorted(GRADED)])
def test_scores_per_test_cell(graded_course, student, assignment):
    course, _ = graded_course
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        scores = {
            grade_id: gradebook.find_grade(grade_id, assignment, assignment, student).score
            for grade_id in GRADED[student, assignment]
        }
    assert scores == GRADED[student, assignment]


def test_the_tables_score_every_test_cell():
    for (student, assignment), points in SCORES.items():
        notebook = nbformat.read(ROOT / "source" / assignment / f"{assignment}.ipynb", as_version=4)
        cells = {c.metadata.nbgrader.grade_id for c in notebook.cells
                 if c.metadata.get("nbgrader", {}).get("grade")}
        assert set(points) == cells, (student, assignment)


def test_no_student_can_raise_the_points_on_offer(graded_course):
    course, _ = graded_course
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for student, assignment in GRADED:
            submission = gradebook.find_submission(assignment, student)
            assert submission.max_score == points_on_offer(assignment), (student, assignment)


@pytest.mark.parametrize("folder", ["source", "release", "submitted"])
def test_grading_leaves_the_course_files_untouched(graded_course, folder):
    course, _ = graded_course
    before = {p.relative_to(ROOT): p.read_bytes() for p in (ROOT / folder).rglob("*")
              if p.is_file() and not LEFT_OUT & set(p.parts)}
    after = {p.relative_to(course): p.read_bytes() for p in (course / folder).rglob("*")
             if p.is_file()}
    assert after == before


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_gradebook_still_holds_the_master_cells(graded_course, assignment):
    course, _ = graded_course
    source = ROOT / "source" / assignment / f"{assignment}.ipynb"
    master = {c.metadata.nbgrader.grade_id: c.source
              for c in nbformat.read(source, as_version=4).cells
              if "nbgrader" in c.metadata  # markdown is not nbgrader's: it may be translated
              and not c.metadata.nbgrader.get("solution")}  # solutions are stored as stubs
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        cells = gradebook.find_notebook(assignment, assignment).source_cells
        stored = {cell.name: cell.source for cell in cells if cell.name in master}
    assert stored == master


def test_no_link_out_of_a_graded_folder_survives(graded_course):
    course, _ = graded_course
    assert not [p for p in (course / "autograded").rglob("*") if p.is_symlink()]


def test_huge_output_is_cut_in_the_graded_notebook(graded_course):
    course, _ = graded_course
    graded = course / "autograded/sample-prints-megabytes/01_sigmoid/01_sigmoid.ipynb"
    assert graded.stat().st_size < 100_000


def hidden_lines(assignment):
    """The lines of the master's hidden test blocks that the release does not show."""
    master = (ROOT / "source" / assignment / f"{assignment}.ipynb").read_text()
    release = (ROOT / "release" / assignment / f"{assignment}.ipynb").read_text()
    lines = set()
    for cell in nbformat.reads(master, as_version=4).cells:
        for block in re.findall(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", cell.source, re.S):
            lines |= {line.strip() for line in block.splitlines()}
    return {line for line in lines if len(line) >= 15 and json.dumps(line)[1:-1] not in release}


def test_feedback_hides_the_hidden_tests(graded_course):
    course, _ = graded_course
    pages = list((course / "feedback").glob("*/*/*.html"))
    assert len(pages) == len(GRADED)
    secrets = {a: hidden_lines(a) for a in ASSIGNMENTS}
    for page in pages:
        text = unescape(re.sub(r"<[^>]+>", "", page.read_text()))
        student, assignment = page.parent.parent.name, page.parent.name
        # a line the student wrote too (grad = np.zeros_like(x)) is theirs to see
        submitted = "".join(p.read_text() for p in (ROOT / "submitted" / student / assignment).glob("*.ipynb"))
        hidden = {line for line in secrets[assignment] if json.dumps(line)[1:-1] not in submitted}
        for secret in ("HIDDEN TESTS", "mistake(", *hidden):
            assert secret not in text, (page, secret)


def test_broken_submissions_are_listed_with_their_reason(graded_course):
    _, output = graded_course
    listed = output.split("Could not grade", 1)[1].splitlines()
    for student, entry, reason in NOT_GRADED:
        assert [line for line in listed if line.strip().startswith(f"{student} / {entry}: ")
                and reason in line], (student, entry, reason)
    assert len([line for line in listed if line.startswith("  ")]) == len(NOT_GRADED)


@pytest.mark.parametrize("student, assignment, note", samples.rows(samples.NOTES))
def test_files_that_do_not_fit_are_graded_with_a_note(graded_course, student, assignment, note):
    if student in LEFT_OUT:
        pytest.skip(f"{student} needs the sandbox")
    course, output = graded_course
    assert f"  {student} / {assignment}: {note}" in output.split("Graded, with a note:", 1)[1]
    assert f"<td>{escape(note)}</td>" in (course / "grades-report.html").read_text()


def test_the_score_table_marks_what_was_not_graded(graded_course):
    _, output = graded_course
    expected = samples.scores()
    assignments = sorted(samples.SCORES)
    others = " +".join("-" for _ in assignments[1:])
    assert re.search(rf"^sample-empty-file +not graded +{others}$", output, re.M)
    totals = [sum(expected["sample-correct", a].values()) for a in assignments]
    assert re.search("^sample-correct +" + " +".join(f"{t} / {t}" for t in totals) + "$", output, re.M)
    if "sample-eats-memory" not in LEFT_OUT:  # stopped past a limit: its score, marked
        got = sum(expected["sample-eats-memory", "01_sigmoid"].values())
        assert re.search(rf"^sample-eats-memory +{got} / 5 \(stopped\) +-", output, re.M)


def test_grades_csv_has_every_student(graded_course):
    course, output = graded_course
    with open(course / "grades.csv", newline="") as file:
        rows = {(r["student_id"], r["assignment"]): float(r["score"]) for r in csv.DictReader(file)}
    expected = {key: sum(points.values()) for key, points in GRADED.items()}
    for student, entry, _ in NOT_GRADED:
        if entry in ASSIGNMENTS:
            expected[student, entry] = 0.0
    assert "sample-misplaced" in {student for student, _ in rows}
    # nbgrader's export lists every student for every assignment: 0 where nothing was submitted
    assert {key: score for key, score in rows.items() if key in expected} == expected
    assert not {key: score for key, score in rows.items() if key not in expected and score}
    assert re.search(r"^sample-partly-wrong +2 / 5 ", output, re.M)


def test_feedback_names_function_input_expected_and_got(graded_course):
    course, _ = graded_course
    html = (course / "feedback/sample-partly-wrong/01_sigmoid/01_sigmoid.html").read_text()
    assert "sigmoid(array([1, 2, 3])): expected [0.73105858 0.88079708 0.95257413]" in html
    assert "got [0.26894142 0.11920292 0.04742587]" in html
    assert "basic_sigmoid(0): expected 0.5, got 0.73105858" in html


HINTS = samples.rows(samples.HINTS)


@pytest.mark.parametrize("student, assignment, hint", HINTS,
                         ids=[f"{s}/{a}/{i}" for i, (s, a, _) in enumerate(HINTS)])
def test_feedback_names_the_likely_mistake(graded_course, student, assignment, hint):
    course, _ = graded_course
    html = (course / f"feedback/{student}/{assignment}/{assignment}.html").read_text()
    assert re.search(f"(Likely mistake|의심되는 실수): [^<]*{re.escape(escape(hint))}", html)


def test_feedback_of_a_wrong_plot_shows_the_picture_and_what_was_wrong(graded_course):
    course, _ = graded_course
    html = (course / "feedback/sample-wrong-axis/06_gradient/06_gradient.html").read_text()
    # one picture per plot test: its first check fails, which ends the cell
    assert html.count("data:image/png;base64,") == 2
    assert "it did not draw on the Axes it was given and return it" in html


def test_feedback_says_what_replaces_a_removed_numpy_alias(graded_course):
    course, _ = graded_course
    html = (course / "feedback/sample-whole-array/07_logistic_regression/"
                     "07_logistic_regression.html").read_text()
    assert ("initialize_with_zeros(2) raised AttributeError: np.float no longer exists: it was an "
            "alias of Python") in html
    assert "built-in float, removed in NumPy 1.24. Write float instead" in html


def test_feedback_says_which_of_several_returned_values_was_expected(graded_course):
    course, _ = graded_course
    html = (course / "feedback/sample-whole-array/06_gradient/06_gradient.html").read_text()
    assert "alone, got 2 values returned together; item 0 is the expected result: return only it" in html


def test_workers_run_notebooks_in_kernels_started_ahead(graded_course):
    course, _ = graded_course
    logs = [log.read_text() for log in (course / ".coursekit-cache/logs").glob("*--*.log")]
    ahead = [log for log in logs if "Running in the kernel started ahead" in log]
    # each worker starts its first kernel itself, and the later ones ahead
    assert len(ahead) >= len(logs) // 2, (len(ahead), len(logs))


def test_feedback_on_an_error_says_what_was_expected(graded_course):
    course, _ = graded_course
    html = (course / "feedback/sample-wrong-shape/03_normalize/03_normalize.html").read_text()
    assert ("normalize_rows(array([[0, 3, 4], [1, 6, 4]])) raised ValueError: operands could not "
            "be broadcast together with shapes (2,3) (2,) ; expected [[0. 0.6 0.8 ]") in html


def grades_and_feedback(course, students):
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        grades = {(g.student.id, g.assignment.name, g.name): g.score
                  for a in gradebook.assignments for s in a.submissions
                  for n in s.notebooks for g in n.grades if g.student.id in students}
    feedback = {p.relative_to(course): p.read_text() for p in (course / "feedback").rglob("*.html")
                if p.relative_to(course).parts[1] in students}
    return grades, feedback


def test_parallel_workers_grade_exactly_as_one_does(graded_course, tmp_path):
    """graded_course ran four workers on one SQLite gradebook; here one worker grades a few."""
    chosen = [("sample-wrong-axis", "04_softmax"), ("sample-slips", "04_softmax"),
              ("sample-slips", "05_losses")]
    students = {student for student, _ in chosen}
    course = course_with(tmp_path, chosen)
    grade(course, "--workers", "1")
    serial = grades_and_feedback(course, students)
    graded = {key: points for key, points in SCORES.items() if key in chosen}
    assert len(serial[0]) == sum(len(points) for points in graded.values())
    assert len(serial[1]) == len(graded)
    parallel = grades_and_feedback(graded_course[0], students)
    assert {k: v for k, v in parallel[0].items() if k[:2] in chosen} == serial[0]
    assert {k: v for k, v in parallel[1].items() if (k.parts[1], k.parts[2]) in chosen} == serial[1]


def test_the_report_shows_scores_test_cells_mistakes_and_what_was_not_graded(graded_course):
    course, output = graded_course
    page = (course / "grades-report.html").read_text()
    assert "report: grades-report.html" in output
    for assignment in ASSIGNMENTS:
        for plot in ("scores", "test-cells"):
            assert (course / "grades-report" / f"{assignment}-{plot}.png").stat().st_size > 1000
            assert f"grades-report/{assignment}-{plot}.png" in page
    stable = [points["test_softmax_stable"] for (_, a), points in GRADED.items() if a == "04_softmax"]
    assert f"<td>test_softmax_stable</td><td>{sum(stable)} of {len(stable)}</td>" in page
    assert "<td>1</td><td>likely mistake: the maximum of the whole array was subtracted" in page
    for student, entry, _ in NOT_GRADED:
        assert f"<td>{student}</td><td>{escape(entry)}</td>" in page


def test_the_report_reads_the_gradebook_in_a_few_queries_however_large_the_class(graded_course):
    """It read each submission's notebooks, grades and student one query at a
    time: thousands of queries for a class, here fewer than two per grade cell."""
    import sqlalchemy

    from coursekit.report import collect

    statements = []

    def count(*args):
        statements.append(args[2])

    sqlalchemy.event.listen(sqlalchemy.engine.Engine, "before_cursor_execute", count)
    try:
        results = collect(f"sqlite:///{graded_course[0] / 'gradebook.db'}")
    finally:
        sqlalchemy.event.remove(sqlalchemy.engine.Engine, "before_cursor_execute", count)
    cells = sum(len(entry["cells"]) for entry in results.values())
    scores = sum(len(entry["scores"]) for entry in results.values())
    assert scores > 60 and 0 < len(statements) < 2 * cells


@pytest.mark.parametrize("metadata, valid", [
    ({"grade": True, "solution": False, "locked": True, "points": 1, "grade_id": "test_a",
      "schema_version": 3}, True),
    ({"grade": True, "solution": False, "locked": True, "points": "one", "grade_id": "test_a",
      "schema_version": 3}, False),
    ({"grade": True, "solution": False, "points": 1, "schema_version": 3}, False),
])
def test_workers_check_cell_metadata_as_nbgrader_does(metadata, valid):
    import jsonschema
    from nbgrader.nbgraderformat import MetadataValidator

    from coursekit.speedups import _CheckedSchemas

    schema, checked = MetadataValidator().schema, _CheckedSchemas()
    outcomes = []
    for validate in (jsonschema.validate, checked.validate, checked.validate):
        try:
            validate(metadata, schema)
            outcomes.append(None)
        except jsonschema.ValidationError as error:
            outcomes.append(str(error))
    assert outcomes[0] == outcomes[1] == outcomes[2] and (outcomes[0] is None) is valid


@pytest.fixture
def speedups(monkeypatch):
    """coursekit.speedups, whose functions patch libraries for the whole
    process: what they patch is put back after the test."""
    import jupyter_client.session
    import nbclient.client
    import nbgrader.api
    import nbgrader.nbgraderformat.common

    from coursekit import speedups

    for owner, name in [(nbgrader.api, "create_engine"), (nbgrader.api.Gradebook, "__init__"),
                        (nbgrader.api.Gradebook, "add_submission"),
                        (nbgrader.nbgraderformat.common, "jsonschema"),
                        (nbclient.client, "output_from_msg"),
                        (jupyter_client.session, "extract_dates"),
                        *[(nbgrader.api.Gradebook, name) for name in (
                            "find_source_cell", "find_graded_cell", "find_grade", "find_comment")]]:
        monkeypatch.setattr(owner, name, getattr(owner, name))
    return speedups


def test_workers_share_a_database_engine_and_close_its_connections(tmp_path, speedups):
    speedups.share_across_submissions()
    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    with Gradebook(url) as first:
        first.add_student("ada")
        engine = first.engine
    with Gradebook(url) as second:
        assert second.engine is engine and [s.id for s in second.students] == ["ada"]
    assert engine.pool.checkedout() == 0


def test_workers_check_a_gradebooks_tables_and_course_once(tmp_path, speedups):
    """nbgrader opens a Gradebook eleven times a notebook, and each time listed
    the tables and looked the course up; a worker does it once per database
    and course, and every Gradebook still works as nbgrader's."""
    import nbgrader.api
    import sqlalchemy

    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    with Gradebook(url, "course") as plain:
        opened_by_nbgrader = set(vars(plain))
    speedups.share_across_submissions()
    statements = []
    with Gradebook(url, "course") as first:
        sqlalchemy.event.listen(first.engine, "before_cursor_execute",
                                lambda *args: statements.append(args[2]))
        first.add_student("ada")
    statements.clear()
    with Gradebook(url, "course") as again:
        assert statements == [] and set(vars(again)) == opened_by_nbgrader
        assert [s.id for s in again.students] == ["ada"] and again.course_id == "course"
    with Gradebook(url, "another course") as other:  # a course not yet checked is added
        assert any("course" in s.lower() for s in statements)
        assert {c.id for c in other.db.query(nbgrader.api.Course)} == {"course", "another course"}


def test_workers_build_outputs_as_nbformat_does_without_validating_each(speedups, monkeypatch):
    """nbformat validated each output a kernel sent as it built it (80 µs each);
    a worker's are validated with the whole notebook (optimistic_validation)."""
    import nbclient.client
    import nbformat.v4.nbbase

    messages = [
        {"msg_type": "stream", "content": {"name": "stdout", "text": "σ(0) = 0.5\n"}},
        {"msg_type": "execute_result", "content": {
            "data": {"text/plain": "array([0.5, 0.73])"}, "metadata": {}, "execution_count": 3}},
        {"msg_type": "display_data", "content": {
            "data": {"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"}, "metadata": {}}},
        {"msg_type": "error", "content": {"ename": "ValueError", "evalue": "shapes (2,) (3,)",
                                          "traceback": ["ValueError: shapes (2,) (3,)"]}},
    ]
    for message in messages:
        message["header"] = {"msg_type": message["msg_type"]}
    expected = [nbformat.v4.output_from_msg(message) for message in messages]
    validated = []
    monkeypatch.setattr(nbformat.v4.nbbase, "validate", lambda node, ref=None: validated.append(ref))
    speedups.build_outputs_unchecked()
    assert [nbclient.client.output_from_msg(message) for message in messages] == expected
    assert validated == []
    nbformat.v4.new_output("stream", text="validated as before")  # elsewhere, as before
    assert validated == ["stream"]


@pytest.mark.filterwarnings("ignore:Interpreting naive datetime:DeprecationWarning")
def test_workers_read_the_dates_of_messages_as_jupyter_client_does(speedups):
    import jupyter_client.session

    texts = ["2026-11-30T18:11:02.123456Z", "2026-11-30T18:11:02Z", "2026-11-30T18:11:02.1234Z",
             "2026-11-30T18:11:02.123456+05:30", "2026-11-30T18:11:02.123456-0100",
             "2026-11-30T18:11:02.123456", "2026-11-30T18:11:02.123456789Z", "σ", "2026"]
    header = {"msg_id": "1f0e_3", "date": texts[0], "session": "1f0e", "list": texts, "n": 3}
    expected = jupyter_client.session.extract_dates(header)
    speedups.read_dates_faster()
    read = jupyter_client.session.extract_dates(header)
    assert read == expected and read is not header
    assert [type(value) for value in read["list"]] == [type(value) for value in expected["list"]]
    assert [value.utcoffset() for value in read["list"][:6]] == \
        [value.utcoffset() for value in expected["list"][:6]]
    with pytest.raises(ValueError):  # as jupyter_client: a date-like text that is no date
        jupyter_client.session.extract_dates({"date": "2026-13-30T18:11:02Z"})


def test_workers_find_a_notebooks_cells_as_nbgrader_does_with_fewer_queries(graded_course,
                                                                           speedups):
    """OverwriteCells and GetGrades look every cell up with a query of its own;
    a worker's Gradebook reads a notebook's rows of a kind at once, until it
    commits, and finds the same rows (or says, as nbgrader, that one is missing)."""
    import nbgrader.api
    import sqlalchemy

    url = f"sqlite:///{graded_course[0] / 'gradebook.db'}"
    with Gradebook(url) as gradebook:
        notebooks = []
        for submitted in gradebook.db.query(nbgrader.api.SubmittedNotebook):
            master = submitted.notebook
            graded = [c.name for c in [*master.grade_cells, *master.task_cells]]
            cells = {"find_source_cell": [c.name for c in master.source_cells],
                     "find_graded_cell": graded, "find_grade": graded,
                     "find_comment": [c.name for c in [*master.solution_cells, *master.task_cells]]}
            where = (master.name, submitted.assignment.assignment.name,
                     submitted.assignment.student.id)
            notebooks.append((where, {lookup: [*sorted(names), "no-such-cell"]
                                      for lookup, names in cells.items()}))
    assert len(notebooks) > 20

    def look_up(commit=False):
        """{(lookup, where, cell): the row's id, or MissingEntry}, and the number
        of statements run, as nbgrader's preprocessors look cells up."""
        results, statements = {}, []

        def count(*args):
            statements.append(args[2])

        sqlalchemy.event.listen(sqlalchemy.engine.Engine, "before_cursor_execute", count)
        try:
            for where, cells in notebooks:
                with Gradebook(url) as gradebook:
                    for lookup, names in cells.items():
                        of = where if lookup in ("find_grade", "find_comment") else where[:2]
                        for name in names:
                            try:
                                result = getattr(gradebook, lookup)(name, *of).id
                            except nbgrader.api.MissingEntry:
                                result = nbgrader.api.MissingEntry
                            results[lookup, where, name] = result
                            if commit:  # as SaveAutoGrades: what was read expires
                                gradebook.db.commit()
        finally:
            sqlalchemy.event.remove(sqlalchemy.engine.Engine, "before_cursor_execute", count)
        return results, len(statements)

    speedups.share_across_submissions()  # as in a worker: opening a Gradebook runs no query
    expected, queries_by_nbgrader = look_up()
    assert sum(found is nbgrader.api.MissingEntry for found in expected.values()) == 4 * len(notebooks)
    speedups.read_cells_once()
    found, queries = look_up()
    assert found == expected
    # per notebook: five reads (source cells, grade cells, task cells, grades,
    # comments), then nbgrader's own seven queries for the four missing names
    assert queries == 12 * len(notebooks) and queries_by_nbgrader > 25 * len(notebooks)
    found, queries_committing = look_up(commit=True)
    assert found == expected and queries_committing > queries_by_nbgrader


def test_the_grader_does_without_jsonschemas_iri_parsers():
    """rfc3987_syntax builds some 35 parsers as it is imported (1.2 s a process): the
    grader, its workers and Dask's never import it (see coursekit/__init__.py)."""
    done = run(sys.executable, "-c", "import sys, coursekit.grade, coursekit.workers; "
               "print(sys.modules.get('rfc3987_syntax', 'not imported'))", cwd=ROOT)
    assert done.returncode == 0 and done.stdout.strip() in ("None", "not imported"), done.stderr


def test_every_kernel_keeps_its_history_in_memory(tmp_path):
    """nbclient starts a kernel with IPython's history in memory; one started
    ahead for the next notebook was started with a SQLite history file,
    written at every cell."""
    students = ["ann", "ben"]
    for student in students:
        folder = tmp_path / "submitted" / student / "01_sigmoid"
        shutil.copytree(ROOT / "submitted/sample-correct/01_sigmoid", folder)
        path = folder / "01_sigmoid.ipynb"
        nb = nbformat.read(path, as_version=4)
        nb.cells.append(nbformat.v4.new_code_cell(
            "print('history in', get_ipython().history_manager.hist_file)"))
        nbformat.write(nb, path)
    course = copy_course(tmp_path / "course", tmp_path / "submitted", generated=True)
    grade(course, "--workers", "1")  # the second kernel was started ahead
    for student in students:
        nb = nbformat.read(course / "autograded" / student / "01_sigmoid/01_sigmoid.ipynb", 4)
        assert [o.get("text") for o in nb.cells[-1].outputs] == ["history in :memory:\n"], student


def test_the_grader_waits_for_finished_submissions_without_scanning_them_all():
    """Local workers' futures are waited for; those of Dask (OnDask) are polled."""
    import threading
    from concurrent.futures import Future

    from coursekit.workers import finished

    futures = [Future() for _ in range(3)]
    threading.Timer(0.2, futures[1].set_result, [None]).start()
    assert finished(futures) == {futures[1]}

    class Polled:
        def __init__(self, done):
            self.is_done = done

        def done(self):
            return self.is_done

    polled = [Polled(False), Polled(True)]
    assert finished(polled) == [polled[1]]
