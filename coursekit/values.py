"""Results as plain JSON data, and their comparison as numbers.

A check in the student's kernel turns whatever a graded function returned
into JSON (`encode`); the grader compares that data with the reference's
(`compare`) in its own process.  Only data crosses between the two, so an
ndarray subclass whose comparisons lie, or a patched `np.allclose` in the
kernel, has no say in the verdict.
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
        return _short(str(data.get("repr", "?")), limit)
    except Exception:
        return "(unreadable)"


def _compare(got, expected, rtol, atol):
    kind = expected["type"]
    if got.get("type") == "none" and kind != "none":
        return "it returned None; is a `return` statement missing?"
    if kind == "none":
        return None if got.get("type") == "none" else f"expected None, got {describe(got)}"
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


def _to_array(data):
    shape = tuple(int(n) for n in data["shape"])
    values = [float(x) for x in data["data"]]  # float("nan") reads repr()'d values
    if math.prod(shape) != len(values):
        raise ValueError("shape and data disagree")
    return np.array(values, dtype=float).reshape(shape)


def _short(text, limit=200):
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 3] + "..."
