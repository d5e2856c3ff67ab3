"""`nirdag run --no-cache/--quiet` and `nirdag cache stats|clear`, run as a user runs them (real subprocesses)."""

from __future__ import annotations

import json
import subprocess
import sys


def nirdag(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nirdag", *args], capture_output=True, text=True, timeout=300,
                          check=False)


def stats(ws) -> dict[str, dict]:
    out = nirdag("cache", "stats", "--workspace", str(ws), "--format", "json")
    assert out.returncode == 0, out.stderr
    return {row["kind"]: row for row in json.loads(out.stdout)}


def test_cache_stats_and_clear_through_the_cli(tmp_path, example_spec):
    ws = tmp_path / "ws"
    missing = nirdag("cache", "stats", "--workspace", str(ws))
    assert missing.returncode == 1 and "does not exist" in missing.stderr  # no workspace yet: said, not guessed
    run = nirdag("run", str(example_spec), "--workspace", str(ws), "--top", "1", "--cache-admission", "all")
    assert run.returncode == 0, run.stderr
    assert "cache hits" not in run.stdout  # stdout is not a terminal: no progress bar
    counts = stats(ws)
    assert counts["hoisted"]["entries"] == 3 and counts["fold_fit"]["entries"] == 4 * 5
    assert counts["total"]["entries"] == 23 and counts["total"]["mib"] > 0
    table = nirdag("cache", "stats", "-w", str(ws))
    assert "fold_fit" in table.stdout and "leftover temp file" in table.stdout
    cleared = nirdag("cache", "clear", "-w", str(ws))
    assert cleared.returncode == 0 and "removed 23 cache entries" in cleared.stdout
    assert stats(ws)["total"]["entries"] == 0


def test_run_no_cache_quiet_writes_no_entry_and_events_say_off(tmp_path, example_spec):
    ws = tmp_path / "ws"
    run = nirdag("run", str(example_spec), "--workspace", str(ws), "--no-cache", "--quiet", "--top", "1")
    assert run.returncode == 0, run.stderr
    assert stats(ws)["total"]["entries"] == 0
    sql = "SELECT cache, count(*) AS n FROM events GROUP BY cache ORDER BY cache"
    out = nirdag("query", sql, "-w", str(ws), "--format", "json")
    assert {r["cache"]: r["n"] for r in json.loads(out.stdout)}["off"] == 23


def test_a_cache_cap_on_the_command_line_bounds_the_folder(tmp_path, example_spec):
    ws = tmp_path / "ws"
    run = nirdag("run", str(example_spec), "--workspace", str(ws), "--cache-max-mb", "0", "--top", "1")
    assert run.returncode == 0, run.stderr
    assert stats(ws)["total"]["entries"] == 0


def test_cache_verbs_refuse_a_folder_that_is_not_a_workspace(tmp_path):
    (tmp_path / "cache" / "objects").mkdir(parents=True)
    keep = tmp_path / "cache" / "objects" / "precious.txt"
    keep.write_text("not ours")
    for verb in ("stats", "clear"):
        out = nirdag("cache", verb, "-w", str(tmp_path))
        assert out.returncode == 1 and "is not a nirdag workspace" in out.stderr
    assert keep.read_text() == "not ours"
    assert "is not a nirdag workspace" in nirdag("cache", "clear", "-w", "/etc").stderr
