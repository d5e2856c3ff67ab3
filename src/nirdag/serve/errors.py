"""Errors of the server, each with the HTTP status it answers with."""

from nirs_core.errors import NirdagError


class ServeError(NirdagError):
    """The server cannot start as asked (a bad flag, a missing token, the extra not installed)."""


class RequestError(NirdagError):
    """A request the server refuses; ``status`` is its HTTP status, the message its one-line reason."""

    status = 400


class NotFound(RequestError):
    """An unknown run, chain, bundle, figure or page."""

    status = 404


class Unauthorized(RequestError):
    """No bearer token, or not the server's."""

    status = 401


class Conflict(RequestError):
    """What the request names exists but cannot be shown in its state (a run that is not completed)."""

    status = 409


class NotAcceptable(RequestError):
    """The ``Accept`` header names no media type the endpoint answers in."""

    status = 406


class PayloadTooLarge(RequestError):
    """A request body over the server's size limit."""

    status = 413


class UnsupportedMediaType(RequestError):
    """A request body of a media type the endpoint does not read."""

    status = 415


class Unavailable(RequestError):
    """What the server needs for this answer is missing on its machine (e.g. Graphviz's ``dot`` for a DAG)."""

    status = 503
