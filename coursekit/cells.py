"""Submitted cells that claim to be graded but are not in the gradebook.

nbgrader's OverwriteCells restores every graded and read-only cell it finds
by grade_id, and with `add_missing_cells` puts back the ones a student
deleted.  A cell whose grade_id was renamed, though, is neither found nor
missing: nbgrader 0.9 drops its grade_id but keeps its other nbgrader flags,
and then fails on the whole notebook.  `ForgetUnknownCells` runs just before
OverwriteCells and turns such cells into ordinary ones, so the renamed test
is simply missing and comes back from the gradebook.
"""

from nbgrader.api import Gradebook
from nbgrader.preprocessors import NbGraderPreprocessor


class ForgetUnknownCells(NbGraderPreprocessor):

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        with Gradebook(info["db_url"]) as gradebook:
            notebook = gradebook.find_notebook(info["notebook"], info["assignment"])
            known = {cell.name for cell in notebook.source_cells}
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader")
            if meta is not None and meta.get("grade_id") not in known:
                self.log.warning("Cell %r is not in the gradebook: graded as an ordinary cell",
                                 meta.get("grade_id"))
                del cell.metadata["nbgrader"]
        return nb, resources
