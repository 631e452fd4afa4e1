"""nbgrader configuration for the course (run every nbgrader command from here)."""

from nbconvert.preprocessors import ClearMetadataPreprocessor
from nbgrader.preprocessors import (
    AssignLatePenalties, CheckCellMetadata, IgnorePattern, LimitOutput, SaveAutoGrades,
)

from coursekit.verdict import ExecuteWithReference, ReferenceVerdict

c = get_config()  # noqa: F821 (provided by nbgrader)

c.CourseDirectory.course_id = "numpy-for-deep-learning"

# Students see this in place of each solution.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}

# Seconds a cell may run before it is interrupted and scored as an error.
c.Execute.timeout = 60

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
