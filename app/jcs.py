"""The JSON Canonicalization Scheme (RFC 8785) for the JSON citycert signs: one byte string per value.

A signature over JSON is only checkable by someone else if both sides hash the same bytes, whatever
the key order or spacing of the copy they hold. RFC 8785 fixes those bytes: no whitespace; object
members sorted by their names compared as UTF-16 code units; strings with the fewest escapes (only
the quote, the backslash and the control characters, these as \\b \\t \\n \\f \\r or lowercase
\\u00xx; everything else as itself in UTF-8); numbers as ECMAScript writes them.

This implements the whole scheme for the values citycert's credentials hold: objects, arrays,
strings, integers, true, false and null. It deliberately refuses numbers with a fraction (floats):
their ECMAScript form needs the shortest round-trip rendering of a double, which our documents never
need, and a refusal is safer than a near miss that would make a signature fail elsewhere. Integers
are refused beyond 2^53 - 1 (I-JSON, RFC 7493): past it a JavaScript verifier reads another number.
Strings that are not valid Unicode (a lone surrogate, which Python's json module lets through) are
refused too, as RFC 8785 requires.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

# The largest integer every JSON reader holds exactly (an IEEE 754 double's 53-bit mantissa).
MAX_SAFE_INTEGER = 2**53 - 1

_SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


class NotCanonicalizable(ValueError):
    """A value outside the JSON this canonical form covers; the message says which and where."""


def canonical_json(value: object) -> bytes:
    """The RFC 8785 canonical form of `value` (dicts, lists, str, int, bool, None), as UTF-8."""
    parts: list[str] = []
    _write(value, parts, "$")
    text = "".join(parts)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as e:  # a lone surrogate: checked per string below, this is a backstop
        raise NotCanonicalizable(
            f"the text holds a character that is not valid Unicode ({e.reason})"
        ) from None


def _write(value: object, out: list[str], where: str) -> None:
    # bool before int: in Python True is an int, in JSON it is not a number.
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise NotCanonicalizable(
                f"{where}: the integer {value} is beyond ±(2^53 - 1), which JSON readers cannot hold exactly"
            )
        out.append(str(value))  # ECMAScript's form of an integer-valued double: its plain digits
    elif isinstance(value, float):
        raise NotCanonicalizable(
            f"{where}: the number {value!r} has a fraction; this canonical form covers integers only"
        )
    elif isinstance(value, str):
        out.append(_string(value, where))
    elif isinstance(value, Mapping):
        names = list(value)
        for name in names:
            if not isinstance(name, str):
                raise NotCanonicalizable(f"{where}: an object member is named {name!r}, not a string")
        out.append("{")
        for i, name in enumerate(sorted(names, key=_utf16_units)):
            if i:
                out.append(",")
            out.append(_string(name, where))
            out.append(":")
            _write(value[name], out, f"{where}.{name}")
        out.append("}")
    elif isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _write(item, out, f"{where}[{i}]")
        out.append("]")
    else:
        raise NotCanonicalizable(f"{where}: a {type(value).__name__} is not a JSON value")


def _utf16_units(name: str) -> bytes:
    # Big-endian UTF-16 bytes compare exactly as the code units do: RFC 8785's order of members.
    return name.encode("utf-16-be", "surrogatepass")


def _string(text: str, where: str) -> str:
    out = ['"']
    for char in text:
        code = ord(char)
        if 0xD800 <= code <= 0xDFFF:
            raise NotCanonicalizable(
                f"{where}: a string holds a lone surrogate (U+{code:04X}), not valid Unicode"
            )
        escaped = _SHORT_ESCAPES.get(char)
        if escaped is not None:
            out.append(escaped)
        elif code < 0x20:
            out.append(f"\\u{code:04x}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)
