"""What every lesson tells its reader before it starts teaching."""

import json
import re
from pathlib import Path

import pytest

from conftest import ROOT

LESSONS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SOURCES = ("Deep Learning Specialization", "Deep Learning from Scratch")


def opening(path):
    """The lesson's first markdown cell, its white space made single spaces."""
    cells = json.loads(Path(path).read_text(encoding="utf-8"))["cells"]
    first = next(cell for cell in cells if cell["cell_type"] == "markdown")
    return re.sub(r"\s+", " ", "".join(first["source"]))


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_a_lesson_names_its_sources_and_its_layout(lesson):
    text = opening(lesson)
    assert any(source in text for source in SOURCES), "name where the facts come from"
    assert re.search(r"\b(rows?|columns?|laid out)\b", text), \
        "say how examples are laid out (rows as in DLFS, columns as in DLS)"


def test_lesson_06_teaches_what_06_grades_on_other_examples():
    """numerical_gradient must perturb x in place and restore it, visiting every
    index (np.ndindex or np.nditer), for a loss that reads the weights through
    another name: the lesson shows each of these."""
    cells = json.loads((ROOT / "notebooks" / "06_gradient.ipynb").read_text(encoding="utf-8"))["cells"]
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    assert "np.ndindex" in code and "np.nditer" in code
    assert re.search(r"lambda \w+: \w+\.loss\(", code), "a loss that ignores its argument"
