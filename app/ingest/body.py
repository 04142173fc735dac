"""An HTTP ingest body, made safe to ingest: decompressed, and measured as it is written.

The body cap counts the bytes that will be parsed, not the bytes sent: 882 KB of gzip carried
102 MB. The body is written (decompressed when it is gzip) to a spool, a piece at a time; past
the body cap, or past the line cap within one line, it is refused before anything is stored
and without holding more than one piece in memory.
"""

from __future__ import annotations

import tempfile
import zlib
from collections.abc import AsyncIterator
from typing import IO

from app.core.errors import BadRequest, PayloadTooLarge
from app.ingest.reader import GZIP_MAGIC

#: A body up to this size stays in memory; a larger one goes to a temporary file.
SPOOL_IN_MEMORY = 8 * 1024 * 1024
#: Decompressed bytes produced per step (bounds the memory one gzip piece can take).
INFLATE_STEP = 1024 * 1024


class _Measure:
    """Counts bytes and the length of the current line across pieces."""

    def __init__(self, max_body: int, max_line: int) -> None:
        self.max_body, self.max_line = max_body, max_line
        self.size = 0
        self.line = 0  # bytes since the last newline
        self.lines = 0

    def take(self, piece: bytes) -> None:
        self.size += len(piece)
        if self.size > self.max_body:
            raise PayloadTooLarge(
                f"body exceeds the limit of {self.max_body} bytes (after decompression); "
                "nothing was stored"
            )
        last = piece.rfind(b"\n")
        if last < 0:
            self.line += len(piece)
        else:
            first = piece.find(b"\n")
            longest = max(self.line + first, _longest_inner(piece, first, last))
            if longest > self.max_line:
                self._too_long(self.lines + 1)
            self.lines += piece.count(b"\n")
            self.line = len(piece) - last - 1
        if self.line > self.max_line:
            self._too_long(self.lines + 1)

    def _too_long(self, line_no: int) -> None:
        raise PayloadTooLarge(
            f"line {line_no} is longer than the limit of {self.max_line} bytes; nothing was stored"
        )


def _longest_inner(piece: bytes, first: int, last: int) -> int:
    """The longest line that starts and ends inside ``piece`` (between its first and last
    newline); lines are short, so this only scans when a long one could be there."""
    if last - first <= 1:
        return 0
    return max((len(s) for s in piece[first + 1 : last].split(b"\n")), default=0)


async def spool_body(chunks: AsyncIterator[bytes], *, max_body: int, max_line: int) -> IO[bytes]:
    """The body as plain NDJSON in a spool positioned at its start; raises
    :class:`PayloadTooLarge` past either cap and :class:`BadRequest` for broken gzip (the
    spool is closed then)."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115
    measure = _Measure(max_body, max_line)

    def keep(data: bytes) -> None:
        measure.take(data)
        spool.write(data)

    try:
        pieces = _with_head(chunks)
        head = await anext(pieces, b"")
        if head[:2] != GZIP_MAGIC:
            keep(head)
            async for chunk in pieces:
                keep(chunk)
        else:
            inflate = zlib.decompressobj(wbits=31)
            data = head
            member_open = False  # the current member has begun and not yet ended
            while True:
                while data:
                    member_open = True
                    keep(inflate.decompress(data, INFLATE_STEP))
                    if inflate.eof:  # members may follow one another (gzip allows it)
                        data = inflate.unused_data
                        inflate = zlib.decompressobj(wbits=31)
                        member_open = False
                    else:
                        data = inflate.unconsumed_tail
                nxt = await anext(pieces, None)
                if nxt is None:
                    break
                data = nxt
            if member_open:  # a cut-off upload: its last lines would be stored as if whole
                raise BadRequest(
                    "the body is gzip but ends before its compressed stream does (truncated "
                    "upload?); nothing was stored"
                )
            spool.seek(0)
            if spool.read(2) == GZIP_MAGIC:
                # compressed twice: ingest would open the inner stream while it stores, so a
                # break in it would come after part of the body was committed
                raise BadRequest("the body is gzip inside gzip; send it compressed once")
        spool.seek(0)
        return spool
    except zlib.error as exc:
        spool.close()
        raise BadRequest(f"the body is gzip but does not decompress: {exc}") from exc
    except BaseException:
        spool.close()
        raise


async def _with_head(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """The same bytes, the first piece at least two bytes long (enough to see gzip's magic)."""
    head = b""
    async for chunk in chunks:
        if len(head) < 2:
            head += chunk
            if len(head) < 2:
                continue
            chunk, head = head, b"--"
        yield chunk
    if head and head != b"--":
        yield head
