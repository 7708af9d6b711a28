"""The shape of the code: imports point down the layers (gateway -> schema -> resolvers -> adapters),
no two product files import each other in a loop at run time, and every module says what it is.

Imports under `if TYPE_CHECKING:` are annotations only and do not count: they never run. A new
circle fails here with the files in it; break it with a module below both, a protocol, or an
import for type checking where that is all it is (docs/architecture.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("adapters", "resolvers", "schema", "gateway")  # each may import only those before it


def modules(root: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every product module under `root`."""
    found = {}
    for layer in LAYERS:
        for path in sorted((root / layer).rglob("*.py")):
            if "node_modules" in path.parts:
                continue
            parts = path.relative_to(root).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def _annotation_only(tree: ast.Module) -> set[int]:
    guarded: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            guarded.update(id(n) for statement in node.body for n in ast.walk(statement))
    return guarded


def run_time_imports(name: str, path: Path) -> list[tuple[int, str]]:
    """(line, imported name) of every import that runs, at the top or inside a function."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    guarded = _annotation_only(tree)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if id(node) in guarded:
            continue
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            found += [(node.lineno, base)] + [(node.lineno, f"{base}.{a.name}") for a in node.names]
    return found


def import_graph(root: Path) -> dict[str, set[str]]:
    files = modules(root)
    graph: dict[str, set[str]] = {name: set() for name in files}
    for name, path in files.items():
        for _, target in run_time_imports(name, path):
            while target and target not in files:  # `from package import name`: the package
                target = target.rpartition(".")[0]
            # A module importing its own package (or a package its own modules) runs the
            # package's __init__ first either way: not a loop between two files.
            own_package = name.startswith(target + ".")
            own_module = path.name == "__init__.py" and target.startswith(name + ".")
            if target and target != name and not own_package and not own_module:
                graph[name].add(target)
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one file (Tarjan's algorithm, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, targets = work[-1]
            target = next(targets, None)
            if target is not None:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(graph[target]))))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    found.append(sorted(group))
    return found


def test_no_product_files_import_each_other_in_a_loop() -> None:
    found = circles(import_graph(ROOT))
    assert not found, "import circles at run time:\n" + "\n".join(" <-> ".join(c) for c in found)


def test_imports_point_down_the_layers() -> None:
    wrong = []
    for name, path in modules(ROOT).items():
        layer = name.split(".")[0]
        above = set(LAYERS[LAYERS.index(layer) + 1 :])
        for line, target in run_time_imports(name, path):
            if target.split(".")[0] in above:
                wrong.append(f"{path.relative_to(ROOT)}:{line}: {layer} imports {target}")
    assert not wrong, "\n".join(sorted(set(wrong)))


def test_every_module_says_what_it_is() -> None:
    silent = [
        str(path.relative_to(ROOT))
        for path in modules(ROOT).values()
        if not ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert not silent, f"modules without a docstring: {silent}"


def test_the_gateway_folder_shows_its_parts() -> None:
    """gateway/ holds packages by concern and a few entry modules, not one flat room again."""
    top = sorted(p.name for p in (ROOT / "gateway").glob("*.py") if p.name != "__init__.py")
    assert len(top) <= 8, f"gateway/ has {len(top)} modules at the top; put new ones in a package: {top}"


# --- the checks themselves catch what they are for ---------------------------------------------


def _write(root: Path, files: dict[str, str]) -> None:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


@pytest.mark.parametrize(
    ("a", "b", "loop"),
    [
        ("from resolvers import b\n", "from resolvers.a import x\n", True),
        ("from resolvers.b import y\n", "def f():\n    from resolvers import a\n", True),  # lazy, a loop
        (
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from resolvers.b import y\n",
            "from resolvers.a import x\n",
            False,
        ),
        ("from .b import y\n", "from . import a\n", True),  # relative imports count too
        ("import resolvers.b\n", "", False),
    ],
)
def test_a_new_circle_is_found(tmp_path: Path, a: str, b: str, loop: bool) -> None:
    _write(
        tmp_path,
        {
            "resolvers/__init__.py": '"""Use cases."""\n',
            "resolvers/a.py": a,
            "resolvers/b.py": b,
            "resolvers/c.py": "from resolvers import a\n",  # leans on the loop, is not in it
        },
    )
    found = circles(import_graph(tmp_path))
    assert found == ([["resolvers.a", "resolvers.b"]] if loop else [])


def test_a_longer_circle_is_found_whole(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "adapters/__init__.py": "",
            "adapters/one.py": "from adapters import two\n",
            "adapters/two.py": "from adapters.three import x\n",
            "adapters/three.py": "import adapters.one\n",
            "adapters/four.py": "from adapters import four_helper\n",
            "adapters/four_helper.py": "",
        },
    )
    assert circles(import_graph(tmp_path)) == [["adapters.one", "adapters.three", "adapters.two"]]
