"""JupyterLab 4 on loopback, driven by Debian's Chromium through Playwright."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from scripts.encrypted_kernels import SERVER_FLAGS

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@dataclass
class Lab:
    url: str
    token: str
    root: Path

    def notebook_url(self, name: str) -> str:
        return f"{self.url}/lab/tree/{name}?token={self.token}&reset"

    def notebook7_url(self, name: str) -> str:
        return f"{self.url}/notebooks/{name}?token={self.token}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def jupyter_lab(
    root: Path, env: Mapping[str, str], settings: Mapping[str, str] | None = None
) -> Iterator[Lab]:
    """Start JupyterLab on 127.0.0.1 serving ``root``; stop it (and its kernels) after.

    ``settings``: more user settings, as JSON by plugin file
    (``{"@jupyterlab/apputils-extension/themes": '{"theme": "JupyterLab Dark"}'}``).
    The server also serves Notebook 7 (``Lab.notebook7_url``).
    """
    port, token = _free_port(), secrets.token_hex(16)
    home = Path(tempfile.mkdtemp(prefix="nscale-lab-"))
    for plugin, json_text in (settings or {}).items():
        path = home / "settings" / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json_text)
    # Render every cell (JupyterLab 4 leaves off-screen cells out of the page by default).
    notebook = home / "settings" / "@jupyterlab" / "notebook-extension"
    notebook.mkdir(parents=True, exist_ok=True)
    (notebook / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}')
    apputils = home / "settings" / "@jupyterlab" / "apputils-extension"
    apputils.mkdir(parents=True, exist_ok=True)  # no "get notified about Jupyter news?" toast
    (apputils / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
    ARTIFACTS.mkdir(exist_ok=True)
    log = (ARTIFACTS / "jupyterlab.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}",
         "--ip=127.0.0.1", f"--IdentityProvider.token={token}", "--LabApp.news_url=None",
         f"--ServerApp.root_dir={root}", "--ServerApp.open_browser=False",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
         "--LabApp.extension_manager=readonly", *SERVER_FLAGS,
         *(["--allow-root"] if os.geteuid() == 0 else [])],
        env={**os.environ, **env, "JUPYTER_CONFIG_DIR": str(home / "config"),
             "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
             "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
             "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces")},
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"JupyterLab exited ({process.returncode}); see {log}")
            try:
                if httpx.get(f"{url}/api/status?token={token}", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        else:
            raise RuntimeError("JupyterLab did not answer /api/status in 120 s")
        yield Lab(url, token, root)
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        log.close()
        shutil.rmtree(home, ignore_errors=True)


@contextmanager
def browser_page(*, javascript: bool = True, dark: bool = False) -> Iterator[Any]:
    """A Playwright page in headless Debian Chromium with a throwaway profile.

    ``javascript=False``: a page as a reader with JavaScript off sees it;
    ``dark``: the system prefers a dark colour scheme.
    """
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="nscale-chromium-")
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1280, "height": 1300},
            java_script_enabled=javascript,
            color_scheme="dark" if dark else "light",
        )
        try:
            page = context.pages[0] if context.pages else context.new_page()
            page.set_default_timeout(180_000)
            yield page
        finally:
            context.close()
            shutil.rmtree(profile, ignore_errors=True)


def clean_copy(source: Path, target: Path) -> Path:
    """``source`` without outputs or execution counts (notebooks/ is committed run)."""
    import nbformat

    nb = nbformat.read(source, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nbformat.write(nb, target)
    return target


def screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=False)
    return path


#: Every code cell has run (an execution count) and the kernel is idle.
ALL_CELLS_RAN = (
    "() => { const p = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]"
    ".map(e => e.textContent); return p.length && p.every(t => /\\[\\d+\\]/.test(t))"
    " && document.querySelector(\".jp-Notebook-ExecutionIndicator[data-status='idle']\") }"
)


def run_all(page: Any, until: str = ALL_CELLS_RAN) -> None:
    """Run > Run All Cells in the open notebook, then wait for ``until`` (a JS predicate)."""
    page.wait_for_selector(".jp-Notebook .jp-Cell", state="visible")
    with contextlib.suppress(Exception):  # a fresh JupyterLab may ask which kernel to start
        page.locator(".jp-Dialog .jp-mod-accept").click(timeout=15_000)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']")
    page.click("div.lm-MenuBar-itemLabel:text-is('Run')")
    page.click("li[data-command='runmenu:run-all']")
    page.wait_for_function(until, timeout=300_000)
