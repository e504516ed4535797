"""End to end: a real `jupyter lab` on 127.0.0.1 opens a release notebook in headless Chromium,
runs all its cells, and every visible check reports -- the failing ones too, since a failing check
does not stop "Run All" -- and leaves a screenshot in artifacts/.  The test starts and stops the server."""
import ast
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from helpers import ROOT

BIN = Path(sys.executable).parent
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "artifacts"
NOTEBOOK = ROOT / "release" / "fundamentals" / "gradient_clipping.ipynb"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_ready(url: str, proc, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"jupyter lab exited early (code {proc.returncode})")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"jupyter lab did not answer {url} within {timeout} s")


def test_a_release_notebook_runs_in_jupyterlab(tmp_path):
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("Debian's chromium is missing: .ci/run installs it")
        pytest.skip("needs Debian's chromium")
    playwright = pytest.importorskip("playwright.sync_api")
    if not (BIN / "jupyter-lab").exists():
        pytest.skip("needs jupyterlab (the test extra)")
    work = tmp_path / "lab"
    work.mkdir()
    nb = nbformat.read(NOTEBOOK, as_version=4)
    solution = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution"))
    solution.source = _two_bugs()
    nbformat.write(nb, work / NOTEBOOK.name)
    port, token = _free_port(), secrets.token_hex(16)
    log = open(tmp_path / "jupyter.log", "w")
    # no "get notified about Jupyter news?" pop-up over the notebook
    settings = tmp_path / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text('{"fetchNews": "false", "checkForUpdates": false}')
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
           "JUPYTER_CONFIG_DIR": str(tmp_path / "config"), "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "ws"),
           "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "settings")}
    proc = subprocess.Popen([str(BIN / "jupyter-lab"), "--no-browser", "--ip=127.0.0.1", f"--port={port}",
                             f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={work}",
                             "--ServerApp.port_retries=0", "--LabApp.expose_app_in_browser=True",
                             *(["--allow-root"] if os.geteuid() == 0 else [])],
                            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_ready(f"{base}/api/status?token={token}", proc)
        with playwright.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=[
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.goto(f"{base}/lab/tree/{NOTEBOOK.name}?token={token}", timeout=90_000)
                page.wait_for_selector(".jp-Notebook .jp-CodeCell", timeout=90_000)
                page.wait_for_function(_KERNEL_READY, timeout=120_000)
                # The notebook's own command (what Run > Run All Cells triggers): clicking menus
                # raced with re-layout under CI load.
                page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
                page.wait_for_function(_ALL_EXECUTED, timeout=180_000)
                outputs = page.evaluate(_VISIBLE_CHECK_OUTPUTS)
                page.locator(".jp-Notebook .jp-CodeCell").nth(6).scroll_into_view_if_needed()   # the failing checks
                ARTIFACTS.mkdir(exist_ok=True)
                page.screenshot(path=str(ARTIFACTS / "jupyterlab-release-notebook.png"))
            except Exception:
                ARTIFACTS.mkdir(exist_ok=True)
                page.screenshot(path=str(ARTIFACTS / "jupyterlab-failure.png"))
                log.flush()
                print((tmp_path / "jupyter.log").read_text()[-4000:])
                raise
            finally:
                browser.close()
        # every visible check ran and reported: the two broken rules fail, the others pass
        verdicts = [text.split(" ", 1)[0] for text in outputs]
        assert len(outputs) == 4 and sorted(verdicts) == ["FAIL", "FAIL", "PASS", "PASS"], outputs
        assert all("rule:" in text for text in outputs if text.startswith("FAIL")), outputs
    finally:
        _stop(proc)
        log.close()


def _two_bugs() -> str:
    """clip_grad_norm_ that always rescales, and clip_grad_value_ that clamps only from above: two
    visible checks fail, two pass."""
    variants = ROOT / "tests" / "variants" / "fundamentals" / "gradient_clipping"
    first = (variants / "bug_always_rescales.py").read_text()
    second = (variants / "bug_value_clamps_only_above.py").read_text()
    value_fn = next(n for n in ast.parse(second).body if getattr(n, "name", "") == "clip_grad_value_")
    return first + "\n\n" + ast.get_source_segment(second, value_fn) + "\n"


# JupyterLab exposes its application as window.jupyterapp when asked to (LabApp.expose_app_in_browser).
# A cell run before the session has its kernel is silently skipped (CodeCell.execute returns), and the
# status bar reads "idle" before the kernel is connected: wait for the kernel itself.
_KERNEL_READY = """() => {
    const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
    const kernel = panel && panel.sessionContext && panel.sessionContext.session && panel.sessionContext.session.kernel;
    return !!kernel && kernel.connectionStatus === 'connected' && kernel.status === 'idle';
}"""
_CODE_CELLS = """() => window.jupyterapp.shell.currentWidget.content.widgets
    .filter(cell => cell.model.type === 'code')"""
_ALL_EXECUTED = f"""() => ({_CODE_CELLS})().every(cell => {{
    const count = cell.model.executionCount;
    return count !== null && count !== undefined;
}})"""
# (a command's promise is left alone: awaiting it from evaluate() never returned; _ALL_EXECUTED polls)
# the text each visible check cell shows (nbgrader grade ids of visible checks hold "-v-")
_VISIBLE_CHECK_OUTPUTS = f"""() => ({_CODE_CELLS})()
    .filter(cell => ((cell.model.getMetadata('nbgrader') || {{}}).grade_id || '').includes('-v-'))
    .map(cell => cell.outputArea.node.innerText.trim())"""


def _stop(proc) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
