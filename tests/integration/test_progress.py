"""The progress bar adapter on real Hamilton runs, drawn on a captured (non-terminal) console."""

from __future__ import annotations

import io

from rich.console import Console

import nirdag
from datafusion_engine import Workspace
from hamilton_pipeline import FINAL_NODES, build_driver
from hamilton_pipeline.cache import NodeCache
from hamilton_pipeline.progress import RunProgress


def captured() -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    return Console(file=buffer, force_terminal=False, width=200), buffer


def run_with_progress(plan, dataset, cache: NodeCache | None) -> tuple[RunProgress, str]:
    console, buffer = captured()
    progress = RunProgress(console, plan, cache)
    adapters = [progress, *([cache] if cache else [])]
    build_driver(plan, dataset, *adapters).execute(list(FINAL_NODES))
    return progress, buffer.getvalue()


def test_progress_counts_nodes_chains_and_cache_hits(tmp_path, tecator, example_spec):
    plan = nirdag.compile(example_spec, tecator, seed=0)
    n_cacheable = len(plan.hoisted) + len(plan.groups) * len(plan.folds)
    for expected_hits in (0, n_cacheable):  # a cold cache, then a warm one
        cache = NodeCache(Workspace(tmp_path).cache(), plan.policy.cache.nodes, admission="all")
        progress, text = run_with_progress(plan, tecator, cache)
        assert progress.total_nodes > n_cacheable
        assert progress.nodes_done == progress.total_nodes
        assert progress.chains_done == progress.total_chains == len(plan.chains) == 60
        assert progress.cache_hits == expected_hits
        assert f"chains 60/60 · cache hits {expected_hits}" in text
        assert f"{progress.total_nodes}/{progress.total_nodes} nodes" in text


def test_progress_without_a_cache_counts_no_hits(tecator, example_spec):
    plan = nirdag.compile(example_spec, tecator, seed=0)
    progress, _ = run_with_progress(plan, tecator, None)
    assert progress.cache_hits == 0 and progress.chains_done == 60


def test_the_api_draws_progress_only_when_asked(tmp_path, tecator, example_spec, capsys):
    console, buffer = captured()
    nirdag.run(example_spec, tecator, workspace=tmp_path / "ws", progress=console)
    assert "chains 60/60" in buffer.getvalue()
    capsys.readouterr()
    nirdag.run(example_spec, tecator, workspace=tmp_path / "ws")  # progress=False by default
    out = capsys.readouterr()
    assert "chains" not in out.out and "chains" not in out.err
