"""`esus-runbook lab` started as a user would, for tests: a real JupyterLab on 127.0.0.1.

``lab_cli(...)`` runs the CLI in a separate process with Jupyter's config, settings and
runtime folders inside the test's temp dir, waits for the printed address, and on exit
stops the CLI with SIGTERM and checks that no process it started is left behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from .project import ROOT

URL_LINE = re.compile(r"Abra no navegador: (http://127\.0\.0\.1:(\d+)\S*)")


@dataclass
class RunningLab:
    proc: subprocess.Popen
    url: str
    port: int
    token: str
    stdout: list[str] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)  # the server's log, for diagnostics

    def log_tail(self, lines: int = 200) -> str:
        """The last lines of the server's log (Jupyter logs to stderr) and its state."""
        state = ("em execução" if self.proc.poll() is None
                 else f"terminou com código {self.proc.returncode}")
        return f"[lab {state}]\n" + "".join(self.stderr[-lines:])

    def api(self, path: str, method: str = "GET", body: dict | None = None,
            token: bool = True) -> tuple[int, bytes]:
        headers = {"Authorization": f"token {self.token}"} if token else {}
        data = json.dumps(body).encode() if body is not None else None
        if data is not None:
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data,
                                     headers=headers, method=method)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def url_for(self, path: str) -> str:
        return (f"http://127.0.0.1:{self.port}/lab/tree/{urllib.parse.quote(path)}"
                f"?token={self.token}")


def jupyter_env(tmp: Path) -> dict[str, str]:
    """Jupyter folders of the test: no user config, no news prompt, app exposed to tests."""
    cfg, settings = tmp / "jupyter-config", tmp / "lab-settings"
    cfg.mkdir(parents=True, exist_ok=True)
    (cfg / "jupyter_server_config.json").write_text(
        json.dumps({"LabApp": {"expose_app_in_browser": True}}), encoding="utf-8")
    notif = settings / "@jupyterlab" / "apputils-extension"
    notif.mkdir(parents=True, exist_ok=True)
    (notif / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}), encoding="utf-8")
    return {"JUPYTER_CONFIG_DIR": str(cfg), "JUPYTERLAB_SETTINGS_DIR": str(settings),
            "JUPYTERLAB_WORKSPACES_DIR": str(tmp / "lab-workspaces"),
            "JUPYTER_RUNTIME_DIR": str(tmp / "jupyter-runtime"), "PYTHONUNBUFFERED": "1"}


def _descendants(pid: int) -> list:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


@contextlib.contextmanager
def lab_cli(*args: str, tmp: Path, env: dict[str, str] | None = None, cwd: Path | None = None,
            timeout: float = 240):
    """Run ``esus-runbook lab ARGS --sem-navegador`` and yield a :class:`RunningLab`."""
    full_env = {**os.environ, **jupyter_env(tmp), **(env or {})}
    proc = subprocess.Popen([sys.executable, "-m", "esus_runbook", "lab", *args, "--sem-navegador"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=full_env, cwd=cwd or ROOT)
    lines: queue.Queue = queue.Queue()
    out: list[str] = []
    err: list[str] = []

    def pump(stream, sink, q=None):
        for line in stream:
            sink.append(line)
            if q is not None:
                q.put(line)

    threading.Thread(target=pump, args=(proc.stdout, out, lines), daemon=True).start()
    threading.Thread(target=pump, args=(proc.stderr, err), daemon=True).start()
    started: list = []
    try:
        deadline = time.monotonic() + timeout
        match = None
        while match is None:
            if proc.poll() is not None:
                raise AssertionError(f"lab exited {proc.returncode}: {''.join(err)[-2000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"lab did not print its address: {''.join(err)[-2000:]}")
            try:
                match = URL_LINE.search(lines.get(timeout=1))
            except queue.Empty:
                continue
        url = match.group(1)
        token = urllib.parse.parse_qs(urllib.parse.urlparse(url).query)["token"][0]
        lab = RunningLab(proc, url, int(match.group(2)), token, out, err)
        yield lab
        started = _descendants(proc.pid)
    finally:
        started = started or _descendants(proc.pid)
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            for p in _descendants(proc.pid):
                p.kill()
            proc.kill()
            proc.wait(10)
            raise AssertionError("lab did not stop on SIGTERM") from None
        _, alive = psutil.wait_procs(started, timeout=20)
        for p in alive:
            p.kill()
        assert not alive, f"processes left behind by lab: {[p.pid for p in alive]}"
    assert proc.returncode == 0, "".join(err)[-2000:]
