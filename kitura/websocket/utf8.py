"""Incremental UTF-8 validation that fails fast (RFC 6455 8.1, RFC 3629).

This module owns ``Utf8Decoder``, the incremental decoder used for
fragmented text messages. It imports only the standard library.

CPython's incremental UTF-8 decoder already rejects an invalid byte as soon
as it sees it, with one exception: it keeps a pending ``ED A0..BF`` (the
start of a UTF-16 surrogate, never valid UTF-8) until the third byte
arrives, because the ``surrogatepass`` error handler needs it. ``decode``
checks for that one prefix so that a message fails with the frame that
carries the bad byte, not one frame later.
"""

from __future__ import annotations

import codecs

__all__ = ["Utf8Decoder"]

_IncrementalDecoder = codecs.getincrementaldecoder("utf-8")


class Utf8Decoder:
    """Decode UTF-8 piece by piece; raises ``UnicodeDecodeError`` at the first invalid byte."""

    __slots__ = ("_decoder",)

    def __init__(self) -> None:
        self._decoder = _IncrementalDecoder()

    def decode(self, data: bytes, final: bool = False) -> str:
        """Decode ``data``; with ``final`` an incomplete last character is an error."""
        decoder = self._decoder
        text: str = decoder.decode(data, final)
        if not final:
            pending = decoder.getstate()[0]
            if len(pending) == 2 and pending[0] == 0xED and pending[1] >= 0xA0:
                # RFC 3629 4: ED A0..BF would encode a surrogate (U+D800..U+DFFF).
                raise UnicodeDecodeError("utf-8", bytes(pending), 0, 2, "invalid continuation byte")
        return text

    def reset(self) -> None:
        """Forget any pending bytes (start of a new message)."""
        self._decoder.reset()
