# Copyright (c) 2026, natloop.lan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Go behaviours AdGuard Home shows on the wire (stand-in for tests, NOT the real
AdGuard Home): ``encoding/json`` decoding quirks and error texts, JSON encoding, and
``time.Duration`` formatting."""

import ipaddress
import json


class GoDecodeError(Exception):
    """Text of the error Go's ``json.Decoder.Decode`` would return."""


def go_json(obj):
    """``json.NewEncoder(w).Encode(obj)``: compact, HTML-escaped, newline-terminated."""
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                          ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, escaped)
    return (text + "\n").encode("utf-8")


def _fraction(value):
    return ("%.9f" % value).rstrip("0").rstrip(".")


def go_duration(seconds):
    """``time.Duration.String()`` for ``seconds`` (e.g. 899.5 -> "14m59.5s")."""
    nanos = int(round(seconds * 1e9))
    if nanos == 0:
        return "0s"
    sign = "-" if nanos < 0 else ""
    nanos = abs(nanos)
    if nanos < 1000:
        return "%s%dns" % (sign, nanos)
    if nanos < 1000000:
        return "%s%s\u00b5s" % (sign, _fraction(nanos / 1e3))
    if nanos < 1000000000:
        return "%s%sms" % (sign, _fraction(nanos / 1e6))
    hours, rest = divmod(nanos, 3600 * 10 ** 9)
    minutes, rest = divmod(rest, 60 * 10 ** 9)
    text = sign
    if hours:
        text += "%dh" % hours
    if hours or minutes:
        text += "%dm" % minutes
    return text + _fraction(rest / 1e9) + "s"


# Field kinds understood by go_decode.
STRING, BOOL, OPT_BOOL, INT, UINT, STRINGS, ADDR, ANY = ("string", "bool", "*bool", "int", "uint",
                                                         "[]string", "netip.Addr", "any")


class Struct:
    """Schema of a Go struct: ``Struct("loginJSON", name=STRING, password=STRING)``."""

    def __init__(self, type_name, **fields):
        self.type_name = type_name
        self.fields = fields


def _json_kind(value):
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _type_error(value, where, go_type, literal=False):
    kind = _json_kind(value)
    if literal and kind == "number":
        kind = "number %s" % json.dumps(value)
    if where:
        return GoDecodeError("json: cannot unmarshal %s into Go struct field %s of type %s" % (kind, where, go_type))
    return GoDecodeError("json: cannot unmarshal %s into Go value of type %s" % (kind, go_type))


def _convert(value, kind, where):
    if isinstance(kind, Struct):
        return _convert_struct(value, kind, where)
    if value is None:
        return None
    if kind == ANY:
        return value
    if kind == STRING:
        if not isinstance(value, str):
            raise _type_error(value, where, "string")
        return value
    if kind in (BOOL, OPT_BOOL):
        if not isinstance(value, bool):
            raise _type_error(value, where, "bool")
        return value
    if kind in (INT, UINT):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _type_error(value, where, kind)
        if isinstance(value, float) or (kind == UINT and value < 0):
            raise _type_error(value, where, kind, literal=True)
        return value
    if kind == STRINGS:
        if not isinstance(value, list):
            raise _type_error(value, where, "[]string")
        return [_convert(item, STRING, where) for item in value]
    if kind == ADDR:
        if not isinstance(value, str):
            raise _type_error(value, where, "netip.Addr")
        if value == "":
            return ""
        try:
            return str(ipaddress.ip_address(value))
        except ValueError:
            raise GoDecodeError('ParseAddr(%s): unable to parse IP' % json.dumps(value)) from None
    raise ValueError("unknown kind %r" % (kind,))


def _convert_struct(value, schema, where):
    result = {name: None for name in schema.fields}
    if value is None:
        return result
    if not isinstance(value, dict):
        raise _type_error(value, where, schema.type_name)
    for key, item in value.items():
        field = key if key in schema.fields else next(
            (name for name in schema.fields if name.lower() == key.lower()), None)
        if field is None:
            continue
        inner = ("%s.%s" % (where, field)) if where else ("%s.%s" % (schema.type_name, field))
        result[field] = _convert(item, schema.fields[field], inner)
    return result


def go_decode(body, schema):
    """Decode the first JSON value of ``body`` into ``schema`` like Go's json.Decoder.

    Unknown keys are ignored, keys match case-insensitively, ``null`` leaves the zero
    value (returned as None). Raises :class:`GoDecodeError` with Go's message.
    """
    text = body.decode("utf-8", errors="replace").lstrip(" \t\r\n")
    if not text:
        raise GoDecodeError("EOF")
    try:
        value, _end = json.JSONDecoder().raw_decode(text)
    except json.JSONDecodeError as exc:
        if exc.pos >= len(text.rstrip()):
            raise GoDecodeError("unexpected EOF") from None
        raise GoDecodeError("invalid character %s looking for beginning of value"
                            % _go_char(text[exc.pos])) from None
    return _convert_struct(value, schema, "")


def _go_char(char):
    if char == "'":
        return "'\\''"
    return "'%s'" % char
