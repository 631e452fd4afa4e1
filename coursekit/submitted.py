"""Sort out submitted/: what can be graded, as which notebook, and what cannot and why.

nbgrader's layout is `submitted/<student>/<assignment>/<notebook>.ipynb`.
Everything that does not fit it is named with what to do about it, so no
file under submitted/ is silently skipped.
"""

import difflib
import json


def unreadable(path):
    """Why the notebook file at `path` cannot be graded, or None if it can."""
    data = path.read_bytes()
    if not data.strip():
        return "the notebook file is empty"
    try:
        notebook = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        return "the notebook file is not UTF-8 text"
    except ValueError as error:
        return f"the notebook file is not valid JSON ({error})"
    if not isinstance(notebook, dict) or "cells" not in notebook and "worksheets" not in notebook:
        return "the file is JSON but not a notebook (it has no cells)"
    return None


def submissions(root):
    """Sort out submitted/: what to grade, and what cannot be graded and why.

    Returns (todo, failures, notes): todo maps (student, assignment) to the
    notebooks to grade, {expected name: submitted file}; failures maps
    (student, folder or file) to a reason; notes maps (student, assignment)
    to what was done about files that did not fit the assignment.
    """
    expected = {p.name: sorted(n.name for n in p.glob("*.ipynb"))
                for p in sorted((root / "source").iterdir()) if p.is_dir()}
    todo, failures, notes = {}, {}, {}
    for student in sorted((root / "submitted").iterdir()):
        if not student.is_dir():
            failures[student.name, "-"] = ("a file directly in submitted/, outside any student's "
                                           "folder: move it to submitted/<student>/<assignment>/")
            continue
        entries = sorted(student.iterdir())
        if not entries:
            failures[student.name, "-"] = "the student's folder is empty"
        for entry in entries:
            if not entry.is_dir():
                failures[student.name, entry.name] = (
                    f"a file outside any assignment folder: move it to "
                    f"submitted/{student.name}/{guess(entry.stem, expected)}/")
            elif entry.name not in expected:
                failures[student.name, entry.name] = (
                    f"there is no assignment {entry.name!r}: rename the folder to "
                    f"{guess(entry.name, expected)}")
            else:
                key = (student.name, entry.name)
                plan, reason, note = match_notebooks(entry, expected[entry.name])
                if reason:
                    failures[key] = reason
                else:
                    todo[key] = plan
                if note:
                    notes[key] = note
    return todo, failures, notes


def guess(name, expected):
    """The assignment a misnamed folder or file was probably meant for."""
    close = difflib.get_close_matches(name, list(expected), n=1, cutoff=0.5)
    return close[0] if close else "<one of: " + ", ".join(expected) + ">"


def match_notebooks(folder, names):
    """(plan, reason, note) for one assignment folder: which file to grade as which notebook."""
    present = sorted(p.name for p in folder.glob("*.ipynb"))
    plan = {name: name for name in names if name in present}
    others = [name for name in present if name not in plan]
    missing = [name for name in names if name not in plan]
    note = None
    if len(missing) == 1 and len(others) == 1:
        plan[missing[0]] = others[0]
        note = f"graded {others[0]!r} as {missing[0]}"
    elif others:
        note = "ignored " + ", ".join(repr(n) for n in others) + " (not part of the assignment)"
    if not plan:
        if not present:
            return None, f"no notebook in the folder (expected {', '.join(names)})", None
        return None, (f"no {' or '.join(names)} but {len(others)} other notebooks "
                      f"({', '.join(others)}): rename the one to grade to {names[0]}"), None
    for name, file in plan.items():
        reason = unreadable(folder / file)
        if reason:
            return None, f"{file}: {reason}", note
    return plan, None, note
