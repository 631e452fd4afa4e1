"""Build the student pack: `python -m coursekit.pack [--out student-pack]`.

The pack is what students need and nothing more: the lessons (`notebooks/`),
the exercise notebooks as released (`release/`), the check helper that the
test cells import (coursekit's checks.py and values.py, which import nothing
of the grader), a requirements file without the grading tools, and a README
with the two commands to start. Nothing from `source/`, `submitted/`, the
gradebook or the grader's code goes in. Written as a folder and a zip of it.
"""

import argparse
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HELPER = ["__init__.py", "checks.py", "values.py"]
GRADER_ONLY = re.compile(r"^(nbgrader|nbval|pytest|Pebble|tqdm|selenium|psycopg|dask|distributed|-e \.)\b", re.I)

README = """# {course}: student pack

    python3 -m venv .venv && .venv/bin/pip install -r requirements.txt
    .venv/bin/jupyter lab

JupyterLab opens on this folder: the lessons are in `notebooks/`, the exercises
in `release/<section>/`. In each exercise, write the body of every function in
place of `raise NotImplementedError()` and run the test cell below it: ✔ means
your function gives the documented result, ✘ says what was expected and what
came back. Grading runs further inputs, so make each function right for
everything its docstring allows. Submit the exercise notebooks as your
instructor asks. (As root, in a container, add `--allow-root` to the second
command.)
"""

PYPROJECT = """[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "coursekit-checks"
version = "0.1.0"
description = "The check helper that the exercise notebooks' test cells import."
requires-python = ">=3.11"

[tool.setuptools]
packages = ["coursekit"]
"""


def build(out, root=ROOT):
    """Write the pack to the folder `out` and to `out`.zip; return the zip's path."""
    out = Path(out)
    shutil.rmtree(out, ignore_errors=True)
    (out / "coursekit").mkdir(parents=True)
    shutil.copytree(root / "notebooks", out / "notebooks",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    for notebook in sorted((root / "release").glob("*/*.ipynb")):
        target = out / "release" / notebook.parent.name
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(notebook, target)
    for name in HELPER:
        shutil.copy(root / "coursekit" / name, out / "coursekit" / name)
    pins = [line for line in (root / "requirements.txt").read_text().splitlines()
            if line.strip() and not line.startswith("#") and not GRADER_ONLY.match(line)]
    (out / "requirements.txt").write_text(
        "# What the lessons and exercises need, pinned; the last line installs the check helper.\n"
        + "\n".join(pins) + "\n-e .\n")
    (out / "pyproject.toml").write_text(PYPROJECT)
    (out / "README.md").write_text(README.format(course=course_id(root)))
    return Path(shutil.make_archive(str(out), "zip", out.parent, out.name))


def course_id(root):
    match = re.search(r'course_id\s*=\s*"([^"]+)"', (root / "nbgrader_config.py").read_text())
    return match.group(1) if match else "course"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="student-pack", help="folder to write (default student-pack)")
    args = parser.parse_args(argv)
    archive = build(args.out)
    print(f"student pack: {args.out}/ and {archive.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
