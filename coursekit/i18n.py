"""The check helper's and the grader's messages in the student's language.

Every sentence a student reads from coursekit (the ✔/✘ lines, "expected ...,
got ...", the not-written-yet and dependency sentences, the feedback's
verdicts) and every string the masters' test cells show (known-mistake
hints, `shown_as=` texts, `labelled()` names) is an English msgid looked up
in a gettext catalog, one per language, kept with Babel:

    coursekit/locale/<lang>/LC_MESSAGES/coursekit.po     e.g. ko

In the code a message is `_("expected {expected}, got {got}").format(...)`:
named placeholders, so a translation may put them in its own order.  Texts
kept in constants are marked `N_(...)` and translated where they are shown.
English is the msgid itself, so English output is exactly the code's text.

The language:

- in a student's kernel: env COURSEKIT_LANG if set, else the first line of
  the file `coursekit/LANGUAGE` beside this module (the Korean student pack
  has one saying `ko`), else English;
- at grading: the notebook's `metadata.coursekit.language` (coursekit.verdict
  renders its messages `with language(...)`; absent means English).

Catalogs are read with the standard library's gettext from a compiled .mo
(the student pack holds those: `compile_catalogs(dest_dir)`), or, in the
repository, where Babel is installed, from the .po itself, so a .po edit
shows at once and no compiled file can be stale.

For translators: coursekit.messages (`python -m coursekit.messages
update|check|compile`).

This module is on the kernel's side: it imports nothing of the grader, and
Babel only where it is there.
"""

import contextvars
import gettext
import os
from contextlib import contextmanager
from pathlib import Path

DOMAIN = "coursekit"
ENGLISH = "en"
HERE = Path(__file__).resolve().parent
LOCALE_DIR = HERE / "locale"
LANGUAGE_FILE = HERE / "LANGUAGE"
ROOT = HERE.parent

_chosen = contextvars.ContextVar("coursekit_language", default=None)
_default = []  # the kernel's language, found once
_translations = {}  # language -> gettext translations


def N_(message):
    """Mark `message` for extraction; it is translated where it is shown (`_`)."""
    return message


def _(message):
    """`message` (an English msgid) in the current language."""
    return translation(current_language()).gettext(message)


def current_language():
    """The language chosen with `language(...)`, else the kernel's (`default_language`)."""
    chosen = _chosen.get()
    if chosen is not None:
        return chosen
    if not _default:
        _default.append(default_language())
    return _default[0]


def default_language():
    """COURSEKIT_LANG, else the first line of coursekit/LANGUAGE, else English."""
    lang = os.environ.get("COURSEKIT_LANG", "").strip()
    if not lang:
        try:
            lang = LANGUAGE_FILE.read_text(encoding="utf-8").strip().splitlines()[0]
        except (OSError, IndexError, UnicodeDecodeError):
            lang = ""
    return normalize(lang)


def normalize(lang):
    """A language code with a catalog ("ko" for "ko", "ko_KR", "ko-KR.UTF-8"), else "en"."""
    code = str(lang or "").split(".")[0].strip().replace("-", "_")
    known = languages()
    for candidate in (code, code.split("_")[0].lower()):
        if candidate in known:
            return candidate
    return ENGLISH


@contextmanager
def language(lang):
    """Messages in `lang` ("en" or absent: English) inside the `with` block."""
    token = _chosen.set(normalize(lang))
    try:
        yield
    finally:
        _chosen.reset(token)


def languages(locale_dir=LOCALE_DIR):
    """The languages that have a catalog (.po or compiled .mo), sorted."""
    try:
        folders = sorted(p for p in Path(locale_dir).iterdir() if p.is_dir())
    except OSError:
        return []
    return [p.name for p in folders
            if any((p / "LC_MESSAGES" / f"{DOMAIN}{ext}").is_file() for ext in (".po", ".mo"))]


def catalog_path(lang, locale_dir=LOCALE_DIR, ext=".po"):
    return Path(locale_dir) / lang / "LC_MESSAGES" / f"{DOMAIN}{ext}"


def translation(lang):
    """gettext translations for `lang`: from its .po when Babel is there, else its .mo."""
    if lang in _translations:
        return _translations[lang]
    found = gettext.NullTranslations()
    if lang != ENGLISH:
        po, mo = catalog_path(lang), catalog_path(lang, ext=".mo")
        messages = _read_po(po) if po.is_file() else None
        if messages is not None:
            found = _Catalog(messages)
        elif mo.is_file():
            with open(mo, "rb") as file:
                found = gettext.GNUTranslations(file)
    _translations[lang] = found
    return found


class _Catalog(gettext.NullTranslations):
    """Translations read from a .po (its non-fuzzy, non-empty entries)."""

    def __init__(self, messages):
        super().__init__()
        self.messages = messages

    def gettext(self, message):
        return self.messages.get(message) or message


def _read_po(path):
    """{msgid: msgstr} of the translated, non-fuzzy entries of a .po, or None without Babel."""
    try:
        from babel.messages.pofile import read_po
    except ImportError:
        return None
    with open(path, "rb") as file:
        catalog = read_po(file)
    return {m.id: m.string for m in catalog if m.id and m.string and not m.fuzzy}
