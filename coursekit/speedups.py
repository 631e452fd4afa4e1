"""What a grading worker changes in nbgrader and its libraries, to grade a class faster.

A worker (coursekit.workers) grades notebook after notebook in one process,
where `nbgrader autograde` rebuilds, checks and parses the same things for
each.  Each function here removes one such cost found by profiling a worker,
and says what it was.  None changes a grade, a feedback page or a gradebook
row; the tests compare each with what nbgrader does.  They patch libraries
for the whole process: only coursekit.workers.start_worker calls them.
"""

import gc
import json
from datetime import datetime


def collect_garbage_less_often():
    """Spare a grading process most of Python's cycle collections.

    What a worker loaded as it started (nbgrader, nbconvert, SQLAlchemy, their
    caches) lives as long as the worker: frozen, the collector no longer
    walks it.  And with a first generation of 20,000 objects rather than 700,
    one collection runs every six notebooks or so instead of six for each
    (the collector took 6.8 ms of each notebook's worker time, now 1.2 ms).
    """
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)


def share_across_submissions():
    """Keep, for the whole worker, what nbgrader rebuilds for every notebook.

    Profiled on 28 notebooks, a worker spent about a third of its CPU time in two
    places (compiling queries 2.4 s, checking the schema 1.2 s, of 13.6 s):

    - every `Gradebook(db_url)` (eleven per notebook) makes a new SQLAlchemy
      engine, and each engine compiles every query again: the engine is
      kept per database URL, so its compiled queries are too.  Each
      Gradebook still closes its connections (`dispose`) when it is done.
    - every graded cell's nbgrader metadata is checked with
      `jsonschema.validate`, which first checks the schema itself: the
      schema is checked once, then each cell with the same validator (as
      jsonschema's documentation advises when validating many instances).

    The gradebook's contents and every validation result stay the same.
    """
    import nbgrader.api
    import nbgrader.nbgraderformat.common
    import sqlalchemy

    engines = {}

    def shared_engine(url, **options):
        key = (str(url), tuple(sorted(options.items())))
        if key not in engines:
            engines[key] = sqlalchemy.create_engine(url, **options)
        return engines[key]

    nbgrader.api.create_engine = shared_engine
    nbgrader.nbgraderformat.common.jsonschema = _CheckedSchemas()
    nbgrader.api.Gradebook.add_submission = _without_autoflush(nbgrader.api.Gradebook.add_submission)
    nbgrader.api.Gradebook.__init__ = _checked_once(nbgrader.api.Gradebook.__init__)


def _checked_once(init):
    """nbgrader's Gradebook.__init__, checking the tables and the course once per
    database and course in this process.

    nbgrader opens a Gradebook eleven times per notebook, and each time lists
    the tables, creates those missing and looks the course up (adding it if
    missing): 1.6 ms each, a tenth of a worker's time.  After the first, a
    Gradebook on the same database and course is opened as nbgrader's
    __init__ opens it, without these checks.
    """
    import nbgrader.api
    from sqlalchemy.orm import scoped_session, sessionmaker

    checked = set()

    def open_gradebook(self, db_url, course_id="default_course", authenticator=None):
        key = (str(db_url), course_id)
        if key not in checked:
            init(self, db_url, course_id, authenticator)
            checked.add(key)
            return
        self.engine = nbgrader.api.create_engine(db_url, echo=False, future=True)
        self.db = scoped_session(sessionmaker(autoflush=True, bind=self.engine, future=True))
        self.course_id = course_id
        self.authenticator = authenticator
    return open_gradebook


def _without_autoflush(add_submission):
    """nbgrader's Gradebook.add_submission, with the session's autoflush off until it commits.

    It builds a submission's rows before adding them to the session, and reads
    the assignment's notebooks in between: under SQLAlchemy 2 that read
    autoflushes half-built rows, and each student's first grade printed three
    `SAWarning: Object of type <SubmittedAssignment> not in session` (225 lines
    in `make demo`).  The rows written are the same.
    """
    def add_without_autoflush(self, *args, **kwargs):
        with self.db.no_autoflush:
            return add_submission(self, *args, **kwargs)
    return add_without_autoflush


class _CheckedSchemas:
    """Stands for the jsonschema module in nbgrader's metadata validator."""

    def __init__(self):
        self._validators = {}

    def validate(self, instance, schema):
        """jsonschema.validate(instance, schema), checking each schema only once."""
        import jsonschema

        key = json.dumps(schema, sort_keys=True)
        if key not in self._validators:
            kind = jsonschema.validators.validator_for(schema)
            kind.check_schema(schema)
            self._validators[key] = kind(schema)
        error = jsonschema.exceptions.best_match(self._validators[key].iter_errors(instance))
        if error is not None:
            raise error


def build_outputs_unchecked():
    """Build the outputs of the kernel's messages without validating each alone.

    nbclient makes each output with nbformat's `output_from_msg`, which
    validates it against the notebook schema: 80 µs an output, 4 % of a
    worker's time.  Every output is validated all the same, with the whole
    notebook, once the step's preprocessors have run (nbconvert's
    `optimistic_validation`, set in nbgrader_config.py).
    """
    import nbclient.client
    import nbformat.v4.nbbase

    build = nbclient.client.output_from_msg

    def output_from_msg(msg):
        validate = nbformat.v4.nbbase.validate
        nbformat.v4.nbbase.validate = _unchecked
        try:
            return build(msg)
        finally:
            nbformat.v4.nbbase.validate = validate

    nbclient.client.output_from_msg = output_from_msg


def _unchecked(node, ref=None):
    """Stands for nbformat.v4.nbbase.validate (see build_outputs_unchecked)."""


def read_dates_faster():
    """Read the dates in the kernel's message headers with datetime.fromisoformat.

    jupyter_client reads every string of every header with a regular
    expression, then the dates with dateutil: 9 µs a header, twice a message,
    some 4 % of a worker's time.  fromisoformat gives the same moments (a
    date it cannot read, or one without a time zone, is read as before).
    """
    import jupyter_client.jsonutil
    import jupyter_client.session

    looks_like_date = jupyter_client.jsonutil.ISO8601_PAT
    parse_date = jupyter_client.jsonutil.parse_date

    def read_date(text):
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return parse_date(text)
        return moment if moment.tzinfo is not None else parse_date(text)

    def extract_dates(obj):
        if isinstance(obj, dict):
            return {key: extract_dates(value) for key, value in obj.items()}
        if isinstance(obj, (list, tuple)):
            return [extract_dates(item) for item in obj]
        if isinstance(obj, str) and looks_like_date.match(obj):
            return read_date(obj)
        return obj

    jupyter_client.session.extract_dates = extract_dates


def read_cells_once():
    """Find a notebook's cells in the gradebook with one query, not one per cell.

    OverwriteCells looks up the master of every graded cell (find_source_cell,
    find_graded_cell), and GetGrades every cell's grade and comment
    (find_grade, find_comment), each with a query of two to six joins.  A
    Gradebook now reads all of a notebook's rows of a kind with its first
    lookup and answers the next from them, as long as they are fresh:
    SaveAutoGrades commits at every cell, which expires what was read, and
    then finds each row nbgrader's way.  A worker runs 42 statements a
    notebook instead of 59, and those two steps take 11 ms instead of 16.
    """
    import nbgrader.api

    gradebook = nbgrader.api.Gradebook
    for name, read_all in [("find_source_cell", _source_cells), ("find_graded_cell", _graded_cells),
                           ("find_grade", _grades), ("find_comment", _comments)]:
        setattr(gradebook, name, _read_once(getattr(gradebook, name), read_all))


def _read_once(find, read_all):
    """nbgrader's Gradebook.find_X(name, *where), answered from `read_all(db,
    *where)`, {name: row}, read once per Gradebook; a row expired since (by a
    commit) is found again nbgrader's way."""
    from sqlalchemy import inspect

    def find_in_rows_read(self, name, *where, **options):
        if options:
            return find(self, name, *where, **options)
        rows_read = self.__dict__.setdefault("_coursekit_rows_read", {})
        key = (read_all, *where)
        if key not in rows_read:
            rows_read[key] = read_all(self.db, *where)
        row = rows_read[key].get(name)
        state = row is not None and inspect(row)
        if not state or not state.persistent or state.expired:
            return find(self, name, *where)  # as nbgrader finds it, or says it is missing
        return row

    find_in_rows_read.__doc__ = find.__doc__
    return find_in_rows_read


def _master_cells(model, db, notebook, assignment):
    from nbgrader.api import Assignment, Notebook
    return (db.query(model).join(Notebook, Notebook.id == model.notebook_id)
            .join(Assignment, Assignment.id == Notebook.assignment_id)
            .filter(Notebook.name == notebook, Assignment.name == assignment))


def _source_cells(db, notebook, assignment):
    from nbgrader.api import SourceCell
    return {cell.name: cell for cell in _master_cells(SourceCell, db, notebook, assignment)}


def _graded_cells(db, notebook, assignment):
    """As find_graded_cell: a grade cell of that name, else a task cell."""
    from nbgrader.api import GradeCell, TaskCell
    found = {cell.name: cell for cell in _master_cells(TaskCell, db, notebook, assignment)}
    found.update((cell.name, cell) for cell in _master_cells(GradeCell, db, notebook, assignment))
    return found


def _student_rows(model, db, notebook, assignment, student):
    """(row, its cell's name and type) for each `model` row (Grade or Comment) of
    the student's notebook, joined as nbgrader's find_grade joins them."""
    from nbgrader.api import (Assignment, BaseCell, Notebook, Student, SubmittedAssignment,
                              SubmittedNotebook)
    return (db.query(model, BaseCell.name, BaseCell.type)
            .join(BaseCell, BaseCell.id == model.cell_id)
            .join(SubmittedNotebook, SubmittedNotebook.id == model.notebook_id)
            .join(Notebook, Notebook.id == SubmittedNotebook.notebook_id)
            .join(SubmittedAssignment, SubmittedAssignment.id == SubmittedNotebook.assignment_id)
            .join(Assignment, Assignment.id == SubmittedAssignment.assignment_id)
            .join(Student, Student.id == SubmittedAssignment.student_id)
            .filter(Notebook.name == notebook, Assignment.name == assignment,
                    Student.id == student))


def _by_cell(rows, first, then):
    """{cell name: row}, a `first` cell's row before a `then` cell's of the same name."""
    found = {}
    for row, name, kind in rows:
        if kind == first or (kind == then and name not in found):
            found[name] = row
    return found


def _grades(db, notebook, assignment, student):
    """As find_grade: the grade of a grade cell of that name, else of a task cell."""
    from nbgrader.api import Grade
    return _by_cell(_student_rows(Grade, db, notebook, assignment, student), "GradeCell", "TaskCell")


def _comments(db, notebook, assignment, student):
    """As find_comment: the comment on a solution cell of that name, else on a task cell."""
    from nbgrader.api import Comment
    return _by_cell(_student_rows(Comment, db, notebook, assignment, student),
                    "SolutionCell", "TaskCell")
