"""The `nirdag calibration` verb: the measured history of a workspace's runs and what the calibrator proposes now
(registered on the `nirdag` app by nirdag.cli)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich.console import Console

from nirdag.cli_storage import WorkspaceOpt

if TYPE_CHECKING:
    from relspec.calibration import PolicyCalibration
    from relspec.what_if import WhatIfEstimate, WhatIfVerification

_out = Console(width=None if sys.stdout.isatty() else 160)

Format = Literal["table", "json"]

calibration_app = typer.Typer(help="The measured history of the runs and the policy calibration's proposals.",
                              invoke_without_command=True, no_args_is_help=False, rich_markup_mode=None)


def calibration_lines(calibration: PolicyCalibration | None) -> list[str]:
    """What ``nirdag run`` says of its calibration on stderr: its warnings and each change it applied."""
    if calibration is None:
        return []
    lines = [f"warning: calibration: {w}" for w in calibration.warnings]
    lines += [f"calibration: {'reverted' if k.revert else 'applied'} {k.knob} {k.current} -> {k.proposed} "
              f"({k.reason})" for k in calibration.applied]
    return lines


@calibration_app.callback()
def calibration(
    ctx: typer.Context,
    workspace: WorkspaceOpt = Path("workspace"),
    fmt: Annotated[Format, typer.Option("--format", "-f", help="table or json.")] = "table",
) -> None:
    """Print each completed run's measured figures (executor, start-up, engine and wall seconds, peak RSS,
    calibration mode and applied knobs), what each calibrated run's views scanned (session settings, seconds, files
    and rows, pushed filters) and, per workload class, what the calibrator proposes for the next run."""
    if ctx.invoked_subcommand is not None:
        return
    import msgspec
    import pyarrow as pa
    import pyarrow.compute as pc

    from datafusion_engine import Workspace
    from nirdag.output import render
    from nirdag.run_calibration import VIEW_COLUMNS, history_table, recommendations

    handle = Workspace.of(workspace)
    history, proposed = history_table(handle), recommendations(handle)
    if fmt == "json":
        _out.file.write(json.dumps({"history": history.to_pylist(),
                                    "recommendations": [msgspec.to_builtins(c) for c in proposed]}) + "\n")
        return
    views = [c for c in VIEW_COLUMNS if c in history.column_names]
    render(history.drop_columns(views), "table", _out, title="runs measured (oldest first)")
    measured = history.select(["run_id", *views])
    if measured.num_rows and "view_seconds" in views:
        measured = measured.filter(pc.is_valid(measured.column("view_seconds")))
        if measured.num_rows:
            render(measured, "table", _out, title="what each calibrated run's views scanned")
    rows = [{"workload_class": c.workload_key, "knob": k.knob, "current": str(k.current),
             "proposed": str(k.proposed), "status": k.status, "confidence": k.confidence, "reason": k.reason}
            for c in proposed for k in c.knobs]
    if rows:
        render(pa.Table.from_pylist(rows), "table", _out, title="proposals for the next run of each class")
    else:
        _out.print("no measured runs yet: run a pipeline into this workspace first", markup=False)


@calibration_app.command("what-if")
def what_if(
    run: Annotated[str, typer.Argument(help="Run id, a unique prefix of one, or 'latest'.")],
    changes: Annotated[str, typer.Option("--set", help="The policy to estimate, e.g. "
                                                       "executor=processes,workers=2,cache=off (knobs: executor, "
                                                       "workers, cache).")],
    workspace: WorkspaceOpt = Path("workspace"),
    fmt: Annotated[Format, typer.Option("--format", "-f", help="table or json.")] = "table",
    verify: Annotated[bool, typer.Option("--verify", help="Also run it (a new run of the stored spec and data "
                                                          "under the asked policy) and record estimate against "
                                                          "measured as its what_if_verification.json.")] = False,
) -> None:
    """Estimate a recorded run's engine seconds under another executor, worker count or cache setting, from what
    the run measured (nothing is run unless --verify)."""
    import msgspec

    from datafusion_engine import Workspace
    from nirdag.run_calibration import what_if as estimate_what_if
    from nirdag.sql import resolve_run

    handle = Workspace.of(workspace)
    result = estimate_what_if(handle, resolve_run(handle, run), changes)
    checked = verify_estimate(workspace, result) if verify else None
    if fmt == "json":
        _out.file.write(msgspec.json.encode(checked if checked is not None else result).decode() + "\n")
        return
    r, a = result.recorded, result.asked
    _out.print(f"run {result.run_id}: {r.executor} x{r.workers}, cache {'on' if r.cache else 'off'}: "
               f"{result.recorded_engine_seconds:.3f} s measured", markup=False)
    _out.print(f"as {a.executor} x{a.workers}, cache {'on' if a.cache else 'off'}: "
               f"{result.estimated_engine_seconds:.3f} s estimated (start-up {result.startup_seconds:.3f} s, nodes "
               f"{result.node_seconds:.3f} s, cache {result.cache_seconds:.3f} s, other "
               f"{result.overhead_seconds:.3f} s)", markup=False)
    for assumption in result.assumptions:
        _out.print(f"  assumed: {assumption}", markup=False)
    if checked is not None:
        _out.print(f"verified by run {checked.verified_run_id}: {checked.measured_engine_seconds:.3f} s measured "
                   f"({checked.relative_error:+.0%} off)", markup=False)


def verify_estimate(workspace: Path, estimated: WhatIfEstimate) -> WhatIfVerification:
    """Run the estimated run's stored spec and data again under the asked policy (calibration off, no reuse) and
    record how far the estimate was, as a document of the new run."""
    import nirdag
    from relspec.what_if import verification
    from semantics import queries

    stored = nirdag.Workspace(workspace)
    rebuilt = stored.run(estimated.run_id)
    row = queries.stored_run(stored.handle.session(), estimated.run_id)
    asked = estimated.asked
    new = nirdag.run(stored.run_spec(estimated.run_id), rebuilt.dataset, workspace=stored.handle,
                     seed=row["seed"], executor=asked.executor, workers=asked.workers, cache=asked.cache,
                     reuse=False, calibration="off")
    checked = verification(estimated, new.run_id, new.seconds)
    stored.handle.write_document(new.run_id, "what_if_verification.json", checked.to_json())
    return checked
