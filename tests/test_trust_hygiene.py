"""Repository hygiene as part of reliability: build artefacts are not tracked, and every
third-party module the code imports is declared in pyproject (runtime code in `dependencies`,
evals and tests in their extras) — nothing works only because another package pulled it in."""
from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OWN = {"ingest", "assistant", "web", "evals", "tests", "app"}


def _imports(files) -> set[str]:
    out = set()
    for f in files:
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                out |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                out.add(node.module.split(".")[0])
    return {m for m in out if m not in OWN and m not in sys.stdlib_module_names}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared(specs: list[str]) -> set[str]:
    return {_norm(re.split(r"[<>=!~\[; ]", s, maxsplit=1)[0]) for s in specs}


def _dists(module: str) -> set[str]:
    return {_norm(d) for d in packages_distributions().get(module, [])}


@pytest.fixture(scope="module")
def project():
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def test_build_artefacts_are_ignored_and_untracked():
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert not [p for p in tracked.splitlines() if ".egg-info" in p]
    r = subprocess.run(["git", "check-ignore", "-q", "zhengce.egg-info/PKG-INFO"], cwd=ROOT)
    assert r.returncode == 0, "zhengce.egg-info/ must be in .gitignore"


def test_runtime_imports_are_declared_dependencies(project):
    files = [ROOT / "app.py", *(ROOT / "ingest").rglob("*.py"), *(ROOT / "assistant").rglob("*.py"),
             *(ROOT / "web").rglob("*.py")]
    declared = _declared(project["dependencies"])
    missing = {m for m in _imports(files) if not _dists(m) & declared}
    assert not missing, f"imported but not in [project] dependencies: {sorted(missing)}"


def test_eval_and_test_imports_are_in_their_extras(project):
    runtime = _declared(project["dependencies"])
    extras = project["optional-dependencies"]
    for extra, folder in (("eval", "evals"), ("test", "tests")):
        allowed = runtime | _declared(extras[extra])
        missing = {m for m in _imports((ROOT / folder).rglob("*.py")) if not _dists(m) & allowed}
        assert not missing, f"{folder}/ imports {sorted(missing)} not declared in [{extra}]"
    # Tools only evals and tests use stay out of what an installation of the app pulls in.
    assert not runtime & {"langchain-text-splitters", "gradio-client", "pytest", "hypothesis", "playwright"}
