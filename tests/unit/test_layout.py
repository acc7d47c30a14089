"""The import arrows of ARCHITECTURE's layout table, checked on the source: the domain packages
never import the outside (daogou, actions, web), bot/ imports only cn_text of ours, and
only the start-up modules import daogou (cn_text's standard-library rule: test_cn_numbers.py)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OURS = {"daogou", "cn_text", "bot", "actions", "knowledge_graph", "search", "recommender",
        "web", "data", "tests", "benchmarks"}  # fmt: skip
MAY_IMPORT = {
    "cn_text": set(),
    "data": set(),
    "bot": {"cn_text"},
    "knowledge_graph": {"cn_text"},
    "search": {"cn_text", "knowledge_graph"},
    "recommender": {"cn_text", "knowledge_graph", "search"},
    "actions": {"cn_text", "knowledge_graph", "search", "recommender"},
    "web": {"cn_text", "knowledge_graph", "search", "recommender", "daogou"},
}
# The start-up modules: they build the services from settings (daogou/container.py).
STARTUP = {"actions/server.py", "web/app.py"}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def sources(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(MAY_IMPORT))
def test_packages_import_only_what_the_layout_allows(package: str) -> None:
    wrong = []
    for path in sources(package):
        relative = path.relative_to(ROOT).as_posix()
        allowed = MAY_IMPORT[package] | {package}
        if relative in STARTUP:
            allowed = allowed | {"daogou"}
        for name in sorted(imported_packages(path) & OURS - allowed):
            wrong.append(f"{relative} imports {name}")
    assert wrong == []


def test_web_imports_daogou_only_at_start_up() -> None:
    users = [
        path.relative_to(ROOT).as_posix()
        for path in sources("web")
        if "daogou" in imported_packages(path)
    ]
    assert set(users) <= STARTUP | {"web/deps.py"}  # deps: the Settings type of a route
