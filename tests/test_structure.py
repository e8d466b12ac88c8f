"""The shape of the house, checked: small modules, layers that point downward, no helper written twice.

These read the source with :mod:`ast`; nothing is imported, so a module that
fails to import cannot hide from them.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import mage_bridge

PACKAGE = Path(mage_bridge.__file__).parent
MAX_LINES = 600
#: The doors: what users and DAWs talk to. Stages are everything else.
DOORS = ("mage_bridge.cli", "mage_bridge.server", "mage_bridge.panel", "mage_bridge.__main__")


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _is_door(name: str) -> bool:
    return any(name == d or name.startswith(d + ".") for d in DOORS)


def _imports(tree: ast.AST, module: str, is_package: bool) -> set[str]:
    """Every module ``tree`` imports, anywhere in it (functions too), as absolute names."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, base] if base else anchor)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def test_no_module_is_over_600_lines():
    long = {name: n for name, path in _modules().items()
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, f"split these by concept: {long}"


def test_no_stage_imports_a_door():
    wrong = {}
    for name, path in _modules().items():
        if _is_door(name):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        doors = sorted(i for i in _imports(tree, name, path.name == "__init__.py") if _is_door(i))
        if doors:
            wrong[name] = doors
    assert not wrong, f"stages must not import the CLI or the server: {wrong}"


def _body_key(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    """The function without its name and docstring, or None when too small to count as a helper."""
    body = fn.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        body = body[1:]
    if sum(len(ast.unparse(stmt).splitlines()) for stmt in body) < 3:
        return None
    return ast.dump(fn.args) + "".join(ast.dump(stmt) for stmt in body)


def test_no_helper_is_defined_twice():
    places: dict[str, list[str]] = defaultdict(list)
    aliases: dict[str, list[str]] = defaultdict(list)
    for name, path in _modules().items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                key = _body_key(node)
                if key is not None:
                    places[key].append(f"{name}.{node.name}")
        for node in tree.body:  # module-level type aliases and constant tuples (ProgressFn = ..., STEM_NAMES = ...)
            if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None \
                    and not (isinstance(node.value, ast.Call) and not node.value.args and not node.value.keywords):
                # (a call without arguments, ``threading.Lock()``, makes a new object each time: not a repeat)
                target = node.targets[0] if isinstance(node, ast.Assign) else node.target
                if isinstance(target, ast.Name) and target.id.isupper() or isinstance(target, ast.Name) \
                        and target.id[:1].isupper() and isinstance(node.value, ast.Subscript):
                    value = ast.dump(node.value)
                    if len(value) > 80:
                        aliases[value].append(f"{name}.{target.id}")
    twice = [where for where in places.values() if len(where) > 1]
    assert not twice, f"the same function body in several places: {twice}"
    same = [where for where in aliases.values() if len(where) > 1]
    assert not same, f"the same constant or type defined in several places: {same}"
