"""The bundle manifest: canonical JSON (golden file), strict decoding, schema versions."""

from __future__ import annotations

import math
from pathlib import Path

import msgspec
import msgspec.structs
import numpy as np
import pytest

from nirdag.bundle.errors import BundleError
from nirdag.bundle.manifest import (
    CALIBRATION_SINCE,
    DERIVED_SINCE,
    DOMAIN_SINCE,
    FOLD_RECORDS_SINCE,
    SCHEMA_VERSION,
    BaseChainEntry,
    ChainEntry,
    ExclusionEntry,
    FoldEntry,
    Manifest,
    SelectionEntry,
    StepEntry,
    decode,
    encode,
)
from nirs_core.conformal import ConformalCalibration
from nirs_core.diagnostics import Domain
from nirs_core.transfer import SlopeBias, fit_pds

GOLDEN_V1 = Path(__file__).with_name("golden") / "manifest_v1.json"
GOLDEN_V2 = Path(__file__).with_name("golden") / "manifest_v2.json"
GOLDEN = Path(__file__).with_name("golden") / "manifest_v3.json"
H = "ab" * 32
DOMAIN = Domain(n=129, k=2, score_variances=(0.25, 0.0625), score_sums_of_squares=(32.0, 8.0),
                theta=(0.5, 0.125, 0.03125), t2_limit_calibration_95=5.75, t2_limit_calibration_99=8.5,
                t2_limit_prediction_95=6.125, t2_limit_prediction_99=9.25, q_limit_95=1.5, q_limit_99=2.25)


CALIBRATION = ConformalCalibration(targets=("fat",), absolute=((0.25, 0.5, 1.0),), leverage=((0.125, 0.5, 0.75),))


def example(domain: Domain | None = DOMAIN, calibration: ConformalCalibration | None = CALIBRATION) -> Manifest:
    obj = f"objects/{'cd' * 32}.skops"
    model = f"objects/{'ef' * 32}.skops"
    return Manifest(
        schema_version=SCHEMA_VERSION, nirdag_version="0.1.0", created_at="2026-11-24T10:00:00+00:00",
        run_id="20261124T100000-0123abcd", training_dataset_hash=H, target_names=("fat",),
        wavelengths=(850.0, 852.5, 855.0), wavelength_unit="nm",
        chain=ChainEntry(chain_id=H, pipeline_hash=H, branch_name="snv", preprocessing="snv", model="pls",
                         n_components=9, steps=(
                             StepEntry(role="transformer", op="snv", class_path="nirs_core.operators.scatter.SNV",
                                       params={}, step_hash=H),
                             StepEntry(role="model", op="pls", class_path="nirs_core.operators.pls.PLSSweep",
                                       params={"n_components": 9, "scale": False}, step_hash=H))),
        metrics={"cv_rmse": 2.09, "final_test_rmse": 2.1},
        folds=(FoldEntry(fold_id="fold_final", steps=(obj,), model=model, y_transform=None),),
        members={obj: "cd" * 32, model: "ef" * 32}, domain=domain, calibration=calibration,
    )


def test_manifest_json_matches_the_golden_file():
    assert encode(example()) == GOLDEN.read_bytes().strip()


def test_manifest_round_trips():
    assert decode(encode(example()), "bundle b") == example()


RECORDS = {"selected_variables": (SelectionEntry(step=1, op="vip_select", variables=(0, 2),
                                                 wavelengths=(850.0, 855.0)),),
           "sample_exclusions": (ExclusionEntry(step=0, op="x_outliers", sample_id="s7",
                                                reason="T2 14.2 > limit 9.8 at 0.99"),)}


def test_a_manifest_with_the_refits_kept_wavelengths_and_exclusions_round_trips():
    manifest = msgspec.structs.replace(example(), **RECORDS)
    data = encode(manifest)
    assert b'"selected_variables":[{"op":"vip_select","step":1,"variables":[0,2],"wavelengths":[850.0,855.0]}]' \
        in data
    assert b'"reason":"T2 14.2 > limit 9.8 at 0.99","sample_id":"s7"' in data
    assert decode(data, "bundle b") == manifest


def test_a_version_2_manifest_still_reads_and_one_carrying_fold_records_is_refused():
    old = decode(GOLDEN_V2.read_bytes(), "bundle b")
    assert old == msgspec.structs.replace(example(calibration=None), schema_version=2)
    data = encode(msgspec.structs.replace(example(calibration=None), schema_version=FOLD_RECORDS_SINCE - 1, **RECORDS))
    with pytest.raises(BundleError, match="schema_version 2 manifest carries no `selected_variables`"):
        decode(data, "bundle b")


def test_a_version_1_manifest_still_reads_without_a_domain():
    old = decode(GOLDEN_V1.read_bytes(), "bundle b")
    assert old.schema_version == 1 and old.domain is None
    assert old == msgspec.structs.replace(example(domain=None, calibration=None), schema_version=1)


def test_a_version_2_manifest_still_reads_without_a_calibration():
    old = decode(GOLDEN_V2.read_bytes(), "bundle b")
    assert old.schema_version == 2 and old.calibration is None and old.domain == DOMAIN
    assert old == msgspec.structs.replace(example(calibration=None), schema_version=2)


def test_a_version_2_manifest_carrying_a_calibration_is_refused():
    data = encode(msgspec.structs.replace(example(), schema_version=CALIBRATION_SINCE - 1))
    with pytest.raises(BundleError, match="schema_version 2 manifest carries no `calibration`"):
        decode(data, "bundle b")


@pytest.mark.parametrize("calibration", [
    ConformalCalibration(targets=("moisture",), absolute=((1.0,),)),  # another target
    ConformalCalibration(targets=("fat",), absolute=((2.0, 1.0),)),  # not sorted
    ConformalCalibration(targets=("fat",), absolute=((-1.0, 1.0),)),  # negative
    ConformalCalibration(targets=("fat",), absolute=((),)),  # empty
    ConformalCalibration(targets=("fat",), absolute=((1.0,),), leverage=((1.0,), (2.0,))),  # one list too many
])
def test_a_calibration_that_does_not_fit_the_manifest_is_refused(calibration):
    with pytest.raises(BundleError, match="its calibration must list"):
        decode(encode(example(calibration=calibration)), "bundle b")


def test_a_manifest_without_domain_omits_the_field():
    assert b'"domain"' not in encode(example(domain=None)) and b'"domain"' in encode(example())


def test_a_version_1_manifest_carrying_a_domain_is_refused():
    data = encode(msgspec.structs.replace(example(), schema_version=DOMAIN_SINCE - 1))
    with pytest.raises(BundleError, match="schema_version 1 manifest carries no `domain`"):
        decode(data, "bundle b")


def test_an_undefined_limit_is_written_as_null_and_read_back_as_nan():
    domain = msgspec.structs.replace(DOMAIN, q_limit_95=float("nan"), q_limit_99=float("nan"))
    data = encode(example(domain))
    assert b'"q_limit_95":null' in data
    back = decode(data, "bundle b").domain
    assert math.isnan(back.q_limit_95) and math.isnan(back.q_limit_99)
    assert msgspec.structs.replace(back, q_limit_95=1.5, q_limit_99=2.25) == DOMAIN


def test_a_null_where_a_domain_needs_a_number_is_refused_with_its_path():
    raw = msgspec.json.decode(encode(example()))
    raw["domain"]["n"] = None
    with pytest.raises(BundleError, match=r"Expected `int`, got `null` - at `\$.domain.n`"):
        decode(msgspec.json.encode(raw), "bundle b")


def test_a_newer_schema_version_is_refused_before_its_fields_are_read():
    data = msgspec.json.encode({"schema_version": SCHEMA_VERSION + 1, "something_new": True})
    with pytest.raises(BundleError, match=f"schema_version {SCHEMA_VERSION + 1} is newer"):
        decode(data, "bundle b")


def test_an_unknown_field_is_refused_with_its_path():
    raw = msgspec.json.decode(encode(example()))
    raw["chain"]["extra"] = 1
    with pytest.raises(BundleError, match=r"unknown field `extra` - at `\$.chain`"):
        decode(msgspec.json.encode(raw), "bundle b")


def test_a_stacked_manifest_records_its_base_chains_and_round_trips():
    plain = example()
    meta = f"objects/{'12' * 32}.skops"
    stacked = msgspec.structs.replace(
        plain, chain=msgspec.structs.replace(plain.chain, branch_name="stack", steps=(
            StepEntry(role="meta_model", op="sklearn:LinearRegression", class_path="x.LinearRegression", params={},
                      step_hash=H),)),
        folds=(FoldEntry(fold_id="fold_final", steps=(), model=meta, y_transform=None),),
        members={**plain.members, meta: "12" * 32},
        base_chains=(BaseChainEntry(chain=plain.chain, fold=plain.folds[0]),))
    assert b'"base_chains"' in encode(stacked) and b'"base_chains"' not in encode(plain)
    assert decode(encode(stacked), "bundle b") == stacked


def test_a_derived_manifest_round_trips_and_is_refused_under_an_older_version():
    transfer = fit_pds(np.eye(6, 3) + 0.1, np.eye(6, 3), window=1)
    derived = msgspec.structs.replace(
        example(), schema_version=DERIVED_SINCE, transfer=transfer, parent_bundle_hash=H, data_hash=H,
        correction=SlopeBias(slope=(1.1,), intercept=(0.2,), n_pairs=6, source="reference"), derived_by="retrain_bias")
    assert decode(encode(derived), "bundle b") == derived
    with pytest.raises(BundleError, match="carries no transfer, correction or parent"):
        decode(encode(msgspec.structs.replace(derived, schema_version=DERIVED_SINCE - 1)), "bundle b")
    wrong = msgspec.structs.replace(derived, correction=SlopeBias(slope=(1.0, 1.0), intercept=(0.0, 0.0), n_pairs=6,
                                                                  source="reference"))
    with pytest.raises(BundleError, match="one slope and intercept per target"):
        decode(encode(wrong), "bundle b")
