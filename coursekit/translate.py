"""Translated editions of the notebooks: `python -m coursekit.translate update|build LANG`.

The English notebooks are the source (the lessons in notebooks/, the masters
in source/); a translation is a gettext catalog per notebook, kept with Babel:

    locale/<lang>/notebooks/<lesson>.po      e.g. locale/ko/notebooks/01_sigmoid.po
    locale/<lang>/source/<assignment>.po     e.g. locale/ko/source/01_sigmoid.po

Each entry is one cell: its context (msgctxt) is the cell's id, its msgid the
English cell's whole source, its msgstr the translated source.  Markdown
cells are translated, and code cells that hold prose (comments or
docstrings) have their comments and docstrings translated, the code left
as it is.  Cells the grader restores from the gradebook (locked and test
cells) are not translated: their source must stay byte for byte the
English one.

- `update LANG` writes the catalogs anew from the English notebooks: an
  entry whose English cell changed keeps its old translation, marked fuzzy,
  with the old English as `#| msgid` (Babel's "previous id"), for the
  translator to update; a new cell gets an empty entry.
- `check LANG` lists what is not translated, stale, fuzzy, code that
  differs from the English, and markdown that is mostly English prose.
- `build LANG` writes the translated notebooks to build/<lang>/notebooks/
  and build/<lang>/source/<assignment>/, with the same file names, cells,
  ids, outputs and nbgrader metadata; only the sources of translated cells
  differ, and the notebook's metadata says its language
  (`metadata.coursekit.language`).  A cell whose translation is missing or
  fuzzy keeps its English source (the tests fail on it).
"""

import argparse
import ast
import copy
import io
import json
import re
import sys
import tokenize
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent


def languages(root=ROOT):
    """The translated editions: a folder of catalogs each in locale/ (e.g. ko)."""
    return sorted(p.name for p in (Path(root) / "locale").iterdir() if p.is_dir())

KINDS = ("notebooks", "source")


def english_notebooks(root=ROOT):
    """[(kind, name, path)] of every English notebook that has a translation."""
    found = [("notebooks", p.stem, p) for p in sorted((root / "notebooks").glob("*.ipynb"))]
    found += [("source", p.parent.name, p) for p in sorted((root / "source").glob("*/*.ipynb"))]
    return found


def catalog_path(lang, kind, name, root=ROOT):
    return root / "locale" / lang / kind / f"{name}.po"


def built_path(lang, kind, name, root=ROOT):
    out = root / "build" / lang / kind
    return out / f"{name}.ipynb" if kind == "notebooks" else out / name / f"{name}.ipynb"


def source_of(cell):
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def restored_by_grader(cell):
    """Whether nbgrader restores this cell from the gradebook (a locked or test cell)."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return bool(meta.get("locked") or meta.get("grade")) and not meta.get("solution")


def has_prose(cell):
    """Whether a cell holds text to translate: markdown, or code with comments or docstrings."""
    if restored_by_grader(cell):
        return False
    text = source_of(cell)
    if cell.get("cell_type") == "markdown":
        return bool(text.strip())
    if cell.get("cell_type") != "code":
        return False
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return False
    return any(t.type == tokenize.COMMENT for t in tokens) or '"""' in text or "'''" in text


def prose_cells(notebook):
    """[(cell id, English source)] of the cells to translate, in order."""
    return [(cell["id"], source_of(cell)) for cell in notebook["cells"] if has_prose(cell)]


def read_catalog(path, lang):
    if not path.is_file():
        return Catalog(locale=lang)
    with open(path, "rb") as file:
        return read_po(file, locale=lang)


def editions(lang, root=ROOT):
    """(kind, name, English notebook, its catalog's path, the catalog) of every notebook."""
    for kind, name, path in english_notebooks(root):
        target = catalog_path(lang, kind, name, root)
        yield (kind, name, json.loads(path.read_text(encoding="utf-8")), target,
               read_catalog(target, lang))


def translations(catalog):
    """{cell id: (English source, translation, fuzzy)} of a notebook's catalog."""
    return {m.context: (m.id, m.string, m.fuzzy) for m in catalog if m.id and m.context}


def update(lang, root=ROOT):
    """Write each catalog anew from its English notebook; return what needs translating."""
    todo = []
    for _, _, notebook, target, before_update in editions(lang, root):
        old = translations(before_update)
        catalog = Catalog(locale=lang)
        for cell_id, english in prose_cells(notebook):
            before = old.get(cell_id)
            if before is None:
                catalog.add(english, "", context=cell_id)
                todo.append((target, cell_id, "new"))
            elif before[0] == english:
                catalog.add(english, before[1], context=cell_id,
                            flags=["fuzzy"] if before[2] else [])
                if before[2] or not before[1]:
                    todo.append((target, cell_id, "fuzzy" if before[2] else "empty"))
            else:
                catalog.add(english, before[1], context=cell_id, flags=["fuzzy"],
                            previous_id=before[0])
                todo.append((target, cell_id, "changed"))
        target.parent.mkdir(parents=True, exist_ok=True)
        buffer = io.BytesIO()
        write_po(buffer, catalog, width=0, omit_header=True, sort_output=False)
        target.write_bytes(buffer.getvalue())
    return todo


def translated(notebook, catalog, lang):
    """A copy of `notebook` with every current translation of `catalog` in place."""
    out = copy.deepcopy(notebook)
    known = translations(catalog)
    for cell in out["cells"]:
        entry = known.get(cell.get("id"))
        english = source_of(cell)
        if entry and entry[0] == english and entry[1] and not entry[2] and has_prose(cell):
            cell["source"] = entry[1].splitlines(keepends=True)
    out["metadata"].setdefault("coursekit", {})["language"] = lang
    return out


def build(lang, root=ROOT):
    """Write every translated notebook under build/<lang>/; return their paths."""
    written = []
    for kind, name, notebook, _, catalog in editions(lang, root):
        target = built_path(lang, kind, name, root)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(translated(notebook, catalog, lang), indent=1,
                                     ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(target)
    return written


def code_shape(text):
    """The AST of a code cell with docstrings removed (comments are not in it), or None."""
    lines = [line if not line.lstrip().startswith(("%", "!")) else "" for line in text.splitlines()]
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return None
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
            body[0] = ast.Pass()
    return ast.dump(tree, annotate_fields=False)


# Set aside before measuring how much of a markdown cell is prose in Latin
# letters: code, math, links and tags, which stay as they are in any language.
_NOT_PROSE = re.compile(r"```.*?```|`[^`]*`|\$\$.*?\$\$|\$[^$]*\$|\]\([^)]*\)|<[^>]+>|https?://\S+",
                        re.S)


def latin_share(markdown):
    """The share of letters in Latin script among the prose's Hangul and Latin letters."""
    prose = _NOT_PROSE.sub(" ", markdown)
    hangul = len(re.findall(r"[\uac00-\ud7a3]", prose))
    latin = len(re.findall(r"[A-Za-z]", prose))
    return latin / (hangul + latin) if hangul + latin else 0.0


# A translated markdown cell is "mostly English prose" past this share of
# Latin letters: Korean prose keeps names (NumPy, `shape`), units and the
# titles of sources in Latin script, rarely more than a third of its letters.
MOSTLY_LATIN = 0.5


def problems(lang, root=ROOT):
    """What is wrong with the `lang` edition: [(catalog, cell id, what)]."""
    found = []
    for _, _, notebook, where, catalog in editions(lang, root):
        known = translations(catalog)
        cells = {cell["id"]: cell for cell in notebook["cells"]}
        current = dict(prose_cells(notebook))
        for cell_id, english in current.items():
            entry = known.get(cell_id)
            if entry is None or not entry[1]:
                found.append((where, cell_id, "not translated"))
            elif entry[0] != english:
                found.append((where, cell_id, "the English cell changed since it was translated"))
            elif entry[2]:
                found.append((where, cell_id, "marked fuzzy: check the translation, then remove the flag"))
            elif cells[cell_id]["cell_type"] == "code":
                if code_shape(entry[1]) != code_shape(english):
                    found.append((where, cell_id, "its code differs from the English (only comments "
                                                  "and docstrings may be translated)"))
            elif latin_share(entry[1]) > MOSTLY_LATIN:
                found.append((where, cell_id, f"mostly English prose ({latin_share(entry[1]):.0%} "
                                              "of its letters are Latin)"))
        for cell_id in sorted(set(known) - set(current)):
            found.append((where, cell_id, "no such cell in the English notebook any more"))
    return found


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["update", "build", "check"])
    parser.add_argument("lang", help="a language code: ko (update starts a new one)")
    args = parser.parse_args(argv)
    if args.command != "update" and args.lang not in languages():
        parser.error(f"no catalogs for {args.lang!r} in locale/ (there are: {', '.join(languages())})")
    if args.command == "update":
        todo = update(args.lang)
        for path, cell_id, why in todo:
            print(f"{path.relative_to(ROOT)}: cell {cell_id}: {why}")
        print(f"{len(todo)} cell(s) to translate")
    elif args.command == "check":
        found = problems(args.lang)
        for path, cell_id, what in found:
            print(f"{path.relative_to(ROOT)}: cell {cell_id}: {what}")
        print(f"{len(found)} problem(s)")
        return 1 if found else 0
    else:
        for path in build(args.lang):
            print(path.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
