"""The PEP 249 exception hierarchy.

Every error pycql raises is one of these classes::

    Warning
    Error
     +-- InterfaceError
     +-- DatabaseError
          +-- DataError
          +-- OperationalError
          +-- IntegrityError
          +-- InternalError
          +-- ProgrammingError
          +-- NotSupportedError

CQL errors are :class:`ProgrammingError` and carry the position of the problem
in the user's own text:

>>> err = ProgrammingError("Unknown stream 'X'", line=1, column=15, sql="SELECT * FROM X")
>>> print(err)
Unknown stream 'X' at line 1, column 15
SELECT * FROM X
              ^
"""

from __future__ import annotations


class Warning(Exception):  # the name is fixed by PEP 249
    """Important warnings, such as data truncation."""


class Error(Exception):
    """Base class of every pycql error."""


class InterfaceError(Error):
    """An error of the driver itself rather than of the query engine."""


class DatabaseError(Error):
    """An error of the query engine."""


class DataError(DatabaseError):
    """Bad data: a value out of range, a division by zero, a bad cast."""


class OperationalError(DatabaseError):
    """The engine could not do its work: a broker is down, a timeout passed."""


class IntegrityError(DatabaseError):
    """A constraint was violated (for example a duplicate primary key)."""


class InternalError(DatabaseError):
    """pycql itself is in a state it should never be in."""


class _Positioned(DatabaseError):
    """An error about a spot of the user's CQL text (not part of PEP 249's hierarchy).

    ``line`` and ``column`` are 1-based positions in ``sql``, the text the user
    passed; the message then shows that line with a caret under the spot.
    """

    def __init__(
        self,
        message: str,
        *,
        line: int | None = None,
        column: int | None = None,
        end_line: int | None = None,
        end_column: int | None = None,
        sql: str | None = None,
    ) -> None:
        self.message = message
        self.line = line
        self.column = column
        self.end_line = end_line
        self.end_column = end_column
        self.sql = sql
        super().__init__(self._render())

    def _render(self) -> str:
        if self.line is None or self.column is None:
            return self.message
        text = f"{self.message} at line {self.line}, column {self.column}"
        if self.sql is not None:
            lines = self.sql.splitlines() or [""]
            if 1 <= self.line <= len(lines):
                source = lines[self.line - 1]
                width = 1
                if self.end_line == self.line and self.end_column is not None:
                    width = max(1, self.end_column - self.column + 1)
                text += "\n" + source + "\n" + " " * (self.column - 1) + "^" * width
        return text


class ProgrammingError(_Positioned):
    """A CQL error: bad syntax, an unknown name, a type mismatch, a misuse of the API.

    ``line`` and ``column`` are 1-based positions in ``sql``, the text the user
    passed; the message then shows that line with a caret under the spot.
    """


class NotSupportedError(_Positioned):
    """A feature pycql does not support (yet).

    Like :class:`ProgrammingError`, it carries the position of the construct in the
    user's text when the planner knows it (``line``, ``column``, ...).
    """


__all__ = [
    "DataError",
    "DatabaseError",
    "Error",
    "IntegrityError",
    "InterfaceError",
    "InternalError",
    "NotSupportedError",
    "OperationalError",
    "ProgrammingError",
    "Warning",
]
