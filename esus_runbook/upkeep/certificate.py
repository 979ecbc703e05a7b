"""The HTTPS certificate of a site's PEC link, seen as a browser sees it.

Two TLS handshakes to the link: one that accepts any certificate (to read it even when it is
expired, self-signed or for another name) and one that verifies the chain against the system
trust store or the CA file the site names. The certificate is parsed with ``cryptography``;
the name is matched against its subjectAltName (RFC 6125: a ``*`` only as the whole leftmost
label; IP addresses as iPAddress entries). Checks (docs/certificado.md):

* ``CRT_CONEXAO`` the handshake itself;
* ``CRT_VALIDADE`` days to expiry: ``falha`` once expired (or not yet valid), ``alerta`` under
  :data:`ALERT_DAYS` (PEC's certmgr renews only when PEC restarts);
* ``CRT_NOME`` the name of the link is in the certificate;
* ``CRT_CADEIA`` the chain up to a trusted root is complete;
* ``CRT_GOVBR`` the domain ends in ``.gov.br`` (the gov.br login needs it): ``alerta`` if not.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID

from ..errors import describe_os_error
from ..results import Checks
from ..status import Status

ALERT_DAYS = 20
SOON_DAYS = 30  # the painel's "expiring soon" list
TIMEOUT_S = 10.0


@dataclass(frozen=True)
class TlsTarget:
    """Where to shake hands: ``name`` is the host name the certificate must carry (and the
    SNI); ``address`` where to connect (default: ``name``); ``origin`` the site key it came
    from."""

    name: str
    port: int = 443
    address: str | None = None
    origin: str = ""

    def __str__(self) -> str:
        return f"{self.name}:{self.port}"


def site_target(site_data: Mapping[str, Any]) -> TlsTarget | None:
    """The TLS target of a validated site: ``instalacao.https_dominio`` (port
    ``https_porta``), else the https ``link_instalacao``, else the https ``pec_url``; None when
    the site has no https link."""
    inst = site_data.get("instalacao") or {}
    if inst.get("https_dominio"):
        return TlsTarget(inst["https_dominio"], int(inst.get("https_porta") or 443),
                         origin="instalacao.https_dominio")
    for key in ("link_instalacao", "pec_url"):
        url = inst.get(key)
        if url and urlsplit(url).scheme.lower() == "https":
            u = urlsplit(url)
            return TlsTarget(u.hostname or "", u.port or 443, origin=f"instalacao.{key}")
    return None


def name_matches(cert: x509.Certificate, name: str) -> bool:
    """Whether ``name`` (a host name or IP address) is one the certificate was issued for
    (subjectAltName; the subject's CN only when the certificate has no subjectAltName)."""
    try:
        ip = ipaddress.ip_address(name)
    except ValueError:
        ip = None
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        san = None
    if ip is not None:
        return san is not None and ip in san.get_values_for_type(x509.IPAddress)
    if san is not None:
        dns = san.get_values_for_type(x509.DNSName)
    else:
        dns = [a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    return any(_dns_match(str(pattern), name) for pattern in dns)


def _dns_match(pattern: str, name: str) -> bool:
    pattern, name = pattern.lower().rstrip("."), name.lower().rstrip(".")
    if pattern == name:
        return True
    if not pattern.startswith("*."):
        return False
    suffix = pattern[1:]  # ".dominio.gov.br": the wildcard covers exactly one label
    return name.endswith(suffix) and "." not in name[:-len(suffix)] and len(name) > len(suffix)


def _names(cert: x509.Certificate) -> list[str]:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return [a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    return [str(v) for v in san.get_values_for_type(x509.DNSName)] + \
        [str(v) for v in san.get_values_for_type(x509.IPAddress)]


def _handshake(target: TlsTarget, context: ssl.SSLContext, timeout: float) -> bytes:
    with socket.create_connection((target.address or target.name, target.port),
                                  timeout=timeout) as sock, \
            context.wrap_socket(sock, server_hostname=target.name) as tls:
        return tls.getpeercert(binary_form=True) or b""


def _reader_context() -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # reads the certificate whatever it is; judged below
    return ctx


def _verifying_context(cafile: str | None) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.check_hostname = False  # the name is judged apart (CRT_NOME), with its own message
    return ctx


def _network_problem(exc: BaseException) -> str:
    if isinstance(exc, socket.gaierror):
        return "nome não encontrado no DNS"
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return "sem resposta no prazo"
    if isinstance(exc, ConnectionRefusedError):
        return "conexão recusada (nada escuta nesta porta)"
    if isinstance(exc, ssl.SSLError):
        return f"o servidor não completou o TLS ({exc.reason or exc.__class__.__name__})"
    if isinstance(exc, OSError):
        return f"falha de conexão ({describe_os_error(exc)})"
    return f"falha de conexão ({exc.__class__.__name__})"


def check_certificate(target: TlsTarget, *, cafile: str | None = None,
                      now: datetime | None = None,
                      timeout: float = TIMEOUT_S) -> tuple[Checks, dict[str, Any]]:
    """The checks and the facts (``metrics``) of the certificate ``target`` presents."""
    checks = Checks()
    now = now or datetime.now(timezone.utc)
    metrics: dict[str, Any] = {"alvo": str(target), "origem": target.origin,
                               "verificado_em": now.isoformat(timespec="seconds")}
    try:
        der = _handshake(target, _reader_context(), timeout)
        cert = x509.load_der_x509_certificate(der)
    except (OSError, ValueError) as exc:
        checks.add("CRT_CONEXAO", "Conexão HTTPS ao link do PEC", Status.FALHA,
                   f"handshake TLS com {target}", _network_problem(exc),
                   "Confira se o PEC está no ar com HTTPS nesta porta (systemctl status "
                   "e-SUS-PEC), o DNS do domínio e o firewall (porta liberada); sem o "
                   "handshake nada do certificado pode ser conferido.")
        return checks, metrics
    checks.add("CRT_CONEXAO", "Conexão HTTPS ao link do PEC", Status.OK,
               f"handshake TLS com {target}", "certificado recebido")
    not_before, not_after = cert.not_valid_before_utc, cert.not_valid_after_utc
    days = (not_after - now).total_seconds() / 86400
    issuer = cert.issuer.rfc4514_string()
    metrics.update(sujeito=cert.subject.rfc4514_string(), emissor=issuer, nomes=_names(cert),
                   valido_de=not_before.isoformat(), valido_ate=not_after.isoformat(),
                   dias_restantes=round(days, 1), serie=format(cert.serial_number, "x"),
                   sha256=cert.fingerprint(hashes.SHA256()).hex())
    expected = f"válido e com mais de {ALERT_DAYS} dias"
    shown_end = not_after.strftime("%d/%m/%Y %H:%M UTC")
    if now < not_before:
        checks.add("CRT_VALIDADE", "Validade do certificado", Status.FALHA, expected,
                   f"ainda não vale (a partir de {not_before:%d/%m/%Y %H:%M UTC})",
                   "Confira o relógio do servidor (timedatectl) e reinicie o PEC para que o "
                   "certmgr emita de novo.")
    elif days < 0:
        checks.add("CRT_VALIDADE", "Validade do certificado", Status.FALHA, expected,
                   f"vencido em {shown_end} (há {-days:.0f} dias)",
                   "O navegador bloqueia o acesso. Reinicie o PEC (systemctl restart "
                   "e-SUS-PEC): o certmgr do PEC renova o certificado ao iniciar; se não "
                   "renovar, confira as portas 80 e 443 abertas para a internet e o log "
                   "webserver/logs/pec.log.")
    elif days < ALERT_DAYS:
        checks.add("CRT_VALIDADE", "Validade do certificado", Status.ALERTA, expected,
                   f"vence em {days:.0f} dias ({shown_end})",
                   "O certmgr do PEC só renova quando o PEC reinicia: agende um reinício do "
                   "e-SUS-PEC fora do horário de atendimento e confira de novo.")
    else:
        checks.add("CRT_VALIDADE", "Validade do certificado", Status.OK, expected,
                   f"vence em {days:.0f} dias ({shown_end})")
    names = ", ".join(metrics["nomes"][:6]) or "(nenhum nome)"
    checks.judge("CRT_NOME", "Nome do certificado confere com o link",
                 name_matches(cert, target.name), target.name, names,
                 f"O certificado não é para {target.name}: o navegador recusa. Emita-o para "
                 "este domínio (o instalador: -cert-domain=" + target.name + ") ou corrija "
                 "instalacao.https_dominio/link_instalacao no arquivo do site.")
    try:
        _handshake(target, _verifying_context(cafile), timeout)
        checks.add("CRT_CADEIA", "Cadeia de certificação completa", Status.OK,
                   "cadeia até uma autoridade confiável" + (f" ({cafile})" if cafile else ""),
                   f"verificada (emissor: {issuer})")
        metrics["cadeia"] = "ok"
    except ssl.SSLCertVerificationError as exc:
        why = exc.verify_message or "não verificada"
        metrics["cadeia"] = why
        checks.add("CRT_CADEIA", "Cadeia de certificação completa", Status.FALHA,
                   "cadeia até uma autoridade confiável" + (f" ({cafile})" if cafile else ""),
                   f"{why} (emissor: {issuer})",
                   "Um certificado autoassinado ou sem os intermediários é recusado pelos "
                   "navegadores e pelo login gov.br: use o HTTPS automático do instalador "
                   "(-cert-domain) ou instale a cadeia completa (fullchain).")
    except (OSError, ValueError) as exc:
        checks.add("CRT_CADEIA", "Cadeia de certificação completa", Status.FALHA,
                   "cadeia até uma autoridade confiável", _network_problem(exc),
                   "A segunda conexão falhou: repita a verificação; se persistir, confira a "
                   "rede até o servidor.")
    gov = target.name.lower().rstrip(".").endswith(".gov.br")
    checks.judge("CRT_GOVBR", "Domínio .gov.br (login gov.br)", gov, "domínio terminado em "
                 ".gov.br", target.name,
                 "O login com gov.br no PEC exige um domínio .gov.br: peça ao responsável pelo "
                 "domínio do município um nome como pec.<municipio>.<uf>.gov.br.",
                 otherwise=Status.ALERTA)
    return checks, metrics
