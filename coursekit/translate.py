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
- `build LANG` writes the translated notebooks to build/<lang>/notebooks/
  and build/<lang>/source/<assignment>/, with the same file names, cells,
  ids, outputs and nbgrader metadata; only the sources of translated cells
  differ, and the notebook's metadata says its language
  (`metadata.coursekit.language`).  A cell whose translation is missing or
  fuzzy keeps its English source (the tests fail on it).
"""

import argparse
import copy
import io
import json
import sys
import tokenize
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = {"ko": "한국어"}
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


def translations(catalog):
    """{cell id: (English source, translation, fuzzy)} of a notebook's catalog."""
    return {m.context: (m.id, m.string, m.fuzzy) for m in catalog if m.id and m.context}


def update(lang, root=ROOT):
    """Write each catalog anew from its English notebook; return what needs translating."""
    todo = []
    for kind, name, path in english_notebooks(root):
        notebook = json.loads(path.read_text(encoding="utf-8"))
        target = catalog_path(lang, kind, name, root)
        old = translations(read_catalog(target, lang))
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
    for kind, name, path in english_notebooks(root):
        notebook = json.loads(path.read_text(encoding="utf-8"))
        catalog = read_catalog(catalog_path(lang, kind, name, root), lang)
        target = built_path(lang, kind, name, root)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(translated(notebook, catalog, lang), indent=1,
                                     ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(target)
    return written


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["update", "build"])
    parser.add_argument("lang", choices=sorted(LANGUAGES))
    args = parser.parse_args(argv)
    if args.command == "update":
        todo = update(args.lang)
        for path, cell_id, why in todo:
            print(f"{path.relative_to(ROOT)}: cell {cell_id}: {why}")
        print(f"{len(todo)} cell(s) to translate")
    else:
        for path in build(args.lang):
            print(path.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
