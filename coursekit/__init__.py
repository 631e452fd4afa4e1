"""Tooling for the NumPy for deep learning course: checks, verdicts, sandbox, grading."""

import sys

# jsonschema, which nbgrader imports through nbformat, imports rfc3987_syntax
# when it is installed (jupyter-events asks for it) to check the JSON Schema
# format "iri", and that module builds some 35 parsers as it loads: 1.2 s in
# every process of the grader and of its Dask workers. No schema that nbgrader
# or nbformat validates uses the format, so coursekit's processes do without
# it (None in sys.modules reads as "not installed"). A process that imported
# jsonschema before coursekit keeps what it has.
if "jsonschema" not in sys.modules:
    sys.modules.setdefault("rfc3987_syntax", None)
