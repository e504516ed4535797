"""End to end: a real `jupyter lab` on 127.0.0.1 opens a release notebook in headless Chromium,
runs a cell, and leaves a screenshot in artifacts/.  The test starts and stops the server."""
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
    solution.source = (ROOT / "solutions" / "fundamentals" / "gradient_clipping.py").read_text()
    nbformat.write(nb, work / NOTEBOOK.name)
    port, token = _free_port(), secrets.token_hex(16)
    log = open(tmp_path / "jupyter.log", "w")
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
           "JUPYTER_CONFIG_DIR": str(tmp_path / "config"), "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "ws")}
    proc = subprocess.Popen([str(BIN / "jupyter-lab"), "--no-browser", "--ip=127.0.0.1", f"--port={port}",
                             f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={work}",
                             "--ServerApp.port_retries=0", *(["--allow-root"] if os.geteuid() == 0 else [])],
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
                page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=90_000)
                cells = page.locator(".jp-Notebook .jp-CodeCell")
                # setup, solution, visible definitions, then the first visible check; each must show an
                # execution count ("[n]:", not "[ ]:") before the next is run
                for i in range(4):
                    cells.nth(i).locator(".jp-InputPrompt").click()
                    page.keyboard.press("Control+Enter")
                    page.wait_for_function("el => /\\[\\d+\\]/.test(el.textContent)",
                                           arg=cells.nth(i).locator(".jp-InputPrompt").element_handle(),
                                           timeout=90_000)
                check = cells.nth(3)
                output = check.locator(".jp-OutputArea").inner_text(timeout=60_000)
                ARTIFACTS.mkdir(exist_ok=True)
                page.screenshot(path=str(ARTIFACTS / "jupyterlab-release-notebook.png"))
            finally:
                browser.close()
        assert "PASS" in output, output
    finally:
        _stop(proc)
        log.close()


def _stop(proc) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
