"""Make untrusted strings safe to place in XML text (escaping itself is jinja2's job)."""

from __future__ import annotations

_CONTROL_PICTURES = 0x2400  # U+2400..U+241F picture the C0 controls; U+2421 pictures DEL


def visible(token: str) -> str:
    """A token label that can be seen: whitespace-only tokens become open boxes (U+2423),
    one per character, so a space, a tab and two spaces stay distinguishable."""
    if token and not token.strip():
        return "".join("\u2423" if ch == " " else xml_safe(ch) for ch in token)
    return xml_safe(token)


def xml_safe(text: str) -> str:
    """Replace characters XML 1.0 forbids with visible stand-ins.

    Escaping cannot fix these (NUL, ESC, lone surrogates, U+FFFE): they break every
    parser, so they become Unicode control pictures or U+FFFD instead.
    """
    out = []
    for ch in text:
        code = ord(ch)
        if code < 0x20:  # tabs and newlines too: a label is one line
            out.append(chr(_CONTROL_PICTURES + code))
        elif code == 0x7F:
            out.append("\u2421")
        elif 0xD800 <= code <= 0xDFFF or code in (0xFFFE, 0xFFFF):
            out.append("\ufffd")
        else:
            out.append(ch)
    return "".join(out)
