"""What the `nirdag` verbs share about data: the loader options (run, dag, predict), the summary line of what was
loaded and detected, the compiler's warnings on the terminal, and run references (an id, a prefix or `latest`)."""

from __future__ import annotations

import warnings
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer
from rich.console import Console

import nirdag

if TYPE_CHECKING:  # annotations only: `nirdag --help` loads no data layer
    from nirs_core.data import SpectraDataset
    from relspec.validation import PolicyValidation


def flag(*names: str, help: str) -> Any:
    """A boolean option without the ``<bool>`` type column in ``--help``."""
    return typer.Option(*names, help=help, metavar="")


DataOpt = Annotated[Path | None, typer.Option(
    help="Spectra file or folder (CSV/TSV, Excel, Parquet, .npz, MATLAB, nirs4all X/Y/M folder, JCAMP-DX, OPUS, "
         "SPC, Delta table); default: embedded Tecator.")]
FormatOpt = Annotated[str | None, typer.Option(
    "--format", help="Format of the data when the path does not tell (csv, xlsx, parquet, npz, mat, nirs4all, "
                     "jcamp, opus, spc, delta).")]
IdOpt = Annotated[str | None, typer.Option(
    help="Sample id column of a wide table (default: a column named sample_id, id or sample with unique values).")]
PartitionOpt = Annotated[str | None, typer.Option(
    help="Partition column of a wide table: train/test or cal/val labels (default: a column named partition, set "
         "or split holding such labels).")]
TargetsOpt = Annotated[str | None, typer.Option(
    help="Comma-separated target columns of a wide table (default: the spec's target); or a CSV FILE of reference "
         "values joined to the spectra by sample name (JCAMP-DX, OPUS, SPC carry none; see --join-on).")]
JoinOpt = Annotated[Literal["title", "sample_id"], typer.Option(
    help="With --targets FILE: match each spectrum's 'title' (JCAMP ##TITLE, OPUS sample name, SPC comment) or its "
         "'sample_id' (file stem) against the file's key column.")]
KeyOpt = Annotated[str | None, typer.Option(
    help="With --targets FILE: its column of sample names (default: its first column).")]
SheetOpt = Annotated[str | None, typer.Option(help="The sheet of an .xlsx workbook (default: the first).")]
LabelOpt = Annotated[str | None, typer.Option(
    "--label-target", help="Comma-separated targets to read as class labels although they hold numbers "
                           "(grades 1/2/3).")]
MetadataOpt = Annotated[str | None, typer.Option(
    help="Comma-separated metadata columns of a wide table whose headers are not numbers.")]
SampleOpt = Annotated[str | None, typer.Option(
    help="Column naming the physical sample of each spectrum (replicate scans share it): every split keeps a "
         "sample's spectra in one fold, and scores are reported per spectrum and per sample.")]
NoDetectOpt = Annotated[bool, flag("--no-detect", help="Do not look for conventional id and partition columns.")]
DropOpt = Annotated[bool, flag("--drop-nonfinite", help="Drop spectra holding NaN/inf (and report them) instead of "
                                                        "failing.")]
RunRef = Annotated[str, typer.Argument(help="Run id, a unique prefix of one, or 'latest'.")]


def names(text: str | None) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()] if text else []


def load_data(data: Path | None, say, err: Console, *, predicting: bool = False, **options: Any) -> SpectraDataset:
    """The dataset of ``--data`` (embedded Tecator without it), with one summary line: how many samples per
    partition, the axis, the targets, which read as labels, and what the loader detected (with the flag that
    overrides it)."""
    if data is None:
        return nirdag.datasets.tecator()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        dataset = nirdag.load_dataset(data, **options)
    for warning in caught:
        err.print(f"warning: {warning.message}", highlight=False, markup=False)
    axis = dataset.wavelengths
    shape = f"{dataset.n_wavelengths} spectral columns, axis {axis[0]:g}..{axis[-1]:g} {dataset.wavelength_unit}"
    if predicting:  # spectra to predict: partitions and reference values play no part
        say(f"loaded {data}: {dataset.n_samples} spectra to predict x {shape}")
    else:
        train, test = (int((dataset.partition == p).sum()) for p in ("train", "test"))
        labels = [t for t in dataset.target_names if dataset.is_label_target(t)]
        read_as = f" (class labels: {', '.join(labels)})" if labels else ""
        say(f"loaded {data}: {dataset.n_samples} samples ({train} train, {test} test) x {shape}, targets "
            f"{sorted(dataset.target_names)}{read_as}")
    if dataset.replicate_groups is not None:
        counts = Counter(dataset.replicate_groups.tolist()).values()
        say(f"replicates: {len(counts)} samples in column {dataset.replicate_column!r} ({min(counts)}-{max(counts)} "
            "spectra each); every split keeps a sample's spectra together, scores are per spectrum and per sample")
    if dataset.load_notes:
        say(f"detected {' and '.join(dataset.load_notes)} (name others with --id-column / --partition-column, or "
            "--no-detect)")
    return dataset


def loader_options(*, data_format: str | None, targets: str | None, spec_targets: list[str], id_column: str | None,
                   partition_column: str | None, metadata_columns: str | None, label_targets: str | None,
                   no_detect: bool, drop_nonfinite: bool, join_on: str = "title", targets_key: str | None = None,
                   sheet: str | None = None, sample_column: str | None = None) -> dict[str, Any]:
    """The keyword arguments of ``nirdag.load_dataset`` the CLI options stand for: ``--targets`` naming an
    existing file is a file of reference values (its columns named by the spec's targets), else column names."""
    options: dict[str, Any] = {
        "format": data_format, "targets": names(targets) or spec_targets, "id_column": id_column,
        "partition_column": partition_column, "metadata_columns": names(metadata_columns),
        "label_targets": names(label_targets), "detect_columns": not no_detect, "sheet": sheet,
        "on_nonfinite": "drop" if drop_nonfinite else "error", "sample_column": sample_column}
    if targets is not None and Path(targets).is_file():
        options.update(targets=spec_targets, targets_file=Path(targets), join_on=join_on, targets_key=targets_key)
    elif join_on != "title" or targets_key is not None:
        raise typer.BadParameter("--join-on and --targets-key go with --targets FILE (a CSV of reference values)")
    return options


def say_findings(validation: PolicyValidation | None, err: Console) -> None:
    """The compiler's warnings, one line each, on stderr (the info findings stay in policy_validation.json)."""
    for finding in (validation.findings if validation is not None else ()):
        if finding.severity == "warning":
            err.print(f"warning [{finding.code}] at {finding.path}: {finding.message}", highlight=False,
                      markup=False, soft_wrap=True)
