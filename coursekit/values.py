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

import math

import numpy as np

RTOL = 1e-6
ATOL = 1e-8
MAX_ELEMENTS = 100_000
MAX_DEPTH = 8


def encode(value, depth=0):
    """Return `value` as JSON-ready data: arrays, sequences, dicts, None."""
    if depth > MAX_DEPTH:
        return {"type": "other", "repr": "(nested too deeply)"}
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
            return {"type": "other", "repr": f"(an array of {array.size} numbers)"}
        data = [x if math.isfinite(x) else repr(x)
                for x in np.asarray(array, dtype=float).ravel().tolist()]
        return {"type": "array", "shape": list(array.shape),
                "dtype": array.dtype.name, "data": data}
    if isinstance(value, (list, tuple)):
        return {"type": "sequence", "items": [encode(v, depth + 1) for v in value]}
    return {"type": "other", "repr": _short(repr(value))}


def label(function):
    """How a function is named in messages: its label (coursekit.checks.labelled),
    else its name, else "a function"."""
    name = getattr(function, "coursekit_label", None) or getattr(function, "__name__", "")
    return name if name and name != "<lambda>" else "a function"


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
        return _compare(got, expected, rtol, atol)
    except (KeyError, TypeError, ValueError, AttributeError, RecursionError):
        return "the result could not be read back as numbers"


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
            return f"an Axes with {len(data['lines'])} line(s)"
        return _short(str(data.get("repr", "?")), limit)
    except Exception:
        return "(unreadable)"


def flat(data):
    """(layout, numbers) of encoded data: its structure, and its numbers in order.

    Two values of one layout match in `compare` when their numbers are close
    element by element (np.isclose, the expected numbers second), so many can
    be compared at once as the rows of one array.  A one-element array and a
    number share a layout: `compare` tells them apart.
    """
    numbers = []
    return _layout(data, numbers), numbers


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
        numbers.extend(array.ravel().tolist())
        return ("array", "one" if array.size == 1 and array.ndim <= 2 else array.shape, array.size)
    if kind == "dict":
        return ("dict", tuple((k, _layout(v, numbers)) for k, v in sorted(data["items"].items())))
    if kind == "sequence":
        return ("sequence", tuple(_layout(v, numbers) for v in data["items"]))
    if kind == "axes":
        return ("axes", data.get("on_given"),
                tuple(tuple(_layout(xy, numbers) for xy in line) for line in data["lines"]))
    return (kind, str(data.get("label", data.get("repr", ""))))


def _compare(got, expected, rtol, atol):
    kind = expected["type"]
    if got.get("type") == "none" and kind != "none":
        return "it returned None; is a `return` statement missing?"
    if kind == "none":
        return None if got.get("type") == "none" else f"expected None, got {describe(got)}"
    if kind == "function":
        same = got.get("type") == "function" and got.get("label") == expected["label"]
        return None if same else f"expected the function {describe(expected)}, got {describe(got)}"
    if kind == "axes":
        return _compare_axes(got, expected, rtol, atol)
    if kind == "dict":
        if got.get("type") != "dict":
            return f"expected a dict with keys {sorted(expected['items'])}, got {describe(got)}"
        missing = sorted(set(expected["items"]) - set(got["items"]))
        if missing:
            return f"the returned dict has no key {missing[0]!r}"
        for key, value in expected["items"].items():
            problem = _compare(got["items"][key], value, rtol, atol)
            if problem:
                return f"[{key!r}]: {problem}"
        return None
    if kind == "sequence":
        items = expected["items"]
        if got.get("type") != "sequence" or len(got["items"]) != len(items):
            return f"expected {len(items)} values returned together, got {describe(got)}"
        for i, (g, e) in enumerate(zip(got["items"], items)):
            problem = _compare(g, e, rtol, atol)
            if problem:
                return f"item {i}: {problem}"
        return None
    if kind == "array":
        if got.get("type") == "sequence":
            for i, item in enumerate(got["items"]):
                if _compare(item, expected, rtol, atol) is None:
                    return (f"expected {describe(expected)} alone, got {len(got['items'])} values "
                            f"returned together; item {i} is the expected result: return only it")
        if got.get("type") != "array":
            return f"expected {describe(expected)}, got {describe(got)}"
        want, have = _to_array(expected), _to_array(got)
        if want.ndim == 0 and have.size == 1 and have.ndim <= 2:
            have = have.reshape(())  # a single number may come back as (1,) or (1, 1)
        if want.shape != have.shape:
            return (f"expected shape {want.shape}, got shape {have.shape}"
                    f" (value {describe(got)})")
        same = np.isclose(have, want, rtol=rtol, atol=atol, equal_nan=True)
        if not same.all():
            return f"expected {describe(expected)}, got {describe(got)}"
        return None
    return f"cannot compare with {describe(expected)}"


def _compare_axes(got, expected, rtol, atol):
    """Compare what was drawn: the first lines, in order, as x and y data."""
    if got.get("type") != "axes":
        return f"expected an Axes with the plot (return the Axes drawn on), got {describe(got)}"
    if got["on_given"] is not expected["on_given"]:
        if expected["on_given"]:
            return ("it did not draw on the Axes it was given and return it: draw on `ax`, or "
                    "on the current Axes (plt.gca()) when ax is None, not on a new figure")
        return "it drew on the Axes it was given"
    want, have = expected["lines"], got["lines"]
    if len(have) < len(want):
        drawn = "nothing" if not have else f"{len(have)} line(s)"
        return (f"it drew {drawn} on the Axes; expected {len(want)} lines, "
                f"in this order: {_lines(want)}")
    order = _drawn_order(want, have[:len(want)], rtol, atol)
    if order is not None and order != list(range(len(want))):
        moved = ", ".join(f"the line expected {_nth(i + 1)} was drawn {_nth(j + 1)}"
                          for i, j in enumerate(order) if i != j)
        return f"it drew the right lines in the wrong order ({moved}): draw them in the order asked"
    for i, (want_line, have_line) in enumerate(zip(want, have)):
        for axis, w, h in zip("xy", want_line, have_line):
            problem = _compare(h, w, rtol, atol)
            if problem:
                return f"line {i + 1} of the plot, its {axis} data: {problem}"
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
    return {1: "1st", 2: "2nd", 3: "3rd"}.get(n, f"{n}th")


def _lines(lines):
    return "; ".join(f"line {i + 1} with {len(x.get('data', []))} points"
                     for i, (x, _) in enumerate(lines))


def _to_array(data):
    shape = tuple(int(n) for n in data["shape"])
    values = [float(x) for x in data["data"]]  # float("nan") reads repr()'d values
    if math.prod(shape) != len(values):
        raise ValueError("shape and data disagree")
    return np.array(values, dtype=float).reshape(shape)


def _short(text, limit=200):
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 3] + "..."
