"""Every known mistake written in a master notebook can show its hint.

A hint is reachable when, for at least one check, a student whose function
makes exactly that mistake fails the check and is told that hint (and not an
earlier one's). The samples in submitted/ prove the common mistakes end to
end; this proves every hint, on the reports of the reference run.
"""

import pytest

from conftest import ROOT
from coursekit.values import compare
from coursekit.verdict import judge, reference_reports

SOURCES = sorted(ROOT.glob("source/*/*.ipynb"))


def student_making(mistake, want):
    if "error" in mistake:
        return {"function": want["function"], "error": f"{mistake['error']}: (as the mistake raised)"}
    return {"function": want["function"], "value": mistake["value"]}


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.parent.name)
def test_every_hint_is_reachable(graded_course, source):
    # the reports of the reference run the grader made (and cached) for the graded course
    course, _ = graded_course
    master = course / source.relative_to(ROOT)
    reports = [want for cell in reference_reports(str(master), str(course)).values() for want in cell]
    hints = {(want["function"], m["hint"]) for want in reports for m in want.get("mistakes", [])}
    reached = set()
    for want in reports:
        for mistake in want.get("mistakes", []):
            if "value" in mistake and compare(mistake["value"], want["value"]) is None:
                continue  # on this input the mistake gives the right answer
            verdict = judge([want], [student_making(mistake, want)])
            assert verdict is not None, (want["call"], mistake["hint"])
            if verdict.endswith(f"Likely mistake: {mistake['hint']}"):
                reached.add((want["function"], mistake["hint"]))
    assert hints, f"{source.name} names no known mistake"
    assert sorted(hints - reached) == []
