"""Pictures under attention maps: untrusted image files read safely, and the photo a figure
embeds.

An image file is untrusted input. It is opened with Pillow, restricted to common raster
formats, and its size read from the header is checked against the ``megapixels`` limit
before a pixel is decoded (a decompression bomb of a few kilobytes can claim billions of
pixels). Any decoding failure is a one-line error. EXIF orientation is applied; 16-bit,
palette, grey, alpha and CMYK images become 8-bit RGB. A JPEG that needs none of that keeps
its own bytes, so it is embedded (in the SVG, and in the PDF as ``/DCTDecode``) as the
photographer's file, not re-encoded.
"""

from __future__ import annotations

import io
import os
import warnings
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from .errors import SpecError, quote_path
from .files import open_regular
from .limits import current

FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP", "TIFF")  # the Pillow plug-ins ever tried
JPEG_QUALITY = 92  # a resampled JPEG is saved again at this quality (4:4:4)


@dataclass(frozen=True, eq=False)
class Photo:
    """An 8-bit RGB picture, ``pixels[y, x, channel]`` (read-only); ``jpeg``: the original
    file's bytes when they show exactly ``pixels`` (a baseline RGB or grey JPEG, upright)."""

    pixels: np.ndarray
    name: str = "image"
    jpeg: bytes | None = None
    lossy: bool = False  # a photograph (from a JPEG): resampled, it is saved as JPEG again

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        return int(self.pixels.shape[1]), int(self.pixels.shape[0])

    def cropped(self, left: float, top: float, right: float, bottom: float) -> Photo:
        """The part of the picture a model saw (a processor's centre crop), whole pixels."""
        w, h = self.size
        box = (max(0, round(left)), max(0, round(top)), min(w, round(right)),
               min(h, round(bottom)))
        if box == (0, 0, w, h):
            return self
        return replace(self, pixels=_frozen(self.pixels[box[1]:box[3], box[0]:box[2]]),
                       jpeg=None, lossy=self.lossy or self.jpeg is not None)

    def encoded(self, width: int, height: int) -> tuple[str, bytes]:
        """(MIME type, file bytes) of the picture at most ``width`` x ``height`` pixels
        (never enlarged): the original JPEG when it is small enough, else resampled
        (Lanczos) and saved as JPEG (a photo) or PNG (a picture given losslessly)."""
        from PIL import Image

        w, h = self.size
        if width >= w and height >= h:
            if self.jpeg is not None:
                return "image/jpeg", self.jpeg
            image = Image.fromarray(self.pixels, "RGB")
        else:
            factor = min(width / w, height / h)
            image = Image.fromarray(self.pixels, "RGB").resize(
                (max(1, round(w * factor)), max(1, round(h * factor))), Image.Resampling.LANCZOS)
        out = io.BytesIO()
        if self.jpeg is not None or self.lossy:
            image.save(out, "JPEG", quality=JPEG_QUALITY, subsampling=0, optimize=True)
            return "image/jpeg", out.getvalue()
        image.save(out, "PNG", optimize=True)
        return "image/png", out.getvalue()


def _frozen(pixels: np.ndarray) -> np.ndarray:
    out = np.ascontiguousarray(pixels, dtype=np.uint8)
    out.setflags(write=False)
    return out


def from_pixels(value: Any, where: str = "image") -> Photo:
    """A photo from an array ``[H, W, 3]`` (or ``[H, W]`` grey, ``[H, W, 4]`` with alpha
    composited over white) of uint8, or of floats in 0..1."""
    from .numeric import to_numpy

    if hasattr(value, "convert") and hasattr(value, "size"):  # a PIL image already open
        return _from_pil(value, where, None)
    array = np.asarray(value) if isinstance(value, np.ndarray) and value.dtype == np.uint8 \
        else to_numpy(value, where)
    if array.ndim == 2:
        array = array[..., None].repeat(3, axis=2)
    if array.ndim != 3 or array.shape[2] not in (3, 4) or 0 in array.shape[:2]:
        raise SpecError(f"{where}: shape {tuple(array.shape)} is not a picture; give uint8 "
                        "pixels [height, width, 3] (RGB)")
    _check_pixels(array.shape[1], array.shape[0], where)
    if array.dtype != np.uint8:
        if not np.all(np.isfinite(array)) or array.min() < 0 or array.max() > 1:
            raise SpecError(f"{where}: float pixels must lie in 0..1; give uint8 RGB (0..255) "
                            "or floats in 0..1")
        array = np.round(array * 255).astype(np.uint8)
    if array.shape[2] == 4:
        alpha = array[..., 3:].astype(np.float32) / 255
        array = np.round(array[..., :3] * alpha + 255 * (1 - alpha)).astype(np.uint8)
    return Photo(_frozen(array), where)


def _check_pixels(width: int, height: int, where: str) -> None:
    most = current().megapixels
    if width * height > most * 1e6:
        raise SpecError(f"{where}: {width} x {height} pixels ({width * height / 1e6:.0f} "
                        f"megapixels) exceed the limit of {most:g}; resize the image, or "
                        f"{current().describe('megapixels')}")


def read_image(path: str | os.PathLike[str]) -> Photo:
    """Read an image file safely (PNG, JPEG, WebP, GIF, BMP, TIFF): its header first, the
    ``megapixels`` limit before decoding, any damage a one-line error."""
    path = Path(path)
    where = quote_path(path.name, 60)
    with open_regular(path, "image") as fh:  # within the file_mb limit
        data = fh.read(int(current().file_mb * 2**20) + 1)
    return read_image_bytes(data, where)


def read_image_bytes(data: bytes, where: str = "image") -> Photo:
    """:func:`read_image` of a file's bytes."""
    from PIL import Image

    try:
        with warnings.catch_warnings():
            # the size check is ours (below), against the megapixels limit; Pillow's own
            # bomb check would warn, or stop at its own threshold, first
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            saved, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
            try:
                image = Image.open(io.BytesIO(data), formats=list(FORMATS))
            finally:
                Image.MAX_IMAGE_PIXELS = saved
            _check_pixels(image.size[0], image.size[1], where)
            if getattr(image, "n_frames", 1) > 1:
                image.seek(0)  # an animation or multi-page file: its first picture
            return _from_pil(image, where, data)
    except SpecError:
        raise
    except Image.UnidentifiedImageError:
        raise SpecError(f"{where}: not an image Pillow can read as {', '.join(FORMATS)}; save "
                        "it as PNG or JPEG") from None
    except Exception as exc:  # a damaged file can fail in any plug-in, in many ways
        raise SpecError(f"{where}: the image is damaged or truncated "
                        f"({type(exc).__name__}: {str(exc)[:80]}); save it again") from None


def _from_pil(image: Any, where: str, data: bytes | None) -> Photo:
    """8-bit RGB pixels of an open PIL image, EXIF orientation applied; the JPEG's own
    bytes kept when they are exactly those pixels."""
    from PIL import ImageOps

    orientation = image.getexif().get(0x0112, 1) if hasattr(image, "getexif") else 1
    lossy = image.format == "JPEG"
    keep = data is not None and lossy and image.mode in ("RGB", "L") and \
        orientation in (1, None)
    image.load()
    image = ImageOps.exif_transpose(image)
    mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        # 16-bit grey (and 32-bit): scaled to 8 bits, never clipped
        a = np.asarray(image, dtype=np.float64)
        lo, hi = (0.0, 65535.0) if mode.startswith("I;16") else \
            (float(a.min()), max(float(a.max()), float(a.min()) + 1e-12))
        pixels = np.clip((a - lo) / (hi - lo) * 255 + 0.5, 0, 255).astype(np.uint8)
        return Photo(_frozen(pixels[..., None].repeat(3, axis=2)), where, lossy=lossy)
    if mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    if image.mode in ("LA", "PA", "La", "RGBa") or \
            (image.mode in ("L", "RGB") and "transparency" in image.info):
        image = image.convert("RGBA")
    if image.mode == "RGBA":
        from PIL import Image

        back = Image.new("RGB", image.size, (255, 255, 255))
        back.paste(image, mask=image.getchannel("A"))
        image = back
    pixels = np.asarray(image.convert("RGB"), dtype=np.uint8)
    kept = stripped_jpeg(data) if keep and data is not None else None
    return Photo(_frozen(pixels), where, kept, lossy)


# JPEG segments that describe how to decode the picture (JFIF, ICC profile, Adobe's colour
# transform); every other APPn (EXIF with GPS, XMP, maker notes), comments, and bytes after
# the image are the file's metadata, not the picture: an embedded copy leaves them out
_KEEP_APP = {0xE0, 0xE2, 0xEE}


def stripped_jpeg(data: bytes) -> bytes | None:
    """The JPEG ``data`` without its metadata segments and trailing bytes, losslessly (the
    entropy-coded picture is copied as it is); ``None`` when its structure is not the
    plain one this reads (the caller re-encodes the pixels instead)."""
    if data[:2] != b"\xff\xd8":
        return None
    out = bytearray(b"\xff\xd8")
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        length = int.from_bytes(data[pos + 2:pos + 4], "big")
        if length < 2 or pos + 2 + length > len(data):
            return None
        segment = data[pos:pos + 2 + length]
        if marker == 0xDA:  # start of scan: the picture runs to the last end-of-image
            end = data.rfind(b"\xff\xd9")
            if end < pos:
                return None
            return bytes(out + data[pos:end + 2])
        if not (0xE0 <= marker <= 0xEF or marker == 0xFE) or marker in _KEEP_APP:
            out += segment
        pos += 2 + length
    return None
