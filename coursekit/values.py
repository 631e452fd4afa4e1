"""Results as plain JSON data, and their comparison as numbers.

A check in the student's kernel turns whatever a graded function returned
into JSON (`encode`); the grader compares that data with the reference's
(`compare`) in its own process.  Only data crosses between the two, so an
ndarray subclass whose comparisons lie, or a patched `np.allclose` in the
kernel, has no say in the verdict.

Besides numbers, arrays, sequences and dicts:

- a function is its label (`label`): inputs that are functions compare equal
  when their labels do;
- a Matplotlib Axes is what was drawn on it: the x and y data of each line,
  in the order they were drawn (styling, labels and legends are not part of
  it).  The check adds whether the function drew on the Axes it was given
  (`on_given`, see coursekit.checks).  The right lines drawn in another
  order are named as such.
"""

import base64
import math
import re

import numpy as np

from coursekit.i18n import N_, _

RTOL = 1e-6
ATOL = 1e-8
MAX_ELEMENTS = 100_000
MAX_DEPTH = 8
# what encode writes in place of a value too large or too deep (English in the
# data; `describe` shows them in the current language)
NESTED_TOO_DEEPLY = N_("(nested too deeply)")
TOO_MANY_NUMBERS = N_("(an array of {count} numbers)")
UNNAMED = N_("a function")  # a function's label when it has no name (messages translate it)


def encode(value, depth=0):
    """Return `value` as JSON-ready data: arrays, sequences, dicts, None."""
    if depth > MAX_DEPTH:
        return {"type": "other", "repr": NESTED_TOO_DEEPLY}
    if value is None:
        return {"type": "none"}
    if is_axes(value):
        return {"type": "axes", "on_given": True,
                "lines": [[encode(line.get_xdata(), depth + 1), encode(line.get_ydata(), depth + 1)]
                          for line in value.get_lines()]}
    if is_function(value):
        return {"type": "function", "label": label(value)}
    if isinstance(value, tuple):  # values returned together, even if they could stack
        return {"type": "sequence", "items": [encode(v, depth + 1) for v in value]}
    if isinstance(value, dict):
        return {"type": "dict",
                "items": {str(k): encode(v, depth + 1) for k, v in value.items()}}
    try:
        array = np.asarray(value)
    except Exception:
        array = None
    if array is not None and array.dtype.kind in "biuf":
        if array.size > MAX_ELEMENTS:
            return {"type": "other", "repr": TOO_MANY_NUMBERS.format(count=array.size)}
        return {"type": "array", "shape": list(array.shape), "dtype": array.dtype.name,
                "data": _packed(array)}
    if isinstance(value, (list, tuple)):
        return {"type": "sequence", "items": [encode(v, depth + 1) for v in value]}
    return {"type": "other", "repr": _short(repr(value))}


def label(function):
    """How a function is named in messages: its label (coursekit.checks.labelled),
    else its name, else "a function"."""
    name = getattr(function, "coursekit_label", None) or getattr(function, "__name__", "")
    return name if name and name != "<lambda>" else UNNAMED


def is_function(value):
    """Whether `value` is a function to report by its label (not an array)."""
    return callable(value) and not isinstance(value, np.ndarray)


def is_axes(value):
    """Whether `value` is a Matplotlib Axes (without importing Matplotlib)."""
    return any(cls.__module__.startswith("matplotlib.axes") for cls in type(value).__mro__)


def decode(data):
    """Turn `encode`'s data back into Python values (arrays as float arrays)."""
    kind = data["type"]
    if kind == "none":
        return None
    if kind == "dict":
        return {k: decode(v) for k, v in data["items"].items()}
    if kind == "sequence":
        return tuple(decode(v) for v in data["items"])
    if kind == "array":
        array = _to_array(data)
        return array[()] if array.ndim == 0 else array
    raise ValueError(f"cannot rebuild {data.get('repr', kind)}")


def compare(got, expected, rtol=RTOL, atol=ATOL):
    """Return None when `got` matches `expected` (both encoded), else why not.

    Shapes must match, but where a single number is expected a one-element
    array of shape (1,) or (1, 1) counts as that number.

    `got` comes from the student's kernel and may be any JSON at all: nothing
    in it is trusted to have the shape `encode` gives.
    """
    try:
        if got == expected and _comparable(expected):
            return None  # the same data bit for bit (most served calls): no numbers to compare
        return _compare(got, expected, rtol, atol)
    except (KeyError, TypeError, ValueError, AttributeError, RecursionError):
        return _("the result could not be read back as numbers")


def describe(data, limit=200):
    """A short human description of encoded data, for messages."""
    try:
        kind = data["type"]
        if kind == "none":
            return "None"
        if kind == "array":
            array = _to_array(data)
            if array.ndim == 0:
                text = f"{float(array):.8g}"
                return text + ".0" if text.lstrip("-").isdigit() else text
            text = np.array2string(array, precision=8, threshold=20)
            return _short(text, limit)
        if kind == "dict":
            inner = ", ".join(f"{k!r}: {describe(v, 60)}" for k, v in data["items"].items())
            return _short("{" + inner + "}", limit)
        if kind == "sequence":
            return _short("(" + ", ".join(describe(v, 60) for v in data["items"]) + ")", limit)
        if kind == "function":
            return _short(str(data["label"]), limit)
        if kind == "axes":
            return _("an Axes with {count} line(s)").format(count=len(data["lines"]))
        return _short(_other(str(data.get("repr", "?"))), limit)
    except Exception:
        return _("(unreadable)")


def _other(text):
    """The text `encode` wrote for a value it could not keep, in the current language."""
    if text == NESTED_TOO_DEEPLY:
        return _(NESTED_TOO_DEEPLY)
    found = re.fullmatch(r"\(an array of (\d+) numbers\)", text)
    return _(TOO_MANY_NUMBERS).format(count=found.group(1)) if found else text


def flat(data):
    """(layout, numbers) of encoded data: its structure, and its numbers in order.

    Two values of one layout match in `compare` when their numbers are close
    element by element (np.isclose, the expected numbers second), so many can
    be compared at once as the rows of one array.  A one-element array and a
    number share a layout: `compare` tells them apart.
    """
    numbers = []
    layout = _layout(data, numbers)
    return layout, np.concatenate(numbers) if numbers else np.zeros(0)


def kind_of(layout):
    """What of a layout two values must share for `compare` to match them: all
    of it but what is inside dicts (which may have more keys than expected)
    and plots (which may have more lines)."""
    if layout[0] in ("dict", "axes"):
        return layout[:1]
    if layout[0] == "sequence":
        return ("sequence", tuple(kind_of(item) for item in layout[1]))
    return layout


def _layout(data, numbers):
    kind = data.get("type")
    if kind == "array":
        array = _to_array(data)
        numbers.append(array.ravel())
        return ("array", "one" if array.size == 1 and array.ndim <= 2 else array.shape, array.size)
    if kind == "dict":
        return ("dict", tuple((k, _layout(v, numbers)) for k, v in sorted(data["items"].items())))
    if kind == "sequence":
        return ("sequence", tuple(_layout(v, numbers) for v in data["items"]))
    if kind == "axes":
        return ("axes", data.get("on_given"),
                tuple(tuple(_layout(xy, numbers) for xy in line) for line in data["lines"]))
    return (kind, str(data.get("label", data.get("repr", ""))))


def _comparable(data):
    """Whether `_compare` matches encoded data with an equal copy of itself: not
    when it holds a value encode could only describe (type "other")."""
    kind = data["type"]
    if kind == "sequence":
        return all(_comparable(item) for item in data["items"])
    if kind == "dict":
        return all(_comparable(item) for item in data["items"].values())
    if kind == "axes":
        return all(_comparable(xy) for line in data["lines"] for xy in line)
    return kind != "other"


def _compare(got, expected, rtol, atol):
    kind = expected["type"]
    if got.get("type") == "none" and kind != "none":
        return _("it returned None; is a `return` statement missing?")
    if kind == "none":
        return None if got.get("type") == "none" else _("expected None, got {got}").format(
            got=describe(got))
    if kind == "function":
        same = got.get("type") == "function" and got.get("label") == expected["label"]
        return None if same else _("expected the function {expected}, got {got}").format(
            expected=_(describe(expected)), got=describe(got))
    if kind == "axes":
        return _compare_axes(got, expected, rtol, atol)
    if kind == "dict":
        if got.get("type") != "dict":
            return _("expected a dict with keys {keys}, got {got}").format(
                keys=sorted(expected["items"]), got=describe(got))
        missing = sorted(set(expected["items"]) - set(got["items"]))
        if missing:
            return _("the returned dict has no key {key}").format(key=repr(missing[0]))
        for key, value in expected["items"].items():
            problem = _compare(got["items"][key], value, rtol, atol)
            if problem:
                return f"[{key!r}]: {problem}"
        return None
    if kind == "sequence":
        items = expected["items"]
        if got.get("type") != "sequence" or len(got["items"]) != len(items):
            return _("expected {count} values returned together, got {got}").format(
                count=len(items), got=describe(got))
        for i, (g, e) in enumerate(zip(got["items"], items)):
            problem = _compare(g, e, rtol, atol)
            if problem:
                return _("item {index}: {problem}").format(index=i, problem=problem)
        return None
    if kind == "array":
        if got.get("type") == "sequence":
            for i, item in enumerate(got["items"]):
                if _compare(item, expected, rtol, atol) is None:
                    return _("expected {expected} alone, got {count} values returned together; "
                             "item {index} is the expected result: return only it").format(
                        expected=describe(expected), count=len(got["items"]), index=i)
        if got.get("type") != "array":
            return _("expected {expected}, got {got}").format(
                expected=describe(expected), got=describe(got))
        want, have = _to_array(expected), _to_array(got)
        if want.ndim == 0 and have.size == 1 and have.ndim <= 2:
            have = have.reshape(())  # a single number may come back as (1,) or (1, 1)
        if want.shape != have.shape:
            return _("expected shape {expected}, got shape {got} (value {value})").format(
                expected=want.shape, got=have.shape, value=describe(got))
        same = np.isclose(have, want, rtol=rtol, atol=atol, equal_nan=True)
        if not same.all():
            return _("expected {expected}, got {got}").format(
                expected=describe(expected), got=describe(got))
        return None
    return _("cannot compare with {expected}").format(expected=describe(expected))


def _compare_axes(got, expected, rtol, atol):
    """Compare what was drawn: the first lines, in order, as x and y data."""
    if got.get("type") != "axes":
        return _("expected an Axes with the plot (return the Axes drawn on), got {got}").format(
            got=describe(got))
    if got["on_given"] is not expected["on_given"]:
        if expected["on_given"]:
            return _("it did not draw on the Axes it was given and return it: draw on `ax`, or "
                     "on the current Axes (plt.gca()) when ax is None, not on a new figure")
        return _("it drew on the Axes it was given")
    want, have = expected["lines"], got["lines"]
    if len(have) < len(want):
        if not have:
            return _("it drew nothing on the Axes; expected {count} lines, in this order: "
                     "{lines}").format(count=len(want), lines=_lines(want))
        return _("it drew {drawn} line(s) on the Axes; expected {count} lines, in this order: "
                 "{lines}").format(drawn=len(have), count=len(want), lines=_lines(want))
    order = _drawn_order(want, have[:len(want)], rtol, atol)
    if order is not None and order != list(range(len(want))):
        moved = ", ".join(_("the line expected {expected} was drawn {drawn}").format(
            expected=_nth(i + 1), drawn=_nth(j + 1)) for i, j in enumerate(order) if i != j)
        return _("it drew the right lines in the wrong order ({moved}): draw them in the order "
                 "asked").format(moved=moved)
    for i, (want_line, have_line) in enumerate(zip(want, have)):
        for axis, w, h in zip("xy", want_line, have_line):
            problem = _compare(h, w, rtol, atol)
            if problem:
                return _("line {number} of the plot, its {axis} data: {problem}").format(
                    number=i + 1, axis=axis, problem=problem)
    return None


def _drawn_order(want, have, rtol, atol):
    """For each expected line, the index of the drawn line equal to it, when
    every expected line was drawn once among `have`; else None."""
    order = []
    for want_line in want:
        found = [j for j, have_line in enumerate(have) if j not in order and all(
            _compare(h, w, rtol, atol) is None for w, h in zip(want_line, have_line))]
        if not found:
            return None
        order.append(found[0])
    return order


def _nth(n):
    ordinal = {1: N_("1st"), 2: N_("2nd"), 3: N_("3rd")}.get(n, N_("{n}th"))
    return _(ordinal).format(n=n)


def _lines(lines):
    return "; ".join(_("line {number} with {count} points").format(
        number=i + 1, count=_count(x)) for i, (x, _y) in enumerate(lines))


def _count(data):
    try:
        return _to_array(data).size
    except Exception:
        return "?"


def _packed(array):
    """An array's numbers as text: its float64 bytes (little-endian), in base64.

    A list of numbers would do, but every layer between the kernel and the
    grader (ipykernel, JSON, nbformat's NotebookNode) then handles each number
    on its own: 07's checks report arrays of 18,000 numbers, and as lists they
    cost a 07 notebook 0.26 s more CPU, kernel and grader together.  NaN and
    infinities, which JSON cannot hold, need nothing special.
    """
    return base64.b64encode(np.ascontiguousarray(array, dtype="<f8").tobytes()).decode("ascii")


def _to_array(data):
    """The array `encode` packed in `data`; ValueError if it is not that."""
    shape = tuple(int(n) for n in data["shape"])
    if not isinstance(data["data"], str):
        raise ValueError("the numbers are not packed as encode packs them")
    numbers = np.frombuffer(base64.b64decode(data["data"], validate=True), dtype="<f8")
    if math.prod(shape) != numbers.size or any(n < 0 for n in shape):
        raise ValueError("shape and data disagree")
    return numbers.astype(float).reshape(shape)


def _short(text, limit=200):
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 3] + "..."
