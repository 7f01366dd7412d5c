"""Make untrusted strings safe to place in XML text (escaping itself is jinja2's job)."""

from __future__ import annotations

import unicodedata

_CONTROL_PICTURES = 0x2400  # U+2400..U+241F picture the C0 controls; U+2421 pictures DEL


def visible(token: str) -> str:
    """A token label that can be seen. A token with nothing visible in it (spaces, no-break
    spaces, zero-width and direction marks, a byte-order mark) shows each character: a
    space-like one as an open box (U+2423), a control as its control picture, an invisible
    format character as its code point; the empty token shows as U+2205."""
    if token == "":
        return "\u2205"
    if token.isascii() and token.isprintable() and not token.isspace():
        return token  # the common case, in C: nothing to show or replace
    if all(unicodedata.category(ch) in _INVISIBLE for ch in token):
        return "".join(_show(ch) for ch in token)
    return token  # characters XML forbids are shown as stand-ins where text is drawn


_INVISIBLE = {"Zs", "Zl", "Zp", "Cf", "Cc"}


def _show(ch: str) -> str:
    kind = unicodedata.category(ch)
    if kind == "Zs":
        return "\u2423"
    if kind == "Cf":
        return f"<U+{ord(ch):04X}>"
    return xml_safe(ch)


def xml_safe(text: str) -> str:
    """Replace characters XML 1.0 forbids with visible stand-ins.

    Escaping cannot fix these (NUL, ESC, lone surrogates, U+FFFE): they break every
    parser, so they become Unicode control pictures or U+FFFD instead; so do the other
    noncharacters (U+FDD0..U+FDEF, U+1FFFE ...), which cairo rejects as invalid UTF-8.
    """
    if text.isascii() and text.isprintable():
        return text
    out = []
    for ch in text:
        code = ord(ch)
        if code < 0x20:  # tabs and newlines too: a label is one line
            out.append(chr(_CONTROL_PICTURES + code))
        elif code == 0x7F:
            out.append("\u2421")
        elif 0xD800 <= code <= 0xDFFF or 0xFDD0 <= code <= 0xFDEF or code & 0xFFFE == 0xFFFE:
            out.append("\ufffd")  # surrogates and noncharacters: cairo refuses them as UTF-8
        elif code in (0x2028, 0x2029):  # line/paragraph separators: a label is one line
            out.append("\u2424")
        else:
            out.append(ch)
    return "".join(out)
