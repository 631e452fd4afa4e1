"""What each sample submission in submitted/ is, and what it must score.

SCORES has one table per assignment: a row per student, a column per test
cell, the points that cell must give, and after `#` what the sample does.
HINTS lists the known mistake each sample's feedback must name (a fragment of
the hint written in the master notebook). NOT_GRADED lists the broken or
misplaced files and folders and the words their reason must contain; NOTES,
the submissions graded with a note about files that did not fit.
"""

import re

SCORES = {
    "01_sigmoid": """
                            test_basic_sigmoid test_sigmoid test_sigmoid_derivative
sample-correct                       1              2              2   # the reference answers
sample-other-idioms                  1              2              2   # tanh, np.square, no call to sigmoid
sample-partly-wrong                  0              0              2   # basic_sigmoid hard-codes the visible answer; sigmoid has the sign wrong
sample-blank                         0              0              0   # the release as handed out
sample-patches-allclose              1              0              2   # sigmoid returns x after patching np.allclose, np.isclose, np.testing
sample-lying-array                   1              0              2   # sigmoid returns zeros in an ndarray whose == always says True
sample-rewrites-tests                1              0              0   # basic_sigmoid installs a transformer that turns test cells into `pass`
sample-forges-reports                0              0              0   # replaces check() with one that reports the visible answers
sample-scratch-cells                 1              2              2   # correct, with scratch cells that raise and unicode everywhere
sample-prints-megabytes              1              2              2   # correct, printing a megabyte per call
sample-old-format                    1              2              2   # correct, saved as nbformat 3
sample-escapes-sandbox               0              2              2   # reads source/, writes the gradebook, kills pid 1 (needs the sandbox)
sample-loops-forever                 1              0              2   # sigmoid never returns
sample-eats-memory                   1              0              2   # sigmoid allocates 128 GiB (needs the sandbox)
sample-hides-tracebacks              1              0              2   # sigmoid (wrong) silences tracebacks and patches builtins.abs
sample-kernel-dies                   1              0              2   # sigmoid calls os._exit
sample-tampers-test-cells            1              0              2   # test cells emptied, renamed, deleted, points raised
sample-renamed-notebook              1              2              2   # correct, saved as "01_sigmoid (1).ipynb"
sample-stray-notebook                1              2              2   # correct, beside an empty Untitled.ipynb
""",
    "02_reshape": """
                            test_image2vector
sample-correct                      2          # image.reshape(-1, 1)
sample-other-idioms                 2          # image.reshape(image.size, 1)
sample-more-idioms                  2          # image.flatten()[:, None]
sample-whole-array                  2          # image.reshape((shape[0] * shape[1] * shape[2], 1))
sample-blank                        0          # the release as handed out
sample-wrong-shape                  0          # a row, reshape(1, -1)
sample-wrong-axis                   0          # Fortran order
sample-slips                        0          # depth hard-coded as 3
""",
    "03_normalize": """
                            test_normalize_rows
sample-correct                      2          # x / np.linalg.norm(x, axis=1, keepdims=True)
sample-other-idioms                 2          # x / np.sqrt((x ** 2).sum(1))[:, None]
sample-more-idioms                  2          # in-place division on a float copy
sample-blank                        0          # the release as handed out
sample-wrong-shape                  0          # norm without keepdims
sample-wrong-axis                   0          # normalises the columns
sample-whole-array                  0          # divides by the norm of the whole matrix
sample-unstable                     0          # x /= norms on the integer input
sample-slips                        0          # divides by the sum of squares (no square root)
""",
    "04_softmax": """
                            test_softmax test_softmax_1d test_softmax_stable
sample-correct                   2             1               1      # max per row along axis=-1, keepdims
sample-other-idioms              2             1               1      # the same written with methods
sample-more-idioms               2             1               1      # np.atleast_2d, [:, np.newaxis], reshaped back
sample-blank                     0             0               0      # the release as handed out
sample-wrong-axis                0             1               0      # softmax of each column (axis=0)
sample-whole-array               0             1               0      # a 1-D-only softmax: divides by the sum of the whole array
sample-wrong-shape               2             0               0      # works only on 2-D (axis=1)
sample-unstable                  2             1               0      # no max subtraction
sample-slips                     2             1               0      # subtracts the max of the whole array
""",
    "05_losses": """
                      test_l1 test_l2 test_cross_entropy_error test_cross_entropy_error_batch test_cross_entropy_error_zero
sample-correct           1       1              1                          1                              1          # the reference answers
sample-other-idioms      1       1              1                          1                              1          # sum(abs(d)); np.dot(d, d); mean over the last axis
sample-more-idioms       1       1              1                          1                              1          # np.linalg.norm(d, 1); np.sum(np.square(d)); np.atleast_2d
sample-blank             0       0              0                          0                              0          # the release as handed out
sample-wrong-shape       1       0              0                          0                              0          # L1 as a (1, 1) array; L2 as a mean; t read as class indices
sample-wrong-axis        0       1              1                          0                              1          # L1 as a mean; np.dot; the batch summed, not averaged
sample-whole-array       1       0              0                          0                              0          # sum(abs(...)); L2 as a norm; the sign flipped
sample-unstable          1       1              0                          0                              0          # L1 with keepdims, shape (1,); d @ d; no delta
sample-slips             0       1              0                          0                              0          # L1 without abs; np.sum(np.square(d)); np.log10
""",
}

HINTS = """
sample-partly-wrong   01_sigmoid     the sign of the exponent is flipped
sample-wrong-shape    02_reshape     this is a row of shape (1, n)
sample-wrong-axis     02_reshape     the values are in Fortran (column-major) order
sample-slips          02_reshape     the depth is fixed at 3
sample-wrong-shape    03_normalize   the row norms have shape (n,)
sample-wrong-axis     03_normalize   this is what normalising each column gives
sample-whole-array    03_normalize   divided by the norm of the whole matrix
sample-unstable       03_normalize   cannot store fractions in an integer array
sample-slips          03_normalize   divided by the sum of their squares
sample-wrong-axis     04_softmax     this is the softmax of each column
sample-whole-array    04_softmax     divided by the sum over the whole array
sample-wrong-shape    04_softmax     the code works only on 2-D arrays
sample-unstable       04_softmax     np.exp overflowed to inf
sample-slips          04_softmax     the maximum of the whole array was subtracted
sample-wrong-shape    05_losses      this is the mean of the squared differences
sample-wrong-shape    05_losses      t holds one-hot rows, not class indices
sample-wrong-axis     05_losses      this is the mean of the absolute differences
sample-wrong-axis     05_losses      this is the sum over the batch
sample-whole-array    05_losses      this is the L2 norm
sample-whole-array    05_losses      the sign is flipped
sample-unstable       05_losses      np.log(0) is -inf
sample-slips          05_losses      positive and negative differences cancel out
sample-slips          05_losses      np.log10 is the base-10 logarithm
"""

NOT_GRADED = """
sample-empty-file            01_sigmoid          the notebook file is empty
sample-invalid-json          01_sigmoid          not valid JSON
sample-not-a-notebook        01_sigmoid          JSON but not a notebook
sample-ambiguous-notebooks   01_sigmoid          rename the one to grade to 01_sigmoid.ipynb
sample-misplaced             01_sigmoid.ipynb    move it to submitted/sample-misplaced/01_sigmoid/
sample-misplaced             01-sigmoid          rename the folder to 01_sigmoid
sample-misplaced             homework3           there is no assignment 'homework3'
"""

# Graded, with what was done about files that did not fit the assignment.
NOTES = """
sample-renamed-notebook   01_sigmoid   graded '01_sigmoid (1).ipynb' as 01_sigmoid.ipynb
sample-stray-notebook     01_sigmoid   ignored 'Untitled.ipynb' (not part of the assignment)
"""


def scores():
    """{(student, assignment): {test cell: points}} from SCORES."""
    expected = {}
    for assignment, table in SCORES.items():
        header, *rows = [line.split("#")[0].split() for line in table.strip().splitlines()]
        for student, *points in rows:
            assert len(points) == len(header), (assignment, student)
            expected[student, assignment] = dict(zip(header, map(int, points)))
    return expected


def rows(table):
    """The rows of a table whose columns are separated by two or more spaces."""
    return [tuple(re.split(r"\s{2,}", line.strip())) for line in table.strip().splitlines()]
