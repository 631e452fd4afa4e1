"""What a student sees of a check in a real kernel (issue 15, item 5): a failing
check shows its ✘ message, not a traceback into coursekit; the cell still
fails (an error output, which nbgrader scores as failed)."""

import re

import nbformat
import pytest
from nbclient import NotebookClient

from coursekit.checks import REPORT_MIME

ANSI = re.compile(r"\x1b\[[0-9;]*m")

CELLS = {
    "imports": "import numpy as np\nfrom coursekit.checks import check",
    "cube": "def cube(x):\n    return x ** 2\n",
    "fails": "check(cube, 2, expect=8)\nprint('not reached')",
    "passes": "check(cube, 3, expect=9)",
    "raising": "def reshaped(x):\n    return np.reshape(steps(x), (5,))\n\n"
               "def steps(x):\n    return x[::2]\n",
    "raises": "check(reshaped, np.arange(4), expect=[0, 0, 0, 0, 0])",
    "stub": "def softmax(x):\n    raise NotImplementedError()\n\n"
            "def loss(x):\n    return softmax(x).sum()\n",
    "dependency": "check(loss, np.ones(3), expect=1.0, uses='softmax')",
    "method": "class Net:\n    def loss(self, x):\n        return softmax(x).sum()\n",
    "helper": "def loss_of_a_net(x):\n    return Net().loss(x)\n\n"
              "check(loss_of_a_net, np.ones(3), expect=1.0, uses='softmax', "
              "shown_as='the loss of a Net on x = {0}')",
    "caught": "try:\n    check(cube, 2, expect=8)\nexcept AssertionError as failure:\n"
              "    print('caught:', failure)",
}


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS.values()])
    folder = tmp_path_factory.mktemp("kernel")
    NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(folder)}}).execute()
    return {name: cell.outputs for name, cell in zip(CELLS, nb.cells)}


def error_of(outputs):
    errors = [o for o in outputs if o.output_type == "error"]
    assert len(errors) == 1, outputs
    return errors[0], [ANSI.sub("", line) for line in errors[0].traceback]


def shown_text(outputs):
    return [o.data["text/plain"] for o in outputs if o.output_type == "display_data"]


def test_a_wrong_result_shows_the_message_alone_and_fails_the_cell(outputs):
    error, lines = error_of(outputs["fails"])
    assert lines == ["✘ cube(2): expected 8.0, got 4.0"]
    assert error.ename == "CheckFailed" and error.evalue == "cube(2): expected 8.0, got 4.0"
    # the report is still there for the grader, and the message is not shown twice
    assert [o.data[REPORT_MIME]["call"] for o in outputs["fails"] if o.output_type == "display_data"] == [
        "cube(2)"]
    assert shown_text(outputs["fails"]) == [""]
    assert not [o for o in outputs["fails"] if o.output_type == "stream"]


def test_a_right_result_shows_its_line(outputs):
    assert shown_text(outputs["passes"]) == ["✔ cube(3) gives the expected result"]


def test_a_function_that_raised_shows_what_and_where_in_the_students_code(outputs):
    error, lines = error_of(outputs["raises"])
    assert error.ename == "ValueError"
    assert lines[0] == ("✘ reshaped(array([0, 1, 2, 3])) raised ValueError: cannot reshape array of "
                        "size 2 into shape (5,); expected [0. 0. 0. 0. 0.]")
    text = "\n".join(lines)
    assert "in reshaped" in text and "in steps" not in text  # steps returned; it did not raise
    assert "np.reshape(steps(x), (5,))" in text
    assert "coursekit" not in text and "checks.py" not in text and "fromnumeric" not in text
    assert "check(reshaped" not in text  # nor the test cell's own line


def test_a_dependency_that_is_not_written_is_named(outputs):
    error, lines = error_of(outputs["dependency"])
    assert error.ename == "NotImplementedError"
    assert lines == ["✘ loss(array([1., 1., 1.])): softmax, which loss calls, raised "
                     "NotImplementedError: write it first"]


def test_the_dependency_is_named_with_the_students_function_that_called_it(outputs):
    _, lines = error_of(outputs["helper"])
    assert lines == ["✘ the loss of a Net on x = array([1., 1., 1.]): softmax, which Net.loss calls, "
                     "raised NotImplementedError: write it first"]


def test_a_failed_check_is_still_an_assertion_error(outputs):
    assert [o.text for o in outputs["caught"] if o.output_type == "stream"] == [
        "caught: cube(2): expected 8.0, got 4.0\n"]
