"""`nirdag serve`'s API through FastAPI's in-process client over a real run and its bundle: every endpoint, JSON
that equals what `nirdag query --format json` prints and rows that equal `nirdag.predict`, every kind of bad input
as a 4xx with a one-line reason, the token rule, the metrics, and a workspace left byte for byte as it was."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
from pathlib import Path

import msgspec
import numpy as np
import pyarrow as pa
import pytest
from tests.integration.conftest import require_serve_extra

import nirdag

require_serve_extra()

from fastapi.testclient import TestClient  # noqa: E402  (after the extra is known to be there)

from nirdag.bundle import read_bundle  # noqa: E402
from nirdag.serve.app import create_app  # noqa: E402
from nirdag.serve.config import serve_config  # noqa: E402
from nirs_core.data import SpectraDataset  # noqa: E402

ARROW = "application/vnd.apache.arrow.stream"


def _client(run, bundle, **changes) -> TestClient:
    config = serve_config(Path(run.workspace), bundles=[f"tecator={bundle}"])
    return TestClient(create_app(msgspec.structs.replace(config, **changes)))


@pytest.fixture(scope="module")
def client(tecator_run, tecator_bundle) -> TestClient:
    return _client(tecator_run, tecator_bundle)


@pytest.fixture(scope="module")
def model(tecator_bundle):
    return read_bundle(tecator_bundle)


def _one_line_4xx(answer, status: int | None = None) -> str:
    assert 400 <= answer.status_code < 500, (answer.status_code, answer.text)
    if status is not None:
        assert answer.status_code == status, answer.text
    detail = answer.json()["detail"]
    assert isinstance(detail, str) and detail and "\n" not in detail
    return detail


def _csv(dataset, rows: slice) -> bytes:
    """A wide CSV as `nirdag predict MODEL FILE` reads one: an id column and one column per wavelength."""
    header = "sample_id," + ",".join(f"{w:g}" for w in dataset.wavelengths)
    lines = [f"{i}," + ",".join(repr(float(v)) for v in x)
             for i, x in zip(dataset.sample_ids[rows], dataset.spectra[rows], strict=True)]
    return ("\n".join([header, *lines]) + "\n").encode()


def test_the_openapi_schema_documents_every_endpoint(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/health", "/runs", "/runs/{run}", "/runs/{run}/chains", "/runs/{run}/provenance", "/runs/{run}/dag.svg",
            "/runs/{run}/report", "/runs/{run}/plots/{kind}.svg", "/sql", "/predict/{bundle}", "/bundles",
            "/metrics"} <= set(paths)
    body = paths["/predict/{bundle}"]["post"]["requestBody"]["content"]
    assert set(body) == {"application/json", "text/csv", ARROW}
    assert not any(p.startswith("/ui") or p == "/" for p in paths)  # the pages are not API


def test_health_and_bundles(client, model):
    assert client.get("/health").json()["bundles"] == ["tecator"]
    (bundle,) = client.get("/bundles").json()
    assert bundle["chain_id"] == model.chain.chain_id and bundle["n_wavelengths"] == 100 and bundle["has_domain"]


def test_runs_and_a_run_summary_are_the_workspace_s(client, tecator_run):
    runs = client.get("/runs").json()
    assert tecator_run.run_id in [r["run_id"] for r in runs]
    for ref in (tecator_run.run_id, tecator_run.run_id[:15], "latest"):
        summary = client.get(f"/runs/{ref}").json()
        assert summary["run_id"] == tecator_run.run_id and summary["status"] == "completed"
        assert summary["n_chains"] == len(tecator_run.plan.chains)


def test_chains_are_ranked_and_paginated(client, tecator_run):
    total = len(tecator_run.plan.chains)
    first = client.get(f"/runs/{tecator_run.run_id}/chains", params={"limit": 5}).json()
    assert first["total"] == total and [c["rank"] for c in first["chains"]] == [1, 2, 3, 4, 5]
    assert first["chains"][0]["chain_id"] == tecator_run.best["chain_id"]
    second = client.get(f"/runs/{tecator_run.run_id}/chains", params={"offset": 5, "limit": 5}).json()
    assert [c["rank"] for c in second["chains"]] == [6, 7, 8, 9, 10]
    every = client.get(f"/runs/{tecator_run.run_id}/chains", params={"limit": 1000}).json()["chains"]
    assert [c["chain_id"] for c in every] == tecator_run.top(total).column("chain_id").to_pylist()
    assert client.get(f"/runs/{tecator_run.run_id}/chains", params={"offset": total}).json()["chains"] == []
    _one_line_4xx(client.get(f"/runs/{tecator_run.run_id}/chains", params={"limit": 0}), 422)


def test_provenance_is_the_stored_graph(client, tecator_run):
    graph = client.get(f"/runs/{tecator_run.run_id}/provenance").json()
    assert graph["run_id"] == tecator_run.run_id
    assert len(graph["decisions"]) == len(tecator_run.provenance.decisions)


def test_the_dag_the_figures_and_the_report(client, tecator_run):
    run = tecator_run.run_id
    dag = client.get(f"/runs/{run}/dag.svg")
    assert dag.headers["content-type"] == "image/svg+xml" and b"<svg" in dag.content
    figure = client.get(f"/runs/{run}/plots/pred_vs_measured.svg")
    assert figure.status_code == 200 and b"<svg" in figure.content
    assert "classification" in _one_line_4xx(client.get(f"/runs/{run}/plots/confusion.svg"), 404)
    assert "kinds:" in _one_line_4xx(client.get(f"/runs/{run}/plots/nonsense.svg"), 404)
    report = client.get(f"/runs/{run}/report")
    assert report.headers["content-type"].startswith("text/html")
    assert "Calibration report: tecator_pls" in report.text and report.text.count("<svg") >= 8


@pytest.mark.parametrize("path", ["/runs/{r}", "/runs/{r}/chains", "/runs/{r}/provenance", "/runs/{r}/dag.svg",
                                  "/runs/{r}/report", "/runs/{r}/plots/components.svg", "/ui/runs/{r}"])
def test_an_unknown_run_is_404_on_every_run_endpoint(client, path):
    assert "no run" in _one_line_4xx(client.get(path.format(r="nosuchrun'--")), 404)


def test_an_unknown_chain_is_404(client, tecator_run):
    for path in ("report", "plots/pred_vs_measured.svg"):
        _one_line_4xx(client.get(f"/runs/{tecator_run.run_id}/{path}", params={"chain": "f" * 64}), 404)


def test_sql_json_is_what_nirdag_query_format_json_prints(client, tecator_run):
    sql = "SELECT run_id, chain_id, rank, rmsecv, refit FROM v_ranked_chains ORDER BY rank LIMIT 7"
    printed = subprocess.run([sys.executable, "-m", "nirdag", "query", sql, "-w", str(tecator_run.workspace), "-f",
                              "json"], capture_output=True, text=True, timeout=120, check=True)
    answer = client.post("/sql", json={"sql": sql})
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    assert answer.text == printed.stdout.strip()
    times = client.post("/sql", json={"sql": "SELECT run_id, started_at FROM runs"}).json()
    assert all(isinstance(r["started_at"], str) for r in times)  # ISO 8601, as the CLI prints


def test_sql_answers_csv_and_arrow_by_accept(client):
    sql = "SELECT chain_id, branch_path FROM chains ORDER BY chain_id LIMIT 3"
    as_csv = client.post("/sql", json={"sql": sql}, headers={"Accept": "text/csv"})
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert as_csv.text.splitlines()[0] == '"chain_id","branch_path"' and len(as_csv.text.splitlines()) == 4
    as_arrow = client.post("/sql", json={"sql": sql}, headers={"Accept": ARROW})
    table = pa.ipc.open_stream(as_arrow.content).read_all()
    assert table.column_names == ["chain_id", "branch_path"] and table.num_rows == 3
    _one_line_4xx(client.post("/sql", json={"sql": sql}, headers={"Accept": "image/png"}), 406)


@pytest.mark.parametrize("sql", ["DROP TABLE runs", "CREATE TABLE x AS SELECT 1", "INSERT INTO runs SELECT * FROM runs",
                                 "DELETE FROM runs", "SET datafusion.execution.batch_size = 1",
                                 "COPY runs TO '/tmp/x.csv'", "SELECT * FROM nosuchtable", "SELEC 1",
                                 "SELECT " + "1+" * 5000 + "1"])
def test_sql_refuses_writes_and_bad_statements_with_a_one_line_400(client, sql):
    _one_line_4xx(client.post("/sql", json={"sql": sql}), 400)


@pytest.mark.parametrize("body", [b"{not json", b'{"sql": 1}', b'{"query": "SELECT 1"}', b'{"sql": "SELECT 1", "x": 1}',
                                  b"[]", b""])
def test_sql_refuses_a_malformed_body(client, body):
    _one_line_4xx(client.post("/sql", content=body, headers={"Content-Type": "application/json"}))


def test_sql_row_limit_is_the_server_s(tecator_run, tecator_bundle):
    small = _client(tecator_run, tecator_bundle, sql_max_rows=5)
    assert "limit" in _one_line_4xx(small.post("/sql", json={"sql": "SELECT * FROM predictions"}), 400)
    assert len(small.post("/sql", json={"sql": "SELECT * FROM runs LIMIT 5"}).json()) <= 5


def test_predict_json_gives_the_rows_of_nirdag_predict(client, model, tecator):
    X, ids = tecator.spectra[:20], [f"s{i}" for i in range(20)]
    expected = nirdag.predict(model, X, sample_ids=ids).to_pylist()
    answer = client.post("/predict/tecator", json={"spectra": X.tolist(), "sample_ids": ids})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["predictions"] == expected and body["domain_absent"] is None
    with_axis = client.post("/predict/tecator", json={"spectra": X.tolist(), "sample_ids": ids,
                                                      "wavelengths": tecator.wavelengths.tolist()}).json()
    assert with_axis["predictions"] == expected
    no_ids = client.post("/predict/tecator", json={"spectra": X[:2].tolist()}).json()["predictions"]
    assert [p["sample_id"] for p in no_ids] == ["1", "2"]


def test_predict_with_an_interval_gives_the_bounds_of_nirdag_predict(client, model, tecator):
    X, ids = tecator.spectra[:5], [f"s{i}" for i in range(5)]
    for scale in ("absolute", "leverage"):
        expected = nirdag.predict(model, X, sample_ids=ids, interval=0.9, interval_scale=scale).to_pylist()
        answer = client.post("/predict/tecator", json={"spectra": X.tolist(), "sample_ids": ids},
                             params={"interval": "0.9", "interval_scale": scale})
        assert answer.status_code == 200, answer.text
        assert answer.json()["predictions"] == expected and "y_lower" in expected[0]
    bad = client.post("/predict/tecator", json={"spectra": X.tolist()}, params={"interval": "1.5"})
    assert "strictly between 0 and 1" in _one_line_4xx(bad, 400)


def test_predict_resamples_another_axis_only_when_asked(client, model, tecator):
    X, axis = tecator.spectra[:3], tecator.wavelengths
    finer = np.linspace(axis[0], axis[-1], 151)
    on_finer = np.vstack([np.interp(finer, axis, x) for x in X])
    body = {"spectra": on_finer.tolist(), "wavelengths": finer.tolist()}
    assert "resample" in _one_line_4xx(client.post("/predict/tecator", json=body), 400)
    answer = client.post("/predict/tecator", json=body, params={"resample": "true"})
    assert answer.status_code == 200, answer.text
    dataset = SpectraDataset(name="finer", sample_ids=np.array(["1", "2", "3"]), spectra=on_finer, wavelengths=finer,
                             wavelength_unit="nm", partition=np.full(3, "train"), targets={})
    assert answer.json()["predictions"] == nirdag.predict(model, dataset, resample=True).to_pylist()


def test_predict_csv_and_arrow_bodies_give_the_rows_of_nirdag_predict_of_the_file(client, model, tecator, tmp_path):
    body = _csv(tecator, slice(0, 30))
    (tmp_path / "new.csv").write_bytes(body)
    expected = nirdag.predict(model, nirdag.load_dataset(tmp_path / "new.csv")).to_pylist()
    answer = client.post("/predict/tecator", content=body, headers={"Content-Type": "text/csv"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["predictions"] == expected
    table = pa.table({"sample_id": tecator.sample_ids[:30],
                      **{f"{w:g}": tecator.spectra[:30, j] for j, w in enumerate(tecator.wavelengths)}})
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    answer = client.post("/predict/tecator", content=sink.getvalue(), headers={"Content-Type": ARROW})
    assert answer.status_code == 200, answer.text
    assert answer.json()["predictions"] == expected


def test_predict_answers_csv_and_arrow_by_accept(client, model, tecator):
    X = tecator.spectra[:4].tolist()
    expected = nirdag.predict(model, np.asarray(X))
    as_arrow = client.post("/predict/tecator", json={"spectra": X}, headers={"Accept": ARROW})
    assert pa.ipc.open_stream(as_arrow.content).read_all().equals(expected)
    as_csv = client.post("/predict/tecator", json={"spectra": X}, headers={"Accept": "text/csv"})
    assert as_csv.text.splitlines()[0] == '"sample_id","target","y_pred","t2","q","t2_ratio","q_ratio","domain"'
    assert len(as_csv.text.splitlines()) == 5


def _with_nan(body: bytes) -> bytes:
    header, first, *rest = body.decode().splitlines()
    cells = first.split(",")
    return "\n".join([header, ",".join([cells[0], "nan", *cells[2:]]), *rest]).encode()


def _bad_bodies(tecator) -> list[tuple[str, bytes, str]]:
    X = tecator.spectra[:3]
    rows = X.tolist()
    other_axis = (tecator.wavelengths + 40).tolist()
    return [
        ("application/json", b"{not json", "JSON"),
        ("application/json", b'{"spectra": "abc"}', "spectra"),
        ("application/json", b'{"spectra": [[1, 2], [1]]}', "lengths"),
        ("application/json", json.dumps({"spectra": [r[:-1] for r in rows]}).encode(), "wavelengths"),
        ("application/json", json.dumps({"spectra": rows, "wavelengths": other_axis}).encode(), "axis"),
        ("application/json", json.dumps({"spectra": [[*rows[0][:-1], 1e999]]}).replace("Infinity", "1e999")
         .encode(), "out of range"),
        ("application/json", b'{"spectra": [[NaN, 1]]}', "JSON"),
        ("application/json", json.dumps({"spectra": [[None] * 100]}).encode(), "null"),
        ("application/json", b'{"spectra": []}', "no spectrum"),
        ("application/json", json.dumps({"spectra": rows, "sample_ids": ["a"]}).encode(), "sample ids"),
        ("application/json", json.dumps({"spectra": rows, "extra": 1}).encode(), "extra"),
        ("text/csv", b"sample_id,850,852\na,1,2\n", "wavelengths"),
        ("text/csv", b"\xff\xfe\x00garbage", ""),
        ("text/csv", _csv(tecator, slice(0, 2)).replace(b",", b",x", 5), ""),
        ("text/csv", _csv(tecator, slice(0, 2)).replace(b"\n", b"\nnan,", 1), "CSV"),
        ("text/csv", _with_nan(_csv(tecator, slice(0, 2))), "NaN"),
        ("application/vnd.apache.arrow.stream", b"not arrow at all", "Arrow"),
        ("application/json", b"", "empty"),
    ]


def test_bad_spectra_are_a_one_line_4xx(client, tecator):
    for content_type, body, word in _bad_bodies(tecator):
        answer = client.post("/predict/tecator", content=body, headers={"Content-Type": content_type})
        detail = _one_line_4xx(answer)
        assert word.lower() in detail.lower(), (body[:60], detail)


def test_unknown_bundle_media_type_and_oversize(client, tecator, tecator_run, tecator_bundle):
    rows = {"spectra": tecator.spectra[:1].tolist()}
    assert "no bundle" in _one_line_4xx(client.post("/predict/nosuch", json=rows), 404)
    _one_line_4xx(client.post("/predict/tecator", content=b"x", headers={"Content-Type": "image/png"}), 415)
    tiny = _client(tecator_run, tecator_bundle, max_body_bytes=1000)
    big = json.dumps({"spectra": tecator.spectra[:5].tolist()}).encode()
    assert "limit" in _one_line_4xx(tiny.post("/predict/tecator", content=big,
                                              headers={"Content-Type": "application/json"}), 413)

    def chunks():  # no Content-Length: the cap holds while the body streams
        yield big[:600]
        yield big[600:]

    _one_line_4xx(tiny.post("/predict/tecator", content=chunks(), headers={"Content-Type": "application/json"}), 413)


def test_a_token_guards_everything_but_health(tecator_run, tecator_bundle):
    token = "s3cret-token-of-the-lab-0123456789"
    guarded = _client(tecator_run, tecator_bundle, token=token)
    assert guarded.get("/health").status_code == 200
    assert "bearer token" in _one_line_4xx(guarded.get("/runs"), 401)
    _one_line_4xx(guarded.get("/runs", headers={"Authorization": "Bearer wrong"}), 401)
    _one_line_4xx(guarded.post("/sql", json={"sql": "SELECT 1"}), 401)
    assert guarded.get("/runs", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    page = guarded.get("/", headers={"Accept": "text/html"}, follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/login"
    _one_line_4xx(guarded.post("/login", json={"token": "wrong"}), 401)
    assert guarded.post("/login", json={"token": token}).status_code == 200  # sets the HttpOnly cookie
    assert guarded.get("/", headers={"Accept": "text/html"}).status_code == 200


def test_metrics_count_requests_and_predictions(tecator_run, tecator_bundle, tecator):
    fresh = _client(tecator_run, tecator_bundle)
    fresh.post("/predict/tecator", json={"spectra": tecator.spectra[:7].tolist()})
    fresh.get("/runs/nosuch")
    text = fresh.get("/metrics").text
    assert 'nirdag_predictions_total{bundle="tecator"} 7.0' in text
    assert 'nirdag_http_requests_total{method="POST",route="/predict/{bundle}",status="200"} 1.0' in text
    assert 'nirdag_http_requests_total{method="GET",route="/runs/{run}",status="404"} 1.0' in text
    assert 'nirdag_http_request_duration_seconds_bucket{le="0.05",route="/predict/{bundle}"}' in text


def test_the_pages_show_runs_a_run_and_the_bundles(client, tecator_run):
    assert f'href="/ui/runs/{tecator_run.run_id}"' in client.get("/").text
    page = client.get(f"/ui/runs/{tecator_run.run_id}").text
    assert 'id="chains"' in page and "/dag.svg" in page and "/plots/pred_vs_measured.svg" in page
    assert "hoist" in page or "refit" in page  # the provenance tree
    assert "tecator (fat; 100 wavelengths)" in client.get("/ui/predict").text
    assert client.get("/static/app.js").headers["content-type"].startswith("text/javascript")
    _one_line_4xx(client.get("/static/secret.py"), 404)


def _files(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_the_server_never_writes_the_workspace(tecator_run, tecator_bundle, tecator):
    root = Path(tecator_run.workspace)
    before = _files(root)
    fresh = _client(tecator_run, tecator_bundle)
    run = tecator_run.run_id
    for path in ("/", "/runs", f"/runs/{run}", f"/runs/{run}/chains", f"/runs/{run}/provenance",
                 f"/runs/{run}/dag.svg", f"/runs/{run}/plots/components.svg", f"/ui/runs/{run}", "/runs/nosuch"):
        assert fresh.get(path).status_code < 500
    fresh.post("/sql", json={"sql": "SELECT count(*) FROM predictions"})
    fresh.post("/sql", json={"sql": "DROP TABLE runs"})
    fresh.post("/predict/tecator", json={"spectra": tecator.spectra[:3].tolist()})
    assert _files(root) == before


def test_nirdag_help_loads_no_web_framework():
    code = ("import sys\nfrom nirdag.cli import main\nsys.argv = ['nirdag', '--help']\ntry:\n    main()\n"
            "except SystemExit:\n    pass\n"
            "print(sorted(m for m in ('fastapi', 'uvicorn', 'starlette', 'prometheus_client') if m in sys.modules),"
            " file=sys.stderr)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stderr.strip().splitlines()[-1] == "[]"
    assert "serve" in out.stdout
