"""A grade report for the instructor: one HTML page and its PNG plots.

`write_report(root, db_url, failures)` reads the gradebook and the autograded
notebooks after grading and writes `grades-report.html` and the folder
`grades-report/` next to it: per assignment, the distribution of scores, the
pass rate of every test cell, and the failure messages and hints that most
students got (how many students each); then the submissions that could not
be graded, with the reason, and those graded with a note (a renamed notebook
graded under its expected name, stray notebooks ignored).
"""

import hashlib
import html
import json
import re
from collections import Counter, defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
import nbformat  # noqa: E402
from nbgrader.api import (Assignment, BaseCell, Grade, Gradebook,  # noqa: E402
                          SubmittedAssignment, SubmittedNotebook)

from coursekit.verdict import test_cell_id  # noqa: E402

PAGE = "grades-report.html"
FOLDER = "grades-report"
TOP_MESSAGES = 8


def collect(db_url):
    """{assignment: {"max": points, "scores": {student: score}, "cells": {cell: (passed, graded)}}}.

    Every grade is read in one query: following each submission's notebooks
    and grades from object to object took a query each (1.7 s for 100 students).
    """
    results = {}
    with Gradebook(db_url) as gradebook:
        for assignment in gradebook.assignments:
            cells = {cell.name: [0, 0] for notebook in assignment.notebooks
                     for cell in notebook.grade_cells}
            results[assignment.name] = {"max": assignment.max_score, "scores": {}, "cells": cells}
        grades = (gradebook.db.query(Assignment.name, SubmittedAssignment.student_id, BaseCell.name,
                                     Grade.score, Grade.max_score)
                  .select_from(Grade)
                  .join(SubmittedNotebook, Grade.notebook_id == SubmittedNotebook.id)
                  .join(SubmittedAssignment, SubmittedNotebook.assignment_id == SubmittedAssignment.id)
                  .join(Assignment, SubmittedAssignment.assignment_id == Assignment.id)
                  .join(BaseCell, Grade.cell_id == BaseCell.id)
                  .order_by(Assignment.name, SubmittedAssignment.student_id))
        for assignment, student, cell, score, max_score in grades:
            entry = results[assignment]
            entry["scores"][student] = entry["scores"].get(student, 0.0) + score
            counts = entry["cells"].setdefault(cell, [0, 0])
            counts[0] += score >= max_score
            counts[1] += 1
    return results


def failure_messages(autograded):
    """{assignment: Counter(message -> number of students)} from the graded notebooks."""
    messages = defaultdict(Counter)
    for path in sorted(Path(autograded).glob("*/*/*.ipynb")):
        assignment = path.parent.name
        try:  # nbgrader wrote it: read as JSON, without validating it again
            cells = nbformat.from_dict(json.loads(path.read_bytes()))["cells"]
            seen = {summary(str(output.get("evalue", "")))
                    for cell in cells if test_cell_id(cell) is not None
                    for output in cell.get("outputs", []) if output.get("output_type") == "error"}
        except Exception:  # not a notebook: nothing to count
            continue
        messages[assignment].update(seen)
    return messages


def summary(message):
    """What students with the same mistake have in common: the hint, or the failure without the value."""
    hint = re.search(r"Likely mistake: (.*)", message)
    if hint:
        return f"likely mistake: {hint.group(1)}"
    if " raised " in message:
        head, _, tail = message.partition(" raised ")
        return f"{head} raised {tail.split(':', 1)[0]}"
    return message.partition(", got ")[0][:200]


def plot_scores(entry, name, path):
    fig, ax = plt.subplots(figsize=(5, 2.8))
    scores = list(entry["scores"].values())
    top = max(entry["max"], 1)
    ax.hist(scores, bins=[x - 0.5 for x in range(int(top) + 2)], color="#4c72b0", rwidth=0.85)
    ax.set_xlabel(f"score (out of {entry['max']:g})")
    ax.set_ylabel("students")
    ax.set_title(f"{name}: scores")
    ax.yaxis.get_major_locator().set_params(integer=True)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def plot_pass_rates(entry, name, path):
    cells = list(entry["cells"])
    rates = [100 * passed / graded if graded else 0 for passed, graded in entry["cells"].values()]
    fig, ax = plt.subplots(figsize=(5, 0.45 * len(cells) + 1.2))
    ax.barh(cells, rates, color="#55a868")
    ax.set_xlim(0, 100)
    ax.invert_yaxis()
    ax.set_xlabel("% of graded students with full marks")
    ax.set_title(f"{name}: test cells")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


class Drawn:
    """The plots in `folder`, each drawn again only when what it shows changed
    (a re-run that graded nothing new would redraw them all: a second or two)."""

    def __init__(self, folder):
        self.index = Path(folder) / "drawn.json"
        try:
            self.digests = json.loads(self.index.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.digests = {}

    def plot(self, draw, entry, name, file):
        digest = hashlib.sha256(json.dumps([draw.__name__, name, entry], sort_keys=True)
                                .encode()).hexdigest()
        path = self.index.parent / file
        if self.digests.get(file) != digest or not path.exists():
            draw(entry, name, path)
            self.digests[file] = digest

    def save(self):
        self.index.write_text(json.dumps(self.digests, sort_keys=True), encoding="utf-8")


def write_report(root, db_url, failures, notes=None):
    """Write the report under `root` from the gradebook at `db_url`; return the page's path.

    `failures` and `notes` map (student, assignment) to what could not be
    graded and why, and to what was done about files that did not fit.
    """
    root = Path(root)
    results = collect(db_url)
    messages = failure_messages(root / "autograded")
    folder = root / FOLDER
    folder.mkdir(exist_ok=True)
    parts = ["<!DOCTYPE html><html><head><meta charset='utf-8'><title>Grade report</title>",
             "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}"
             "td,th{padding:.2em .6em;text-align:left;vertical-align:top}"
             "img{max-width:48%}</style></head><body><h1>Grade report</h1>"]
    drawn = Drawn(folder)
    for name, entry in sorted(results.items()):
        scores = list(entry["scores"].values())
        drawn.plot(plot_scores, entry, name, f"{name}-scores.png")
        drawn.plot(plot_pass_rates, entry, name, f"{name}-test-cells.png")
        mean = sum(scores) / len(scores) if scores else 0
        parts.append(f"<h2>{html.escape(name)}</h2><p>{len(scores)} graded; mean "
                     f"{mean:.2f} of {entry['max']:g}; full marks: "
                     f"{sum(s >= entry['max'] for s in scores)}</p>")
        parts.append(f"<img src='{FOLDER}/{name}-scores.png' alt='scores of {name}'> "
                     f"<img src='{FOLDER}/{name}-test-cells.png' alt='test cells of {name}'>")
        parts.append("<table><tr><th>test cell</th><th>full marks</th></tr>")
        for cell, (passed, graded) in entry["cells"].items():
            parts.append(f"<tr><td>{html.escape(cell)}</td><td>{passed} of {graded}</td></tr>")
        parts.append("</table>")
        common = messages.get(name, Counter()).most_common(TOP_MESSAGES)
        if common:
            parts.append("<h3>Most frequent failures</h3><table><tr><th>students</th>"
                         "<th>message</th></tr>")
            parts += [f"<tr><td>{n}</td><td>{html.escape(m)}</td></tr>" for m, n in common]
            parts.append("</table>")
    for title, rows in ((f"Not graded ({len(failures)})", failures),
                        (f"Graded, with a note ({len(notes or {})})", notes or {})):
        parts.append(f"<h2>{title}</h2><table>"
                     "<tr><th>student</th><th>assignment</th><th>why</th></tr>")
        for (student, assignment), text in sorted(rows.items()):
            parts.append(f"<tr><td>{html.escape(student)}</td><td>{html.escape(assignment)}</td>"
                         f"<td>{html.escape(text)}</td></tr>")
        parts.append("</table>")
    parts.append("</body></html>")
    drawn.save()
    page = root / PAGE
    page.write_text("\n".join(parts), encoding="utf-8")
    return page
