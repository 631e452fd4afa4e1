"""Build the student pack: `python -m coursekit.pack [--out student-pack] [--through <assignment>]`.

The pack is what students need and nothing more: the lessons (`notebooks/`),
the exercise notebooks as released (`release/`), the check helper that the
test cells import (coursekit's checks.py and values.py, which import nothing
of the grader), a requirements file, and a README with the two commands to
start. Nothing from `source/`, `submitted/`, the gradebook or the grader's
code goes in. Written as a folder and a zip of it. `--through 05_losses`
packs only the sections up to that one (lessons and exercises alike).

The requirements are computed, not listed: the distributions that provide
what the pack's notebooks and helper import, JupyterLab and ipykernel to run
them, and every distribution those require (environment markers evaluated
here, in the course's environment), each at its version pinned in the
course's `requirements.txt`, then `-e .` for the helper itself.
"""

import argparse
import ast
import importlib.metadata
import json
import re
import shutil
import sys
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from coursekit.messages import compile_catalogs
from coursekit.translate import languages

ROOT = Path(__file__).resolve().parent.parent
HELPER = ["__init__.py", "checks.py", "values.py", "i18n.py"]
TO_RUN_THEM = ["jupyterlab", "ipykernel"]  # what opens and runs the notebooks
LOCAL = {"coursekit"}  # provided by the pack itself (`-e .`)

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


def build(out, root=ROOT, through=None, lang="en"):
    """Write the pack to the folder `out` and to `out`.zip; return the zip's path.

    through -- an assignment: only the sections up to it (by their number) go in.
    lang -- the edition: "en", or "ko" for the Korean lessons (build/ko/notebooks,
    from `python -m coursekit.translate build ko`) and exercises (release-ko/,
    from `make release LANG=ko`), with the same folder layout and file names,
    and a check helper that speaks Korean (coursekit/LANGUAGE).
    """
    out = Path(out)
    root = Path(root)
    lessons = root / "notebooks" if lang == "en" else root / "build" / lang / "notebooks"
    releases = root / "release" if lang == "en" else root / f"release-{lang}"
    for folder, made_by in ((lessons, f"python -m coursekit.translate build {lang}"),
                            (releases, f"make release LANG={lang}")):
        if not folder.is_dir():
            raise LookupError(f"no {folder.relative_to(root)}/: run {made_by} first")
    last = section_number(through) if through else None
    if through and through not in assignments(root):
        raise ValueError(f"--through {through}: no such assignment in {root / 'release'} "
                         f"(there are {', '.join(assignments(root))})")
    wanted = lambda path: last is None or section_number(path.stem) <= last  # noqa: E731
    shutil.rmtree(out, ignore_errors=True)
    (out / "coursekit").mkdir(parents=True)
    for lesson in sorted(lessons.glob("*.ipynb")):
        if wanted(lesson):
            (out / "notebooks").mkdir(exist_ok=True)
            shutil.copy(lesson, out / "notebooks")
    for notebook in sorted(releases.glob("*/*.ipynb")):
        if wanted(notebook.parent):
            target = out / "release" / notebook.parent.name
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy(notebook, target)
    for name in HELPER:
        shutil.copy(root / "coursekit" / name, out / "coursekit" / name)
    # the helper's messages in every language, compiled (no hints: they are the grader's)
    compile_catalogs(out / "coursekit" / "locale")
    if lang != "en":
        (out / "coursekit" / "LANGUAGE").write_text(lang + "\n")
    pins = needed_pins(imported_modules(out), pinned(root / "requirements.txt"))
    (out / "requirements.txt").write_text(
        "# What the lessons and exercises import, JupyterLab and ipykernel to run them, and what\n"
        "# those require, at the course's pinned versions; the last line installs the check helper.\n"
        + "".join(f"{name}=={version}\n" for name, version in pins) + "-e .\n")
    (out / "pyproject.toml").write_text(PYPROJECT)
    readme = README if lang == "en" else (root / "locale" / lang / "pack-README.md").read_text(encoding="utf-8")
    (out / "README.md").write_text(readme.format(course=course_id(root)), encoding="utf-8")
    return Path(shutil.make_archive(str(out), "zip", out.parent, out.name))


def assignments(root):
    return sorted(p.name for p in (Path(root) / "release").iterdir() if p.is_dir())


def section_number(name):
    """The number a section's name starts with: 5 for `05_losses`."""
    match = re.match(r"\d+", Path(name).name)
    return int(match.group()) if match else float("inf")


def code_of(path):
    """The Python code of a .py file, or of a notebook's code cells (magics blanked), one string each."""
    if path.suffix == ".py":
        return [path.read_text(encoding="utf-8")]
    cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
    sources = ["".join(c.get("source", "")) for c in cells if c.get("cell_type") == "code"]
    return ["\n".join("" if re.match(r"\s*[%!]", line) else line for line in code.splitlines())
            for code in sources]


def imported_modules(folder):
    """{top-level module: files importing it} for the notebooks and Python files under `folder`
    (named_module counts as an import); the standard library and relative imports left out."""
    found = {}
    for path in sorted(Path(folder).rglob("*")):
        if path.suffix not in (".ipynb", ".py") or ".ipynb_checkpoints" in path.parts:
            continue
        for code in code_of(path):
            for node in ast.walk(ast.parse(code)):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and not node.level:
                    names = [node.module]
                elif named_module(node):
                    names = [named_module(node)]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if top not in sys.stdlib_module_names:
                        found.setdefault(top, set()).add(str(path.relative_to(folder)))
    return found


def named_module(node):
    """The module a call such as find_spec("sklearn") or import_module("sklearn") names, else None:
    a notebook that reads a package's files without importing it still needs the package."""
    if not (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)):
        return None
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    return node.args[0].value if name in ("find_spec", "import_module", "__import__") else None


def pinned(requirements):
    """{canonical name: (name as written, version)} of the `name==version` lines of a requirements file."""
    pins = {}
    for line in Path(requirements).read_text().splitlines():
        line = line.split("#")[0].strip()
        if "==" in line and not line.startswith("-"):
            requirement = Requirement(line)
            pins[canonicalize_name(requirement.name)] = requirement.name, str(requirement.specifier)[2:]
    return pins


def requirements_of(distribution, extras=()):
    """[(canonical name, extras)] that `distribution` requires here, its markers evaluated."""
    found = []
    for line in importlib.metadata.distribution(distribution).requires or []:
        requirement = Requirement(line)
        if requirement.marker is None or any(requirement.marker.evaluate({"extra": extra})
                                             for extra in ("", *extras)):
            found.append((canonicalize_name(requirement.name), tuple(sorted(requirement.extras))))
    return found


def needed_pins(modules, pins):
    """[(name, version)], in name order: the distributions providing `modules`, those of
    TO_RUN_THEM, and everything they require, at their `pins`."""
    providers = importlib.metadata.packages_distributions()
    roots = [canonicalize_name(name) for name in TO_RUN_THEM]
    for module, files in sorted(modules.items()):
        if module in LOCAL:
            continue
        if module not in providers:
            raise LookupError(f"{module} (imported by {', '.join(sorted(files))}) is not installed here")
        roots.extend(canonicalize_name(name) for name in providers[module])
    needed, queue = {}, [(name, ()) for name in roots]
    while queue:
        name, extras = queue.pop()
        if name in needed and set(extras) <= needed[name]:
            continue
        needed[name] = needed.get(name, set()) | set(extras)
        queue.extend(requirements_of(name, tuple(needed[name])))
    unpinned = sorted(set(needed) - set(pins))
    if unpinned:
        raise LookupError(f"the pack needs {', '.join(unpinned)}, not pinned in requirements.txt")
    return sorted((pins[name] for name in needed), key=lambda pin: pin[0].lower())


def course_id(root):
    match = re.search(r'course_id\s*=\s*"([^"]+)"', (root / "nbgrader_config.py").read_text())
    return match.group(1) if match else "course"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="student-pack", help="folder to write (default student-pack)")
    parser.add_argument("--through", metavar="ASSIGNMENT",
                        help="pack only the sections up to this one, e.g. 05_losses (default: all)")
    parser.add_argument("--lang", default="en", choices=["en", *languages()],
                        help="the edition (default en; ko: the Korean lessons and exercises)")
    args = parser.parse_args(argv)
    try:
        archive = build(args.out, through=args.through, lang=args.lang)
    except (ValueError, LookupError) as error:
        parser.exit(2, f"coursekit.pack: {error}\n")
    print(f"student pack: {args.out}/ and {archive.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
