"""Every file and folder in submitted/ is graded, or listed with what to do about it."""

import shutil

from conftest import ROOT
from coursekit.submitted import submissions

NOTEBOOK = ROOT / "submitted/sample-correct/01_sigmoid/01_sigmoid.ipynb"


def course(tmp_path, files):
    """A course with 01_sigmoid and 02_reshape, and the submitted `files` (path -> notebook or None)."""
    for assignment in ("01_sigmoid", "02_reshape"):
        (tmp_path / "source" / assignment).mkdir(parents=True)
        shutil.copy(NOTEBOOK, tmp_path / "source" / assignment / f"{assignment}.ipynb")
    (tmp_path / "submitted").mkdir()
    for path, content in files.items():
        target = tmp_path / "submitted" / path
        if path.endswith("/"):
            target.mkdir(parents=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content.read_bytes() if content else b"")
    return submissions(tmp_path)


def test_what_does_not_fit_is_listed_with_what_to_do(tmp_path):
    todo, failures, notes = course(tmp_path, {
        "ann/": None,
        "bob/01_sigmoid.ipynb": NOTEBOOK,
        "cid/01-sigmoid/01_sigmoid.ipynb": NOTEBOOK,
        "dee/03_normalize/03_normalize.ipynb": NOTEBOOK,
        "stray.ipynb": NOTEBOOK,
        "eve/01_sigmoid/": None,
    })
    assert todo == {} and notes == {}
    assert failures == {
        ("ann", "-"): "the student's folder is empty",
        ("bob", "01_sigmoid.ipynb"): "a file outside any assignment folder: move it to "
                                     "submitted/bob/01_sigmoid/",
        ("cid", "01-sigmoid"): "there is no assignment '01-sigmoid': rename the folder to 01_sigmoid",
        ("dee", "03_normalize"): "there is no assignment '03_normalize': rename the folder to "
                                 "<one of: 01_sigmoid, 02_reshape>",
        ("stray.ipynb", "-"): "a file directly in submitted/, outside any student's folder: "
                              "move it to submitted/<student>/<assignment>/",
        ("eve", "01_sigmoid"): "no notebook in the folder (expected 01_sigmoid.ipynb)",
    }


def test_a_renamed_notebook_is_graded_under_its_name_and_strays_are_ignored(tmp_path):
    todo, failures, notes = course(tmp_path, {
        "ann/01_sigmoid/01_sigmoid (1).ipynb": NOTEBOOK,
        "bob/01_sigmoid/01_sigmoid.ipynb": NOTEBOOK,
        "bob/01_sigmoid/Untitled.ipynb": None,
        "cid/01_sigmoid/draft.ipynb": NOTEBOOK,
        "cid/01_sigmoid/final.ipynb": NOTEBOOK,
    })
    assert todo == {("ann", "01_sigmoid"): {"01_sigmoid.ipynb": "01_sigmoid (1).ipynb"},
                    ("bob", "01_sigmoid"): {"01_sigmoid.ipynb": "01_sigmoid.ipynb"}}
    assert notes == {("ann", "01_sigmoid"): "graded '01_sigmoid (1).ipynb' as 01_sigmoid.ipynb",
                     ("bob", "01_sigmoid"): "ignored 'Untitled.ipynb' (not part of the assignment)"}
    assert failures == {("cid", "01_sigmoid"): "no 01_sigmoid.ipynb but 2 other notebooks "
                        "(draft.ipynb, final.ipynb): rename the one to grade to 01_sigmoid.ipynb"}


def test_every_sample_submission_carries_what_nbgrader_submit_leaves():
    """release_feedback needs each submission's timestamp.txt and submission_secret.txt."""
    folders = [p for p in (ROOT / "submitted").glob("*/*") if p.is_dir()]
    assert folders
    missing = [str(p.relative_to(ROOT)) for p in folders
               if not (p / "timestamp.txt").is_file() or not (p / "submission_secret.txt").is_file()]
    assert missing == []
