"""nbgrader configuration for the course (run every nbgrader command from here)."""

import os

from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import (
    AssignLatePenalties, CheckCellMetadata, ClearHiddenTests, ClearOutput, DeduplicateIds,
    GetGrades, IgnorePattern, LimitOutput, OverwriteCells, OverwriteKernelspec, SaveAutoGrades,
)

from coursekit import sandbox
from coursekit.cells import ForgetUnknownCells
from coursekit.execute import ExecuteWithReference
from coursekit.feedback import FeedbackExporter
from coursekit.verdict import ReferenceVerdict

c = get_config()  # noqa: F821 (provided by nbgrader)

c.CourseDirectory.course_id = "numpy-for-deep-learning"

# The edition released to students: COURSEKIT_EDITION=ko (make release LANG=ko)
# generates the Korean exercises, built by coursekit.translate from source/ and
# locale/ko/, into release-ko/, from which nbgrader's release_assignment then
# releases them. Both editions share every nbgrader cell, so one gradebook
# grades either, and feedback follows each notebook's own language.
EDITION = os.environ.get("COURSEKIT_EDITION", "en")
if EDITION != "en":
    c.CourseDirectory.source_directory = os.path.join("build", EDITION, "source")
    c.CourseDirectory.release_directory = f"release-{EDITION}"

# nbgrader's exchange (release_assignment, fetch_assignment, submit, collect,
# release_feedback, fetch_feedback): a folder beside this file, so that it
# works on one machine as it is. On a shared server set COURSEKIT_EXCHANGE to
# a folder every user can write, such as nbgrader's default /srv/nbgrader/exchange.
c.Exchange.root = os.environ.get(
    "COURSEKIT_EXCHANGE", os.path.join(os.path.dirname(os.path.abspath(__file__)), "exchange"))
os.makedirs(c.Exchange.root, exist_ok=True)

# Students see this in place of each solution.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}

# Seconds a cell may run before it is interrupted and scored as an error.
c.Execute.timeout = int(os.environ.get("COURSEKIT_CELL_TIMEOUT", 60))

# Student kernels run in a bubblewrap sandbox (coursekit/sandbox.py): their
# own folder, the Python environment, no network, no view of the grader.
# COURSEKIT_SANDBOX=off grades without it: only on a throw-away machine.
c.Sandbox.enabled = sandbox.requested()
c.Sandbox.memory_mb = 2048
# Seconds all cells of one notebook may take together (the rest are not run).
c.Sandbox.notebook_timeout = 600

# Before grading, every graded and read-only cell is restored from the
# gradebook whatever the student did to it (edited, emptied, deleted, turned
# into markdown, points raised, grade_id renamed: see coursekit/cells.py).
c.Autograde.sanitize_preprocessors = [
    ClearOutput,
    DeduplicateIds,
    OverwriteKernelspec,
    ForgetUnknownCells,
    OverwriteCells,
    CheckCellMetadata,
]
c.OverwriteCells.add_missing_cells = True

# Autograding: nbgrader's own pipeline, with the verdict taken outside the
# student's kernel (coursekit/verdict.py): the kernel only reports what the
# student's functions returned, and ReferenceVerdict compares it with the
# results of the master notebook in source/.
c.Autograde.autograde_preprocessors = [
    ExecuteWithReference,
    ReferenceVerdict,
    IgnorePattern,
    ClearMetadataPreprocessor,
    LimitOutput,
    SaveAutoGrades,
    AssignLatePenalties,
    CheckCellMetadata,
]

# nbconvert checks that the notebook is still valid once a step's preprocessors
# have all run, not again after each of them (autograding has 14: that took
# some 6 % of a grading worker's time).
c.Exporter.optimistic_validation = True

# The notebook's language (metadata.coursekit.language) survives grading.
c.ClearMetadataPreprocessor.preserve_nb_metadata_mask = {("language_info", "name"),
                                                          ("coursekit", "language")}

# Feedback shows each test's verdict, not the hidden tests' code. The exporter
# is nbgrader's HTML exporter, with its templates compiled once per process.
c.GenerateFeedback.preprocessors = [GetGrades, CSSHTMLHeaderPreprocessor, ClearHiddenTests]
c.GenerateFeedback.exporter_class = FeedbackExporter
