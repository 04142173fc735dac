"""graph/ is a pure library: it imports with the service's web and database layers absent."""

from __future__ import annotations

import subprocess
import sys

BLOCK = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in {'app', 'fastapi', 'sqlalchemy', 'starlette', 'uvicorn',
                                  'pydantic_settings', 'alembic', 'psycopg'}:
            raise ImportError('blocked: ' + name)
sys.meta_path.insert(0, Block())
import graph, graph.pipeline, graph.explain, worlds, graph.evaluate
print('ok')
"""


def test_graph_imports_without_service_modules() -> None:
    out = subprocess.run([sys.executable, "-c", BLOCK], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
