"""A hostile SSH server for the tests (paramiko's server side) and a TCP relay that can lose the
network.

``HostileSshServer`` listens on 127.0.0.1 with one host key the test may swap at any time
(``use_key``), accepts any client key or password, and answers the exec request the way
``exec_mode`` says: ``"silent"`` never answers it, ``"refuse"`` refuses it, ``"flood"`` answers
and sends output without end, ``"stderr"`` writes ``stderr_text`` on stderr and exits 127,
``"forged"`` reads the ``sh -s`` script from stdin, takes the run's section marker from it and
answers ``forged(marker)`` (the bytes a lying server would send). ``garbage_banner`` makes it
answer like a web server instead of SSH.

``FreezingRelay`` forwards 127.0.0.1:<port> to a real server until ``freeze()``: from then on
nothing crosses in either direction and nothing is closed, as when a cable is pulled.
"""

from __future__ import annotations

import contextlib
import re
import select
import socket
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path

import paramiko

from esus_runbook.ssh.client import fingerprint


def host_key(folder: Path, kind: str = "ed25519") -> paramiko.PKey:
    """A new host key of ``kind`` (ssh-keygen writes it; paramiko reads it)."""
    path = folder / f"hostile_{kind}_{len(list(folder.glob('hostile_*')))}"
    args = ["-t", kind] + (["-b", "2048"] if kind == "rsa" else [])
    subprocess.run(["ssh-keygen", "-q", *args, "-N", "", "-f", str(path)], check=True,
                   capture_output=True)
    return paramiko.PKey.from_path(path)


class _Interface(paramiko.ServerInterface):
    def __init__(self, server: HostileSshServer):
        self.server = server

    def get_allowed_auths(self, username):
        return "publickey,password"

    def check_auth_publickey(self, username, key):
        return paramiko.AUTH_SUCCESSFUL

    def check_auth_password(self, username, password):
        return paramiko.AUTH_SUCCESSFUL

    def check_channel_request(self, kind, chanid):
        if kind == "session":
            return paramiko.OPEN_SUCCEEDED
        return paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED

    def check_channel_exec_request(self, channel, command):
        mode = self.server.exec_mode
        self.server.requests.append(command.decode("utf-8", "replace")
                                    if isinstance(command, bytes) else command)
        if mode == "silent":
            self.server.stopped.wait()  # the answer never comes
            return False
        if mode == "refuse":
            return False
        threading.Thread(target=self.server._answer, args=(channel, mode), daemon=True).start()
        return True


class HostileSshServer:
    host = "127.0.0.1"

    def __init__(self, key: paramiko.PKey):
        self.key = key
        self.exec_mode = "flood"
        self.stderr_text = b"sh: 1: sh: not found\n"
        self.forged: Callable[[str], bytes] = lambda marker: b""
        self.garbage_banner = False
        self.requests: list[str] = []
        self.stopped = threading.Event()
        self._transports: list[paramiko.Transport] = []
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind((self.host, 0))
        self._sock.listen(16)
        self._sock.settimeout(0.2)
        self.port = self._sock.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True, name="hostile-sshd")
        self._thread.start()

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.key)

    def use_key(self, key: paramiko.PKey) -> None:
        """Offer ``key`` from the next connection on (a swapped server)."""
        self.key = key

    def target(self, user: str = "root") -> str:
        return f"{user}@{self.host}:{self.port}"

    def _serve(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if self.garbage_banner:
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\nServer: nginx\r\n\r\n")
                conn.close()
                continue
            transport = paramiko.Transport(conn)
            transport.add_server_key(self.key)
            self._transports.append(transport)
            try:
                transport.start_server(server=_Interface(self))
            except (paramiko.SSHException, EOFError, OSError):
                transport.close()

    def _answer(self, channel: paramiko.Channel, mode: str) -> None:
        # paramiko replies to the exec request after check_channel_exec_request returns:
        # answer once that reply is out, as a real server does (not before it)
        self.stopped.wait(0.3)
        try:
            if mode == "flood":
                chunk = b"y\n" * 32768
                while not self.stopped.is_set() and not channel.closed:
                    channel.sendall(chunk)
            elif mode == "stderr":
                channel.sendall_stderr(self.stderr_text)
                channel.send_exit_status(127)
            elif mode == "forged":
                script = b""
                while True:  # the client sends the script, then EOF
                    data = channel.recv(65536)
                    if not data:
                        break
                    script += data
                m = re.search(rb"M='?(@@ESUS[0-9a-f]+)", script)
                channel.sendall(self.forged(m.group(1).decode() if m else "@@NONE"))
                channel.send_exit_status(0)
        except (OSError, EOFError, paramiko.SSHException):
            pass
        finally:
            # the client may already have gone (flood: it stops reading at its limit and
            # closes): closing then raises in this thread, which pytest reports as a warning
            with contextlib.suppress(OSError, EOFError, paramiko.SSHException):
                channel.close()

    def close(self) -> None:
        self.stopped.set()
        self._sock.close()
        for t in self._transports:
            t.close()
        self._thread.join(5)


class FreezingRelay:
    """127.0.0.1:``port`` -> ``upstream``; ``freeze()`` stops every byte, closes nothing."""

    def __init__(self, upstream: tuple[str, int]):
        self.upstream = upstream
        self.frozen = threading.Event()
        self.stopped = threading.Event()
        self._socks: list[socket.socket] = []
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(8)
        self._sock.settimeout(0.2)
        self.port = self._sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True, name="relay").start()

    def freeze(self) -> None:
        self.frozen.set()

    def _serve(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            up = socket.create_connection(self.upstream)
            self._socks += [conn, up]
            threading.Thread(target=self._pump, args=(conn, up), daemon=True).start()

    def _pump(self, a: socket.socket, b: socket.socket) -> None:
        try:
            while not self.stopped.is_set():
                if self.frozen.is_set():
                    self.stopped.wait(0.2)
                    continue
                ready, _, _ = select.select([a, b], [], [], 0.2)
                if self.frozen.is_set():
                    continue
                for src, dst in ((a, b), (b, a)):
                    if src in ready:
                        data = src.recv(65536)
                        if not data:
                            return
                        dst.sendall(data)
        except OSError:
            return

    def close(self) -> None:
        self.stopped.set()
        self._sock.close()
        for s in self._socks:
            s.close()
