"""The feedback exporter gives the page nbconvert's HTMLExporter gives."""

import re

import nbformat
from nbconvert.exporters import HTMLExporter

from coursekit.feedback import FeedbackExporter

PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="


def notebook():
    cells = [nbformat.v4.new_markdown_cell("# A title\n\nSome *text*."),
             nbformat.v4.new_code_cell("print('hi')", outputs=[
                 nbformat.v4.new_output("stream", name="stdout", text="hi\n")]),
             nbformat.v4.new_code_cell("show()", outputs=[
                 nbformat.v4.new_output("display_data", data={"image/png": PNG}),
                 nbformat.v4.new_output("error", ename="AssertionError", evalue="f(1): expected 2",
                                        traceback=["AssertionError: f(1): expected 2"])])]
    return nbformat.v4.new_notebook(cells=cells, metadata={"language_info": {"name": "python"}})


def test_the_page_has_the_same_accessibility_attributes_and_content():
    theirs, _ = HTMLExporter().from_notebook_node(notebook())
    ours, _ = FeedbackExporter().from_notebook_node(notebook())
    assert ours.count('tabindex="0"') == theirs.count('tabindex="0"') > 0
    images = re.findall(r"<img[^>]*>", ours)
    assert len(images) == 1 and 'alt="' in images[0]
    for text in ("A title", "hi", "f(1): expected 2", PNG):
        assert text in ours and text in theirs


def test_templates_are_compiled_once_per_process():
    FeedbackExporter().from_notebook_node(notebook())
    from coursekit.feedback import _cache
    assert _cache.compiled  # later exporters load these instead of compiling again


def test_a_failed_check_shows_its_message_alone_in_the_feedback():
    """Issue 15, item 5: no AssertionError traceback, only the ✘ message; still an error output."""
    from coursekit.values import encode
    from coursekit.verdict import verdict_outputs
    expected = [{"function": "f", "call": "f(1)", "value": encode(1.0)},
                {"function": "f", "call": "f(2)", "value": encode(4.0)}]
    got = [{"function": "f", "call": "f(1)", "value": encode(1.0)},
           {"function": "f", "call": "f(2)", "value": encode(3.0)}]
    outputs = verdict_outputs(expected, [nbformat.v4.new_output(
        "display_data", data={"application/vnd.coursekit.check+json": g, "text/plain": ""})
        for g in got])
    assert [o.output_type for o in outputs] == ["error"]  # nbgrader scores the cell as failed
    assert outputs[0].traceback == ["✘ f(2): expected 4.0, got 3.0"]
    nb = notebook()
    nb.cells[2].outputs = outputs
    page, _ = FeedbackExporter().from_notebook_node(nb)
    assert "✘ f(2): expected 4.0, got 3.0" in page
    assert "AssertionError" not in page and "Traceback" not in page


def test_each_code_is_highlighted_once_per_process_as_nbconvert_highlights_it(monkeypatch):
    """Most code cells are the same in every student's notebook."""
    from coursekit import feedback
    from nbconvert.filters.highlight import Highlight2HTML
    monkeypatch.setattr(feedback, "_highlighted", {})
    nb = notebook()
    nb.cells.append(nbformat.v4.new_code_cell("%%bash\necho hi", metadata={"magics_language": "bash"}))
    first, _ = FeedbackExporter().from_notebook_node(nb)
    highlighted = dict(feedback._highlighted)
    assert len(highlighted) == 3
    plain = Highlight2HTML(pygments_lexer="python")
    for (code, language, magics, _options), page_part in highlighted.items():
        assert page_part == plain(code, language, {"magics_language": magics} if magics else None)
    calls = []
    monkeypatch.setattr(Highlight2HTML, "__call__", lambda *args: calls.append(args) or "")
    again, _ = FeedbackExporter().from_notebook_node(nb)
    assert again == first and calls == []


def test_each_markdown_text_is_rendered_once_per_process_as_nbconvert_renders_it(monkeypatch):
    """The lesson's text is the same in every student's notebook."""
    from coursekit import feedback
    monkeypatch.setattr(feedback, "_rendered", {})
    nb = notebook()
    nb.cells.append(nbformat.v4.new_markdown_cell("A table: | a | b |\n\n```python\nx = 1\n```"))
    first, _ = FeedbackExporter().from_notebook_node(nb)
    assert len(feedback._rendered) == 2
    for (text, *_), part in feedback._rendered.items():
        assert part == HTMLExporter().markdown2html({"cell": {}, "resources": {}}, text)
    calls = []
    monkeypatch.setattr(HTMLExporter, "markdown2html", lambda *args: calls.append(args) or "")
    again, _ = FeedbackExporter().from_notebook_node(nb)
    assert again == first and calls == []
