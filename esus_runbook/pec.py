"""Live checks of an installed PEC over HTTP and of its PostgreSQL (``verify-install``).

HTTP (docs/dominio.md, "Instalação e banco do PEC"): ``GET /api/public/info`` answers without
login once the application is up, with the version in ``versao``; ``/`` answers 200; response
times are measured. Database (read only, with psycopg): server version ≥ 9.6;
``tb_config_sistema`` keys ``VERSAOBANCODADOS`` (must equal the application version, otherwise
PEC refuses to start), ``TREINAMENTO`` (``ds_inteiro`` 1 = training: nothing reaches SISAB),
``TIPOINSTALACAO``, ``LINKINSTALACAO``; ``password_encryption`` md5 on an external server (the
installer's JDBC driver fails on SCRAM).

The checks go into a :class:`VerifyReport`, which prints itself (:meth:`VerifyReport.text`)
and writes the ``verify-install`` JSON.

The database password arrives as a :class:`~esus_runbook.secret_refs.Secret` and goes to one call
(``psycopg.connect``); every message that leaves this module is stripped of it.

Every connection (:func:`connect`, used by ``verify-install`` and ``xml reconcile``) carries
TCP keepalives and ``tcp_user_timeout`` (a dead peer or network ends the socket instead of a
read waiting forever), and the reads run under a :class:`ReadDeadline` kept by the client:
``statement_timeout`` is enforced by the server, so a frozen server would never apply it.
On expiry the query is cancelled (``cancel_safe``); if the server does not act on the cancel
within a grace period the socket is shut down; either way the caller gets one pt-BR line.
"""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import statistics
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from .commands import option
from .errors import InputError
from .files.atomic import json_text
from .files.outputs import write_report
from .ids import scrub
from .installer.network import describe_network_error
from .results import Checks, now_iso
from .secret_refs import Secret
from .status import ExitCode, Status
from .urls import check_pec_url, parse_db_url

SCHEMA = "esus-runbook/verify-install/1"
INFO_PATH = "/api/public/info"
SLOW_S = 2.0  # the runbook's own threshold for a slow answer (not an official figure)
MIN_SERVER_VERSION = 90600
BUNDLED_DB_PORT = 5433
TIPO_DB = {"prontuario": "PRONTUARIO", "centralizador_municipal": "CENTRALIZADORA",
           "centralizador_estadual": "CENTRALIZADORA"}
CONFIG_KEYS = ("VERSAOBANCODADOS", "TREINAMENTO", "TIPOINSTALACAO", "LINKINSTALACAO",
               "NOMEINSTALACAO")
# libpq TCP keepalives: a silent peer is probed after 10 s idle, every 5 s, and dropped after
# 3 unanswered probes; tcp_user_timeout (libpq >= 12, Linux) drops a connection whose sent
# data stays unacknowledged for 30 s (the runbook's choices, not PEC figures)
KEEPALIVES = {"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5,
              "keepalives_count": 3}
TCP_USER_TIMEOUT_MS = 30_000
CANCEL_GRACE_S = 5.0   # after the deadline: how long the server has to act on the cancel
READ_DEADLINE_FACTOR = 3   # verify-install: its reads must end within 3x --timeout

NOT_ANSWERING = (
    "O PEC não responde. Causas prováveis: (1) ainda está iniciando — depois de instalar ou "
    "reiniciar leva alguns minutos: aguarde e repita; (2) serviço parado — confira "
    "'systemctl status e-SUS-PEC' (Linux) ou o serviço no Windows e o log "
    "webserver/logs/pec.log; (3) porta 8080 bloqueada ou endereço errado — confira o firewall "
    "do servidor (ufw/firewalld/Windows) e a URL.")


@dataclass
class VerifyReport:
    """Checks and measurements of one PEC installation."""

    pec_url: str
    db_url: str | None = None
    checks: Checks = field(default_factory=Checks)
    metrics: dict[str, Any] = field(default_factory=dict)
    checked_at: str = field(default_factory=now_iso)

    @property
    def status(self) -> Status:
        return self.checks.status

    def add(self, id: str, title: str, status: Status, expected: Any = None,
            observed: Any = None, remedy: str | None = None) -> None:
        self.checks.add(id, title, status, expected, observed, remedy)

    def to_dict(self) -> dict[str, Any]:
        return {"schema": SCHEMA, "pec_url": self.pec_url, "db_url": self.db_url,
                "checked_at": self.checked_at, "status": self.status.value,
                "checks": self.checks.to_list(), "metrics": self.metrics}

    def text(self) -> str:
        """The pt-BR text of ``esus-runbook conferir-instalacao``: the checks and the verdict."""
        return "\n".join(x for x in (self.checks.text(), f"Situação: {self.status.value}") if x)

    def notices(self) -> str:
        return ""

    @property
    def exit_code(self) -> ExitCode:
        """FINDINGS when a check failed; UNDECIDED when one is pendente (nothing to decide
        it with); else OK."""
        return ExitCode.for_status(self.status)

    def write_json(self, path: str | os.PathLike) -> Path:
        """``--json``: atomically; an OS error is a one-line InputError naming the file."""
        return write_report(path, json_text(self.to_dict()), what="o resultado")


# --------------------------------------------------------------------------- inputs
def check_db_url(url: str, where: str = "--db-url") -> dict[str, Any]:
    """The connection parameters of a ``postgresql://`` URL without password (else
    InputError): the site file's validator, :func:`esus_runbook.urls.parse_db_url`."""
    return parse_db_url(url, where)


def is_external(info: dict[str, Any]) -> bool:
    """Whether the database is not the one the installer bundles (127.0.0.1:5433)."""
    host = str(info.get("host") or "localhost")
    port = int(info.get("port") or 5432)
    return not (host in ("localhost", "127.0.0.1", "::1") and port == BUNDLED_DB_PORT)


DEFAULT_PORTS = {"http": 80, "https": 443}


def same_link(a: str | None, b: str) -> bool:
    """URLs equal up to a trailing slash, the case of scheme and host and an explicit
    default port (``http://h`` is ``http://h:80``: a link without a port means 80)."""
    if not a:
        return False

    def key(url: str) -> tuple:
        u = urlsplit(url.strip())
        scheme = u.scheme.lower()
        try:
            port = u.port
        except ValueError:
            port = -1
        return (scheme, (u.hostname or "").lower(), port or DEFAULT_PORTS.get(scheme),
                u.path.rstrip("/"))

    return key(a) == key(b)


# --------------------------------------------------------------------------- HTTP
def _get(session: Any, url: str, timeout: float) -> tuple[Any, float]:
    t0 = time.perf_counter()
    resp = session.get(url, timeout=(timeout, timeout), allow_redirects=True)
    return resp, (time.perf_counter() - t0) * 1000.0


def _http_failure(exc: BaseException, url: str, timeout: float) -> tuple[str, str]:
    msg, _ = describe_network_error(exc, url)
    if isinstance(exc, requests.exceptions.Timeout):
        msg = f"sem resposta em {timeout:g} s"
    return msg, NOT_ANSWERING


def _short(value: Any, limit: int = 300) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return scrub(text if len(text) <= limit else text[:limit] + "…")


def check_http(r: VerifyReport, expect_version: str | None, timeout: float, samples: int,
               slow_s: float, session: Any) -> str | None:
    """HTTP checks; returns the application version PEC reported (or None)."""
    base = r.pec_url
    info_url = base + INFO_PATH
    times: list[float] = []
    try:
        resp, ms = _get(session, info_url, timeout)
    except requests.exceptions.RequestException as exc:
        msg, remedy = _http_failure(exc, info_url, timeout)
        r.add("PEC_INFO", "PEC responde em /api/public/info", Status.FALHA,
              "HTTP 200 com a versão (campo versao)", msg, remedy)
        r.metrics["pec_responde"] = False
        return None
    times.append(ms)
    r.metrics["pec_responde"] = True
    versao = None
    if resp.status_code != 200:
        r.add("PEC_INFO", "PEC responde em /api/public/info", Status.FALHA,
              "HTTP 200 com a versão (campo versao)", f"HTTP {resp.status_code}",
              "O servidor responde, mas o PEC está com erro: se acabou de iniciar, aguarde "
              "alguns minutos; senão veja webserver/logs/pec.log e se o serviço do banco "
              "(e-SUS-AB-PostgreSQL) está no ar.")
    else:
        try:
            info = resp.json()
        except ValueError:
            info = None
        if not isinstance(info, dict) or not isinstance(info.get("versao"), str):
            r.add("PEC_INFO", "PEC responde em /api/public/info", Status.FALHA,
                  "JSON com o campo versao", _short(resp.text or "(vazio)", 120),
                  "O endereço não é de um PEC (ou um proxy respondeu no lugar dele): confira "
                  "a URL e a porta (padrão 8080).")
        else:
            versao = info["versao"].strip()
            r.metrics["info"] = {k: _short(v, 200) for k, v in list(info.items())[:20]}
            r.add("PEC_INFO", "PEC responde em /api/public/info", Status.OK,
                  "HTTP 200 com a versão (campo versao)", f"HTTP 200: {_short(info)}")
    r.metrics["versao_pec"] = versao
    if expect_version:
        if versao is None:
            pass  # PEC_INFO already failed: no second failure for the same cause
        else:
            r.checks.judge("PEC_VERSAO", "Versão do PEC em execução", versao == expect_version,
                           expect_version, versao,
                           f"O PEC em execução é a versão {versao}, não {expect_version}: a "
                           "atualização não foi aplicada, o serviço não foi reiniciado ou a "
                           "URL aponta para outro servidor.")
    for _ in range(max(0, samples - 1)):
        try:
            _, ms = _get(session, info_url, timeout)
            times.append(ms)
        except requests.exceptions.RequestException:
            break
    try:
        page, page_ms = _get(session, base + "/", timeout)
    except requests.exceptions.RequestException as exc:
        msg, remedy = _http_failure(exc, base + "/", timeout)
        r.add("PEC_PAGINA", "Página inicial do PEC (/)", Status.FALHA, "HTTP 200", msg, remedy)
        page_ms = None
    else:
        if page.status_code == 200:
            r.add("PEC_PAGINA", "Página inicial do PEC (/)", Status.OK, "HTTP 200",
                  f"HTTP 200 em {page_ms:.0f} ms")
        else:
            r.add("PEC_PAGINA", "Página inicial do PEC (/)", Status.FALHA, "HTTP 200",
                  f"HTTP {page.status_code}",
                  "A página de acesso não abre: veja webserver/logs/pec.log; se usa HTTPS "
                  "automático, confira o certificado e as portas 80/443.")
    r.metrics["tempos_ms"] = {"info": [round(t, 1) for t in times],
                              "pagina": round(page_ms, 1) if page_ms is not None else None}
    worst_ms = max([*times, *([page_ms] if page_ms is not None else [])])
    median_ms = statistics.median(times)
    observed = (f"mediana {median_ms:.0f} ms em {len(times)} chamadas a {INFO_PATH}; "
                f"pior {worst_ms:.0f} ms")
    r.checks.judge("PEC_TEMPO", "Tempo de resposta do PEC", worst_ms <= slow_s * 1000,
                   f"≤ {slow_s:g} s (limite do runbook, não oficial)", observed,
                   "Respostas lentas: confira CPU, memória e disco do servidor (etapa "
                   "ambiente) e a rede entre as unidades e o servidor; logo após iniciar o PEC "
                   "é normal.", otherwise=Status.ALERTA)
    return versao


# --------------------------------------------------------------------------- database
def _clean(text: str, password: str | None) -> str:
    text = " ".join(str(text).split())
    if password:
        text = text.replace(password, "••••••••")
    return scrub(text)[:300]


def _db_error(exc: BaseException, info: dict[str, Any], password: str | None
              ) -> tuple[str, str]:
    raw = str(exc)
    low = raw.lower()
    where = f"{info.get('host') or 'localhost'}:{info.get('port') or 5432}"
    user = info.get("user") or "(usuário padrão)"
    if "password authentication failed" in low or "autenticação por senha falhou" in low:
        return (f"usuário ou senha recusados pelo PostgreSQL para {user}",
                "confira a senha na variável/arquivo indicado (db_password_env / "
                "--db-password-env) e o usuário da URL; a senha não é mostrada")
    if "no password supplied" in low or "fe_sendauth" in low:
        return ("o PostgreSQL pediu senha e nenhuma foi informada",
                "exporte a senha numa variável (read -s PGPASSWORD; export PGPASSWORD) e "
                "informe --db-password-env, ou db_password_env no site")
    if "authentication type 10" in low or "scram" in low:
        return ("o servidor exige SCRAM e o cliente não o suporta",
                "use autenticação md5 no pg_hba.conf para o usuário do PEC")
    if "no pg_hba.conf entry" in low:
        return (f"o pg_hba.conf de {where} não permite esta conexão",
                "libere este cliente no pg_hba.conf (método md5) e recarregue o PostgreSQL")
    if "connection refused" in low:
        return (f"o PostgreSQL não aceita conexões em {where}",
                "confira se o serviço está no ar (e-SUS-AB-PostgreSQL; pg_isready -h HOST -p "
                "PORTA), a porta (a do instalador é 5433) e o firewall")
    if "does not exist" in low and "database" in low:
        return (f"o banco {info.get('dbname')} não existe em {where}",
                "o banco do PEC se chama esus por padrão: corrija a URL")
    if "timeout" in low or "timed out" in low:
        return (f"o PostgreSQL em {where} não respondeu no tempo limite",
                "confira rede e firewall até o servidor do banco")
    if "could not translate host name" in low or "name or service not known" in low:
        return (f"não foi possível resolver o nome do servidor do banco {info.get('host')}",
                "confira o endereço na URL do banco e o DNS")
    return (f"não foi possível conectar ao banco: {_clean(raw, password)}",
            "confira a URL, o usuário, a senha e se o PostgreSQL está no ar")


POSTGRES_EXTRA = ("instale o suporte ao banco: pip install 'esus-runbook[postgres]' e execute "
                  "de novo")


def db_target(info: dict[str, Any]) -> str:
    """``user@host:port/db`` of a conninfo (never a password) for messages."""
    return (f"{info.get('user') or '(padrão)'}@{info.get('host') or 'localhost'}:"
            f"{info.get('port') or 5432}/{info.get('dbname') or ''}")


def connection_options(libpq_version: int) -> dict[str, Any]:
    """The keepalive settings for a libpq of ``libpq_version`` (``psycopg.pq.version()``):
    ``tcp_user_timeout`` only where libpq knows it (12 and later)."""
    out: dict[str, Any] = dict(KEEPALIVES)
    if libpq_version >= 120000:
        out["tcp_user_timeout"] = TCP_USER_TIMEOUT_MS
    return out


def deadline_error(seconds: float, info: dict[str, Any], where: str = "--db-url"
                   ) -> InputError:
    """The pt-BR refusal of a read that outlived the client's deadline."""
    host = f"{info.get('host') or 'localhost'}:{info.get('port') or 5432}"
    return InputError(f"o banco do PEC em {host} não respondeu em {seconds:g} s (servidor "
                      "travado, sobrecarregado ou rede perdida): a leitura foi cancelada",
                      file=where, remedy="confira se o servidor do banco está no ar e a rede "
                                         "até ele, e repita fora do horário de pico")


class ReadDeadline:
    """``with ReadDeadline(conn, seconds, info): ...``: the reads inside must end within
    ``seconds``. On expiry a helper thread cancels the running query (``cancel_safe``: a
    cancel request on a new connection); if the block is still waiting ``grace`` seconds
    later (the server is frozen or unreachable and never answers the cancel), the socket is
    shut down, which ends psycopg's wait with an error. A psycopg error leaving the block
    after expiry becomes :func:`deadline_error` (an :class:`InputError`, no traceback)."""

    def __init__(self, conn, seconds: float, info: dict[str, Any], *, where: str = "--db-url",
                 grace: float = CANCEL_GRACE_S):
        self.conn, self.seconds, self.info, self.where = conn, float(seconds), info, where
        self.grace = grace
        self.expired = False
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="esus-db-deadline",
                                        daemon=True)

    def _watch(self) -> None:
        if self._done.wait(self.seconds):
            return
        self.expired = True
        try:
            self.conn.cancel_safe(timeout=self.grace)
        except Exception:  # noqa: BLE001 — a frozen postmaster: the socket is cut below
            pass
        if self._done.wait(self.grace):
            return
        self._cut()

    def _cut(self) -> None:
        try:
            fd = self.conn.pgconn.socket
        except Exception:  # noqa: BLE001 — already closed: nothing is waiting on it
            return
        try:
            # a duplicate of the descriptor: shutdown acts on the socket itself, so the
            # blocked read sees the end of the stream; the original fd stays psycopg's
            with socket.socket(fileno=os.dup(fd)) as sock:
                sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def __enter__(self) -> ReadDeadline:
        self._thread.start()
        return self

    def __exit__(self, et, ev, tb) -> bool:
        self._done.set()
        self._thread.join()
        if self.expired and ev is not None and not isinstance(ev, InputError):
            import psycopg  # lazy: the optional "postgres" extra (loaded by the caller)

            if isinstance(ev, (psycopg.Error, OSError)):
                raise deadline_error(self.seconds, self.info, self.where) from None
        return False


def connect(db_url: str, password: Secret | None, *, timeout: float, application_name: str,
            options: str | None = None, where: str = "--db-url"):
    """A psycopg connection to PEC's database, with TCP keepalives and
    ``tcp_user_timeout`` (:func:`connection_options`). The password's clear value goes only
    to ``psycopg.connect``; a refused connection raises :class:`InputError` with a pt-BR
    message and remedy that never contain it. ``options`` are server settings
    (``-c name=value ...``) applied to the session. Wrap the reads in
    :class:`ReadDeadline`."""
    try:
        import psycopg  # lazy: the optional "postgres" extra, absent in a plain install
    except ImportError:
        raise InputError("suporte a PostgreSQL não instalado nesta máquina (psycopg)",
                         file=where, remedy=POSTGRES_EXTRA) from None

    info = check_db_url(db_url, where)
    secret = password.reveal() if password is not None else None
    kwargs: dict[str, Any] = {"connect_timeout": max(1, int(round(timeout))),
                              "application_name": application_name,
                              **connection_options(psycopg.pq.version())}
    if options:
        kwargs["options"] = options
    if secret is not None:
        kwargs["password"] = secret
    try:
        return psycopg.connect(db_url, **kwargs)
    except psycopg.Error as exc:
        msg, remedy = _db_error(exc, info, secret)
        raise InputError(msg, file=where, remedy=remedy) from None
    finally:
        secret = None  # noqa: F841 — drop the clear value as soon as possible


def _read_config(conn) -> tuple[int, str, str, bool, dict[str, tuple[str | None, int | None]]]:
    """Server version, password encryption and PEC's ``tb_config_sistema`` keys."""
    config: dict[str, tuple[str | None, int | None]] = {}
    with conn.cursor() as cur:
        cur.execute("SELECT current_setting('server_version_num')::int, "
                    "current_setting('server_version'), "
                    "current_setting('password_encryption'), "
                    "to_regclass('tb_config_sistema') IS NOT NULL")
        num, text_version, encryption, has_config = cur.fetchone()
        if has_config:
            cur.execute("SELECT co_config_sistema, ds_texto, ds_inteiro "
                        "FROM tb_config_sistema WHERE co_config_sistema = ANY(%s)",
                        (list(CONFIG_KEYS),))
            for key, texto, inteiro in cur.fetchall():
                config[str(key).strip().upper()] = (
                    texto.strip() if isinstance(texto, str) else texto,
                    int(inteiro) if inteiro is not None else None)
    return num, text_version, encryption, has_config, config


def check_database(r: VerifyReport, db_url: str, password: Secret | None,
                   app_version: str | None, expect_version: str | None, modo: str | None,
                   tipo_instalacao: str | None, timeout: float,
                   link_instalacao: str | None = None) -> None:
    info = check_db_url(db_url)
    if importlib.util.find_spec("psycopg") is None:  # the optional "postgres" extra
        r.add("DB_CONEXAO", "Conexão com o banco do PEC", Status.PENDENTE,
              "conectar ao banco", "suporte a PostgreSQL não instalado nesta máquina (psycopg)",
              POSTGRES_EXTRA[0].upper() + POSTGRES_EXTRA[1:] + ".")
        return
    external = is_external(info)
    target = db_target(info)
    db: dict[str, Any] = {"alvo": target, "externo": external,
                          "senha_de": password.source if password is not None else None}
    r.metrics["banco"] = db
    try:
        conn = connect(db_url, password, timeout=timeout,
                       application_name="esus-runbook verify-install")
    except InputError as exc:
        p = exc.problems[0]
        r.add("DB_CONEXAO", "Conexão com o banco do PEC", Status.FALHA, f"conectar em {target}",
              p.message, p.remedy)
        return
    try:
        with ReadDeadline(conn, max(timeout, 1.0) * READ_DEADLINE_FACTOR, info), conn:
            conn.read_only = True
            num, text_version, encryption, has_config, config = _read_config(conn)
    except InputError as exc:   # the client's deadline: a frozen server or a lost network
        p = exc.problems[0]
        r.add("DB_CONEXAO", "Conexão com o banco do PEC", Status.FALHA, f"conectar em {target}",
              p.message, p.remedy)
        return
    db.update(versao_servidor=text_version, password_encryption=encryption,
              config={k: {"ds_texto": _clean(v[0], None) if v[0] else v[0],
                          "ds_inteiro": v[1]} for k, v in config.items()})
    r.add("DB_CONEXAO", "Conexão com o banco do PEC", Status.OK, f"conectar em {target}",
          f"conectado (PostgreSQL {text_version})")
    server_version_check(r, num, text_version)
    if external:
        r.checks.judge("DB_SENHA_MD5", "Senhas em md5 (banco externo)",
                       str(encryption).lower() == "md5", "md5", encryption,
                       "O driver JDBC do instalador falha com SCRAM ('authentication type 10 "
                       "is not supported'): defina password_encryption = md5, redefina a senha "
                       "do usuário do PEC e use md5 no pg_hba.conf.", otherwise=Status.ALERTA)
    if not has_config:
        r.add("DB_CONFIG", "Tabela tb_config_sistema", Status.FALHA, "tabela presente",
              "ausente",
              "Este não é o banco do PEC ou a instalação não terminou: confira o nome do "
              "banco (esus) e o log do instalador.")
        return
    _config_checks(r, config, r.pec_url, app_version, expect_version, modo, tipo_instalacao,
                   link_instalacao)


def server_version_check(r: VerifyReport, num: int, text_version: str) -> None:
    """DB_VERSAO_SERVIDOR from ``server_version_num`` (e.g. 90613 for 9.6.13)."""
    r.checks.judge("DB_VERSAO_SERVIDOR", "Versão do PostgreSQL", num >= MIN_SERVER_VERSION,
                   "≥ 9.6", text_version,
                   "O PEC exige PostgreSQL 9.6 ou mais novo: atualize o servidor do banco (com "
                   "backup testado antes).")


def _config_checks(r: VerifyReport, config: dict[str, tuple[str | None, int | None]],
                   pec_url: str, app_version: str | None, expect_version: str | None,
                   modo: str | None, tipo_instalacao: str | None,
                   link_instalacao: str | None = None) -> None:
    db_version = (config.get("VERSAOBANCODADOS") or (None, None))[0]
    reference = app_version or expect_version
    ref_label = ("versão do PEC em execução" if app_version
                 else "versão esperada (o PEC não respondeu)")
    if not db_version:
        r.add("DB_VERSAO_BANCO", "Versão do banco (VERSAOBANCODADOS)", Status.FALHA,
              reference or "presente", "ausente",
              "A instalação ou a migração do banco não terminou: veja o log do instalador e "
              "rode o instalador de novo com -console -continue.")
    elif reference is None:
        r.add("DB_VERSAO_BANCO", "Versão do banco (VERSAOBANCODADOS)", Status.PENDENTE,
              "igual à versão do PEC", db_version,
              "Não há versão do PEC para comparar: informe --versao-pec ou repita com o "
              "PEC no ar.")
    else:
        r.checks.judge("DB_VERSAO_BANCO", "Versão do banco (VERSAOBANCODADOS)",
                       db_version == reference, f"{reference} ({ref_label})", db_version,
                       "Banco e aplicação em versões diferentes: o PEC se recusa a iniciar. "
                       "Rode o instalador da versão certa (-console -continue) para migrar o "
                       "banco ou, após restaurar um backup, instale a versão do backup.")
    treino = (config.get("TREINAMENTO") or (None, None))[1]
    treino_mode = "treinamento" if treino == 1 else "producao"
    r.metrics["modo_banco"] = treino_mode
    if modo is not None:
        if treino_mode == modo:
            r.add("DB_TREINAMENTO", "Modo da instalação (TREINAMENTO)", Status.OK, modo,
                  treino_mode)
        elif modo == "producao":
            r.add("DB_TREINAMENTO", "Modo da instalação (TREINAMENTO)", Status.FALHA, modo,
                  "treinamento (TREINAMENTO = 1)",
                  "Instalação de treinamento num site de produção: NADA chega ao SISAB. "
                  "Reinstale sem -treinamento (produção) antes de começar os atendimentos.")
        else:
            r.add("DB_TREINAMENTO", "Modo da instalação (TREINAMENTO)", Status.FALHA, modo,
                  "produção (TREINAMENTO ≠ 1)",
                  "Instalação de produção usada para treinamento: dados fictícios iriam para "
                  "o SISAB. Reinstale com -treinamento ou corrija instalacao.modo.")
    tipo_db = (config.get("TIPOINSTALACAO") or (None, None))[0]
    if tipo_instalacao is not None:
        expected = TIPO_DB[tipo_instalacao]
        if tipo_db and tipo_db.upper() == expected:
            r.add("DB_TIPO_INSTALACAO", "Tipo de instalação (TIPOINSTALACAO)", Status.OK,
                  expected, tipo_db)
        else:
            r.add("DB_TIPO_INSTALACAO", "Tipo de instalação (TIPOINSTALACAO)", Status.FALHA,
                  expected, tipo_db or "ausente",
                  "O tipo da instalação difere do cenário do site: confira "
                  "cenario.tipo_instalacao ou reinstale com o tipo certo.")
    link_check(r, (config.get("LINKINSTALACAO") or (None, None))[0], pec_url,
               link_instalacao)


LINK_SCREEN = "Administração › Configurações da instalação › Servidores"


def link_check(r: VerifyReport, link: str | None, pec_url: str,
               expected: str | None) -> None:
    """DB_LINK: ``LINKINSTALACAO`` is the address through which the installation is reached
    from the internet (docs/dominio.md, "Link da instalação"), not necessarily ``pec_url``:
    compared with the site's expected public link; without one, a link equal to the address
    the PEC answered on is fine and any other is only shown (nothing to judge it by)."""
    title = "Link da instalação (LINKINSTALACAO)"
    if not link:
        r.add("DB_LINK", title, Status.ALERTA, expected or "link público da instalação",
              "ausente",
              f"Informe o link pelo qual a instalação é acessada da internet em {LINK_SCREEN} "
              "(sem porta, o PEC entende a porta 80).")
    elif expected:
        r.checks.judge("DB_LINK", title, same_link(link, expected), expected, link,
                       "O link gravado no PEC difere do link público do site "
                       "(instalacao.link_instalacao; comum após restaurar um backup de outro "
                       f"servidor): corrija em {LINK_SCREEN} ou, se o site mudou de endereço, "
                       "atualize instalacao.link_instalacao. Sem porta, o link usa a porta 80.",
                       otherwise=Status.ALERTA)
    elif same_link(link, pec_url):
        r.add("DB_LINK", title, Status.OK, f"{pec_url} (endereço verificado)", link)
    else:
        r.add("DB_LINK", title, Status.PENDENTE, "link público da instalação", link,
              "O LINKINSTALACAO é o endereço pelo qual a instalação é acessada da internet e "
              "pode diferir do endereço interno: informe-o em instalacao.link_instalacao para "
              f"conferir (no PEC: {LINK_SCREEN}).")


# --------------------------------------------------------------------------- entry point
def verify_install(pec_url: str, *, db_url: str | None = None, password: Secret | None = None,
                   expect_version: str | None = None, modo: str | None = None,
                   tipo_instalacao: str | None = None, timeout: float = 10.0,
                   samples: int = 3, slow_s: float = SLOW_S, session: Any = None,
                   link_instalacao: str | None = None) -> VerifyReport:
    """Run the HTTP checks and, with ``db_url``, the database checks of one PEC."""
    pec_url = check_pec_url(pec_url)
    if db_url:
        check_db_url(db_url)
    if modo is not None and modo not in ("producao", "treinamento"):
        raise InputError(f"modo '{modo}' inválido", file="--modo",
                         remedy="use producao ou treinamento")
    r = VerifyReport(pec_url, db_url)
    own = session is None
    session = session or requests.Session()
    try:
        app_version = check_http(r, expect_version, timeout, samples, slow_s, session)
    finally:
        if own:
            session.close()
    if db_url:
        check_database(r, db_url, password, app_version, expect_version, modo,
                       tipo_instalacao, timeout, link_instalacao)
    return r


def command(pec_url: str | None, db_url: str | None = None, password_env: str | None = None,
            password_file: str | None = None, expect_version: str | None = None,
            modo: str | None = None, tipo: str | None = None,
            link_instalacao: str | None = None) -> str:
    """The ``esus-runbook conferir-instalacao`` command line for these values (no secret), every
    value shell-quoted."""
    parts = ["esus-runbook conferir-instalacao",
             option("--pec-url", pec_url, "http://SERVIDOR:8080"),
             option("--versao-pec", expect_version), option("--modo", modo),
             option("--tipo-instalacao", tipo), option("--link-instalacao", link_instalacao)]
    if db_url:
        parts.append(option("--db-url", db_url))
        if password_env:
            parts.append(option("--db-password-env", password_env))
        elif password_file:
            parts.append(option("--db-password-file", password_file))
    return " ".join(p for p in parts if p)
