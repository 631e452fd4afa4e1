"""Nothing a student sees holds the code of a graded answer.

The comparison (normalised ASTs, not text) is coursekit/leaks.py; its
docstring gives the normal forms and the size thresholds, and why.
"""

import json

import pytest

from conftest import ROOT
from coursekit import leaks, pack

ASSIGNMENTS = sorted(p.parent.name for p in ROOT.glob("source/*/*.ipynb"))


def notebook(path, *sources, metadata=None):
    """Write a notebook of code cells with these sources; return its path."""
    cells = [{"cell_type": "code", "execution_count": None, "id": f"c{i}", "outputs": [],
              "metadata": metadata or {}, "source": source} for i, source in enumerate(sources)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return path


def solution(name, body, graded=True):
    """A master's solution cell: def name(x, y) with body between the solution markers."""
    lines = "\n".join("    " + line for line in body.splitlines())
    return (f'def {name}(x, y):\n    """Doc."""\n    ### BEGIN SOLUTION\n{lines}\n    ### END SOLUTION\n',
            {"nbgrader": {"solution": True, "grade": False, "grade_id": name, "locked": False,
                          "schema_version": 3, "task": False}})


def report(found):
    return "graded answers shown to students (file, cell, assignment, graded name (answer): line):\n" + \
        "\n".join(f"  {leak}" for leak in found)


@pytest.fixture(scope="module")
def known():
    return leaks.answers(ROOT)


def test_every_graded_function_has_answer_fragments_to_look_for(known):
    """Guards the tests below against passing for want of answers."""
    names = {answer.name.split(".")[0] for answer in known.values()}
    assignments = {answer.assignment for answer in known.values()}
    assert {"sigmoid", "softmax", "cross_entropy_error", "numerical_diff", "propagate"} <= names
    assert set(ASSIGNMENTS) - {"02_reshape"} <= assignments  # 02's answer is one call: an idiom


@pytest.mark.parametrize("place", ["notebooks", "release"])
def test_no_lesson_or_release_shows_an_answer(known, place):
    found = leaks.find(known, leaks.visible_files(ROOT / place), root=ROOT)
    assert not found, report(found)


@pytest.fixture(scope="module")
def student_pack(tmp_path_factory):
    out = tmp_path_factory.mktemp("pack") / "student-pack"
    pack.build(out)
    return out


def test_the_student_pack_shows_no_answer(known, student_pack):
    found = leaks.find(known, leaks.visible_files(student_pack), root=student_pack)
    assert not found, report(found)


def shown_files(folder):
    return {str(p.relative_to(folder)): p.read_bytes() for p in leaks.visible_files(folder)}


@pytest.mark.parametrize("through", ASSIGNMENTS)
def test_every_pack_through_an_assignment_shows_part_of_the_full_pack(student_pack, tmp_path, through):
    """So the full pack's search covers the packs `python -m coursekit.pack --through` builds."""
    out = tmp_path / "student-pack"
    pack.build(out, through=through)
    part, full = shown_files(out), shown_files(student_pack)
    assert part and all(full.get(name) == text for name, text in part.items())
    assert f"release/{through}/{through}.ipynb" in part


# What the comparison finds, against the real masters. The first six are what an
# 8-node comparison of names replaced found on main when this test was written;
# the others are what it missed.
SHOWN_ANSWERS = {
    "lesson 01: sigmoid on a grid": "s = 1 / (1 + np.exp(-xs))",
    "lesson 07: a sigmoid of their own": "def sig(z):\n    return 1 / (1 + np.exp(-z))",
    "release 06: softmax's shift": "e = np.exp(x - np.max(x, axis=-1, keepdims=True))",
    "release 06: softmax's sum": "p = e / np.sum(e, axis=-1, keepdims=True)",
    "a renamed sigmoid": "value = 1 / (1 + np.exp(-t))",
    "a renamed sigmoid, inside a call": "plt.plot(grid, 1 / (1 + np.exp(-grid)))",
    "sigmoid's derivative (5 nodes)": "ax.plot(xs, s * (1 - s))",
    "cross-entropy with delta's value": "loss = -np.sum(t * np.log(y + 1e-7))",
    "the central difference on numbers": "slope = (curve(5 + h) - curve(5 - h)) / (2 * h)",
    "a 1-D softmax (no axis)": "e = np.exp(z - z.max())",
    "np.dot written as @": "A = sigmoid(w.T @ X + b)",
    "the cross-entropy of logistic regression": "J = -np.mean(Y * np.log(A) + (1 - Y) * np.log(1 - A))",
    "the tangent line": "ys = curve(a) + slope * (xs - a)",
}
# What lessons may show: idioms, and things that merely look alike.
IDIOMS = {
    "zeros of a shape": "w = np.zeros((n, 1))",
    "zeros like": "g = np.zeros_like(x, dtype=float)",
    "a reshape to a column": "v = img.reshape(-1, 1)",
    "a random matrix": "W = np.random.randn(2, 3)",
    "a descent update": "p = p - lr * g",
    "an exponential": "y = np.exp(-x)",
    "a max per row": "m = x.max(axis=1, keepdims=True)",
    "a linear score": "z = W.T @ x + b",
    "a function to minimise": "f = lambda x: np.sum(x**2)",
    "a tanh": "t = 1 / (1 + np.tanh(-x))",
    "a mean squared error": "mse = np.mean((y - yhat) ** 2)",
    "a forward difference": "slope = (curve(5 + h) - curve(5)) / h",
}


@pytest.mark.parametrize("label", SHOWN_ANSWERS)
def test_the_comparison_finds_an_answer_under_other_names(known, tmp_path, label):
    shown = notebook(tmp_path / "lesson.ipynb", "import numpy as np", SHOWN_ANSWERS[label])
    found = leaks.find(known, [shown], root=tmp_path)
    assert found, f"{label}: not found"
    assert all(leak.path == "lesson.ipynb" and leak.cell == 1 for leak in found)
    assert SHOWN_ANSWERS[label].splitlines()[-1].strip() in {leak.line for leak in found}


@pytest.mark.parametrize("label", IDIOMS)
def test_the_comparison_lets_idioms_through(known, tmp_path, label):
    shown = notebook(tmp_path / "lesson.ipynb", IDIOMS[label])
    assert not leaks.find(known, [shown], root=tmp_path), label


def test_a_leak_names_file_cell_graded_name_and_line(tmp_path):
    """On a course of its own: an ungraded solution cell is an answer too (06 and 07 hold one)."""
    source, metadata = solution("squash", "h = 1e-4\nreturn 1 / (1 + np.exp(-x)) + h * y")
    earlier, earlier_metadata = solution("rescale", "return x / np.linalg.norm(x, axis=1, keepdims=True)")
    notebook(tmp_path / "source" / "09_demo" / "09_demo.ipynb", source, metadata=metadata)
    notebook(tmp_path / "source" / "10_later" / "10_later.ipynb", earlier, metadata=earlier_metadata)
    shown = notebook(tmp_path / "notebooks" / "09_demo.ipynb",
                     "import numpy as np",
                     "q, p = 2.0, 3.0\nr = 1 / (1 + np.exp(-q)) + 1e-4 * p\nprint(r)",
                     "rows = m / np.linalg.norm(m, axis=1, keepdims=True)",
                     "print(np.exp(-q))")
    known = leaks.answers(tmp_path)
    found = leaks.find(known, [shown], root=tmp_path)
    assert [str(leak) for leak in found] == [
        "notebooks/09_demo.ipynb cell 1: 09_demo squash (1 / (1 + np.exp(-x)) + 0.0001 * y): "
        "r = 1 / (1 + np.exp(-q)) + 1e-4 * p",
        "notebooks/09_demo.ipynb cell 2: 10_later rescale (x / np.linalg.norm(x, axis=1, keepdims=True)): "
        "rows = m / np.linalg.norm(m, axis=1, keepdims=True)"]
    assert leaks.main([str(tmp_path)]) == 1
