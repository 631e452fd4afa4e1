"""The student pack holds the lessons, the exercises and the check helper, and no answer;
its requirements are what its notebooks import and what runs them, nothing more."""

import ast
import importlib.metadata
import json
import re
import shutil
import subprocess
import sys
import zipfile

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from conftest import ROOT
from coursekit import pack

SECRETS = ("BEGIN SOLUTION", "HIDDEN TESTS")
NOTEBOOK_SECRETS = SECRETS + ("mistake(",)  # the known mistakes live in hidden tests


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("pack") / "student-pack"
    return out, pack.build(out)


def test_the_pack_holds_lessons_exercises_and_the_check_helper_only(built):
    out, archive = built
    files = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()}
    expected = ({f"notebooks/{p.name}" for p in ROOT.glob("notebooks/*.ipynb")}
                | {f"release/{p.parent.name}/{p.name}" for p in ROOT.glob("release/*/*.ipynb")}
                | {"coursekit/__init__.py", "coursekit/checks.py", "coursekit/values.py",
                   "coursekit/i18n.py", "requirements.txt", "pyproject.toml", "README.md"}
                | {f"coursekit/locale/{p.parent.parent.name}/LC_MESSAGES/coursekit.mo"
                   for p in ROOT.glob("coursekit/locale/*/LC_MESSAGES/coursekit.po")})
    assert files == expected
    with zipfile.ZipFile(archive) as zipped:
        assert {n.split("/", 1)[1] for n in zipped.namelist() if not n.endswith("/")} == expected


def test_nothing_in_the_pack_gives_an_answer_away(built):
    out, _ = built
    for path in out.rglob("*"):
        if path.is_file():
            text = path.read_bytes().decode("utf-8", errors="replace")  # .mo catalogs are binary
            secrets = NOTEBOOK_SECRETS if path.suffix == ".ipynb" else SECRETS
            assert not [s for s in secrets if s in text], path
    sources = {p.read_text() for p in ROOT.glob("source/*/*.ipynb")}
    assert not sources & {p.read_text() for p in out.rglob("*.ipynb")}
    requirements = (out / "requirements.txt").read_text()
    assert "nbgrader" not in requirements and "numpy==" in requirements


def test_the_check_helper_works_without_the_grader(built):
    out, _ = built
    probe = ("import sys; sys.path.insert(0, sys.argv[1]); import numpy as np; "
             "from coursekit.checks import check; import coursekit; "
             "check(np.sqrt, np.array([4.0]), expect=[2.0]); "
             "assert coursekit.__file__.startswith(sys.argv[1]), coursekit.__file__; "
             "assert not [m for m in sys.modules if m.startswith('nbgrader')]")
    done = subprocess.run([sys.executable, "-c", probe, str(out)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "✔ sqrt(array([4.])) gives the expected result" in done.stdout


def test_a_pack_through_an_assignment_holds_the_sections_up_to_it(tmp_path):
    out = tmp_path / "student-pack"
    pack.build(out, through="03_normalize")
    files = {str(p.relative_to(out)) for p in out.rglob("*.ipynb")}
    assert files == {"notebooks/01_sigmoid.ipynb", "notebooks/02_reshape.ipynb", "notebooks/03_normalize.ipynb",
                     "release/01_sigmoid/01_sigmoid.ipynb", "release/02_reshape/02_reshape.ipynb",
                     "release/03_normalize/03_normalize.ipynb"}
    with pytest.raises(ValueError, match="no such assignment"):
        pack.build(out, through="03_normalise")
    done = subprocess.run([sys.executable, "-m", "coursekit.pack", "--out", str(out), "--through", "3"],
                          capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 2 and "03_normalize" in done.stderr


# The pack's requirements, checked here without coursekit.pack's own code: every module a
# pack notebook or helper file imports is provided by a listed distribution, and every listed
# distribution is needed (it provides an import, or is JupyterLab or ipykernel, or one of
# those requires it, transitively), at the version requirements.txt pins.
def top_level_imports(folder):
    found = set()
    for path in folder.rglob("*"):
        if path.suffix == ".py":
            sources = [path.read_text()]
        elif path.suffix == ".ipynb":
            sources = ["".join(c["source"]) for c in json.loads(path.read_text())["cells"]
                       if c["cell_type"] == "code"]
        else:
            continue
        for source in sources:
            tree = ast.parse(re.sub(r"(?m)^\s*[%!].*$", "", source))
            found |= {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                      for alias in node.names}
            found |= {node.module.split(".")[0] for node in ast.walk(tree)
                      if isinstance(node, ast.ImportFrom) and not node.level}
            # a package found by name, to read its files, is needed as much as an imported one
            found |= {node.args[0].value.split(".")[0] for node in ast.walk(tree)
                      if isinstance(node, ast.Call) and ast.unparse(node.func).split(".")[-1]
                      in ("find_spec", "import_module") and node.args and isinstance(node.args[0], ast.Constant)}
    return found - set(sys.stdlib_module_names)


def requirement_problems(folder):
    """What is wrong with the pack's requirements.txt, as sentences (none: it is right)."""
    lines = [line.strip() for line in (folder / "requirements.txt").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    problems = [f"listed twice: {line}" for line in sorted(set(lines)) if lines.count(line) > 1]
    if "-e ." not in lines:
        problems.append("no -e . (the check helper)")
    course = {canonicalize_name(Requirement(line).name): line
              for line in (ROOT / "requirements.txt").read_text().splitlines() if "==" in line}
    listed = {}
    for line in lines:
        if line != "-e .":
            name = canonicalize_name(Requirement(line).name)
            listed[name] = line
            if course.get(name) != line:
                problems.append(f"{line}: requirements.txt pins {course.get(name)}")
    providers = importlib.metadata.packages_distributions()
    needed = [canonicalize_name("jupyterlab"), canonicalize_name("ipykernel")]
    for module in sorted(top_level_imports(folder) - {"coursekit"}):
        given_by = [canonicalize_name(d) for d in providers.get(module, [])]
        if not set(given_by) & set(listed):
            problems.append(f"import {module}: provided by {given_by or 'nothing installed'}, not listed")
        needed += given_by
    reached, queue = set(), [(name, "") for name in needed]
    while queue:
        name, extra = queue.pop()
        if (name, extra) in reached:
            continue
        reached.add((name, extra))
        for line in importlib.metadata.distribution(name).requires or []:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({"extra": extra}):
                queue += [(canonicalize_name(requirement.name), e) for e in ("", *requirement.extras)]
    problems += [f"{listed[name]}: nothing imported needs it" for name in sorted(set(listed) - {n for n, _ in reached})]
    return problems


def test_the_pack_requires_what_its_notebooks_import_and_nothing_more(built):
    out, _ = built
    assert requirement_problems(out) == []
    requirements = (out / "requirements.txt").read_text()
    assert "numpy==" in requirements and "jupyterlab==" in requirements and "ipykernel==" in requirements


def test_the_requirements_check_finds_a_grader_tool_and_a_missing_import(built, tmp_path):
    out, _ = built
    copy = tmp_path / "pack"
    shutil.copytree(out, copy)
    alembic = next(line for line in (ROOT / "requirements.txt").read_text().splitlines()
                   if line.lower().startswith("alembic=="))
    kept = [line for line in (copy / "requirements.txt").read_text().splitlines()
            if not line.lower().startswith("numpy==")]
    (copy / "requirements.txt").write_text("\n".join(kept + [alembic, "-e ."]) + "\n")
    problems = requirement_problems(copy)
    assert f"{alembic}: nothing imported needs it" in problems
    assert "listed twice: -e ." in problems
    assert "import numpy: provided by ['numpy'], not listed" in problems
