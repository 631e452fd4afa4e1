"""The check helper's and the grader's messages, and the masters' hints, in
every language (issue 17, items 1 and 4): catalogs kept with Babel
(coursekit.i18n), complete and current; the kernel speaks the student's
language; a Korean submission's feedback is in Korean."""

import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest
from babel.messages.pofile import read_po, write_po
from nbclient import NotebookClient

from conftest import ROOT, course_with, grade
from coursekit import i18n, messages
from coursekit.values import encode
from coursekit.verdict import judge, reference_reports, verdict_outputs

ENGLISH_HINT = "the sign of the exponent is flipped: the sigmoid is 1 / (1 + e^(-x)), np.exp(-x)"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
KOREAN = re.compile(r"[\uac00-\ud7a3]")


def catalog(lang, root=ROOT):
    with open(i18n.catalog_path(lang, Path(root) / "coursekit" / "locale"), "rb") as file:
        return read_po(file)


# -- (a) every message and hint translated, nothing stale ----------------------

def test_there_is_a_korean_catalog():
    assert "ko" in i18n.languages()


@pytest.mark.parametrize("lang", i18n.languages())
def test_every_message_and_hint_is_translated_and_no_entry_is_obsolete(lang):
    assert messages.problems(lang) == []


def test_the_extraction_finds_the_code_messages_and_the_masters_strings():
    template = messages.extract()
    ids = {m.id for m in template if m.id}
    assert "expected {expected}, got {got}" in ids  # coursekit/values.py
    assert "{problem}. Likely mistake: {hint}" in ids  # coursekit/verdict.py
    # a hint written at the call, one kept in a constant (06) and one in a table of pairs (07)
    assert "np.log(0) is -inf: add delta = 1e-7 inside the log, np.log(y + delta)" in ids
    assert any(i.startswith("an entry was not put back after its difference") for i in ids)
    assert any(i.startswith("dw was not divided by m") for i in ids)
    assert "SimpleNet().W after np.random.seed({0})" in ids  # shown_as
    assert "sum of the squared column sums" in ids  # labelled
    from_masters = [m for m in template if any(f.startswith("source/") for f, _ in m.locations)]
    assert len(from_masters) > 100
    # what the student pack may hold: code messages and the texts of visible test cells
    shown = {m.id for m in template if messages.shown_in_kernel(m)}
    assert "expected {expected}, got {got}" in shown and "0.01x² + 0.1x" in shown
    assert "propagate(w = {0}, b = {1}, X = {2}, Y = {3}), its grads['dw']" in shown
    assert not {m.id for m in template if messages.IN_FEEDBACK in m.auto_comments} & shown
    assert "W after numerical_gradient(f = sum of w³, W) with W = {0}" in shown  # visible and hidden
    assert "sum of the squared column sums" not in shown  # a hidden test's only


def test_every_hint_and_call_the_reference_run_shows_is_in_the_catalogs(graded_course):
    """The extractor reads the masters without running them: the reference
    run's own reports prove it missed no hint, and give each call in Korean."""
    course, _ = graded_course
    ids = {m.id for m in messages.extract() if m.id}
    for master in sorted(course.glob("source/*/*.ipynb")):
        for reports in reference_reports(str(master), str(course)).values():
            for want in reports:
                assert {m["hint"] for m in want.get("mistakes", [])} <= ids, master.name
                assert set(want.get("call_in", {})) == set(i18n.languages()), want["call"]


def broken_copy(tmp_path, lang="ko"):
    """The code, masters and catalogs copied to `tmp_path`, to break."""
    shutil.copytree(ROOT / "coursekit", tmp_path / "coursekit",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for master in ROOT.glob("source/*/*.ipynb"):
        target = tmp_path / master.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(master, target)
    return tmp_path


def edit(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def edit_entry(root, msgid, change, lang="ko"):
    path = i18n.catalog_path(lang, root / "coursekit" / "locale")
    entries = catalog(lang, root)
    change(entries[msgid])
    with open(path, "wb") as file:
        write_po(file, entries, width=0)


BREAKAGES = {
    "an English message changed in the code": (
        lambda root: edit(root / "coursekit/values.py", '"cannot compare with {expected}"',
                          '"could not compare with {expected}"'),
        ["missing: 'could not compare with {expected}'",
         "obsolete (no longer in the code): 'cannot compare with {expected}'"]),
    "a hint changed in a master": (
        lambda root: edit(root / "source/05_losses/05_losses.ipynb", "np.log(0) is -inf: add delta",
                          "np.log(0) is minus infinity: add delta"),
        ["missing: 'np.log(0) is minus infinity", "obsolete (no longer in the code): 'np.log(0) is -inf"]),
    "a translation left empty": (
        lambda root: edit_entry(root, "{call} gives the expected result",
                                lambda m: setattr(m, "string", "")),
        ["not translated: '{call} gives the expected result'"]),
    "a translation marked fuzzy": (
        lambda root: edit_entry(root, "{call} gives the expected result", lambda m: m.flags.add("fuzzy")),
        ["fuzzy (the English changed): '{call} gives the expected result'"]),
    "a placeholder renamed in a translation": (
        lambda root: edit_entry(root, "expected {expected}, got {got}",
                                lambda m: setattr(m, "string", m.string.replace("{got}", "{result}"))),
        ["placeholders differ: 'expected {expected}, got {got}'"]),
}


@pytest.mark.parametrize("breakage", BREAKAGES)
def test_a_broken_copy_fails_the_catalog_check(tmp_path, breakage):
    root = broken_copy(tmp_path)
    assert messages.problems("ko", root) == []  # the copy as it is passes
    breaks, expected = BREAKAGES[breakage]
    breaks(root)
    found = messages.problems("ko", root)
    for fragment in expected:
        assert any(fragment in line for line in found), (fragment, found)


# -- (b) placeholders -----------------------------------------------------------

@pytest.mark.parametrize("lang", i18n.languages())
def test_every_translation_has_the_english_placeholders(lang):
    for message in catalog(lang):
        if message.id and message.string:
            assert messages.placeholders(message.string) == messages.placeholders(message.id), message.id
            if any(f.startswith("coursekit/") for f, _ in message.locations):  # filled in by name
                names = {p.strip("{}") for p in messages.placeholders(message.id)}
                message.string.format(**{n: "x" for n in names})


def test_the_korean_catalog_uses_the_glossary():
    strings = " ".join(m.string for m in catalog("ko") if m.id)
    for term in ("형상", "배열", "축", "기울기", "학습률", "소프트맥스", "교차 엔트로피 오차",
                 "정규화", "브로드캐스팅", "중심 차분", "시그모이드"):
        assert term in strings, term
    for english_term in ("그라디언트", "그래디언트", "쉐이프", "셰이프", "어레이"):
        assert english_term not in strings


# -- the language chosen ----------------------------------------------------------

def test_english_is_the_msgid_itself():
    with i18n.language("en"):
        assert i18n._("expected {expected}, got {got}") == "expected {expected}, got {got}"
    with i18n.language("ko"):
        assert KOREAN.search(i18n._("expected {expected}, got {got}"))
    with i18n.language("ko_KR.UTF-8"):
        assert i18n.current_language() == "ko"
    with i18n.language("xx"):  # no catalog: English
        assert i18n.current_language() == "en"


def test_the_verdict_is_written_in_the_notebooks_language():
    want = {"function": "sigmoid", "call": "sigmoid(array([1, 2, 3]))",
            "call_in": {"ko": "sigmoid(array([1, 2, 3]))"}, "value": encode([0.5, 0.5]),
            "mistakes": [{"hint": "math.exp takes one number only; np.exp works on every element "
                                  "of an array", "value": encode([0.0, 0.0])}]}
    got = {"function": "sigmoid", "value": encode([0.0, 0.0])}
    english = judge([want], [got])
    assert english == ("sigmoid(array([1, 2, 3])): expected [0.5 0.5], got [0. 0.]. Likely mistake: "
                       "math.exp takes one number only; np.exp works on every element of an array")
    with i18n.language("ko"):
        korean = judge([want], [got])
        shown = verdict_outputs([{**want, "call_in": {"ko": "한국어 호출"}}], [
            nbformat.v4.new_output("display_data", data={
                "application/vnd.coursekit.check+json": {**got, "value": want["value"]}})])
    assert korean == ("sigmoid(array([1, 2, 3])): 기댓값은 [0.5 0.5]인데 결과는 [0. 0.]입니다. "
                      "의심되는 실수: math.exp는 수 하나만 받습니다. 배열의 모든 원소에 적용하려면 "
                      "np.exp를 쓰세요")
    assert shown[-1].text == "✔ 한국어 호출\n"  # the call as the reference run wrote it in Korean
    with i18n.language("ko"):
        failed = verdict_outputs([want], [nbformat.v4.new_output("display_data", data={
            "application/vnd.coursekit.check+json": got})])
    # the student reads Korean; the instructor's report reads the evalue, in English
    assert failed[-1].traceback == [f"✘ {korean}"] and failed[-1].evalue == english


def test_compiled_catalogs_are_read_by_the_standard_library(tmp_path):
    import gettext
    written = messages.compile_catalogs(tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in written] == [
        f"{lang}/LC_MESSAGES/coursekit.mo" for lang in i18n.languages()]
    korean = gettext.translation("coursekit", localedir=tmp_path, languages=["ko"])
    assert korean.gettext("{call} gives the expected result") == "{call}의 결과가 기댓값과 같습니다"
    # the hints are the grader's: not in what the student pack holds, unless asked for
    assert korean.gettext(ENGLISH_HINT) == ENGLISH_HINT
    messages.compile_catalogs(tmp_path / "all", feedback=True)
    everything = gettext.translation("coursekit", localedir=tmp_path / "all", languages=["ko"])
    assert everything.gettext(ENGLISH_HINT).startswith("지수의 부호가 반대입니다")


# -- (c) the kernel's check speaks the student's language ---------------------------

CELLS = ["import numpy as np\nfrom coursekit.checks import check",
         "def cube(x):\n    return x ** 2\n",
         "check(cube, 2, expect=8)",
         "check(cube, 3, expect=9)",
         "def todo(x):\n    raise NotImplementedError()\n\ncheck(todo, np.ones(2), expect=[1, 1])"]


def run_cells(folder, env):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(folder)}}).execute(env=env)
    failed = [ANSI.sub("", o.traceback[0]) for c in nb.cells for o in c.outputs if o.output_type == "error"]
    passed = [o.data["text/plain"] for o in nb.cells[3].outputs if o.output_type == "display_data"]
    return failed, passed


def kernel_env(**extra):
    import os
    env = {k: v for k, v in os.environ.items() if k != "COURSEKIT_LANG"}
    return {**env, **extra}


def test_the_kernels_check_speaks_korean_with_coursekit_lang(tmp_path):
    failed, passed = run_cells(tmp_path, kernel_env(COURSEKIT_LANG="ko", PYTHONPATH=str(ROOT)))
    assert failed == ["✘ cube(2): 기댓값은 8.0인데 결과는 4.0입니다",
                      "✘ todo(array([1., 1.])): 아직 작성하지 않은 함수입니다(NotImplementedError가 발생합니다)"]
    assert passed == ["✔ cube(3)의 결과가 기댓값과 같습니다"]


def test_the_kernels_check_speaks_english_without_a_setting(tmp_path):
    failed, passed = run_cells(tmp_path, kernel_env(PYTHONPATH=str(ROOT)))
    assert failed == ["✘ cube(2): expected 8.0, got 4.0",
                      "✘ todo(array([1., 1.])): the function is not written yet (it raises "
                      "NotImplementedError)"]
    assert passed == ["✔ cube(3) gives the expected result"]


def test_a_pack_with_a_language_file_and_compiled_catalogs_speaks_korean(tmp_path):
    """As the Korean student pack: coursekit/LANGUAGE says ko, and only .mo files, read by
    the standard library (no .po beside them)."""
    helper = tmp_path / "pack" / "coursekit"
    helper.mkdir(parents=True)
    for name in ("__init__.py", "checks.py", "values.py", "i18n.py"):
        shutil.copy(ROOT / "coursekit" / name, helper / name)
    messages.compile_catalogs(helper / "locale")
    (helper / "LANGUAGE").write_text("ko\n")
    env = kernel_env(PYTHONPATH=str(helper.parent))
    failed, _ = run_cells(tmp_path, env)
    assert failed[0] == "✘ cube(2): 기댓값은 8.0인데 결과는 4.0입니다"
    (helper / "LANGUAGE").unlink()
    failed, _ = run_cells(tmp_path, env)
    assert failed[0] == "✘ cube(2): expected 8.0, got 4.0"


# -- (d) a Korean submission's feedback is in Korean ----------------------------------

def test_a_korean_submissions_feedback_shows_its_failures_and_hint_in_korean(tmp_path):
    course = course_with(tmp_path, [("sample-korean", "01_sigmoid")])
    # the same submission with its language taken out: an English notebook
    english = course / "submitted" / "sample-korean-as-english" / "01_sigmoid"
    english.mkdir(parents=True)
    nb = json.loads((course / "submitted/sample-korean/01_sigmoid/01_sigmoid.ipynb").read_text())
    assert nb["metadata"]["coursekit"] == {"language": "ko"}
    del nb["metadata"]["coursekit"]
    (english / "01_sigmoid.ipynb").write_text(json.dumps(nb, ensure_ascii=False))
    grade(course)
    korean = (course / "feedback/sample-korean/01_sigmoid/01_sigmoid.html").read_text()
    assert ("✘ sigmoid(array([1, 2, 3])): 기댓값은 [0.73105858 0.88079708 0.95257413]인데 결과는 "
            "[0.26894142 0.11920292 0.04742587]입니다. 의심되는 실수: 지수의 부호가 반대입니다. "
            "시그모이드는 1 / (1 + e^(-x))이므로 np.exp(-x)를 써야 합니다") in korean
    assert ("sigmoid_derivative(array([1, 2, 3])): 아직 작성하지 않은 함수입니다"
            "(NotImplementedError가 발생합니다)") in korean
    assert "✔ basic_sigmoid(1)" in korean
    assert "Likely mistake" not in korean and "expected [" not in korean
    # nbgrader's page around the cells too
    assert "01_sigmoid (점수: 1.0 / 5.0)" in korean and ">테스트 셀</a> (점수: 0.0 / 2.0)" in korean
    assert ">학생 답안<" in korean and ">채점 셀: <code>test_sigmoid</code>" in korean
    assert not re.search(r"Score|Student's answer|Grade cell|Test cell|\(Top\)", korean)
    graded = nbformat.read(course / "autograded/sample-korean/01_sigmoid/01_sigmoid.ipynb", as_version=4)
    evalues = [o.evalue for c in graded.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert evalues[0].endswith("Likely mistake: " + ENGLISH_HINT)  # for the instructor's report
    english = (course / "feedback/sample-korean-as-english/01_sigmoid/01_sigmoid.html").read_text()
    assert ("sigmoid(array([1, 2, 3])): expected [0.73105858 0.88079708 0.95257413], got "
            "[0.26894142 0.11920292 0.04742587]. Likely mistake: the sign of the exponent is flipped"
            ) in english
    assert "의심되는 실수" not in english and "점수" not in english
    assert ">Student's answer<" in english and "01_sigmoid (Score: 1.0 / 5.0)" in english



def test_what_grading_itself_says_is_in_the_notebooks_language():
    """A kernel that died, a notebook past its time, a submission past a limit:
    the student reads it in their notebook's language; the evalue, which the
    grader and its report read, stays English."""
    from coursekit.execute import KERNEL_DIED, LIMIT_HIT, ExecuteWithReference
    from coursekit.sandbox import LIMITS
    limit = (LIMITS["memory"], 2048)
    for lang, word in (("ko", "메모리 제한"), ("en", "memory limit")):
        execute = ExecuteWithReference()
        execute.nb = nbformat.v4.new_notebook(metadata={"coursekit": {"language": lang}})
        stopped = execute._error("SubmissionLimit", LIMIT_HIT, limit=limit)
        assert stopped.evalue == ("the submission was stopped in this cell: it went past "
                                  "its memory limit (2048 MiB for all its processes together)")
        assert word in stopped.traceback[0]
        died = execute._error("KernelDied", KERNEL_DIED)
        assert bool(KOREAN.search(died.traceback[0])) is (lang == "ko")
