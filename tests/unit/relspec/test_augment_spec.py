"""The `augment` step in a spec: decoded with its path, laid out after the preprocessing, part of the identities."""

from __future__ import annotations

import pytest

from nirs_core.augment import Noise, Shift
from nirs_core.data.synthetic import synthetic
from relspec import SpecError, compile_plan, decode_spec

DATA = synthetic(60, 40, seed=0)


def _spec(*middle, model=None):
    return {
        "target": "y",
        "seed": 3,
        "pipeline": [
            {"split": {"kind": "kfold", "n_splits": 3}},
            *middle,
            model or {"model": {"op": "pls", "n_components": 3}},
        ],
    }


def _plan(spec):
    return compile_plan(decode_spec(spec), DATA.schema(), dataset=DATA)


def test_augment_steps_reach_every_group_with_the_runs_seed_and_their_counts_are_recorded():
    plan = _plan(
        _spec(
            {"op": "snv"},
            {"augment": {"kind": "shift", "n_copies": 2}},
            {"augment": {"kind": "noise", "fraction": 0.5, "seed": 11}},
        )
    )
    (group,) = plan.groups
    assert [type(a.augmenter) for a in group.augmenters] == [Shift, Noise]
    assert [a.seed for a in group.augmenters] == [3, 11]
    (finding,) = [f for f in plan.validation.findings if f.code == "augmentation"]
    n0 = len(plan.folds[0].train_rows)
    assert f"fold_0: {n0} real + {2 * n0 + round(0.5 * n0)} synthetic" in finding.message
    assert finding.path == "$.pipeline[2].augment"
    assert plan.chains[0].preprocessing.startswith("snv > augment:shift(max_shift=1.0,n_copies=2) > augment:noise(")


def test_augmentation_changes_the_pipeline_and_chain_identities():
    plain, augmented = _plan(_spec({"op": "snv"})), _plan(_spec({"op": "snv"}, {"augment": {"kind": "drift"}}))
    assert plain.pipeline_hash != augmented.pipeline_hash
    assert plain.chains[0].chain_id != augmented.chains[0].chain_id
    assert plain.groups[0].group_id != augmented.groups[0].group_id
    assert plain.groups[0].augmenters == ()


@pytest.mark.parametrize(
    ("middle", "message"),
    [
        (({"augment": {"kind": "noise"}}, {"op": "snv"}), r"comes after every transform and branch.*\$\.pipeline\[2\]"),
        (({"branch": {"a": [{"op": "snv"}, {"augment": {"kind": "noise"}}]}},), "an alternative must be a transform"),
        (({"augment": {"kind": "wobble"}},), r"Invalid value 'wobble' - at `\$\.pipeline\[1\]\.augment\.kind`"),
        (({"augment": {"kind": "noise", "n_copies": 2, "fraction": 0.3}},), "not both"),
        (
            ({"augment": {"kind": "crop", "min_fraction": 0}},),
            r"Expected `float` > 0.0 - at `\$\.pipeline\[1\]\.augment",
        ),
        (({"augment": {"kind": "noise", "scael": 1}},), "did you mean `scale`"),
    ],
)
def test_bad_augment_steps_are_refused_with_their_path(middle, message):
    with pytest.raises(SpecError, match=message):
        _plan(_spec(*middle))


def test_augment_with_stacking_is_refused():
    spec = _spec(
        {
            "branch": {
                "a": [{"op": "snv"}, {"model": {"op": "pls", "n_components": 2}}],
                "b": [{"op": "msc"}, {"model": {"op": "pls", "n_components": 2}}],
            }
        },
        {"merge": "predictions"},
        {"augment": {"kind": "noise"}},
        model={"model": {"op": "pls", "n_components": 1}},
    )
    with pytest.raises(SpecError, match="merge: predictions"):
        _plan(spec)
