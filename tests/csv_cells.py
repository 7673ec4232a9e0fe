"""Read a CSV download as a spreadsheet would: any delimiter, with or without a BOM.

Tests that check what a cell holds use this instead of comparing bytes, so they
keep testing the same thing when the file's dialect changes (a semicolon and a
BOM for Dutch Excel, say).
"""

from __future__ import annotations

import csv
import io


def csv_rows(content: bytes | str) -> list[list[str]]:
    """The rows of a CSV file; the delimiter is sniffed from its first lines.

    Only the delimiter: the Sniffer misjudges doubled quotes (`""` inside a quoted
    cell) on small samples, and every writer here doubles them as Excel does.
    """
    text = content.decode("utf-8") if isinstance(content, bytes) else content
    text = text.removeprefix("\ufeff")
    delimiter = csv.Sniffer().sniff(text[:4096], delimiters=",;\t").delimiter
    return list(csv.reader(io.StringIO(text, newline=""), "excel", delimiter=delimiter))


def response_bytes(response) -> bytes:
    """The body of a (streaming) response as bytes."""
    if not response.streaming:
        return response.content
    return b"".join(
        piece if isinstance(piece, bytes) else piece.encode()
        for piece in response.streaming_content
    )
