"""Which submissions need grading: content hashes kept in the gradebook.

A submission is graded again exactly when one of these changed since it was
last graded: its files, its assignment's master notebook, the course's
configuration (`nbgrader_config.py`) or the grading code (coursekit's
modules).  Its fingerprint, a SHA-256 over all of them, is stored in the
gradebook's own database (table `coursekit_graded`, beside nbgrader's
tables), once the submission is graded and its feedback written, so it lives
and dies with the gradebook, SQLite file or PostgreSQL server alike.

nbgrader's own autograde skips a submission once `autograded/` holds it,
judging by `timestamp.txt` alone: a notebook replaced by hand, or a master
that changed, is never graded again.  A fingerprint notices both.
"""

import hashlib
import os
from pathlib import Path

import sqlalchemy as sa
from nbgrader.api import Gradebook

CODE = Path(__file__).resolve().parent
CONFIG = "nbgrader_config.py"
# coursekit's modules that decide no grade or feedback page
NOT_GRADING = {"pack.py", "report.py"}

_metadata = sa.MetaData()
graded = sa.Table(
    "coursekit_graded", _metadata,
    sa.Column("student", sa.String(128), primary_key=True),
    sa.Column("assignment", sa.String(128), primary_key=True),
    sa.Column("fingerprint", sa.String(64), nullable=False),
)


def _hash_files(digest, files, root):
    for path in sorted(files):
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")


def course_fingerprint(root, assignment):
    """The hash of what every submission of `assignment` is graded with."""
    root = Path(root)
    digest = hashlib.sha256()
    _hash_files(digest, [p for p in (root / "source" / assignment).rglob("*") if p.is_file()], root)
    config = root / CONFIG
    if config.is_file():
        _hash_files(digest, [config], root)
    _hash_files(digest, [p for p in CODE.glob("*.py") if p.name not in NOT_GRADING], CODE.parent)
    return digest.hexdigest()


def fingerprint(root, student, assignment, plan, course):
    """The hash of one submission: its files, the notebooks it is graded as, and `course`."""
    root = Path(root)
    folder = root / "submitted" / student / assignment
    digest = hashlib.sha256(course.encode())
    _hash_files(digest, [p for p in folder.rglob("*") if p.is_file()], root)
    digest.update(repr(sorted(plan.items())).encode())
    return digest.hexdigest()


def _engine(db_url):
    with Gradebook(db_url):  # nbgrader makes its tables first, so it knows the database
        pass
    engine = sa.create_engine(db_url)
    _metadata.create_all(engine)
    return engine


def last_graded(db_url):
    """{(student, assignment): fingerprint} of the submissions graded so far."""
    engine = _engine(db_url)
    try:
        with engine.connect() as connection:
            return {(row.student, row.assignment): row.fingerprint
                    for row in connection.execute(sa.select(graded))}
    finally:
        engine.dispose()


class Record:
    """Writes fingerprints as submissions finish grading (one connection for the run)."""

    def __init__(self, db_url):
        self._engine = _engine(db_url)

    def graded(self, student, assignment, value):
        """Keep `value` as the submission's fingerprint (None: forget it, grade it next time)."""
        with self._engine.begin() as connection:  # one transaction: never half a row
            connection.execute(sa.delete(graded).where(
                graded.c.student == student, graded.c.assignment == assignment))
            if value is not None:
                connection.execute(sa.insert(graded).values(
                    student=student, assignment=assignment, fingerprint=value))

    def close(self):
        self._engine.dispose()


def unchanged(coursedir, todo, force=False):
    """Split `todo`, {(student, assignment): plan}, into what needs grading and what does not.

    `coursedir` is nbgrader's CourseDirectory of the course (its root,
    gradebook and folders). Returns (to_grade, fingerprints): to_grade is the
    part of `todo` whose fingerprint differs from the one stored (or all of it
    with `force`), and fingerprints maps every key of `todo` to its
    fingerprint now.  A submission whose autograded copy or feedback is gone
    is graded again too.
    """
    root = Path(coursedir.root)
    courses = {}
    now = {}
    for (student, assignment), plan in todo.items():
        if assignment not in courses:
            courses[assignment] = course_fingerprint(root, assignment)
        now[student, assignment] = fingerprint(root, student, assignment, plan, courses[assignment])
    before = {} if force else last_graded(coursedir.db_url)
    to_grade = {key: plan for key, plan in todo.items()
                if before.get(key) != now[key] or not _outputs_exist(coursedir, *key)}
    return to_grade, now


def _outputs_exist(coursedir, student, assignment):
    """Whether the submission's autograded copy and feedback are there, in the
    folders nbgrader's configuration names."""
    return all(os.path.isdir(coursedir.format_path(folder, student, assignment))
               for folder in (coursedir.autograded_directory, coursedir.feedback_directory))
