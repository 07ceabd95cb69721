"""Validated rows of a large file kept on disk between the check and the write.

A file is checked completely before anything is written, but its rows need not all be in
memory: each validated row waits in a temporary SQLite file (not the site's database) with the
first line and practitioner fields of its email, which later rows of that email are checked
against. The writer then reads the rows back one email at a time, in the order of each email's
first line. Memory stays the same whatever the size of the file.
"""

from __future__ import annotations

import os
import pickle
import sqlite3
import tempfile
from collections.abc import Iterator

from directory.csv_io.parser import ParsedRow, check_same_practitioner, practitioner_values

# Rows written to the spool in one statement.
SPOOL_BATCH = 1000


class RowSpool:
    """Validated rows on disk, grouped by email; use it as a context manager (the file is removed)."""

    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="csv-import-")
        self._db = sqlite3.connect(os.path.join(self._dir.name, "rows.sqlite"))
        self._db.executescript(
            """
            PRAGMA journal_mode = OFF;
            PRAGMA synchronous = OFF;
            PRAGMA temp_store = FILE;
            CREATE TABLE firsts (email TEXT PRIMARY KEY, line INTEGER NOT NULL, fields BLOB NOT NULL);
            CREATE TABLE rows (first_line INTEGER NOT NULL, line INTEGER NOT NULL, email TEXT NOT NULL,
                               row BLOB NOT NULL);
            """
        )
        self._pending: list[tuple[int, int, str, bytes]] = []
        self.rows = 0

    def __enter__(self) -> RowSpool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Remove the temporary file."""
        self._db.close()
        self._dir.cleanup()

    def add(self, row: ParsedRow) -> None:
        """Keep a validated row; CsvImportError when it disagrees with its email's first row."""
        found = self._db.execute("SELECT line, fields FROM firsts WHERE email = ?", (row.email,)).fetchone()
        first = None if found is None else (found[0], pickle.loads(found[1]))  # noqa: S301 (our own file)
        check_same_practitioner(row, first)
        if first is None:
            first = (row.line, practitioner_values(row))
            self._db.execute("INSERT INTO firsts VALUES (?, ?, ?)", (row.email, row.line, pickle.dumps(first[1])))
        self._pending.append((first[0], row.line, row.email, pickle.dumps(row, pickle.HIGHEST_PROTOCOL)))
        self.rows += 1
        if len(self._pending) >= SPOOL_BATCH:
            self._flush()

    def _flush(self) -> None:
        self._db.executemany("INSERT INTO rows VALUES (?, ?, ?, ?)", self._pending)
        self._pending.clear()

    def groups(self) -> Iterator[tuple[str, list[ParsedRow]]]:
        """(email, its rows in file order), emails in the order of their first line."""
        self._flush()
        email, group = None, []
        for row_email, blob in self._db.execute("SELECT email, row FROM rows ORDER BY first_line, line"):
            if row_email != email and group:
                yield email, group
                group = []
            email = row_email
            group.append(pickle.loads(blob))  # noqa: S301 (written above, in a private temporary directory)
        if group:
            yield email, group
