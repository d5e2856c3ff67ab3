"""Errors of the workspace store and the SQL session."""

from nirs_core.errors import NirdagError


class StoreError(NirdagError):
    """The workspace cannot be used (path is a file, table missing, write rejected)."""


class QueryError(NirdagError):
    """A SQL query was refused or failed; the message is one line naming the problem."""


class CorruptBlobError(StoreError):
    """A content-addressed blob's bytes no longer hash to its name (changed on disk) or it is missing."""


class CacheError(NirdagError):
    """The node cache cannot store a value (not an array record) or was given a bad key, kind or size cap."""


class RunDeletedError(StoreError):
    """A run's row was deleted while the run was still writing: its completion is refused."""
