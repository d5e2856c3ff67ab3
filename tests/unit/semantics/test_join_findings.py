"""A view join inferred with less than exact confidence is a warning finding (coerced key types); exact ones none."""

from __future__ import annotations

import pyarrow as pa

from semantics.joins import infer_join
from semantics.records import ViewDecisions, ViewRecord, join_findings


def decisions(right_type: pa.DataType) -> ViewDecisions:
    left = ({"run_id": "run_id", "chain_id": "chain_id"},
            pa.schema([("run_id", pa.string()), ("chain_id", pa.string())]))
    right = ({"run_id": "run_id", "cid": "chain_id"}, pa.schema([("run_id", pa.string()), ("cid", right_type)]))
    join = infer_join("v_test", ("run_id", "chain_id"), "inner", left, right)
    return ViewDecisions(run_id="r", views=(ViewRecord(view="v_test", fingerprint="f", versions={}, tables=(),
                                                       functions=(), joins=(join,)),))


def test_an_exact_join_is_no_finding():
    views = decisions(pa.string_view())  # string views and strings are the same key type
    assert views.views[0].joins[0].confidence == "exact"
    assert join_findings(views) == ()


def test_a_coerced_join_is_a_warning_naming_the_view_keys_and_path():
    views = decisions(pa.int64())
    assert views.views[0].joins[0].confidence == "coerced"
    (finding,) = join_findings(views)
    assert finding.code == "coerced_join" and finding.severity == "warning"
    assert finding.path == "$views.v_test.joins[0]"
    assert "v_test" in finding.message and "run_id, chain_id = run_id, cid" in finding.message
    assert "coerced, not exact" in finding.message
