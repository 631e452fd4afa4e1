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
sample-eats-memory                   1              0              0   # sigmoid forks three children of 1 GiB: stopped past the memory limit (needs the sandbox)
sample-hides-tracebacks              1              0              2   # sigmoid (wrong) silences tracebacks and patches builtins.abs
sample-kernel-dies                   1              0              2   # sigmoid calls os._exit
sample-tampers-test-cells            1              0              2   # test cells emptied, renamed, deleted, points raised
sample-renamed-notebook              1              2              2   # correct, saved as "01_sigmoid (1).ipynb"
sample-stray-notebook                1              2              2   # correct, beside an empty Untitled.ipynb
sample-korean                        1              0              0   # the Korean edition: sigmoid has the sign wrong, sigmoid_derivative left unwritten
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
    "06_gradient": """
                      test_numerical_diff test_tangent_line test_plot_tangent test_plot_tangent_current test_numerical_gradient test_numerical_gradient_2d test_numerical_gradient_in_place test_gradient_descent test_gradient_descent_rates test_simplenet_init test_simplenet_predict test_simplenet_loss test_simplenet_gradient
sample-correct                 2                  1                 1                     1                        1                        1                             1                           1                        1                       1                    1                     1                     1              # the reference answers; the earlier answers (softmax, cross_entropy_error) left unwritten
sample-other-idioms            2                  1                 1                     1                        1                        1                             1                           1                        1                       1                    1                     1                     1              # / 2 / h; a nested def; styled plot with a third line; np.nditer; x -= lr * g on a float copy; x @ W; its own earlier answers
sample-more-idioms             2                  1                 1                     1                        1                        1                             1                           1                        1                       1                    1                     1                     1              # plt.sca and plt.plot; a flat view x.reshape(-1); a while loop keeping a history
sample-blank                   0                  0                 0                     0                        0                        0                             0                           0                        0                       0                    0                     0                     0              # the release as handed out
sample-slips                   0                  0                 0                     0                        0                        0                             0                           0                        0                       0                    1                     1                     1              # forward difference; tangent through the origin; no tangent drawn; x not restored; one step too few; np.random.rand; its own wrong earlier answers (np.log10) cost nothing
sample-wrong-shape             0                  1                 0                     0                        1                        0                             0                           1                        1                       1                    0                     1                     1              # / 2 * h; tangent through the origin; a 1-D-only loop (descent still right: uses=); predict as W.T @ x.T; a 2-D-only softmax pasted (costs nothing)
sample-wrong-axis              0                  1                 0                     0                        1                        0                             1                           0                        0                       1                    1                     0                     0              # h = 1e-50; draws on a new figure; f called on each row; one step too many; softmax down the batch
sample-unstable                0                  1                 1                     1                        1                        1                             0                           0                        0                       1                    1                     0                     0              # backward difference (tangent and plot still right: uses=); moves a copy of x; ascends; no softmax
sample-whole-array             2                  0                 1                     1                        0                        0                             0                           0                        0                       1                    1                     1                     1              # tangent uses f(t) (plot still right: uses=); forward differences; returns (x, history); a wrong softmax and cross-entropy pasted (cost nothing)
sample-partly-wrong            2                  1                 1                     1                        1                        1                             1                           0                        0                       1                    1                     1                     1              # gradient_descent ignores step_num
sample-scratch-cells           2                  1                 0                     0                        1                        1                             1                           0                        0                       1                    1                     1                     1              # the tangent drawn before f (tangent_line and numerical_diff right); gradient_descent ignores lr
""",
    "07_logistic_regression": """
                      test_initialize_with_zeros test_propagate_dw test_propagate_db test_propagate_cost test_optimize test_optimize_costs test_predict test_predict_tie test_model test_model_costs
sample-correct                    1                      1                 1                  1                1                1               1              1               1            1           # the reference answers (predict with a loop over the examples); its sigmoid left unwritten (served by uses=)
sample-other-idioms               1                      1                 1                  1                1                1               1              1               1            1           # b = 0 as an int; db and cost of shape (1, 1); w -= ... on a float copy; boolean predictions; sigmoid by tanh; model builds the dict with dict()
sample-more-idioms                1                      1                 1                  1                1                1               1              1               1            1           # propagate with loops over examples and features; np.where(A > 0.5, 1, 0); model predicts in a loop and adds accuracy keys
sample-blank                      0                      0                 0                  0                0                0               0              0               0            0           # the release as handed out
sample-slips                      0                      1                 1                  0                1                0               1              0               0            0           # w of int zeros; the cost's sign flipped; costs recorded one iteration late; >= 0.5; model trained on the test set
sample-wrong-shape                0                      0                 0                  0                1                1               0              0               1            1           # w of shape (dim,); X used transposed (optimize still right: uses=); predictions of shape (m,) (model still right: uses=)
sample-wrong-axis                 1                      0                 0                  1                1                1               0              1               0            1           # dw and db not divided by m (optimize still right: uses=); predict without b; model swaps the train and test predictions
sample-unstable                   1                      0                 0                  1                1                1               0              1               0            1           # grads under the keys w and b; predict without the sigmoid; model predicts with the initial w and b
sample-whole-array                0                      1                 1                  1                0                0               1              1               0            1           # np.float (removed from NumPy); optimize climbs; model predicts the test set from X_train
sample-partly-wrong               1                      0                 0                  1                0                1               1              1               1            1           # the parameters returned as their gradients; optimize returns (grads, params, costs) (model still right: uses=); its own wrong sigmoid of 01 pasted (costs nothing)
sample-scratch-cells              1                      1                 1                  1                1                1               1              1               0            0           # correct, with unicode and a scratch cell that raises; model calls optimize without num_iterations and learning_rate
""",
}

HINTS = """
sample-partly-wrong   01_sigmoid     the sign of the exponent is flipped
sample-korean         01_sigmoid     지수의 부호가 반대입니다
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
sample-slips          06_gradient    this is the forward difference (f(x + h) - f(x)) / h; use
sample-slips          06_gradient    this line passes through the origin
sample-slips          06_gradient    only f was drawn
sample-slips          06_gradient    an entry was not put back after its difference
sample-slips          06_gradient    one step too few
sample-slips          06_gradient    np.random.rand draws from the uniform distribution
sample-wrong-shape    06_gradient    / 2 * h divides by 2 and then multiplies by h
sample-wrong-shape    06_gradient    the tangent passes through the origin
sample-wrong-shape    06_gradient    only a 1-D x works
sample-wrong-shape    06_gradient    the product is in the wrong order or transposed
sample-wrong-axis     06_gradient    h is far too small
sample-wrong-axis     06_gradient    it drew on a new figure
sample-wrong-axis     06_gradient    f was called on one row at a time
sample-wrong-axis     06_gradient    one step too many
sample-wrong-axis     06_gradient    the softmax was taken over the wrong axis
sample-unstable       06_gradient    this is the backward difference
sample-unstable       06_gradient    the entries were moved in a copy of x
sample-unstable       06_gradient    this climbs
sample-unstable       06_gradient    softmax is missing
sample-whole-array    06_gradient    value uses f(t); it uses f(x)
sample-whole-array    06_gradient    this is the forward difference (f(x + h) - f(x)) / h for each entry
sample-partly-wrong   06_gradient    the number of steps step_num is ignored
sample-scratch-cells  06_gradient    the lines are in the wrong order: draw f first, then the tangent
sample-scratch-cells  06_gradient    the learning rate lr is ignored
sample-slips          07_logistic_regression    w holds integers
sample-slips          07_logistic_regression    the cost has the wrong sign
sample-slips          07_logistic_regression    the costs are recorded at the wrong iterations
sample-slips          07_logistic_regression    a probability of exactly 0.5 gives 0
sample-wrong-shape    07_logistic_regression    w must be a column of shape (dim, 1)
sample-wrong-shape    07_logistic_regression    the examples are the columns of X
sample-wrong-shape    07_logistic_regression    the result must have shape (1, m)
sample-wrong-axis     07_logistic_regression    dw was not divided by m
sample-wrong-axis     07_logistic_regression    db is the sum of A - Y
sample-wrong-axis     07_logistic_regression    b is missing
sample-unstable       07_logistic_regression    grads must be the dict
sample-unstable       07_logistic_regression    the sigmoid is missing
sample-whole-array    07_logistic_regression    this climbs the cost
sample-partly-wrong   07_logistic_regression    these are the parameters, not their gradients
sample-partly-wrong   07_logistic_regression    params and grads are swapped
sample-slips          07_logistic_regression    it was trained on the test set
sample-wrong-axis     07_logistic_regression    Y_prediction_train and Y_prediction_test are swapped
sample-unstable       07_logistic_regression    the predictions were made with the initial w and b
sample-whole-array    07_logistic_regression    Y_prediction_test was predicted from X_train
sample-scratch-cells  07_logistic_regression    optimize ran with its own defaults
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
sample-eats-memory        01_sigmoid   stopped past its memory limit (2048 MiB for all its processes together): the cells before keep their points
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
