"""The `nirdag` command line: run, demo, query, views, runs, dag, provenance, schema, export, predict, plot, report,
cache..."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from importlib import resources
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich.console import Console

import nirdag
from datafusion_engine.sql_limits import DEFAULT_LIMITS
from nirdag.cli_artifacts import artifacts_app
from nirdag.cli_bundle import retrain, transfer
from nirdag.cli_calibration import calibration_app, calibration_lines
from nirdag.cli_data import (
    DataOpt,
    DropOpt,
    FormatOpt,
    IdOpt,
    JoinOpt,
    KeyOpt,
    LabelOpt,
    MetadataOpt,
    NoDetectOpt,
    PartitionOpt,
    RunRef,
    SampleOpt,
    SheetOpt,
    TargetsOpt,
    flag,
    load_data,
    loader_options,
    say_findings,
)
from nirdag.cli_explain import explain
from nirdag.cli_ranked import ranked, say_choice, say_study
from nirdag.cli_report import plot, report
from nirdag.cli_serve import serve
from nirdag.cli_storage import StorageOptionOpt, WorkspaceOpt, file_location, storage_options
from nirdag.output import OutputFormat, render, render_record, write
from nirs_core.errors import NirdagError
from nirs_core.storage import parse_options
from relspec.policy import CacheAdmission, ExecutorKind

if TYPE_CHECKING:
    from nirdag.bundle import DomainReport

# Every verb imports what it needs in its body: `nirdag --help` (and the read-only verbs) start without loading
# scikit-learn, scipy, pandas, Hamilton or the storage engines they do not use (tests/integration/test_cli_imports.py).

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__, rich_markup_mode=None)


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"nirdag {version('nirdag')}\n")
        raise typer.Exit()


@app.callback()
def _main(version_: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, metavar="",
                                                 help="Print the nirdag version and exit.")] = False,
          storage_option: StorageOptionOpt = None) -> None:
    """Near-infrared spectroscopy modelling: run pipelines, query results, look at models, export, predict."""
    parse_options(tuple(storage_option or ()))  # a malformed or unknown --storage-option fails before any verb
_out = Console(width=None if sys.stdout.isatty() else 160)
_err = Console(stderr=True, soft_wrap=True)

SeedOpt = Annotated[int | None, typer.Option(help="Seed of every random choice; overrides the spec's seed.")]
TopOpt = Annotated[int, typer.Option(help="How many ranked chains to print.")]
QuietOpt = Annotated[bool, flag(
    "--quiet", "-q", help="No progress bar and no warnings (no bar either when stdout is not a terminal).")]
MIB = 1024**2
EXIT_OUTSIDE_DOMAIN = 3  # `predict --fail-on`: a prediction at or beyond the level asked
_FLAGGED_SHOWN = 10


def _say(text: str) -> None:
    """Print plain text (no markup, no wrapping: paths and hashes stay whole)."""
    _out.print(text, markup=False, highlight=False, soft_wrap=True)


def _progress(quiet: bool) -> Console | bool:
    """The console to draw a run's progress bar on: stdout when it is a terminal and not --quiet."""
    return _out if _out.is_terminal and not quiet else False


@app.command()
def run(
    spec: Annotated[Path, typer.Argument(help="Pipeline spec (YAML or JSON).")],
    workspace: WorkspaceOpt = Path("workspace"),
    seed: SeedOpt = None,
    data: DataOpt = None,
    data_format: FormatOpt = None,
    id_column: IdOpt = None,
    partition_column: PartitionOpt = None,
    targets: TargetsOpt = None,
    join_on: JoinOpt = "title",
    targets_key: KeyOpt = None,
    sheet: SheetOpt = None,
    label_targets: LabelOpt = None,
    metadata_columns: MetadataOpt = None,
    sample_column: SampleOpt = None,
    no_detect: NoDetectOpt = False,
    drop_nonfinite: DropOpt = False,
    top: TopOpt = 10,
    executor: Annotated[ExecutorKind, typer.Option(
        help="Where the nodes run: sync, threads, processes (local workers), dask (local cluster) or ray.")
    ] = "sync",
    scheduler: Annotated[str | None, typer.Option(help="With --executor dask: the address of a running Dask "
                                                  "scheduler (tcp://HOST:PORT) instead of a local cluster.")] = None,
    workers: Annotated[int | None, typer.Option(
        min=1, help="Workers of a parallel executor (default: one per CPU, capped by the DAG's width).")] = None,
    cache: Annotated[bool, typer.Option(
        "--cache/--no-cache", metavar="", help="Reuse unchanged preprocessing and fold fits from the workspace "
                                                "cache.")] = True,
    cache_max_mb: Annotated[int | None, typer.Option(
        min=0, help="Size cap of the workspace cache in MiB (least recently used entries are evicted); "
                    "default 2048.")] = None,
    cache_admission: Annotated[CacheAdmission, typer.Option(
        help="cost: store a computed node only when computing it again would cost more than writing and reading "
             "it back (cheap transforms of many spectra are recomputed); all: store every cacheable node.")
    ] = "cost",
    force: Annotated[bool, flag(
        "--force", help="Run even when the workspace holds a completed run of the identical plan and data (by "
                        "default that run is shown again; --no-cache also runs).")] = False,
    quiet: QuietOpt = False,
    calibration: Annotated[Literal["off", "observe", "apply"], typer.Option(
        help="observe: record what the measured runs propose (executor, cache costs, the views' partitions and "
             "batch size), change nothing; apply: run with the proposals (one bounded step per run, never a "
             "prediction change); off: no calibration.")
    ] = "observe",
) -> None:
    """Run a pipeline on a dataset and print the ranked chains (and the compiler's warnings, unless --quiet)."""
    if scheduler is not None and executor != "dask":
        raise typer.BadParameter("--scheduler needs --executor dask")
    from relspec.source import read_spec
    from relspec.tasks import spec_targets

    loaded = read_spec(spec, seed=seed)  # read and decoded once: the text that runs is the text provenance records
    dataset = load_data(data, _say, _err, **loader_options(
        data_format=data_format, targets=targets, spec_targets=list(spec_targets(loaded.spec)), id_column=id_column,
        partition_column=partition_column, metadata_columns=metadata_columns, label_targets=label_targets,
        no_detect=no_detect, drop_nonfinite=drop_nonfinite, join_on=join_on, targets_key=targets_key, sheet=sheet,
        sample_column=sample_column))
    result = nirdag.run(loaded, dataset, workspace=workspace, seed=seed, executor=executor, workers=workers,
                        dask_client=scheduler, cache=cache,
                        cache_max_bytes=None if cache_max_mb is None else cache_max_mb * MIB,
                        cache_admission=cache_admission, reuse=not force, progress=_progress(quiet),
                        calibration=calibration)
    if not quiet:
        say_findings(result.plan.validation, _err)
        for line in calibration_lines(result.calibration):
            _err.print(line, markup=False, highlight=False)
    ranked(result, top, _out)
    say_choice(result, quiet, _out, _err)
    say_study(result, _out)


@app.command()
def demo(workspace: WorkspaceOpt = Path("nirdag-demo"), top: TopOpt = 10, quiet: QuietOpt = False) -> None:
    """Run the Tecator example (4 preprocessings x PLS 1..15, 5-fold CV, refit of the best)."""
    spec = resources.files("nirdag") / "resources" / "tecator_pls.yaml"
    with resources.as_file(spec) as path:
        result = nirdag.run(path, nirdag.datasets.tecator(), workspace=workspace, seed=0, progress=_progress(quiet))
    ranked(result, top, _out)
    _say(f"next: nirdag report latest -w {workspace} -o report.html   (the model's figures and diagnostics)")
    _say(f"      nirdag query \"SELECT * FROM v_ranked_chains LIMIT 5\" --workspace {workspace}")
    _say(f"      nirdag export --run latest -w {workspace} -o model.nirdag ; nirdag predict model.nirdag FILE")


@app.command()
def query(
    sql: Annotated[str, typer.Argument(help="Read-only SQL over the workspace tables and views.")],
    workspace: WorkspaceOpt = Path("workspace"),
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f", help="table, csv, json or parquet.")] = "table",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the result to this file.")] = None,
    as_of: Annotated[str | None, typer.Option(
        help="Read the tables as of a Delta version (an integer) or a time (ISO 8601, e.g. 2026-11-24T10:00Z).")
    ] = None,
    metrics: Annotated[bool, flag(
        "--metrics", help="Also report what the query scanned (files opened vs in the tables, rows read) on stderr "
                          "and write it under <workspace>/provenance/scans/.")] = False,
    timeout: Annotated[float, typer.Option(
        "--timeout", min=0, help="Seconds the query may run (0: no limit).")] = DEFAULT_LIMITS.timeout or 0,
    max_rows: Annotated[int, typer.Option(
        "--max-rows", min=0, help="The most rows the result may hold (0: no limit).")] = DEFAULT_LIMITS.max_rows or 0,
    max_bytes: Annotated[int, typer.Option(
        "--max-bytes", min=0, help="The most bytes the result may hold (0: no limit).")
    ] = DEFAULT_LIMITS.max_bytes or 0,
    all_runs: Annotated[bool, flag(
        "--all-runs", help="Also show rows of runs that are not completed (running, killed) in the raw tables.")
    ] = False,
) -> None:
    """Answer SQL over a workspace's Delta tables through DataFusion."""
    if not metrics:
        write(nirdag.query(sql, workspace, as_of=_as_of(as_of), timeout=timeout or None, max_rows=max_rows or None,
                           max_bytes=max_bytes or None, all_runs=all_runs), fmt, _out, output)
        return
    table, scan, path = nirdag.query_with_metrics(sql, workspace, as_of=_as_of(as_of), all_runs=all_runs)
    write(table, fmt, _out, output)
    tables = ", ".join(f"{t.table}@v{t.version} ({t.files} files x {t.scans} scans)" for t in scan.tables)
    _err.print(f"scanned {scan.files_scanned} of {scan.files_total} files ({scan.files_pruned} pruned), "
               f"{scan.rows_read} rows read, {scan.rows_out} rows out, {scan.seconds:.3f} s; tables: {tables}; "
               f"metrics: {path}", highlight=False, markup=False, soft_wrap=True)


def _as_of(text: str | None) -> int | dt.datetime | None:
    if text is None:
        return None
    if text.isdigit():
        return int(text)
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"--as-of {text!r} is neither a version number nor an ISO 8601 time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


@app.command()
def views(workspace: WorkspaceOpt = Path("workspace"),
          fmt: Annotated[OutputFormat, typer.Option("--format", "-f")] = "table") -> None:
    """The semantic views you can query in this workspace, with their columns."""
    render(nirdag.Workspace(workspace).views(), fmt, _out)


runs_app = typer.Typer(help="List, show and delete the runs of a workspace.", no_args_is_help=True,
                       rich_markup_mode=None)
app.add_typer(runs_app, name="runs")


@runs_app.command("list")
def runs_list(workspace: WorkspaceOpt = Path("workspace"),
              fmt: Annotated[OutputFormat, typer.Option("--format", "-f")] = "table") -> None:
    """One line per run, newest first (the table shows hashes by their first 8 characters; csv/json in full)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    runs = nirdag.Workspace(workspace).runs()
    if fmt == "table":
        runs = pa.table({
            "run_id": runs.column("run_id"), "status": runs.column("status"),
            "started_at": pc.strftime(runs.column("started_at"), format="%Y-%m-%d %H:%M"),
            "dataset": pc.utf8_slice_codeunits(runs.column("dataset_hash"), 0, 8),
            "pipeline": pc.utf8_slice_codeunits(runs.column("pipeline_hash"), 0, 8), "seed": runs.column("seed"),
            "error": runs.column("error")})
    render(runs, fmt, _out)


@runs_app.command("show")
def runs_show(run_id: RunRef, workspace: WorkspaceOpt = Path("workspace"),
              fmt: Annotated[OutputFormat, typer.Option("--format", "-f")] = "table") -> None:
    """A run's status, identities, chain count and best chain by its rank metric (RMSECV or accuracy)."""
    render_record(nirdag.Workspace(workspace).run_summary(run_id), fmt, _out)


@runs_app.command("repair")
def runs_repair(workspace: WorkspaceOpt = Path("workspace")) -> None:
    """Mark failed the runs left `running` by a process that died (their partial rows are removed)."""
    repaired = nirdag.Workspace(workspace).repair()
    _say(f"marked failed: {', '.join(repaired)}" if repaired else "no abandoned runs")


@runs_app.command("delete")
def runs_delete(run_id: RunRef, workspace: WorkspaceOpt = Path("workspace")) -> None:
    """Delete a run and its chains, predictions and scores."""
    deleted = nirdag.Workspace(workspace).delete_run(run_id)
    _say(f"deleted run {deleted} from {workspace}")


cache_app = typer.Typer(help="The workspace's node cache (reused preprocessing and fold fits).", no_args_is_help=True,
                        rich_markup_mode=None)
app.add_typer(cache_app, name="cache")


@cache_app.command("stats")
def cache_stats(workspace: WorkspaceOpt = Path("workspace"),
                fmt: Annotated[OutputFormat, typer.Option("--format", "-f")] = "table") -> None:
    """Entries and size of the node cache, per node kind."""
    import pyarrow as pa

    stats = nirdag.Workspace(workspace).cache_stats()
    rows = [{"kind": kind, "entries": n, "mib": round(size / MIB, 3)} for kind, (n, size) in stats.by_kind.items()]
    rows.append({"kind": "total", "entries": stats.entries, "mib": round(stats.bytes / MIB, 3)})
    render(pa.Table.from_pylist(rows, schema=pa.schema([("kind", pa.string()), ("entries", pa.int64()),
                                                       ("mib", pa.float64())])), fmt, _out)
    if fmt == "table":
        last = f", last used {stats.newest_use:%Y-%m-%d %H:%M:%S} UTC" if stats.newest_use else ""
        _say(f"cache {stats.root}{last}; {stats.temp_files} leftover temp file(s)")


@cache_app.command("clear")
def cache_clear(workspace: WorkspaceOpt = Path("workspace")) -> None:
    """Remove every entry of the node cache (the next run recomputes everything)."""
    stats = nirdag.Workspace(workspace).clear_cache()
    _say(f"removed {stats.entries} cache entries ({stats.bytes / MIB:.1f} MiB) from {stats.root}")


@app.command()
def dag(
    output: Annotated[Path, typer.Option("--output", "-o", help="Picture file: .svg, .png, .pdf or .dot.")],
    spec: Annotated[Path | None, typer.Argument(help="Pipeline spec (YAML or JSON); or give --run.")] = None,
    run_id: Annotated[str | None, typer.Option("--run", help="Draw this run's executed DAG (timings): a run id, a "
                                               "unique prefix or 'latest'.")] = None,
    workspace: WorkspaceOpt = Path("workspace"),
    folds: Annotated[bool, flag("--folds", help="Draw every fold node (collapsed by default).")] = False,
    data: DataOpt = None,
    data_format: FormatOpt = None,
    id_column: IdOpt = None,
    partition_column: PartitionOpt = None,
    targets: TargetsOpt = None,
    join_on: JoinOpt = "title",
    targets_key: KeyOpt = None,
    sheet: SheetOpt = None,
    label_targets: LabelOpt = None,
    metadata_columns: MetadataOpt = None,
    sample_column: SampleOpt = None,
    no_detect: NoDetectOpt = False,
    drop_nonfinite: DropOpt = False,
) -> None:
    """Draw the Hamilton DAG of a pipeline on a dataset (--data, default embedded Tecator), or of an executed run."""
    if (spec is None) == (run_id is None):
        raise typer.BadParameter("give a SPEC or --run RUN_ID (one of them)")
    if run_id is not None:
        _say(f"wrote {nirdag.Workspace(workspace).run(run_id).dag(output, folds=folds)}")
        return
    from relspec.source import read_spec
    from relspec.tasks import spec_targets

    loaded = read_spec(spec)
    dataset = load_data(data, _say, _err, **loader_options(
        data_format=data_format, targets=targets, spec_targets=list(spec_targets(loaded.spec)), id_column=id_column,
        partition_column=partition_column, metadata_columns=metadata_columns, label_targets=label_targets,
        no_detect=no_detect, drop_nonfinite=drop_nonfinite, join_on=join_on, targets_key=targets_key, sheet=sheet,
        sample_column=sample_column))
    _say(f"wrote {nirdag.dag(loaded, output, dataset, folds=folds)}")


@app.command()
def provenance(
    run_id: RunRef,
    workspace: WorkspaceOpt = Path("workspace"),
    fmt: Annotated[Literal["tree", "json"], typer.Option("--format", "-f")] = "tree",
    why: Annotated[str | None, typer.Option(help="A chain id (or prefix): why was it refit, or not? Or a knob the "
                                                 "calibration changed (executor...) or a decision id.")] = None,
    verbose: Annotated[bool, flag("--verbose", "-v", help="Also the views' join decisions.")] = False,
    what_if: Annotated[str | None, typer.Option(
        "--what-if", help="Re-decide the ranking and refit choice under another refit rule from the stored "
                          "predictions, without retraining: refit.metric=r2, refit.select=one_se|wold_r|"
                          "randomization|min, refit.top_k=N (comma-separated). Stored as a run document.")] = None,
) -> None:
    """The decision provenance graph of a run: every decision with its reason (tree or JSON)."""
    from nirdag.provenance_view import provenance_tree
    from relspec.provenance import why as explain

    if what_if is not None:
        _what_if(workspace, run_id, what_if, fmt)
        return
    graph = nirdag.Workspace(workspace).provenance(run_id)
    if why is not None:
        try:
            _say(explain(graph, why))
        except KeyError as exc:
            raise typer.BadParameter(str(exc.args[0]), param_hint="--why") from None
    elif fmt == "json":
        sys.stdout.write(json.dumps(json.loads(graph.to_json()), indent=2) + "\n")
    else:
        _out.print(provenance_tree(graph, verbose=verbose))


def _what_if(workspace: Path, run_id: str, question: str, fmt: str) -> None:
    """Print (and store) the counterfactual model decisions of ``provenance --what-if``."""
    from nirdag.run_counterfactual import model_what_if
    from relspec.counterfactual import Decided

    answer, path = model_what_if(workspace, run_id, question)
    if fmt == "json":
        sys.stdout.write(json.dumps(json.loads(answer.to_json()), indent=2) + "\n")
        return
    r, a = answer.recorded, answer.asked
    _say(f"run {answer.run_id}: as recorded ranked by {r.metric}, select {r.select}, top_k {r.top_k}; asked "
         f"{answer.question}")
    for change in answer.changes:
        _say(f"  changes {change.decision}: {change.summary}")
    for decision in answer.unchanged:
        _say(f"  unchanged {decision}")
    def chains(d: Decided) -> str:
        return ", ".join(f"{c[:8]} ({k} components)" if k is not None else c[:8]
                         for c, k in zip(d.refit, d.refit_components, strict=True))

    _say(f"  refit as recorded: {chains(r)}; as asked: {chains(a)}")
    _say(f"wrote {str(path).rsplit('/', 1)[-1]}")


@app.command()
def schema(
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.")] = None,
) -> None:
    """Print the JSON Schema of the pipeline spec (YAML/JSON form), for editor completion and validation."""
    text = json.dumps(nirdag.spec_schema(), indent=2, sort_keys=True) + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        _say(f"wrote {output}")


@app.command()
def export(
    ctx: typer.Context,
    run_id: Annotated[str, typer.Option("--run", help="Run id (nirdag runs list), a unique prefix of one, or "
                                        "'latest'.")],
    output: Annotated[str, typer.Option("--output", "-o", callback=file_location,
                                        help="Bundle file to write (e.g. model.nirdag, or s3://bucket/key).")],
    chain: Annotated[str, typer.Option(help="'best' (the refit chain ranked first by the run's rank metric: "
                                            "lowest RMSECV or mean_nrmse, highest accuracy), a chain_id or a prefix "
                                            "of >= 8 characters.")] = "best",
    workspace: WorkspaceOpt = Path("workspace"),
) -> None:
    """Export a refit chain of a run as a bundle (signed with HMAC-SHA256 when NIRDAG_BUNDLE_KEY is set)."""
    path = nirdag.export(workspace, run_id, output, chain=chain, storage_options=storage_options(ctx) or None)
    signed = "signed (HMAC-SHA256)" if os.environ.get("NIRDAG_BUNDLE_KEY") else "unsigned (set NIRDAG_BUNDLE_KEY)"
    size = f"{path.stat().st_size} bytes, " if isinstance(path, Path) else ""
    _say(f"wrote {path} ({size}{signed})")


def _say_err(text: str) -> None:
    _err.print(text, markup=False, highlight=False, soft_wrap=True)


@app.command()
def predict(
    ctx: typer.Context,
    paths: Annotated[list[str], typer.Argument(help="BUNDLE DATA, or only DATA with --run (chain replay); the "
                                               "bundle may be s3://bucket/key.")],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Predictions file (.csv or .parquet); "
                                                "default: print them.")] = None,
    run_id: Annotated[str | None, typer.Option("--run", help="Replay a chain of this workspace run (an id, a unique "
                                               "prefix or 'latest') instead of a bundle.")] = None,
    chain: Annotated[str, typer.Option(help="With --run: 'best', a chain_id or a prefix.")] = "best",
    workspace: WorkspaceOpt = Path("workspace"),
    fold_mean: Annotated[bool, flag("--fold-mean", help="Also the mean of the CV fold models.")] = False,
    resample: Annotated[bool, flag("--resample", help="Interpolate spectra whose axis differs onto the training "
                                                    "axis (default: refuse them).")] = False,
    data_format: Annotated[str | None, typer.Option("--format", help="Format of DATA when the path does not "
                                                    "tell.")] = None,
    id_column: Annotated[str | None, typer.Option(help="Sample id column of a wide table.")] = None,
    wide: Annotated[bool, flag("--wide", help="One row per sample with a column per target (default: one row per "
                                             "sample and target).")] = False,
    bundle_axis: Annotated[bool, flag("--bundle-axis", help="Read DATA's spectral columns as the model's training "
                                                          "axis (a file without wavelength headers, e.g. ch001.., "
                                                          "with as many columns as the model has wavelengths).")
                           ] = False,
    fail_on: Annotated[Literal["outlier", "extreme"] | None, typer.Option(
        help=f"Exit with code {EXIT_OUTSIDE_DOMAIN} (after writing the predictions) when any spectrum is at or "
             "beyond this level of the applicability domain: 'outlier' (T² or Q above its 99 % limit) or "
             "'extreme' (above its 95 % limit; outliers included). A model without a domain is an error "
             "(exit 1).")] = None,
    interval: Annotated[float | None, typer.Option(
        help="Add y_lower and y_upper, a split-conformal prediction interval of this coverage (e.g. 0.9) from the "
             "chain's pooled out-of-fold residuals (regression chains).")] = None,
    interval_scale: Annotated[Literal["absolute", "leverage"], typer.Option(
        help="With --interval: 'absolute' (the same width for every spectrum) or 'leverage' (widths times "
             "sqrt(1 + h), h the spectrum's leverage; latent models with a domain).")] = "absolute",
) -> None:
    """Predict new spectra with a bundle (verified before loading) or a workspace chain; no target needed.

    Beside each prediction: t2, q, t2_ratio, q_ratio (value / 95 % limit) and domain (regular, extreme, outlier);
    stderr says how many spectra were extreme or outlier. With --interval, y_lower and y_upper.
    Exit codes: 0 done, 1 error, 3 --fail-on tripped.
    """
    if len(paths) != (1 if run_id else 2):
        raise typer.BadParameter("give BUNDLE DATA, or DATA with --run RUN_ID" if run_id is None else
                                 "with --run give only DATA")
    from nirdag.bundle import domain_report, wide_predictions
    from nirdag.bundle.archive import read_bundle

    model = None
    if run_id is None:  # verified once; its targets are never spectra
        model = read_bundle(file_location(paths[0]), storage_options=storage_options(ctx) or None)
    if model is not None and interval is not None:  # refused before the data is read
        model.chain.check_interval(interval, interval_scale)
    targets = model.chain.targets if model is not None else _run_targets(workspace, run_id)
    dataset = load_data(Path(paths[-1]), _say_err, _err, predicting=True, format=data_format, id_column=id_column,
                        not_spectral=list(targets))
    data = dataset
    if bundle_axis:  # the columns are the training axis: predicted as a matrix (its width is checked)
        data = dataset.spectra
    ids = dataset.sample_ids if bundle_axis else None
    if model is not None:
        table = nirdag.predict(model, data, fold_mean=fold_mean, resample=resample, sample_ids=ids,
                               interval=interval, interval_scale=interval_scale)
    else:
        table = nirdag.replay(workspace, run_id, data, chain=chain, fold_mean=fold_mean, resample=resample,
                              sample_ids=ids, interval=interval, interval_scale=interval_scale)
    table = wide_predictions(table) if wide else table
    fmt: OutputFormat = "parquet" if output is not None and output.suffix == ".parquet" else "csv"
    write(table, fmt if output is not None else "table", _err if output is not None else _out, output)
    report = domain_report(table)
    _say_domain(report)
    if fail_on is not None:
        _fail_on(report, fail_on)


def _run_targets(workspace: Path, run_ref: str) -> tuple[str, ...]:
    """The targets of a workspace run, from its stored spec (no compile)."""
    from relspec import decode_spec
    from relspec.tasks import spec_targets
    from semantics import queries

    ws = nirdag.Workspace(workspace)
    row = queries.stored_run(ws.handle.require().session(), ws.resolve(run_ref))
    return spec_targets(decode_spec(json.loads(row["spec_json"]))) if row is not None else ()


def _say_domain(report: DomainReport) -> None:
    """One line of verdict counts (or why there is none) and the first non-regular sample ids, on stderr."""
    if report.absent is not None:
        _say_err(f"domain: not judged: the model carries no applicability domain ({report.absent})")
        return
    counts = ", ".join(f"{n} {verdict}" for verdict, n in report.counts.items())
    _say_err(f"domain: {counts} of {report.n_spectra} spectra (T² or Q above the 95 % / 99 % limits)")
    if report.flagged:
        shown = ", ".join(f"{sample} ({verdict})" for sample, verdict in report.flagged[:_FLAGGED_SHOWN])
        more = len(report.flagged) - _FLAGGED_SHOWN
        _say_err(f"not regular: {shown}{f' and {more} more' if more > 0 else ''}")


def _fail_on(report: DomainReport, level: str) -> None:
    from nirdag.bundle import BundleError

    if report.absent is not None:
        raise BundleError(f"--fail-on {level}: the predictions cannot be judged: the model carries no "
                          f"applicability domain ({report.absent})")
    beyond = report.at_or_beyond(level)
    if beyond:
        _say_err(f"failing (--fail-on {level}): {beyond} of {report.n_spectra} spectra are {level}"
                 f"{' or outlier' if level == 'extreme' else ''}")
        raise typer.Exit(EXIT_OUTSIDE_DOMAIN)


app.command()(plot)
app.command()(report)
app.command()(explain)
app.command()(serve)
app.command()(transfer)
app.command()(retrain)
app.add_typer(calibration_app, name="calibration")
app.add_typer(artifacts_app, name="artifacts")


def main() -> None:
    """Entry point: typed nirdag errors become one line on stderr and exit code 1."""
    os.environ.setdefault("HAMILTON_AUTOLOAD_EXTENSIONS", "0")
    try:
        app()
    except NirdagError as exc:
        _err.print(f"error: {exc}", highlight=False, markup=False)
        sys.exit(1)
    except Exception as exc:  # the CLI boundary: anything unexpected becomes one line and exit code 2
        _err.print(f"error: unexpected {type(exc).__name__}: {exc}", highlight=False, markup=False)
        sys.exit(2)
    except BaseException as exc:  # a Rust panic of a library (pyo3's PanicException) is one line too
        if type(exc).__name__ != "PanicException":
            raise
        _err.print(f"error: unexpected failure in a storage library: {' '.join(str(exc).split())[:300]}",
                   highlight=False, markup=False)
        sys.exit(2)
