"""Where the server's commands run: over SSH (:class:`~esus_runbook.ssh.client.SshSession`)
when the site names ``servidor.ssh``, else on this machine (the runbook running on the PEC
server itself). Both give ``run(command, input=, timeout=)`` → (code, stdout, stderr) and
``stream(command)``: the command's stdout in chunks, never held whole in memory."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from typing import Any

CHUNK = 1024 * 1024


class LocalShell:
    """This machine's ``sh``."""

    where = "esta máquina"

    def run(self, command: str, *, input: str | None = None,
            timeout: float = 60.0) -> tuple[int, str, str]:
        proc = subprocess.run(["sh", "-c", command], input=input, capture_output=True,
                              text=True, timeout=timeout)
        return proc.returncode, proc.stdout, proc.stderr

    def stream(self, command: str) -> Iterator[bytes]:
        proc = subprocess.Popen(["sh", "-c", command], stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL)
        try:
            while chunk := proc.stdout.read(CHUNK):
                yield chunk
        finally:
            proc.stdout.close()
            proc.kill()
            proc.wait()

    def close(self) -> None:
        pass


class RemoteShell:
    """A connected SSH session (closed by :meth:`close`)."""

    def __init__(self, session: Any):
        self.session = session
        self.where = str(session.target)

    def run(self, command: str, *, input: str | None = None,
            timeout: float = 60.0) -> tuple[int, str, str]:
        return self.session.run(command, input=input, timeout=timeout)

    def stream(self, command: str) -> Iterator[bytes]:
        chan = self.session.transport.open_session(timeout=self.session.options.connect_timeout)
        try:
            chan.exec_command(command)
            while chunk := chan.recv(CHUNK):
                yield chunk
        finally:
            chan.close()

    def close(self) -> None:
        self.session.close()
