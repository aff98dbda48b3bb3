"""Dependencies point one way: no import cycles among our modules, and each app imports only the apps below it.

Every import counts, those inside functions too: a cycle hidden in a function
is still a cycle to the reader.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("platform_site", "live", "projects", "datasets", "experiments", "serving")
# Each app may import those before it, never those after it.
APP_LAYERS = ("live", "projects", "datasets", "experiments", "serving")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def our_modules() -> dict[str, Path]:
    return {
        module_name(path): path
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "tests" not in path.parts and "migrations" not in path.parts
    }


def import_graph() -> dict[str, set[str]]:
    modules = our_modules()
    graph = {}
    for name, path in modules.items():
        imported = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module)
                imported |= {f"{node.module}.{alias.name}" for alias in node.names}
        graph[name] = {target for target in imported if target in modules and target != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    found, state = [], {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for target in sorted(graph[module]):
            if state.get(target) == "open":
                found.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target, [*path, target])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    return found


def test_our_modules_import_each_other_without_cycles():
    assert cycles(import_graph()) == []


def test_apps_import_only_the_apps_below_them():
    def app_of(module: str) -> str:
        return module.split(".")[0]

    graph = import_graph()
    upward = {
        (module, target)
        for module, targets in graph.items()
        for target in targets
        if app_of(module) in APP_LAYERS
        and app_of(target) in APP_LAYERS
        and APP_LAYERS.index(app_of(target)) > APP_LAYERS.index(app_of(module))
    }
    assert upward == set()


def test_the_check_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]
