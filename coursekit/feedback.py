"""nbgrader's feedback exporter, made cheaper for a process that grades a class.

Two costs of nbconvert's HTMLExporter are paid again for every notebook when
one process gives feedback on a whole class (coursekit.grade), about a third
of a second each time, measured with cProfile:

- it builds a new Jinja environment and compiles the same templates again:
  this exporter keeps the compiled templates in memory (Jinja's bytecode
  cache, keyed by each template's name and source, so an edited template is
  compiled afresh);
- it parses the whole finished page (its stylesheet included) with
  BeautifulSoup only to add accessibility attributes: this exporter adds the
  same attributes to the same tags with regular expressions.

It also highlights each distinct piece of code, and renders each distinct
Markdown text, once per process: most cells are the same in every student's
notebook (the lesson's text, the code given, the test cells).  Highlighting
them again took about 50 ms of each 06 notebook's feedback, rendering the
Markdown again a sixth of what remained.

For a notebook in another language (`metadata.coursekit.language`, see
coursekit.i18n), the words nbgrader's feedback template writes around the
cells (Score, Test cell, Student's answer, Grade cell, (Top), ...) are put
in that language; the verdicts in the cells are already (coursekit.verdict).

nbgrader_config.py makes it `GenerateFeedback.exporter_class`; everything
else is nbgrader's HTMLExporter.
"""

import html as html_text
import json
import re

from jinja2 import BytecodeCache, pass_context
from nbconvert.exporters import HTMLExporter, TemplateExporter
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

from coursekit import i18n
from coursekit.i18n import N_, _

# the tags HTMLExporter makes focusable, and images that lack a text alternative
FOCUSABLE = re.compile(r'(<div class="[^"]*\b(?:jp-Cell-inputWrapper|jp-OutputArea-output)\b[^"]*")')
NO_ALT = re.compile(r"<img(?![^>]*\balt=)")
# nbgrader's feedback template's own words, each where it writes them: (before, word, after)
_HEADING = r'<li><a href="#[^"]*">'
PAGE_WORDS = [
    (r'<h4>[^<]*\(|</a> \(|<li class="late-penalty">[^<(]*\(|<span class="pull-right">\s*',
     N_("Score"), r": "),
    (_HEADING, N_("Test cell"), r"</a>"),
    (_HEADING, N_("Coding free-response"), r"</a>"),
    (_HEADING, N_("Written response"), r"</a>"),
    (_HEADING, N_("Task"), r"</a>"),
    (r'<li class="late-penalty">', N_("Late submission penalty"), r" \("),
    (r'<a href="#top">', N_("(Top)"), r"</a>"),
    (r'<span class="nbgrader-label">', N_("Student's answer"), r"</span>"),
    (r'<span class="nbgrader-label">', N_("Student's task"), r"</span>"),
    (r'<span class="nbgrader-label">', N_("Grade cell"), r": <code>"),
    (r'<span class="nbgrader-label">', N_("Task"), r": <code>"),
    (r"<b>", N_("Comments"), r":</b>"),
]


class MemoryBytecodeCache(BytecodeCache):
    def __init__(self):
        self.compiled = {}

    def load_bytecode(self, bucket):
        if bucket.key in self.compiled:
            bucket.bytecode_from_string(self.compiled[bucket.key])

    def dump_bytecode(self, bucket):
        self.compiled[bucket.key] = bucket.bytecode_to_string()


_cache = MemoryBytecodeCache()


class FeedbackExporter(HTMLExporter):
    """HTMLExporter reusing compiled templates, without its BeautifulSoup pass."""

    def _create_environment(self):
        environment = super()._create_environment()
        environment.bytecode_cache = _cache
        return environment

    def from_notebook_node(self, nb, resources=None, **kw):
        # HTMLExporter.from_notebook_node up to the page, as nbconvert 7 writes it
        langinfo = nb.metadata.get("language_info", {})
        lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
        self.register_filter("highlight_code", self.filters.get(
            "highlight_code", RememberedHighlight(pygments_lexer=lexer, parent=self)))
        resources = self._init_resources(resources)
        self.register_filter("filter_data_type", WidgetsDataTypeFilter(
            notebook_metadata=self._nb_metadata, parent=self, resources=resources))
        html, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
        # then its accessibility attributes
        html = NO_ALT.sub('<img alt="No description has been provided for this image"', html)
        html = FOCUSABLE.sub(r'\1 tabindex="0"', html)
        lang = i18n.normalize(nb.metadata.get("coursekit", {}).get("language"))
        if lang != i18n.ENGLISH:
            with i18n.language(lang):
                html = page_in_language(html)
        return html, resources

    @pass_context
    def markdown2html(self, context, source):
        """HTMLExporter's Markdown filter, remembering the HTML it wrote for each text."""
        cell = context.get("cell", {})
        path = context.get("resources", {}).get("metadata", {}).get("path", "")
        key = (source, json.dumps(cell.get("attachments", {}), sort_keys=True),
               path if self.embed_images else None, self.anchor_link_text,
               self.exclude_anchor_links, repr(sorted(self.lexer_options.items())))
        return _remembered(_rendered, key, lambda: super(FeedbackExporter, self).markdown2html(
            context, source))


class RememberedHighlight(Highlight2HTML):
    """nbconvert's Highlight2HTML, remembering the HTML it wrote for each code."""

    def __call__(self, source, language=None, metadata=None):
        magics = metadata.get("magics_language") if metadata else None
        key = (source, language or self.pygments_lexer, magics,
               repr(sorted(self.extra_formatter_options.items())))
        return _remembered(_highlighted, key, lambda: super(RememberedHighlight, self).__call__(
            source, language, metadata))


_highlighted = {}  # (code, language, magics language, options) -> HTML
_rendered = {}  # (Markdown text, attachments, path, anchor and lexer options) -> HTML


def _remembered(memory, key, make):
    """memory[key], made by make() the first time (a memory of 20,000 at most)."""
    if key not in memory:
        if len(memory) > 20_000:
            memory.clear()
        memory[key] = make()
    return memory[key]


def page_in_language(html):
    """The feedback page with its template's words in the current language."""
    for before, word, after in PAGE_WORDS:
        translated = html_text.escape(_(word), quote=False)
        html = re.sub(f"({before}){re.escape(word)}({after})",
                      lambda found: found.group(1) + translated + found.group(2), html)
    return html
