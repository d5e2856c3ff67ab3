"""Make Hamilton node functions at run time: a name, keyword-only inputs named after upstream nodes, a body."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

from hamilton.function_modifiers import tag


def make_node(
    name: str, inputs: Mapping[str, type], returns: type, body: Callable[..., Any], doc: str,
    display: str | None = None, tags: Mapping[str, str] | None = None,
) -> Callable[..., Any]:
    """A function Hamilton reads as node ``name`` with upstream nodes ``inputs`` (name -> type).

    ``body`` is called with the inputs as keyword arguments; it must not mutate them. ``display`` is the label DAG
    pictures show (Hamilton's ``display_name`` tag) instead of the name; ``tags`` are further Hamilton tags
    (e.g. the cache kind and key that lifecycle adapters read).
    """

    def node(**kwargs: Any) -> Any:
        return body(**kwargs)

    node.__name__ = name
    node.__qualname__ = name
    node.__doc__ = doc
    node.__signature__ = inspect.Signature(
        [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, annotation=t) for n, t in inputs.items()],
        return_annotation=returns,
    )
    node.__annotations__ = {**inputs, "return": returns}
    all_tags = {**({"display_name": display} if display else {}), **(tags or {})}
    return tag(**all_tags)(node) if all_tags else node
