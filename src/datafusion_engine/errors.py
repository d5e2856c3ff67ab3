"""Errors of the workspace store and the SQL session."""

from nirdag.errors import NirdagError


class StoreError(NirdagError):
    """The workspace cannot be used (path is a file, table missing, write rejected)."""


class QueryError(NirdagError):
    """A SQL query was refused or failed; the message is one line naming the problem."""


class CorruptBlobError(StoreError):
    """A content-addressed blob's bytes no longer hash to its name (changed on disk) or it is missing."""
