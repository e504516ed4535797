"""The fork server preloads what the command will grade: everything by default, only the named
exercises when the command names some (a one-exercise `mlkata check` need not wait for the catalog)."""
import os
import subprocess
import sys

from helpers import ROOT

# Run in a fresh process (the test session's own server is already up): start a server, fork a
# child from it, and report through the exit code how many visible check modules it inherited.
COUNT = """
import sys

def visible_check_modules():
    sys.exit(sum(name.startswith("mlkata_visible__") for name in sys.modules))
"""
MAIN = """
import sys
from mlkata import sandbox, server
from count_modules import visible_check_modules

server.start(sys.argv[1:] or None)
child = sandbox.context().Process(target=visible_check_modules)
with sandbox._main_hidden():
    child.start()
child.join()
print(child.exitcode)
"""


def _preloaded(tmp_path, *exercise_ids: str) -> int:
    (tmp_path / "count_modules.py").write_text(COUNT)
    out = subprocess.run([sys.executable, "-c", MAIN, *exercise_ids], cwd=ROOT, capture_output=True, text=True,
                         timeout=120, env={**os.environ, "PYTHONPATH": str(tmp_path)})
    assert out.returncode == 0, out.stderr
    return int(out.stdout.split()[-1])


def test_the_server_preloads_the_whole_catalog_by_default(tmp_path):
    from mlkata import catalog
    assert _preloaded(tmp_path) == len(catalog.load())


def test_the_server_preloads_only_the_exercises_a_command_names(tmp_path):
    assert _preloaded(tmp_path, "fundamentals/gradient_clipping", "nlp/sampling") == 2
