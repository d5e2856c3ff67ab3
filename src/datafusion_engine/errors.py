"""Errors of the workspace store and the SQL session."""

from nirs_core.errors import NirdagError


class StoreError(NirdagError):
    """The workspace cannot be used (path is a file, table missing, write rejected)."""


class QueryError(NirdagError):
    """A SQL query was refused or failed; the message is one line naming the problem."""


class QueryTooComplex(QueryError):
    """A query's text is beyond the size limits (characters, operators, set-operation branches, nesting)."""


class QueryTimeout(QueryError):
    """A query ran past its time limit."""


class ResultTooLarge(QueryError):
    """A query's result passed the row or byte limit."""


class QueryOutOfMemory(QueryError):
    """A query needed more memory than the session's memory pool."""


class NoResultsYet(QueryError):
    """A query named a result table that no run has written yet."""


class NotAWorkspace(StoreError):
    """A folder that exists is not a nirdag workspace (it has no ``tables/`` folder)."""


class CorruptBlobError(StoreError):
    """A content-addressed blob's bytes no longer hash to its name (changed on disk) or it is missing."""


class CacheError(NirdagError):
    """The node cache cannot store a value (not an array record) or was given a bad key, kind or size cap."""


class RunDeletedError(StoreError):
    """A run's row was deleted while the run was still writing: its completion is refused."""
