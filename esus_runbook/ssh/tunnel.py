"""A local port forward to the server's loopback (paramiko ``direct-tcpip``).

The PEC's bundled PostgreSQL listens on 127.0.0.1:5433 of the server only; the database checks
reach it through ``127.0.0.1:<local port>`` on the analyst's machine. Use as a context manager:
the listening socket, every forwarded connection and its threads close on every exit path.
"""

from __future__ import annotations

import select
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import paramiko

from ..ssh_target import Target
from .client import SshOptions, SshSession, connect
from .errors import SshError

LOOPBACK = ("localhost", "127.0.0.1", "::1")
OPEN_TIMEOUT = 10.0


class Tunnel:
    """``127.0.0.1:local_port`` here -> ``remote_host:remote_port`` as seen by the server."""

    def __init__(self, session: SshSession, remote_port: int, remote_host: str = "127.0.0.1"):
        self.session = session
        self.remote = (remote_host, int(remote_port))
        self._server: socket.socket | None = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._socks: list[object] = []
        self._lock = threading.Lock()
        self.local_port = 0

    def __enter__(self) -> Tunnel:
        self.check()
        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        server.settimeout(0.2)
        self._server = server
        self.local_port = server.getsockname()[1]
        self._spawn(self._accept)
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def check(self) -> None:
        """Open (and close) one forwarded connection, so a server that cannot reach
        ``remote`` is reported naming the server and ITS host:port — not as a database error
        about the tunnel's local port, which means nothing to the analyst."""
        where = f"{self.remote[0]}:{self.remote[1]}"
        try:
            chan = self.session.transport.open_channel("direct-tcpip", self.remote,
                                                       ("127.0.0.1", 0), timeout=OPEN_TIMEOUT)
        except paramiko.ChannelException as exc:
            why = {2: "conexão recusada: nada escuta nessa porta do servidor",
                   1: "encaminhamento proibido pelo sshd (AllowTcpForwarding no?)"}.get(
                exc.code, exc.text or "recusado")
            raise SshError(f"{self.session.target}: o túnel SSH não alcançou {where} no "
                           f"servidor ({why})", kind="inacessivel",
                           remedy=f"confira no servidor se o banco escuta em {where} "
                                  "(ss -ltn) e se o sshd permite túneis (AllowTcpForwarding "
                                  "yes)") from None
        except (paramiko.SSHException, OSError, EOFError, AttributeError) as exc:
            raise SshError(f"{self.session.target}: o túnel SSH até {where} no servidor não "
                           f"abriu ({exc.__class__.__name__})", kind="inacessivel",
                           remedy="tente de novo; confira a rede (VPN) e o servidor") from None
        chan.close()

    def close(self) -> None:
        self._stop.set()
        if self._server is not None:
            self._server.close()
        with self._lock:
            socks, self._socks = self._socks, []
        for s in socks:
            try:
                s.close()
            except Exception:  # noqa: BLE001 - already closed by the other side
                pass
        for t in self._threads:
            t.join(2.0)

    @property
    def open_connections(self) -> int:
        with self._lock:
            return len(self._socks) // 2

    def _spawn(self, fn, *args) -> None:
        t = threading.Thread(target=fn, args=args, daemon=True, name="esus-tunel")
        self._threads.append(t)
        t.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, peer = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                chan = self.session.transport.open_channel("direct-tcpip", self.remote, peer,
                                                           timeout=OPEN_TIMEOUT)
            except Exception:  # noqa: BLE001 - refused by the server: drop this client
                conn.close()
                continue
            with self._lock:
                self._socks += [conn, chan]
            self._spawn(self._pump, conn, chan)

    def _pump(self, conn: socket.socket, chan) -> None:
        try:
            while not self._stop.is_set():
                ready, _, _ = select.select([conn, chan], [], [], 0.2)
                for src, dst in ((conn, chan), (chan, conn)):
                    if src in ready:
                        data = src.recv(65536)
                        if not data:
                            return
                        dst.sendall(data)
        except OSError:
            return
        finally:
            for s in (conn, chan):
                try:
                    s.close()
                except Exception:  # noqa: BLE001
                    pass
            with self._lock:
                self._socks = [s for s in self._socks if s not in (conn, chan)]


def needs_tunnel(db_url: str | None) -> bool:
    """Whether ``db_url`` points at the server's own loopback (so only a tunnel reaches it)."""
    if not db_url:
        return False
    return (urlsplit(db_url).hostname or "localhost") in LOOPBACK


def through(db_url: str, tunnel: Tunnel) -> str:
    """``db_url`` rewritten to reach the database through ``tunnel``."""
    parts = urlsplit(db_url)
    user = f"{parts.username}@" if parts.username else ""
    return urlunsplit((parts.scheme, f"{user}127.0.0.1:{tunnel.local_port}", parts.path,
                       parts.query, parts.fragment))


def remote_port(db_url: str, default: int = 5432) -> int:
    try:
        return urlsplit(db_url).port or default
    except ValueError:
        raise SshError("porta inválida na URL do banco", kind="comando",
                       remedy="use postgresql://usuario@127.0.0.1:5433/esus") from None


@contextmanager
def db_url_via(target: Target | None, options: SshOptions, db_url: str | None
               ) -> Iterator[str | None]:
    """The database URL to use: through a tunnel over SSH to ``target`` when ``db_url``
    points at the server's loopback (tunnel and session closed on every exit path), else
    ``db_url`` itself."""
    if target is None or not needs_tunnel(db_url):
        yield db_url
        return
    with connect(target, options) as session, \
            Tunnel(session, remote_port(db_url)) as tunnel:
        yield through(db_url, tunnel)
