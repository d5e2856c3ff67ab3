"""`nirdag plot` and `nirdag report` run as a user runs them (real subprocesses on a real workspace)."""

from __future__ import annotations

import subprocess
import sys

import pytest


def nirdag(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nirdag", *args], capture_output=True, text=True, timeout=300,
                          check=False)


@pytest.fixture(scope="module")
def ws(tecator_run):
    return str(tecator_run.workspace)


@pytest.mark.parametrize("suffix, magic", [(".svg", b"<?xml"), (".png", b"\x89PNG")])
def test_plot_writes_a_figure_of_the_latest_run(ws, tmp_path, suffix, magic):
    out = nirdag("plot", "pred_vs_measured", "-w", ws, "-o", str(tmp_path / f"p{suffix}"))
    assert out.returncode == 0, out.stderr
    assert (tmp_path / f"p{suffix}").read_bytes().startswith(magic)


def test_plot_of_a_named_run_and_chain(ws, tmp_path, tecator_run):
    out = nirdag("plot", "influence", tecator_run.run_id, "-w", ws, "-o", str(tmp_path / "i.svg"),
                 "--chain", tecator_run.best["chain_id"][:8])
    assert out.returncode == 0, out.stderr
    assert "wrote" in out.stdout


@pytest.mark.parametrize("args, message", [
    (("plot", "pca", "-o", "x.svg"), "unknown plot kind 'pca'; kinds: components, pred_vs_measured"),
    (("plot", "scores", "-o", "x.jpg"), "a figure is written as .svg, .png, .pdf (got '.jpg')"),
    (("plot", "scores", "nope", "-o", "x.svg"), "no run 'nope' in workspace"),
    (("plot", "confusion", "-o", "x.svg"), "confusion draws a classification run"),
    (("report", "-o", "x.html", "--chain", "ffffffffff"), "has 0 chains matching 'ffffffffff'"),
    (("report", "-o", "x.txt"), "the report is written as .html (got '.txt')"),
])
def test_bad_requests_are_one_line_errors(ws, tmp_path, args, message):
    out = nirdag(*args, "-w", ws)
    assert out.returncode == 1, out.stdout + out.stderr
    assert out.stderr.strip() == f"error: {out.stderr.strip()[7:]}" and len(out.stderr.strip().splitlines()) == 1
    assert message in out.stderr


def test_report_writes_the_html_page_and_the_pdf(ws, tmp_path):
    html, pdf = tmp_path / "report.html", tmp_path / "report.pdf"
    out = nirdag("report", "-w", ws, "-o", str(html), "--pdf", str(pdf))
    assert out.returncode == 0, out.stderr
    assert html.read_text(encoding="utf-8").count("<svg") == 8
    assert pdf.read_bytes().startswith(b"%PDF")
    assert f"wrote {html}" in out.stdout and f"wrote {pdf}" in out.stdout


def test_report_of_a_workspace_without_runs_says_so(tmp_path):
    out = nirdag("report", "-w", str(tmp_path / "none"), "-o", str(tmp_path / "r.html"))
    assert out.returncode == 1 and "does not exist" in out.stderr
