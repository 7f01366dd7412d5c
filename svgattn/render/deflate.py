"""zlib streams compressed on every core (PNG IDAT data of long-sequence matrices and of
300 dpi figures).

Deflating 16 MB of matrix pixels takes most of a second on one core. The data is cut into
fixed 512 KB pieces, each deflated on its own (zlib releases the GIL, so threads run in
parallel) and ended with a sync flush, which ends on a byte boundary; the raw pieces,
concatenated between one zlib header and the Adler-32 of the whole, are one valid stream
(what pigz does). Pieces do not depend on the number of threads: the output is the same
bytes on any machine.
"""

from __future__ import annotations

import struct
import zlib
from concurrent.futures import ThreadPoolExecutor

from ..resources import cpus

PIECE = 1 << 19  # bytes per independently deflated piece
PARALLEL_FROM = 2 * PIECE  # smaller inputs: one plain zlib.compress


def _piece(data: memoryview, level: int, last: bool) -> bytes:
    deflate = zlib.compressobj(level, zlib.DEFLATED, -15)  # raw deflate: no header
    return deflate.compress(data) + deflate.flush(zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH)


def compress(data: bytes | memoryview, level: int) -> bytes:
    """A zlib stream of ``data`` (as ``zlib.compress(data, level)`` reads it back)."""
    if len(data) < PARALLEL_FROM:
        return zlib.compress(data, level)
    view = memoryview(data)
    starts = range(0, len(data), PIECE)
    workers = min(len(starts), cpus())
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pieces = list(pool.map(lambda s: _piece(view[s:s + PIECE], level,
                                                s + PIECE >= len(data)), starts))
    header = b"\x78\x01" if level <= 1 else b"\x78\x5e" if level <= 5 else b"\x78\x9c"
    return header + b"".join(pieces) + struct.pack(">I", zlib.adler32(data))
