"""The packages' import graph, read from the source (function-level imports included): no cycle between modules or
between packages, and no package imports one from a layer above its own."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# lowest first: a package may import from its own layer and the ones below, never from above
LAYERS = [
    {"llmkb", "llmkb.paths", "llmkb.errors"},  # llmkb: the root package's __init__ (its version)
    {"llmkb.models", "llmkb.machine", "llmkb.data", "rram"},
    {"llmkb.kb"},
    {"llmkb.priors", "llmkb.retrieval", "llmkb.generation", "llmkb.postprocess"},
    {"llmkb.ranking"},
    {"llmkb.pipeline"},
    {"llmkb.fitting"},
    {"llmkb.evaluation"},
    {"llmkb.scale", "llmkb.prune"},
    {"llmkb.app"},
    {"llmkb.cli"},
]


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_of(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "llmkb" else parts[0]


def import_graph() -> dict[str, set[str]]:
    """module → the project modules it imports (anywhere in its body)."""
    paths = [p for top in ("llmkb", "rram") for p in (ROOT / top).rglob("*.py")]
    modules = {module_name(p): p for p in paths}
    graph = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1] + ([base] if base else []))
                targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
            else:
                continue
            found.update(t for t in targets if t in modules and t != name)
        graph[name] = found
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected component that has one (Tarjan)."""
    index, low, stack, on_stack, out, counter = {}, {}, [], set(), [], [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return out


def packages(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for module, targets in graph.items():
        out.setdefault(package_of(module), set()).update(package_of(t) for t in targets if package_of(t) != package_of(module))
    return out


def test_cycles_are_found():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles():
    graph = import_graph()
    assert len(graph) > 50  # the whole project was read
    assert cycles(graph) == []
    assert cycles(packages(graph)) == []


def test_no_upward_imports():
    layer = {package: n for n, members in enumerate(LAYERS) for package in members}
    graph = packages(import_graph())
    assert set(graph) <= set(layer), f"packages missing from LAYERS: {sorted(set(graph) - set(layer))}"
    upward = sorted((a, b) for a, targets in graph.items() for b in targets if layer[b] > layer[a])
    assert upward == []
    assert graph["rram"] == set()  # rram stands alone: it never imports llmkb
