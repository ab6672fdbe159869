"""The app graph is a chain, read bottom-up: accounts → notifications → contracts → billing → complaints,
with portal the project shell on top. A layer imports only from the layers below it."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Each layer and the project packages it must not import.
FORBIDDEN = {
    "accounts": ["portal", "contracts", "billing", "complaints"],
    "portal/notifications": ["contracts", "billing", "complaints"],
}


def _imported_modules(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


@pytest.mark.parametrize("layer", FORBIDDEN)
def test_a_layer_imports_nothing_from_the_layers_above(layer):
    own = layer.replace("/", ".")
    offending = [
        f"{path.relative_to(ROOT)}: {module}"
        for path in sorted((ROOT / layer).rglob("*.py"))
        for module in _imported_modules(path)
        if not module.startswith(own)
        and any(module == top or module.startswith(top + ".") for top in FORBIDDEN[layer])
    ]
    assert offending == []
