"""The applicability domain travels from a real run's `domains` table into its bundle, bit for bit, and judges new
spectra: predict returns t2, q, their ratios and the verdict; the CLI counts them and --fail-on exits 3."""

from __future__ import annotations

from pathlib import Path

import msgspec
import numpy as np
import pytest
from tests.integration.bundles.helpers import members, resealed, rezip

import nirdag
from nirdag.bundle import TamperedBundleError, domain_report, read_bundle
from nirdag.bundle.export import chain_domain
from nirdag.bundle.manifest import SCHEMA_VERSION
from nirdag.bundle.signing import KEY_ENV
from nirs_core.diagnostics import Domain

DOMAIN_COLUMNS = ["t2", "q", "t2_ratio", "q_ratio", "domain"]
KEY = "k" * 32


@pytest.fixture(autouse=True)
def no_key(monkeypatch):
    monkeypatch.delenv(KEY_ENV, raising=False)


def _domains_row(run, chain_id: str) -> Domain:
    rows = run.sql(f"SELECT * FROM domains WHERE run_id = '{run.run_id}' AND chain_id = '{chain_id}'").to_pylist()
    assert len(rows) == 1
    return msgspec.convert({name: rows[0][name] for name in Domain.__struct_fields__}, Domain)


def _shifted(X: np.ndarray, amplitude: float = 1.0) -> np.ndarray:
    """A spectrum with a strong sloped baseline added: 0 at the first wavelength, ``amplitude`` at the last."""
    return X + amplitude * np.linspace(0.0, 1.0, X.shape[-1])


def _verdicts(bundle: Path, X: np.ndarray) -> list[str]:
    return nirdag.predict(bundle, np.atleast_2d(X)).column("domain").to_pylist()


def test_every_refit_chains_bundle_carries_its_domains_row_bit_for_bit(bundle_run, tmp_path):
    chains = bundle_run.sql(f"SELECT chain_id FROM chains WHERE run_id = '{bundle_run.run_id}' AND refit"
                            ).column("chain_id").to_pylist()
    assert len(chains) == 3
    for chain_id in chains:
        manifest = read_bundle(bundle_run.export(tmp_path / f"{chain_id[:8]}.nirdag", chain=chain_id)).manifest
        assert manifest.schema_version == SCHEMA_VERSION
        assert manifest.domain == _domains_row(bundle_run, chain_id)  # exact float equality, field by field
        assert manifest.domain.k == manifest.chain.n_components


def test_predict_judges_the_test_spectra_as_the_runs_sample_diagnostics(bundle_run, bundle_file, test_rows):
    out = nirdag.predict(bundle_file, test_rows)
    diag = bundle_run.sql(
        f"SELECT sample_id, t2, q, t2_ratio, q_ratio, domain FROM sample_diagnostics WHERE run_id = "
        f"'{bundle_run.run_id}' AND chain_id = '{bundle_run.best['chain_id']}' AND partition = 'test'").to_pylist()
    stored = {r["sample_id"]: r for r in diag}
    got = out.to_pylist()
    assert len(got) == len(stored) == 43 and all(r["domain"] is not None for r in got)
    for name in ("t2", "q", "t2_ratio", "q_ratio"):
        np.testing.assert_allclose([r[name] for r in got], [stored[r["sample_id"]][name] for r in got], rtol=1e-9,
                                   err_msg=name)
    assert [r["domain"] for r in got] == [stored[r["sample_id"]]["domain"] for r in got]


def test_an_injected_baseline_shift_is_an_outlier_while_clean_spectra_are_not(bundle_file, test_rows):
    X = np.asarray(test_rows.spectra)
    ids = [*test_rows.sample_ids.tolist(), "shifted"]
    out = nirdag.predict(bundle_file, np.vstack([X, _shifted(X[0])]), sample_ids=ids)
    verdict = dict(zip(out.column("sample_id").to_pylist(), out.column("domain").to_pylist(), strict=True))
    assert verdict["shifted"] == "outlier"
    clean = [verdict[s] for s in ids[:-1]]
    assert sum(v != "outlier" for v in clean) >= 0.9 * len(clean)
    # an added spectrum changes no other prediction (beyond BLAS's blocking of a taller matrix: last bits)
    alone = nirdag.predict(bundle_file, X, sample_ids=ids[:-1])
    np.testing.assert_allclose(out.column("y_pred").to_numpy()[:-1], alone.column("y_pred").to_numpy(), rtol=0,
                               atol=1e-12)


def test_replay_reads_the_same_domain_from_the_workspace(bundle_run, bundle_file, test_rows):
    replayed = nirdag.replay(bundle_run.workspace, bundle_run.run_id, test_rows)
    from_bundle = nirdag.predict(bundle_file, test_rows)
    assert replayed.select(DOMAIN_COLUMNS).equals(from_bundle.select(DOMAIN_COLUMNS))
    assert replayed.column("t2").null_count == 0 and replayed.schema.metadata is None


def test_an_edited_domain_breaks_the_manifest_digest_and_the_signature(bundle_run, bundle_file, tmp_path):
    content = members(bundle_file)
    limit = read_bundle(bundle_file).manifest.domain.q_limit_99
    old = msgspec.json.encode({"q_limit_99": limit})[1:-1]
    assert old in content["manifest.json"]
    loosened = content["manifest.json"].replace(old, msgspec.json.encode({"q_limit_99": limit * 1000})[1:-1])
    with pytest.raises(TamperedBundleError, match=r"manifest\.json was changed"):
        read_bundle(rezip(tmp_path / "edited.nirdag", {**content, "manifest.json": loosened}))
    signed = bundle_run.export(tmp_path / "signed.nirdag", key=KEY)
    original = members(signed)
    forged = resealed(original, lambda m, _: m["domain"].update(q_limit_99=limit * 1000))
    # the digest recomputed by someone without the key, the signature's HMAC kept: the HMAC no longer matches
    hmac = msgspec.json.decode(original["signature.json"])["hmac_sha256"]
    forged["signature.json"] = msgspec.json.encode({**msgspec.json.decode(forged["signature.json"]),
                                                    "hmac_sha256": hmac})
    with pytest.raises(TamperedBundleError, match="signature mismatch"):
        read_bundle(rezip(tmp_path / "forged.nirdag", forged), key=KEY)


def test_a_version_1_bundle_predicts_with_null_domain_columns_and_says_why(v1_bundle, bundle_file, test_rows):
    out = nirdag.predict(v1_bundle, test_rows)
    assert all(out.column(c).null_count == out.num_rows for c in DOMAIN_COLUMNS)
    assert "manifest schema_version 1" in domain_report(out).absent
    assert out.column("y_pred").equals(nirdag.predict(bundle_file, test_rows).column("y_pred"))


def test_the_domain_query_binds_its_values(bundle_run):
    session = bundle_run.handle.session()
    best = bundle_run.best["chain_id"]
    assert chain_domain(session, bundle_run.run_id, best) == _domains_row(bundle_run, best)
    assert chain_domain(session, "x' OR '1'='1", best) is None
    assert chain_domain(session, bundle_run.run_id, "' OR chain_id LIKE '%") is None
