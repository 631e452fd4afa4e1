"""Find graded answers in what students see: `python -m coursekit.leaks [ROOT] [--visible DIR ...]`.

An answer is the code between `### BEGIN SOLUTION` and `### END SOLUTION` in
a solution cell of a master notebook (`source/*/*.ipynb`), graded or not (06
and 07 keep the reference of an earlier section's function in an ungraded
solution cell: it is an answer too). Its fragments are the values it returns
or assigns and the bodies of its lambdas (wholes), and the larger parts of
those (pieces). Every expression of every code cell a student sees (lessons,
releases, a student pack, its Python files) is compared with them, after
both are normalised, in three ways ("spaces"):

- names: every variable name becomes a placeholder in order of appearance,
  so `1 / (1 + np.exp(-t))` is `1 / (1 + math.exp(-x))`; attribute names
  (`exp`, `shape`, `T`), keywords and constants stay; numbers compare by value
  (2 is 2.0, -1 is a number); `np.dot(a, b)` and `a.dot(b)` are `a @ b`, and
  `np.sum(a, ...)` is `a.sum(...)` (so for max, mean, reshape and the like);
- no axes: the same, with `axis=` and `keepdims=` dropped from reductions, so
  a 1-D `np.exp(z - z.max())` is the answer's `np.exp(x - np.max(x, axis=-1,
  keepdims=True))`;
- numbers as names: numbers become placeholders too, so `(curve(5 + h) -
  curve(5 - h)) / (2 * h)` is `(f(x + h) - f(x - h)) / (2 * h)`.

A name the answer sets once to a number (`h = 1e-4`, `delta = 1e-7`) is also
tried with the number in its place: `np.log(y + 1e-7)` is `np.log(y + delta)`.

Sizes count expression nodes after normalising (`s * (1 - s)` has 5: two
operations, three leaves). Thresholds, and why:

- MIN_NODES = 5 for a whole: the smallest graded computations have 5
  (`s * (1 - s)`), and an 8-node threshold lets them through;
- PIECE_NODES = 8 for a piece, and for the no-axes space: a part of an answer
  below 8 is a NumPy idiom a lesson must be free to show (`np.exp(-x)`,
  `np.max(x, axis=-1, keepdims=True)`, `w.T @ X + b`, `e / e.sum()`); from 8
  it is a computation (`Y * np.log(A) + (1 - Y) * np.log(1 - A)`);
- LOOSE_NODES = 10 for the numbers-as-names space, which forgets constants:
  only large shapes stay specific without them.

Whatever its size, a fragment with no arithmetic and at most one call says
nothing a lesson must not and is skipped: an array built from a shape
(`np.zeros((dim, 1))`, `np.random.randn(2, 3)`), one call on given values
(`image.reshape(-1, 1)`, `propagate(w, b, X, Y)`), a tuple or dict of names.
So is a small one made of names and operators alone (`w - learning_rate *
dw`: the update of any descent). What this cannot see: an answer's idea
written another way (`np.abs(err).sum()` for `np.sum(np.abs(y - yhat))`, a
loop that keeps every step), or spread over several statements; a human
review still reads the lessons.
"""

import argparse
import ast
import copy
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

MIN_NODES = 5  # a whole returned or assigned value, or a lambda's body
PIECE_NODES = 8  # a part of one; and any fragment compared without axes
LOOSE_NODES = 10  # a fragment compared with numbers as names
# The ways of comparing: every fragment and every shown expression is normalised in each.
SPACES = {"names": {}, "no axes": {"drop_axes": True}, "numbers as names": {"numbers_are_names": True}}
SPACE_NODES = {"names": None, "no axes": PIECE_NODES, "numbers as names": LOOSE_NODES}

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
NUMPY = {"np", "numpy"}
AS_METHOD = {"sum", "mean", "max", "min", "prod", "std", "var", "argmax", "argmin", "all", "any",
             "cumsum", "reshape", "transpose", "ravel", "flatten", "round", "clip", "squeeze"}
AXES = {"axis", "keepdims"}
ARITHMETIC = (ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.IfExp, ast.Lambda)
COMPOUND = (ast.FunctionDef, ast.ClassDef, ast.If, ast.For, ast.While, ast.With, ast.Try)

@dataclass(frozen=True)
class Answer:
    assignment: str
    name: str
    text: str


@dataclass(frozen=True)
class Leak:
    path: str
    cell: int
    answer: Answer
    line: str

    def __str__(self):
        return (f"{self.path} cell {self.cell}: {self.answer.assignment} {self.answer.name} "
                f"({self.answer.text}): {self.line}")


def code_cells(path):
    """(index, metadata, source) of every code cell of a notebook; a .py file is one cell, index 0."""
    path = Path(path)
    if path.suffix == ".py":
        yield 0, {}, path.read_text(encoding="utf-8")
        return
    notebook = json.loads(path.read_text(encoding="utf-8"))
    for index, cell in enumerate(notebook.get("cells", [])):
        if cell.get("cell_type") == "code":
            source = cell.get("source", "")
            yield index, cell.get("metadata", {}), "".join(source) if isinstance(source, list) else source


def parse(source):
    """The module of a cell's code, IPython magics and shell lines blanked; None if it does not parse."""
    lines = ["" if re.match(r"\s*[%!]", line) else line for line in source.splitlines()]
    try:
        return ast.parse("\n".join(lines))
    except SyntaxError:
        return None


def size(node):
    return sum(isinstance(n, ast.expr) for n in ast.walk(node))


class _Normalise(ast.NodeTransformer):
    """Rewrites a copy of an expression into its normal form (see the module's doc)."""

    def __init__(self, numbers_are_names=False, drop_axes=False):
        self.names = {}
        self.numbers_are_names = numbers_are_names
        self.drop_axes = drop_axes

    def placeholder(self, key):
        return self.names.setdefault(key, f"v{len(self.names)}")

    def visit_Call(self, node):
        func = node.func
        on_numpy = (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
                    and func.value.id in NUMPY)
        if isinstance(func, ast.Attribute) and func.attr == "dot" and not node.keywords:
            if on_numpy and len(node.args) == 2:
                return self.visit(ast.BinOp(node.args[0], ast.MatMult(), node.args[1]))
            if not on_numpy and len(node.args) == 1:
                return self.visit(ast.BinOp(func.value, ast.MatMult(), node.args[0]))
        if on_numpy and func.attr in AS_METHOD and node.args:
            method = ast.Attribute(node.args[0], func.attr, ast.Load())
            return self.visit(ast.Call(method, node.args[1:], node.keywords))
        if self.drop_axes and isinstance(func, ast.Attribute) and func.attr in AS_METHOD:
            node = ast.Call(func, node.args, [k for k in node.keywords if k.arg not in AXES])
        return self.generic_visit(node)

    def visit_Name(self, node):
        return ast.Name(self.placeholder(node.id), ast.Load())

    def visit_UnaryOp(self, node):
        if (isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant)
                and isinstance(node.operand.value, (int, float))):
            return self.visit(ast.Constant(-node.operand.value))
        return self.generic_visit(node)

    def visit_arg(self, node):
        return ast.arg(self.placeholder(node.arg))

    def visit_Constant(self, node):
        value = node.value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if self.numbers_are_names:
                return ast.Name(self.placeholder(float(value)), ast.Load())
            value = float(value)
        return ast.Constant(value)


def normalise(node, numbers_are_names=False, drop_axes=False):
    """The normal form of an expression, as a new tree."""
    return _Normalise(numbers_are_names, drop_axes).visit(_copy(node))


def _copy(node):
    """A copy of an AST without positions (copy.deepcopy is ten times slower)."""
    if isinstance(node, list):
        return [_copy(item) for item in node]
    if isinstance(node, ast.AST):
        return type(node)(**{name: _copy(value) for name, value in ast.iter_fields(node)})
    return node


def keys(node):
    """{space: (canonical form, size)} of an expression in each way of comparing (SPACES)."""
    found = {}
    for space, options in SPACES.items():
        normal = normalise(node, **options)
        found[space] = ast.dump(normal, annotate_fields=False), size(normal)
    return found


def says_little(normal):
    """True for a fragment that any lesson may hold (see the module's doc)."""
    nodes = [n for n in ast.walk(normal) if isinstance(n, ast.expr)]
    calls = sum(isinstance(n, ast.Call) for n in nodes)
    if calls <= 1 and not any(isinstance(n, ARITHMETIC) for n in nodes):
        return True
    return len(nodes) < PIECE_NODES and all(isinstance(n, (ast.Name, ast.BinOp, ast.UnaryOp)) for n in nodes)


def _numbers_set_once(tree):
    """{name: number} for names assigned exactly once, to a number, in `tree`."""
    assigned = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    assigned.setdefault(target.id, []).append(node.value)
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)) and isinstance(node.target, ast.Name):
            assigned.setdefault(node.target.id, []).extend([None, None])
    return {name: values[0] for name, values in assigned.items()
            if len(values) == 1 and isinstance(values[0], ast.Constant)
            and isinstance(values[0].value, (int, float))}


class _Inline(ast.NodeTransformer):
    def __init__(self, numbers):
        self.numbers = numbers

    def visit_Name(self, node):
        return copy.deepcopy(self.numbers[node.id]) if node.id in self.numbers else node


def fragments(statement, numbers):
    """{(space, canonical form): text} of the answer fragments of one statement of an answer."""
    wholes = []
    for node in ast.walk(statement):
        if isinstance(node, (ast.Return, ast.Assign, ast.AugAssign, ast.AnnAssign)) and node.value:
            wholes.append(node.value)
        elif isinstance(node, ast.Lambda):
            wholes.append(node.body)
    found = {}
    for whole in wholes:
        variants = [whole]
        if numbers:
            variants.append(_Inline(numbers).visit(copy.deepcopy(whole)))
        for variant in variants:
            for node in ast.walk(variant):
                if not isinstance(node, ast.expr):
                    continue
                for space, (key, nodes) in keys(node).items():
                    least = SPACE_NODES[space] or (MIN_NODES if node is variant else PIECE_NODES)
                    if nodes >= least and not says_little(normalise(node, **SPACES[space])):
                        found.setdefault((space, key), ast.unparse(node))
    return found


def _solution_code(source):
    """The cell's code with the lines outside BEGIN/END SOLUTION blanked (kept as empty lines)."""
    inside, kept = False, []
    for line in source.splitlines():
        marker = line.strip()
        if marker == BEGIN:
            inside = True
        elif marker == END:
            inside = False
        kept.append(line if inside or marker in (BEGIN, END) else None)
    return kept


def _enclosing(tree, lineno):
    """The top-level function or class of `tree` around line `lineno`, else the whole tree."""
    for top in tree.body:
        if isinstance(top, (ast.FunctionDef, ast.ClassDef)) and top.lineno <= lineno <= top.end_lineno:
            return top
    return tree


def _enclosing_name(tree, lineno):
    for top in tree.body:
        if isinstance(top, (ast.FunctionDef, ast.ClassDef)) and top.lineno <= lineno <= top.end_lineno:
            for inner in top.body:
                if (isinstance(inner, ast.FunctionDef)
                        and inner.lineno <= lineno <= inner.end_lineno):
                    return f"{top.name}.{inner.name}"
            return top.name
    return None


def answers(root):
    """{(space, canonical fragment): Answer} from every solution cell of the masters under root/source."""
    found = {}
    for master in sorted(Path(root, "source").glob("*/*.ipynb")):
        for _, metadata, source in code_cells(master):
            nbgrader = metadata.get("nbgrader", {})
            if not nbgrader.get("solution") or BEGIN not in source:
                continue
            tree = parse(source)
            if tree is None:
                continue
            kept = _solution_code(source)
            for statement in ast.walk(tree):
                if (not isinstance(statement, ast.stmt) or isinstance(statement, COMPOUND)
                        or kept[statement.lineno - 1] is None):
                    continue
                name = _enclosing_name(tree, statement.lineno) or nbgrader.get("grade_id", "?")
                numbers = _numbers_set_once(_enclosing(tree, statement.lineno))
                for key, text in fragments(statement, numbers).items():
                    found.setdefault(key, Answer(master.parent.name, name, text))
    return found


def find(known, paths, root=None):
    """Every Leak of a fragment in `known` in the code cells of the notebooks and .py files `paths`."""
    leaks = []
    for path in paths:
        shown = Path(path).relative_to(root) if root else Path(path)
        for index, _, source in code_cells(path):
            tree = parse(source)
            if tree is None:
                continue
            lines, seen, covered = source.splitlines(), set(), set()
            for node in ast.walk(tree):  # outermost first: a match hides the matches inside it
                if not isinstance(node, ast.expr) or id(node) in covered or size(node) < MIN_NODES:
                    continue
                for space, (key, _) in keys(node).items():
                    answer = known.get((space, key))
                    if answer:
                        covered.update(id(inner) for inner in ast.walk(node))
                        place = (answer.assignment, answer.name, node.lineno)
                        if place not in seen:
                            seen.add(place)
                            leaks.append(Leak(str(shown), index, answer, lines[node.lineno - 1].strip()))
                        break
    return leaks


def visible_files(folder):
    """The notebooks and Python files under `folder` that a student sees."""
    folder = Path(folder)
    return sorted(p for p in folder.rglob("*")
                  if p.suffix in (".ipynb", ".py") and ".ipynb_checkpoints" not in p.parts)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", nargs="?", default=".", help="the course folder (default .)")
    parser.add_argument("--visible", action="append", metavar="DIR",
                        help="search the notebooks under DIR instead of notebooks/ and release/")
    args = parser.parse_args(argv)
    root = Path(args.root)
    known = answers(root)
    places = [Path(d) for d in args.visible] if args.visible else [root / "notebooks", root / "release"]
    paths = [p for place in places for p in visible_files(place)]
    leaks = find(known, paths, root=None if args.visible else root)
    for leak in leaks:
        print(leak)
    print(f"answer leaks: {len(leaks)} in {len(paths)} files ({len(known)} answer fragments)")
    return 1 if leaks else 0


if __name__ == "__main__":
    sys.exit(main())
