"""The one CSV reader behind both file imports (acceptance requirements, sanctions lists):
UTF-8 text with an optional byte order mark, `;` or `,` between fields (found by csv.Sniffer in
the header line), a header line first, and every row numbered as the file's line it starts on
(`reader.line_num`, so a quoted field over several lines does not shift the numbers)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass


class CsvError(ValueError):
    """A file that cannot be read as CSV; the message is Swedish and names the line."""

    def __init__(self, line: int, message: str):
        super().__init__(f"rad {line}: {message}")
        self.line = line
        self.message = message


@dataclass(frozen=True)
class Row:
    line: int  # the line of the file the row starts on
    fields: list[str]


def _delimiter(header_line: str) -> str:
    try:
        return csv.Sniffer().sniff(header_line, delimiters=";,").delimiter
    except csv.Error:  # one column: no delimiter to find
        return ","


def csv_rows(text: str) -> tuple[Row, Iterator[Row]]:
    """The header row and an iterator over the other non-blank rows, each as wide as the
    header. Raises CsvError (naming the line) for an empty file, malformed CSV, or a row with
    another number of fields than the header."""
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise CsvError(1, "filen är tom; en rubrikrad krävs")
    reader = csv.reader(
        io.StringIO(text, newline=""), delimiter=_delimiter(text.splitlines()[0]), strict=True
    )
    try:
        header = Row(1, next(reader))
    except csv.Error as exc:
        raise CsvError(reader.line_num or 1, f"felaktig CSV ({exc})") from None
    return header, _rows(reader, len(header.fields))


def _rows(reader: Iterator[list[str]], width: int) -> Iterator[Row]:
    line = 1
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise CsvError(getattr(reader, "line_num", line), f"felaktig CSV ({exc})") from None
        line = getattr(reader, "line_num", line)
        if not any(f.strip() for f in fields):
            continue  # a blank line
        if len(fields) != width:
            raise CsvError(line, f"raden har {len(fields)} fält men rubrikraden har {width}")
        yield Row(line, fields)
