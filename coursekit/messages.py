"""coursekit's message catalogs, for translators and the tests: `python -m coursekit.messages`.

The catalogs themselves, and how a message is looked up in the student's
language, are coursekit.i18n (the kernel's side).  This module, on the
grader's side, finds the msgids and keeps the catalogs:

- `update [LANG ...]` extracts the msgids (Babel's Python extractor over
  coursekit/*.py, and `extract_notebook` over the masters in source/) and
  updates each catalog: a changed English message keeps its old
  translation marked fuzzy, with the old msgid as `#| msgid`; a new one gets
  an empty entry; `update zh` starts a new language.
- `check [LANG ...]` lists what is missing, empty, fuzzy, obsolete or has
  other placeholders than the English (tests/test_messages.py fails on any).
- `compile DEST` writes DEST/<lang>/LC_MESSAGES/coursekit.mo for every language.

"""

import ast
import io
import json
import re
import sys
from pathlib import Path

from coursekit.i18n import DOMAIN, LOCALE_DIR, ROOT, catalog_path, languages

KEYWORDS = {"_": None, "N_": None}
# in the masters: the calls whose strings a student reads, and the argument that holds them
SHOWN_ARGUMENTS = {"mistake": (1, "hint"), "labelled": (1, "label")}
SHOWN_KEYWORDS = {"check": "shown_as"}
# the auto comment of each master string in the catalogs: where a student reads it
IN_FEEDBACK = "a known-mistake hint: shown in the feedback only"
IN_HIDDEN_TEST = "a hidden test's text: shown in the feedback only"
IN_VISIBLE_TEST = "shown by a test cell of the student's notebook"
PLACEHOLDER = re.compile(r"\{[^{}]*\}")


def compile_catalogs(dest_dir, langs=None, locale_dir=LOCALE_DIR, feedback=False):
    """Compile each catalog to DEST_DIR/<lang>/LC_MESSAGES/coursekit.mo (Babel);
    fuzzy and empty entries are left out (English shows).  Returns the paths.

    The student pack calls this with its coursekit/locale folder: the kernel
    then reads the .mo with the standard library alone.  What only the
    feedback shows (the known-mistake hints, hidden tests' texts) is left
    out unless `feedback` is true: those are the grader's, not the pack's.
    """
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po
    written = []
    for lang in langs or languages(locale_dir):
        with open(catalog_path(lang, locale_dir), "rb") as file:
            catalog = read_po(file, locale=lang)
        if not feedback:
            for message in list(catalog):
                if message.id and not shown_in_kernel(message):
                    catalog.delete(message.id, context=message.context)
        target = catalog_path(lang, dest_dir, ext=".mo")
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "wb") as file:
            write_mo(file, catalog)
        written.append(target)
    return written


def shown_in_kernel(message):
    """Whether a catalog entry may be shown by a check in the student's kernel:
    a message of coursekit's code, or a text of a visible test cell."""
    return (any(not str(f).startswith("source/") for f, _ in message.locations)
            or IN_VISIBLE_TEST in message.auto_comments)


# -- extraction (for translators and the tests) --------------------------------

def extract(root=ROOT):
    """A Babel Catalog of every msgid: coursekit's code and the masters' shown strings."""
    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract_from_dir
    catalog = Catalog(project="coursekit", domain=DOMAIN)
    root = Path(root)
    found = extract_from_dir(str(root / "coursekit"), method_map=[("*.py", "python")],
                             keywords=KEYWORDS, comment_tags=("TRANSLATORS:",))
    for filename, lineno, message, comments, context in found:
        catalog.add(message, locations=[(f"coursekit/{filename}", lineno)],
                    auto_comments=comments, context=context)
    for master in sorted(root.glob("source/*/*.ipynb")):
        with open(master, "rb") as file:
            for lineno, _function, message, comments in extract_notebook(file, KEYWORDS, (), {}):
                catalog.add(message, locations=[(master.relative_to(root).as_posix(), lineno)],
                            auto_comments=comments)
    return catalog


def extract_notebook(fileobj, keywords, comment_tags, options):
    """Babel extraction method for the masters: the strings their code cells
    show a student, i.e. the hint of `mistake(f, hint, wrong)`, the label of
    `labelled(f, label)` and `check(..., shown_as=...)`.

    A string is taken where it is written: at the call, in a name assigned a
    string in the notebook, at the call of a helper whose parameter is passed
    on, or, for a loop over (hint, wrong) pairs, in every ("...", wrong) pair
    of the hidden block.  Line numbers count the notebook's code cells.
    """
    nb = json.load(fileobj)
    cells = [_code_of(cell) for cell in nb.get("cells", []) if cell.get("cell_type") == "code"]
    trees = []
    for index, code in enumerate(cells):
        try:
            trees.append((index, ast.parse(code)))
        except SyntaxError:
            continue
    finder = _ShownStrings(trees)
    for index, tree in trees:
        hidden = _hidden_lines(cells[index])
        for text, lineno, function in finder.shown_in(tree):
            where = (IN_FEEDBACK if function == "mistake" else
                     IN_HIDDEN_TEST if lineno in hidden else IN_VISIBLE_TEST)
            yield index + 1, None, text, [where]


def _hidden_lines(code):
    """The line numbers of a cell's hidden test blocks."""
    hidden, inside = set(), False
    for number, line in enumerate(code.splitlines(), 1):
        if line.strip().startswith("### BEGIN HIDDEN TESTS"):
            inside = True
        if inside:
            hidden.add(number)
        if line.strip().startswith("### END HIDDEN TESTS"):
            inside = False
    return hidden


def _code_of(cell):
    source = cell.get("source", "")
    source = "".join(source) if isinstance(source, list) else source
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line
                     for line in source.splitlines())


class _ShownStrings:
    """Resolves the strings that flow into the shown arguments of a notebook's calls."""

    def __init__(self, trees):
        self.assigned, self.calls, self.pairs = {}, {}, []
        self.functions = {}
        for _, tree in trees:
            for node in ast.walk(tree):
                if isinstance(node, ast.Assign):
                    for target in node.targets:
                        if isinstance(target, ast.Name):
                            self.assigned.setdefault(target.id, []).append(node.value)
                elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                    self.calls.setdefault(node.func.id, []).append(node)
                elif isinstance(node, ast.FunctionDef):
                    self.functions[node.name] = node
                elif (isinstance(node, ast.Tuple) and len(node.elts) == 2
                      and _string(node.elts[0]) is not None
                      and isinstance(node.elts[1], (ast.Lambda, ast.Call, ast.Name))):
                    self.pairs.append(node.elts[0])

    def shown_in(self, tree):
        parents = {}
        for node in ast.walk(tree):
            for child in ast.iter_child_nodes(node):
                parents[child] = node
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            argument = None
            if node.func.id in SHOWN_ARGUMENTS:
                position, keyword = SHOWN_ARGUMENTS[node.func.id]
                argument = _argument(node, position, keyword)
            elif node.func.id in SHOWN_KEYWORDS:
                argument = _argument(node, None, SHOWN_KEYWORDS[node.func.id])
            if argument is not None:
                for text in self.resolve(argument, parents, set()):
                    yield text, node.lineno, node.func.id

    def resolve(self, expr, parents, seen):
        text = _string(expr)
        if text is not None:
            return [text]
        if not isinstance(expr, ast.Name) or expr.id in seen:
            return []
        seen = seen | {expr.id}
        function = _enclosing(expr, parents, ast.FunctionDef)
        if function is not None and expr.id in [a.arg for a in function.args.args]:
            position = [a.arg for a in function.args.args].index(expr.id)
            found = []
            for call in self.calls.get(function.name, []):
                argument = _argument(call, position, expr.id)
                if argument is not None:
                    found += self.resolve(argument, parents, seen)
            return found
        loop = _enclosing(expr, parents, ast.For)
        if loop is not None and expr.id in {n.id for n in ast.walk(loop.target) if isinstance(n, ast.Name)}:
            return [_string(pair) for pair in self.pairs]
        return [t for value in self.assigned.get(expr.id, []) for t in self.resolve(value, parents, seen)]


def _string(node):
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _argument(call, position, keyword):
    for given in call.keywords:
        if given.arg == keyword:
            return given.value
    if position is not None and len(call.args) > position:
        return call.args[position]
    return None


def _enclosing(node, parents, kind):
    while node in parents:
        node = parents[node]
        if isinstance(node, kind):
            return node
    return None


def placeholders(text):
    """The {placeholders} of a message, sorted (a translation must have the same)."""
    return sorted(set(PLACEHOLDER.findall(text)))


def problems(lang, root=ROOT, template=None):
    """What is wrong with the catalog of `lang` against the extracted msgids: a list of lines."""
    from babel.messages.pofile import read_po
    template = template or extract(root)
    path = catalog_path(lang, Path(root) / "coursekit" / "locale")
    if not path.is_file():
        return [f"{lang}: no catalog {path}"]
    with open(path, "rb") as file:
        catalog = read_po(file)
    wanted = {m.id for m in template if m.id}
    found = []
    for message in template:
        if not message.id:
            continue
        entry = catalog.get(message.id)
        where = ", ".join(f"{f}:{n}" for f, n in message.locations[:1])
        if entry is None:
            found.append(f"{lang}: missing: {message.id!r} ({where})")
        elif not entry.string:
            found.append(f"{lang}: not translated: {message.id!r}")
        elif entry.fuzzy:
            found.append(f"{lang}: fuzzy (the English changed): {message.id!r}")
        elif placeholders(entry.string) != placeholders(message.id):
            found.append(f"{lang}: placeholders differ: {message.id!r} -> {entry.string!r}")
    for message in catalog:
        if message.id and message.id not in wanted:
            found.append(f"{lang}: obsolete (no longer in the code): {message.id!r}")
    for message in catalog.obsolete.values():
        found.append(f"{lang}: obsolete entry kept: {message.id!r}")
    return found


def update(langs, root=ROOT):
    """Update (or start) the catalog of each language from the extracted msgids."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import read_po, write_po
    template = extract(root)
    for lang in langs:
        path = catalog_path(lang, Path(root) / "coursekit" / "locale")
        if path.is_file():
            with open(path, "rb") as file:
                catalog = read_po(file, locale=lang)
        else:
            catalog = Catalog(locale=lang, project="coursekit", domain=DOMAIN, header_comment=(
                f"# coursekit's messages and the masters' hints, in {lang}.\n"
                "# Kept with `python -m coursekit.messages update|check` (see coursekit/messages.py)."))
        catalog.update(template, update_creation_date=False)
        catalog.fuzzy = False
        path.parent.mkdir(parents=True, exist_ok=True)
        buffer = io.BytesIO()
        write_po(buffer, catalog, width=0, include_previous=True, ignore_obsolete=True,
                 include_lineno=False)
        path.write_bytes(buffer.getvalue())
        print(f"{path}: {len(catalog)} messages")


def main(argv=None):
    import argparse
    parser = argparse.ArgumentParser(prog="python -m coursekit.messages", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("update").add_argument("langs", nargs="*")
    commands.add_parser("check").add_argument("langs", nargs="*")
    commands.add_parser("compile").add_argument("dest_dir")
    args = parser.parse_args(argv)
    if args.command == "compile":
        for path in compile_catalogs(args.dest_dir):
            print(path)
        return 0
    langs = args.langs or languages()
    if args.command == "update":
        update(langs)
        return 0
    template = extract()
    found = [line for lang in langs for line in problems(lang, template=template)]
    print("\n".join(found) or f"{', '.join(langs)}: every message translated")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
