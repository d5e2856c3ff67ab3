"""A pipeline spec read once from its source: the text as written (for provenance) and the decoded PipelineSpec."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import yaml

from nirs_core.operators.registry import DEFAULT_OPERATORS, OperatorRegistry
from relspec.errors import SpecError
from relspec.spec import PipelineSpec, decode_spec, parse_yaml


@dataclass(frozen=True)
class LoadedSpec:
    """A spec read from its source exactly once.

    ``raw`` is the spec as written (the mapping parsed from the file, or the dict given; None for a PipelineSpec
    built in Python): provenance records this, so it is the text that ran. ``spec`` is ``raw`` decoded with
    ``seed`` (None: the spec's own seed), generators expanded. ``origin`` names the source in messages.
    """

    spec: PipelineSpec
    raw: dict[str, Any] | None
    origin: str
    seed: int | None = None


SpecSource = str | Path | dict[str, Any] | PipelineSpec | LoadedSpec


def read_spec(source: SpecSource, *, seed: int | None = None,
              operators: OperatorRegistry = DEFAULT_OPERATORS) -> LoadedSpec:
    """Read and decode ``source`` (a YAML/JSON file path, a dict, a PipelineSpec or a LoadedSpec) once.

    A LoadedSpec is returned as it is unless ``seed`` asks for another seed, when its ``raw`` form is decoded again
    with that seed (the seed drives generator expansion); the file is never read a second time. ``operators`` are the
    transforms a step may name (see :func:`relspec.spec.decode_spec`).
    """
    if isinstance(source, LoadedSpec):
        if seed is None or seed == source.seed:
            return source
        return _decoded(source.raw, source.spec, source.origin, seed, operators)
    if isinstance(source, PipelineSpec):
        return _decoded(None, source, "<PipelineSpec>", seed, operators)
    if isinstance(source, dict):
        return _decoded(source, None, "<dict>", seed, operators)
    if not isinstance(source, str | Path):
        raise SpecError(f"a pipeline spec is a YAML/JSON file path, a mapping, a PipelineSpec or a LoadedSpec, got "
                        f"{type(source).__name__}")
    path = Path(source)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(f"pipeline spec file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"{path}: not a readable UTF-8 spec file ({exc})") from None
    try:
        raw = parse_yaml(text)
    except yaml.YAMLError as exc:
        raise SpecError(f"{path}: not valid YAML/JSON: {exc}") from None
    except SpecError as exc:  # e.g. a key written twice
        raise SpecError(f"{path}: {exc}") from None
    return _decoded(raw, None, str(path), seed, operators)


def load_spec(source: SpecSource, *, seed: int | None = None,
              operators: OperatorRegistry = DEFAULT_OPERATORS) -> PipelineSpec:
    """The decoded PipelineSpec of ``source`` (see :func:`read_spec`); ``seed`` overrides the spec's seed."""
    return read_spec(source, seed=seed, operators=operators).spec


def _decoded(raw: Any, built: PipelineSpec | None, origin: str, seed: int | None,
             operators: OperatorRegistry) -> LoadedSpec:
    if raw is None and built is not None:
        spec = built if seed is None else msgspec.structs.replace(built, seed=seed)
        return LoadedSpec(spec=spec, raw=None, origin=origin, seed=seed)
    try:
        spec = decode_spec(raw, seed=seed, operators=operators)
    except SpecError as exc:
        if origin.startswith("<"):
            raise
        raise SpecError(f"{origin}: {exc}") from None
    return LoadedSpec(spec=spec, raw=raw, origin=origin, seed=seed)
