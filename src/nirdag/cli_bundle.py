"""The `nirdag transfer` and `nirdag retrain` verbs: bundles derived from a bundle (registered by nirdag.cli)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.console import Console

import nirdag
from nirdag.cli_data import load_data

_out = Console(width=None if sys.stdout.isatty() else 160)
_err = Console(stderr=True, width=None if sys.stderr.isatty() else 160)

BundleArg = Annotated[Path, typer.Argument(help="The parent bundle (verified before anything is read from it).")]
OutputOpt = Annotated[Path, typer.Option("--output", "-o", help="The new bundle to write (never the parent).")]
IdOpt = Annotated[str | None, typer.Option(help="Sample id column of a wide table.")]
FormatOpt = Annotated[
    str | None, typer.Option("--format", help="Format of the data files when the path does not tell.")
]


def _say(text: str) -> None:
    _out.print(text, markup=False, highlight=False, soft_wrap=True)


def _say_err(text: str) -> None:
    _err.print(text, markup=False, highlight=False, soft_wrap=True)


def _check_output(bundle: Path, output: Path) -> None:
    if output.resolve() == bundle.resolve():
        raise typer.BadParameter("--output must name a new file, not the parent bundle")


def _wrote(path: Path, parent: Path) -> None:
    signed = "signed (HMAC-SHA256)" if os.environ.get("NIRDAG_BUNDLE_KEY") else "unsigned (set NIRDAG_BUNDLE_KEY)"
    _say(f"wrote {path} ({path.stat().st_size} bytes, {signed}), derived from {parent}")


def transfer(
    bundle: BundleArg,
    primary: Annotated[
        Path,
        typer.Option(
            help="Transfer standards measured on the primary instrument (the one the bundle was calibrated on)."
        ),
    ],
    secondary: Annotated[
        Path, typer.Option(help="The same samples (same sample ids) measured on the secondary instrument.")
    ],
    output: OutputOpt,
    method: Annotated[
        Literal["pds", "ds", "slope-bias"],
        typer.Option(
            help="pds (piecewise direct standardisation), ds (direct standardisation): applied to spectra before the "
            "chain; slope-bias: applied to its predictions."
        ),
    ] = "pds",
    window: Annotated[int, typer.Option(help="PDS: half-width of each window, in channels (2 W + 1 channels).")] = 5,
    components: Annotated[
        int | None,
        typer.Option(
            help="Truncate each least-squares SVD to this many singular "
            "values (default: all above 1e-10 of the largest)."
        ),
    ] = None,
    ridge: Annotated[
        float | None,
        typer.Option(help="Ridge filter instead of truncation, relative to the largest squared singular value."),
    ] = None,
    id_column: IdOpt = None,
    data_format: FormatOpt = None,
) -> None:
    """Attach a calibration transfer fitted on paired transfer standards: the new bundle predicts spectra of the
    secondary instrument (its manifest records the parent bundle's sha256 and the standards' hash)."""
    from nirdag.bundle.archive import read_bundle

    _check_output(bundle, output)
    targets = list(read_bundle(bundle).chain.targets)
    sets = [
        load_data(path, _say_err, _err, predicting=True, format=data_format, id_column=id_column, not_spectral=targets)
        for path in (primary, secondary)
    ]
    path = nirdag.attach_transfer(
        bundle, sets[0], sets[1], output, method=method, window=window, n_components=components, ridge=ridge
    )
    _wrote(path, bundle)


def retrain(
    bundle: BundleArg,
    data: Annotated[
        Path, typer.Option(help="New samples with reference values of the bundle's targets, on its wavelength axis.")
    ],
    mode: Annotated[
        Literal["full", "transfer", "bias"],
        typer.Option(
            help="full: refit the whole chain on DATA; transfer: keep the fitted preprocessing, refit the model; bias: "
            "keep everything, fit slope/intercept of the reference values on the predictions."
        ),
    ],
    output: OutputOpt,
    id_column: IdOpt = None,
    data_format: FormatOpt = None,
) -> None:
    """Retrain a bundle's chain on new data; the new bundle's manifest records the parent bundle's sha256 and the
    data's hash. Refused (nothing written) when DATA lacks the targets or is on another axis."""
    from nirdag.bundle.archive import read_bundle

    _check_output(bundle, output)
    targets = list(read_bundle(bundle).chain.targets)
    dataset = load_data(data, _say_err, _err, format=data_format, id_column=id_column, targets=targets)
    path = nirdag.retrain(bundle, dataset, output, mode=mode)
    _wrote(path, bundle)
