"""The edge package runs without TensorFlow: it must never import it, directly or not."""

from __future__ import annotations

import ast
import subprocess
import sys

from tests.paths import ROOT


def test_no_module_under_edge_imports_tensorflow() -> None:
    offenders = []
    for path in sorted((ROOT / "edge").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [
                f"{path.name}: {n}"
                for n in names
                if n.split(".")[0] in {"tensorflow", "keras", "training", "convert"}
            ]
    assert offenders == []


def test_importing_every_edge_module_loads_no_tensorflow() -> None:
    script = (
        "import importlib, pkgutil, sys, edge\n"
        "for m in pkgutil.walk_packages(edge.__path__, 'edge.'):\n"
        "    if not m.name.endswith('__main__'):\n"
        "        importlib.import_module(m.name)\n"
        "bad = sorted(n for n in sys.modules if n.split('.')[0] in ('tensorflow', 'keras'))\n"
        "print(len([n for n in sys.modules if n.startswith('edge')]), bad)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert int(result.stdout.split()[0]) > 10  # it really imported the package
