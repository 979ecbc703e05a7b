"""The URLs users give: the PEC's address, its database's, an installer's download link.

One validator for the site file (``instalacao.pec_url``, ``instalacao.db_url``,
``instalador.url``) and the CLI (``verify-install --pec-url/--db-url``). A URL never carries a
secret: a password in the userinfo or in a ``password``/``senha``/``passfile``/``sslpassword``
query parameter (any case, percent-encoded or not) is refused, because the URL is copied into
the site snapshots, results, notebooks and the commands the reports show. Only the expected schemes
are accepted. Messages never repeat the URL (it may hold the secret being refused). Parsing is
done here, without psycopg, so a site with a database URL validates on a machine without the
``postgres`` extra. Rules in ``docs/limites-de-entrada.md``.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from .errors import InputError
from .net import valid_host

HTTP_SCHEMES = ("http", "https")
DB_SCHEMES = ("postgresql", "postgres")
PASSWORD_PARAMS = frozenset({"password", "senha", "passfile", "sslpassword"})
_PARAM_NAME = re.compile(r"^[a-z_]+$")
_FORBIDDEN = re.compile(r"[\s\x00-\x1f\x7f\"'`\\<>{}|^]")

Problem = tuple[str, str]  # (pt-BR problem, how to fix)
DB_REMEDY = ("tire a senha da URL e informe o NOME da variável com a senha: db_password_env no "
             "arquivo do site, --db-password-env na linha de comando")


def _decoded(name: str) -> str:
    """A query parameter name as libpq may end up reading it (percent-decoding repeated)."""
    for _ in range(3):
        name = unquote(name)
    return name.strip().lower()


def _netloc_problem(parts: Any, what: str) -> Problem | None:
    netloc = parts.netloc
    if "@" in netloc:
        userinfo = netloc.rsplit("@", 1)[0]
        if ":" in userinfo:
            return (f"a URL {what} não pode conter senha",
                    DB_REMEDY if what == "do banco" else "informe só http://servidor:porta")
    host = netloc.rsplit("@", 1)[-1]
    if "," in host:
        return (f"a URL {what} deve ter um único servidor",
                "informe um servidor só, ex.: postgresql://usuario@host:5433/esus")
    try:
        port = parts.port
    except ValueError:
        return f"porta inválida na URL {what}", "use uma porta de 1 a 65535"
    if port == 0:
        return f"porta inválida na URL {what}", "use uma porta de 1 a 65535"
    hostname = parts.hostname or ""
    if hostname and not valid_host(hostname):
        return (f"servidor inválido na URL {what}",
                "use um nome de servidor (letras, números, '-' e '.') ou um endereço IP")
    return None


def http_url_problem(url: str, what: str = "do PEC") -> Problem | None:
    """Why ``url`` is not an acceptable http(s) URL without credentials, or None."""
    example = "ex.: http://10.0.0.5:8080"
    if _FORBIDDEN.search(url or ""):
        return f"a URL {what} tem espaços ou caracteres não permitidos", example
    try:
        parts = urlsplit(url or "")
    except ValueError:
        return f"URL {what} inválida", example
    if parts.scheme.lower() not in HTTP_SCHEMES or not parts.hostname:
        return f"URL {what} inválida: deve começar com http:// ou https://", example
    if "@" in parts.netloc:
        return (f"a URL {what} não pode conter usuário ou senha",
                "informe só http://servidor:porta; credenciais nunca vão na URL")
    return _netloc_problem(parts, what)


def db_url_problem(url: str) -> Problem | None:
    """Why ``url`` is not an acceptable ``postgresql://`` URL (no password anywhere), or
    None."""
    example = "ex.: postgresql://postgres@127.0.0.1:5433/esus"
    if _FORBIDDEN.search(url or ""):
        return "a URL do banco tem espaços ou caracteres não permitidos", example
    try:
        parts = urlsplit(url or "")
    except ValueError:
        return "URL do banco inválida", example
    if parts.scheme.lower() not in DB_SCHEMES:
        return "URL do banco inválida: deve começar com postgresql://", example
    problem = _netloc_problem(parts, "do banco")
    if problem:
        return problem
    if parts.fragment or url.endswith("#"):
        return "a URL do banco não pode ter '#'", example
    try:
        params = parse_qsl(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
    except ValueError:
        return "parâmetros inválidos na URL do banco", "use ?nome=valor&nome=valor"
    for name, _ in params:
        key = _decoded(name)
        if key in PASSWORD_PARAMS:
            return "a URL do banco não pode conter senha (parâmetro de senha)", DB_REMEDY
        if not _PARAM_NAME.match(key):
            return "parâmetro desconhecido na URL do banco", "use parâmetros do libpq, ex.: " \
                "?sslmode=require"
    return None


def check_pec_url(url: str, where: str = "--pec-url") -> str:
    """``url`` without a trailing slash, or InputError naming ``where``."""
    problem = http_url_problem(url)
    if problem:
        raise InputError(problem[0], file=where, remedy=problem[1])
    return url.rstrip("/")


def parse_db_url(url: str, where: str = "--db-url") -> dict[str, Any]:
    """The connection parameters of a ``postgresql://`` URL (``user``, ``host``, ``port``,
    ``dbname`` and the query's parameters), or InputError naming ``where``."""
    problem = db_url_problem(url)
    if problem:
        raise InputError(problem[0], file=where, remedy=problem[1])
    parts = urlsplit(url)
    info: dict[str, Any] = {_decoded(k): v for k, v in parse_qsl(parts.query)}
    if parts.username:
        info["user"] = unquote(parts.username)
    if parts.hostname:
        info["host"] = parts.hostname
    if parts.port:
        info["port"] = str(parts.port)
    if parts.path.strip("/"):
        info["dbname"] = unquote(parts.path.lstrip("/"))
    return info
