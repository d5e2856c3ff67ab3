"""The layers of docs/architecture.md: the import-linter contracts (pyproject.toml), and the same rules read
straight from the sources with ``ast`` (no package imports the facade, the package graph has no cycle), plus a
size cap per module."""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"
FACADE = "nirdag"
MAX_LINES = 600


def _modules() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


def _package_of(path: Path) -> str:
    return path.relative_to(SRC).parts[0]


def _imported_packages(path: Path) -> set[str]:
    """Top-level packages named by the module's import statements (anywhere in it; relative ones are its own)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.add(_package_of(path) if node.level else node.module.split(".")[0])
    return found


def _package_graph() -> dict[str, set[str]]:
    """An edge A -> B when a module of package A imports package B (both packages under src/)."""
    packages = {p.name for p in SRC.iterdir() if (p / "__init__.py").is_file()}
    graph: dict[str, set[str]] = {p: set() for p in packages}
    for path in _modules():
        source = _package_of(path)
        graph[source] |= (_imported_packages(path) & packages) - {source}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as a path [a, b, ..., a], or None."""
    done: set[str] = set()

    def visit(stack: list[str]) -> list[str] | None:
        for nxt in sorted(graph[stack[-1]]):
            if nxt in stack:
                return [*stack[stack.index(nxt):], nxt]
            if nxt not in done and (found := visit([*stack, nxt])):
                return found
        done.add(stack[-1])
        return None

    for start in sorted(graph):
        if start not in done and (found := visit([start])):
            return found
    return None


def test_import_linter_contracts_are_kept():
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_no_module_outside_the_facade_imports_nirdag():
    offenders = [str(p.relative_to(SRC)) for p in _modules()
                 if _package_of(p) != FACADE and FACADE in _imported_packages(p)]
    assert offenders == []


def test_the_package_import_graph_has_no_cycle():
    graph = _package_graph()
    assert set(graph) == {"nirdag", "hamilton_pipeline", "nirs_modelling", "semantics", "datafusion_engine",
                          "relspec", "nirs_core"}
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_no_module_under_src_exceeds_the_line_cap():
    too_long = {str(p.relative_to(SRC)): n for p in _modules()
                if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert too_long == {}, f"modules over {MAX_LINES} lines: {too_long}"


def test_import_nirdag_does_not_load_the_engines():
    code = "import sys, nirdag; print(sorted(m for m in ('hamilton', 'datafusion', 'deltalake') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_bundle_code_predict_loads_needs_no_engine():
    engines = ("hamilton", "datafusion", "deltalake", "datafusion_engine")
    code = f"import sys, nirdag.bundle; print(sorted(m for m in {engines!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_modelling_core_loads_no_engine():
    """nirs_modelling builds its tables with the row types of datafusion_engine.schemas, which loads no engine."""
    engines = ("hamilton", "hamilton_pipeline", "datafusion", "deltalake")
    code = ("import sys, nirs_modelling.compute, nirs_modelling.tables, nirs_modelling.stacking; "
            f"print(sorted(m for m in {engines!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_import_nirdag_and_its_figures_package_load_no_matplotlib():
    """matplotlib and Jinja2 load with the first figure or report, not with ``import nirdag`` (nor nirdag.plots)."""
    code = ("import sys, nirdag, nirdag.plots; "
            "print(sorted(m for m in ('matplotlib', 'jinja2') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
