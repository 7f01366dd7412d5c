"""Raster matrices in PDF without cairo re-encoding them.

cairo writes an embedded image as RGB and deflates it at zlib's default effort: for a
4096 x 4096 matrix that is 50 MB compressed in about 3 s, to describe a picture we
already hold as a compressed palette PNG. So for PDF each raster matrix goes to cairosvg
as a small placeholder image; afterwards the placeholder's image object is given the
PNG's own compressed rows (PDF reads them directly: ``/FlateDecode`` with the PNG
predictor, an ``/Indexed`` colour space from the palette). Nothing is decoded or
compressed again; the page content that places and clips the image is cairo's.

The PDF is edited with pikepdf (qpdf), imported only when a PDF holds a raster matrix.
"""

from __future__ import annotations

import io
import struct
from typing import NamedTuple

PLACEHOLDER_W = 61  # an odd size nothing else in a figure has; height 17 + k tells them apart
PLACEHOLDER_H = 17


class Jpeg(NamedTuple):
    """A photograph's JPEG file, kept as it is in the PDF (``/DCTDecode``)."""

    data: bytes
    width: int
    height: int
    grey: bool


def placeholder(k: int) -> bytes:
    """An opaque grey RGB PNG of ``PLACEHOLDER_W`` x ``PLACEHOLDER_H + k`` pixels."""
    import numpy as np

    from .png import encode

    return encode(np.full((PLACEHOLDER_H + k, PLACEHOLDER_W, 3), 0x80, dtype=np.uint8),
                  level=6)


def png_parts(png: bytes) -> tuple[int, int, bytes, bytes]:
    """(width, height, palette RGB bytes, the concatenated IDAT data) of an 8-bit,
    non-interlaced palette PNG (what :func:`svgattn.render.raster.indexed_png` writes)."""
    pos = 8
    width = height = 0
    palette = b""
    idat = []
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos:pos + 8])
        data = png[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", data)
            if (depth, colour, interlace) != (8, 3, 0):
                raise ValueError("expected an 8-bit, non-interlaced palette PNG")
        elif kind == b"PLTE":
            palette = data
        elif kind == b"IDAT":
            idat.append(data)
        pos += 12 + length
    return width, height, palette, b"".join(idat)


def substitute(pdf: bytes, images: list[bytes | Jpeg]) -> bytes | None:
    """``pdf`` with placeholder ``k`` replaced by the palette PNG ``images[k]`` (or the
    JPEG file: a photograph stays a JPEG); ``None`` when the placeholders cannot all be
    found (the caller then draws the real images)."""
    import pikepdf
    from pikepdf import Array, Dictionary, Name

    with pikepdf.open(io.BytesIO(pdf)) as doc:
        found: dict[int, pikepdf.Object] = {}
        for obj in doc.objects:
            if not isinstance(obj, pikepdf.Stream) or obj.get("/Subtype") != Name.Image:
                continue
            k = int(obj.get("/Height", 0)) - PLACEHOLDER_H
            if int(obj.get("/Width", 0)) == PLACEHOLDER_W and 0 <= k < len(images):
                if k in found:
                    return None  # drawn twice, or something else has the same size
                found[k] = obj
        if len(found) != len(images):
            return None
        for k, obj in found.items():
            image = images[k]
            if isinstance(image, Jpeg):
                obj.write(image.data, filter=Name.DCTDecode)
                obj.Width, obj.Height, obj.BitsPerComponent = image.width, image.height, 8
                obj.ColorSpace = Name.DeviceGray if image.grey else Name.DeviceRGB
                obj.Interpolate = True
                for key in ("/SMask", "/Decode", "/Mask", "/DecodeParms"):
                    if key in obj:
                        del obj[key]
                continue
            width, height, palette, idat = png_parts(image)
            obj.write(idat, filter=Name.FlateDecode, decode_parms=Dictionary(
                Predictor=15, Colors=1, BitsPerComponent=8, Columns=width))
            obj.Width, obj.Height, obj.BitsPerComponent = width, height, 8
            obj.ColorSpace = Array([Name.Indexed, Name.DeviceRGB, len(palette) // 3 - 1,
                                    pikepdf.String(palette)])
            obj.Interpolate = False
            for key in ("/SMask", "/Decode", "/Mask"):
                if key in obj:
                    del obj[key]
        out = io.BytesIO()
        # deterministic: the same figure gives the same bytes (the /ID hashes the content)
        doc.save(out, deterministic_id=True, compress_streams=False,
                 stream_decode_level=pikepdf.StreamDecodeLevel.none,
                 object_stream_mode=pikepdf.ObjectStreamMode.preserve)
        return out.getvalue()
