"""`nirdag serve`'s pages in a real headless browser (Debian's chromium through selenium and the system chromedriver)
against a live server on 127.0.0.1: the runs list, a click into a run whose figures and DAG are drawn, a SQL query,
a CSV uploaded on the predict page and its predictions read back; no console error; a screenshot of each page in
pytest's tmp folder."""

from __future__ import annotations

import pytest

import nirdag

TIMEOUT = 60


def _wait(browser, condition, message: str):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, TIMEOUT).until(condition, message)


def _shot(browser, path) -> None:
    assert browser.save_screenshot(str(path))
    assert path.stat().st_size > 10_000
    print(f"screenshot: {path}")


def _no_console_error(browser) -> None:
    errors = [entry for entry in browser.get_log("browser") if entry["level"] in ("SEVERE", "ERROR")]
    assert errors == []


@pytest.fixture
def spectra_csv(tecator, tmp_path):
    rows = slice(0, 12)
    header = "sample_id," + ",".join(f"{w:g}" for w in tecator.wavelengths)
    lines = [f"{i}," + ",".join(repr(float(v)) for v in x)
             for i, x in zip(tecator.sample_ids[rows], tecator.spectra[rows], strict=True)]
    path = tmp_path / "new_spectra.csv"
    path.write_text("\n".join([header, *lines]) + "\n")
    return path


def test_runs_run_page_sql_and_predict_in_chromium(browser, live_server, tecator_run, tecator_bundle, spectra_csv,
                                                   tmp_path):
    from selenium.webdriver.common.by import By

    browser.set_window_size(1280, 2400)
    browser.get(live_server + "/")
    assert browser.title.startswith("Runs")
    link = browser.find_element(By.CSS_SELECTOR, f'a.run-link[href="/ui/runs/{tecator_run.run_id}"]')
    _shot(browser, tmp_path / "runs.png")
    link.click()

    _wait(browser, lambda b: b.title.startswith("Run "), "the run page did not open")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#chains tbody tr")) == min(20, len(tecator_run.plan.chains))
    drawn = _wait(browser, lambda b: b.execute_script(
        "const imgs = Array.from(document.querySelectorAll('img.figure'));"
        "return imgs.length && imgs.every(i => i.complete && i.naturalWidth > 0) ? imgs.map(i => i.alt) : false;"),
        "the figures and the DAG were not all drawn")
    assert {"pred_vs_measured", "components", "influence", "executed DAG"} <= set(drawn)
    assert browser.find_elements(By.CSS_SELECTOR, "#provenance li")
    _shot(browser, tmp_path / "run.png")

    browser.get(live_server + "/ui/sql")
    box = browser.find_element(By.ID, "sql")
    box.clear()
    box.send_keys("SELECT run_id, status FROM runs ORDER BY started_at")
    browser.find_element(By.ID, "run-sql").click()
    _wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "#sql-result tbody tr"), "no SQL result rows")
    cells = [td.text for td in browser.find_elements(By.CSS_SELECTOR, "#sql-result tbody td")]
    assert tecator_run.run_id in cells and "completed" in cells
    _shot(browser, tmp_path / "sql.png")

    browser.get(live_server + "/ui/predict")
    browser.find_element(By.ID, "spectra-file").send_keys(str(spectra_csv))
    browser.find_element(By.ID, "run-predict").click()
    _wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "#predict-result tbody tr"), "no predictions shown")
    head = [th.text for th in browser.find_elements(By.CSS_SELECTOR, "#predict-result thead th")]
    rows = [[td.text for td in tr.find_elements(By.TAG_NAME, "td")]
            for tr in browser.find_elements(By.CSS_SELECTOR, "#predict-result tbody tr")]
    expected = nirdag.predict(tecator_bundle, nirdag.load_dataset(spectra_csv)).to_pylist()
    assert head[:3] == ["sample_id", "target", "y_pred"] and "domain" in head
    assert [r[0] for r in rows] == [e["sample_id"] for e in expected]
    assert [float(r[2]) for r in rows] == pytest.approx([e["y_pred"] for e in expected], abs=1e-4)  # 4 decimals
    assert [r[head.index("domain")] for r in rows] == [e["domain"] for e in expected]
    assert "12 predictions" in browser.find_element(By.ID, "predict-status").text
    assert browser.find_element(By.ID, "predict-csv").is_enabled()
    _shot(browser, tmp_path / "predict.png")
    _no_console_error(browser)
