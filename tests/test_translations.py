"""The Korean edition: complete, current, the same course underneath, and built as the English one."""

import json
import shutil
from pathlib import Path

import pytest

from conftest import ROOT, copy_course, through_api
from coursekit import leaks, pack, translate

ASSIGNMENTS = sorted(p.parent.name for p in ROOT.glob("source/*/*.ipynb"))
LESSONS = sorted(p.stem for p in ROOT.glob("notebooks/*.ipynb"))


def cells(path):
    return json.loads(Path(path).read_text(encoding="utf-8"))["cells"]


def test_the_korean_edition_is_complete_and_current():
    found = translate.problems("ko")
    assert not found, f"{len(found)} cell(s) to translate (python -m coursekit.translate check ko):\n" + \
        "\n".join(f"  {path.relative_to(ROOT)}: cell {cell}: {what}" for path, cell, what in found[:40])


@pytest.fixture(scope="module")
def korean_course(tmp_path_factory):
    """A copy of the course with the Korean notebooks built and the Korean exercises released."""
    course = copy_course(tmp_path_factory.mktemp("korean"))
    for name in ("coursekit", "locale", "requirements.txt", "notebooks"):
        copy = shutil.copytree if (ROOT / name).is_dir() else shutil.copy
        copy(ROOT / name, course / name)
    translate.build("ko", root=course)
    through_api(course, "generate_assignment", ASSIGNMENTS, COURSEKIT_EDITION="ko")
    return course


def pairs(course):
    """(English, Korean) notebook paths: lessons, masters and releases."""
    found = [(course / "notebooks" / f"{n}.ipynb", course / "build/ko/notebooks" / f"{n}.ipynb")
             for n in LESSONS]
    for a in ASSIGNMENTS:
        found.append((course / "source" / a / f"{a}.ipynb", course / "build/ko/source" / a / f"{a}.ipynb"))
        found.append((course / "release" / a / f"{a}.ipynb", course / "release-ko" / a / f"{a}.ipynb"))
    return found


def differences(english, korean):
    """How two notebooks differ beyond their prose: [text]."""
    found = []
    en, ko = cells(english), cells(korean)
    if [c.get("id") for c in en] != [c.get("id") for c in ko]:
        return ["the cells (ids) are not the same"]
    for a, b in zip(en, ko):
        where = f"cell {a.get('id')}"
        if a["cell_type"] != b["cell_type"]:
            found.append(f"{where}: a {a['cell_type']} cell became {b['cell_type']}")
        meta_a, meta_b = (dict(c["metadata"].get("nbgrader", {})) for c in (a, b))
        checksums = meta_a.pop("checksum", None), meta_b.pop("checksum", None)
        if meta_a != meta_b:
            found.append(f"{where}: its nbgrader metadata differs")
        if translate.source_of(a) == translate.source_of(b) and checksums[0] != checksums[1]:
            found.append(f"{where}: the same cell has another checksum")
        if a["cell_type"] == "code":
            if translate.code_shape(translate.source_of(a)) != translate.code_shape(translate.source_of(b)):
                found.append(f"{where}: its code differs")
            if a.get("outputs") != b.get("outputs"):
                found.append(f"{where}: its outputs differ")
        if translate.restored_by_grader(a) and translate.source_of(a) != translate.source_of(b):
            found.append(f"{where}: a cell the grader restores is not the English one byte for byte")
    return found


def test_every_korean_notebook_is_the_english_course_underneath(korean_course):
    for english, korean in pairs(korean_course):
        assert differences(english, korean) == [], korean
        assert json.loads(korean.read_text(encoding="utf-8"))["metadata"]["coursekit"]["language"] == "ko"


def test_the_parity_check_finds_changed_code_and_metadata(korean_course, tmp_path):
    english, korean = pairs(korean_course)[len(LESSONS)]  # the first master
    nb = json.loads(korean.read_text(encoding="utf-8"))
    code = next(c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("solution"))
    code["source"] = translate.source_of(code).replace("(", "( 1 +", 1)
    nb["cells"][0]["metadata"]["nbgrader"] = {"locked": True}
    broken = tmp_path / "broken.ipynb"
    broken.write_text(json.dumps(nb), encoding="utf-8")
    found = differences(english, broken)
    assert any("code differs" in f for f in found) and any("nbgrader" in f for f in found)


def test_the_korean_pack_has_the_english_layout_in_korean(korean_course, tmp_path):
    pack.build(tmp_path / "en", root=korean_course)
    pack.build(tmp_path / "ko", root=korean_course, lang="ko")
    files = lambda folder: sorted(str(p.relative_to(folder)) for p in folder.rglob("*")  # noqa: E731
                                  if p.is_file() and "__pycache__" not in p.parts)
    assert set(files(tmp_path / "ko")) - set(files(tmp_path / "en")) == {"coursekit/LANGUAGE"}
    assert (tmp_path / "ko" / "coursekit" / "LANGUAGE").read_text().strip() == "ko"
    for notebook in (tmp_path / "ko").rglob("*.ipynb"):
        assert json.loads(notebook.read_text(encoding="utf-8"))["metadata"]["coursekit"]["language"] == "ko"
    assert "학생" in (tmp_path / "ko" / "README.md").read_text(encoding="utf-8")
    known = leaks.answers(ROOT)
    assert leaks.find(known, leaks.visible_files(tmp_path / "ko"), root=tmp_path / "ko") == []


# The checks that keep a translation honest, each shown failing on a broken copy.

def small_course(tmp_path, markdown="Some **English** prose about arrays.", code="x = 1  # one"):
    root = tmp_path / "course"
    (root / "notebooks").mkdir(parents=True)
    (root / "source").mkdir()
    notebook = {"cells": [
        {"cell_type": "markdown", "id": "m", "metadata": {}, "source": markdown},
        {"cell_type": "code", "id": "c", "metadata": {}, "execution_count": None, "outputs": [],
         "source": code}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (root / "notebooks" / "01_x.ipynb").write_text(json.dumps(notebook))
    translate.update("ko", root=root)
    return root


def translate_cells(root, strings):
    from babel.messages.pofile import read_po, write_po
    import io
    path = translate.catalog_path("ko", "notebooks", "01_x", root)
    with open(path, "rb") as file:
        catalog = read_po(file, locale="ko")
    for message in catalog:
        if message.context in strings:
            message.string = strings[message.context]
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=0, omit_header=True, sort_output=False)
    path.write_bytes(buffer.getvalue())


def whats(root):
    return sorted((cell, what.split(" (")[0].split(":")[0]) for _, cell, what in translate.problems("ko", root))


def test_a_translation_is_checked_for_being_there_current_code_and_korean(tmp_path):
    root = small_course(tmp_path)
    assert whats(root) == [("c", "not translated"), ("m", "not translated")]
    translate_cells(root, {"m": "배열에 관한 **한국어** 설명입니다.", "c": "x = 1  # 하나"})
    assert whats(root) == []
    translate_cells(root, {"c": "x = 2  # 하나"})
    assert whats(root) == [("c", "its code differs from the English")]
    translate_cells(root, {"c": "x = 1  # 하나", "m": "Some **English** prose, 그대로 두었습니다."})
    assert whats(root) == [("m", "mostly English prose")]
    translate_cells(root, {"m": "배열에 관한 **한국어** 설명입니다."})
    # the English cell changes: its translation is stale until updated, then fuzzy
    english = root / "notebooks" / "01_x.ipynb"
    english.write_text(english.read_text().replace("arrays", "shapes"))
    assert whats(root) == [("m", "the English cell changed since it was translated")]
    translate.update("ko", root=root)
    assert whats(root) == [("m", "marked fuzzy")]
