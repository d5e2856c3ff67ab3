"""Base error of nirdag: every typed error of every layer derives from it."""


class NirdagError(Exception):
    """Base class of the errors nirdag raises on purpose (bad input, bad spec, bad workspace)."""
