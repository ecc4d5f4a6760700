"""Helpers for the browser tests: find Debian's Chromium, and run JupyterLab the way ``make lab``
does (venv jupyter, 127.0.0.1, token on) in a throw-away, isolated Jupyter environment."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

# Chromium as root needs --no-sandbox; without the background-networking flags it floods the
# closed network with update and sync requests.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CHROMIUM_MISSING = "Debian's chromium not found: sudo apt-get install chromium"

# The "would you like to receive Jupyter news?" toast and the update check both need a network.
QUIET_NOTIFICATIONS = {"fetchNews": "false", "checkForUpdates": False}


def find_chromium() -> str | None:
    """Path of the system Chromium (``$CHROMIUM`` overrides), or None when there is none."""
    candidates = [os.environ.get("CHROMIUM"), "chromium", "chromium-browser"]
    for name in filter(None, candidates):
        found = shutil.which(name)
        if found:
            return found
    return None


def headless_chromium() -> Iterator[object]:
    """Yield a headless Debian Chromium driven by Playwright (the body of both browser tests'
    ``chromium`` fixture); skip the test, saying why, if it is missing or will not start."""
    import pytest
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    executable = find_chromium()
    if executable is None:
        pytest.skip(CHROMIUM_MISSING)
    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(
                executable_path=executable, headless=True, args=CHROMIUM_ARGS, timeout=60_000
            )
        except PlaywrightError as err:
            first_line = str(err).strip().splitlines()[0] if str(err).strip() else repr(err)
            pytest.skip(f"Chromium at {executable} could not start: {first_line}")
        try:
            yield browser
        finally:
            browser.close()


def http_status(url: str, timeout: float = 5.0) -> int:
    """HTTP status code of a GET (4xx/5xx are returned, not raised)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as err:
        return err.code


@dataclass
class LabServer:
    """A running ``jupyter lab`` subprocess; ``url`` has no token, ``token`` is separate."""

    process: subprocess.Popen
    root: Path
    log_path: Path
    runtime_dir: Path
    token: str
    url: str = ""

    def api(self, path: str, *, with_token: bool = True) -> str:
        """URL of ``path`` on the server (``path`` starts with ``/``), optionally with the token."""
        return f"{self.url}{path}" + (f"?token={self.token}" if with_token else "")

    def log(self) -> str:
        """Everything the server printed so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_until_ready(self, timeout: float = 60.0) -> None:
        """Wait for the runtime file that names the port, then for ``/api/status`` to answer.

        Raises RuntimeError with the server log when it exits or does not come up in time.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"jupyter lab exited with code {self.process.returncode}:\n{self.log()}"
                )
            if not self.url:
                self.url = self._url_from_runtime_file()
            if self.url:
                try:
                    if http_status(self.api("/api/status"), timeout=2.0) == 200:
                        return
                except OSError:
                    pass  # not listening yet
            time.sleep(0.25)
        raise RuntimeError(f"jupyter lab did not answer within {timeout:.0f} s:\n{self.log()}")

    def _url_from_runtime_file(self) -> str:
        info_file = self.runtime_dir / f"jpserver-{self.process.pid}.json"
        try:
            info = json.loads(info_file.read_text())
        except (OSError, ValueError):
            return ""  # not written yet (or half written)
        return f"http://127.0.0.1:{info['port']}"

    def stop(self, timeout: float = 20.0) -> None:
        """Ask the server to shut down (it stops its kernels), then terminate, then kill."""
        if self.process.poll() is None and self.url:
            request = urllib.request.Request(self.api("/api/shutdown"), method="POST")
            with contextlib.suppress(OSError):
                urllib.request.urlopen(request, timeout=5.0).close()
        for sig in (None, signal.SIGTERM, signal.SIGKILL):
            if sig is not None:
                self._signal_group(sig)  # the server and the kernels it started
            try:
                self.process.wait(timeout=timeout / 3)
                break
            except subprocess.TimeoutExpired:
                continue
        self._signal_group(signal.SIGKILL)  # a kernel left behind by a killed server

    def _signal_group(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, sig)


def lab_environment(home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The current environment with every Jupyter folder moved under ``home`` (nothing in the
    user's own home changes, and no user-installed kernel shadows the course kernel),
    news and update checks off, and ``MPLBACKEND`` removed so figures render inline."""
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    folders = {
        "JUPYTER_CONFIG_DIR": home / "config",
        "JUPYTER_DATA_DIR": home / "data",
        "JUPYTER_RUNTIME_DIR": home / "runtime",
        "JUPYTERLAB_SETTINGS_DIR": home / "lab-settings",
        "JUPYTERLAB_WORKSPACES_DIR": home / "lab-workspaces",
        "IPYTHONDIR": home / "ipython",
    }
    for name, path in folders.items():
        path.mkdir(parents=True, exist_ok=True)
        env[name] = str(path)
    env.pop("JUPYTER_PATH", None)
    settings = folders["JUPYTERLAB_SETTINGS_DIR"] / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True, exist_ok=True)
    (settings / "notification.jupyterlab-settings").write_text(json.dumps(QUIET_NOTIFICATIONS))
    env.update(extra or {})
    return env


def start_lab(root: Path, home: Path, extra_env: dict[str, str] | None = None) -> LabServer:
    """Start the venv's ``jupyter lab`` as ``make lab`` does (127.0.0.1, token on, course
    kernel), serving ``root``, on a port the OS picks, with a random token. Not yet ready:
    call :meth:`LabServer.wait_until_ready`."""
    jupyter = Path(sys.executable).with_name("jupyter")
    token = secrets.token_hex(24)
    env = lab_environment(home, extra_env)
    command = [
        str(jupyter),
        "lab",
        "--ip=127.0.0.1",
        "--ServerApp.port=0",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        "--no-browser",
        f"--ServerApp.root_dir={root}",
        "--LabApp.news_url=None",
    ]
    if os.geteuid() == 0:
        command.append("--allow-root")
    log_path = home / "jupyter-lab.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # own process group: stop() can end the kernels too
        )
    return LabServer(
        process=process,
        root=root,
        log_path=log_path,
        runtime_dir=Path(env["JUPYTER_RUNTIME_DIR"]),
        token=token,
    )


def keep_previous(path: Path) -> None:
    """Rename an existing ``path`` to ``<stem>.prev<suffix>`` (replacing an older one)."""
    if path.exists():
        path.replace(path.with_name(f"{path.stem}.prev{path.suffix}"))
