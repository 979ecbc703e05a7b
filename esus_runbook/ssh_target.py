"""``usuario@host[:porta]``: parsed and validated before anything touches the network."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import InputError
from .net import valid_host

USER = re.compile(r"[a-z_][a-z0-9_.-]{0,31}")
REMEDY = "use usuario@host ou usuario@host:porta, ex.: suporte@10.0.0.5 ou suporte@pec.local:2222"


@dataclass(frozen=True)
class Target:
    user: str
    host: str
    port: int = 22

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.user}@{host}" + (f":{self.port}" if self.port != 22 else "")

    @property
    def known_hosts_name(self) -> str:
        """The host's name in known_hosts (OpenSSH writes ``[host]:port`` off port 22)."""
        return self.host if self.port == 22 else f"[{self.host}]:{self.port}"


def parse_target(text: object, *, file: str = "--ssh", key: str | None = None) -> Target:
    """The target of ``text``; InputError naming ``file``/``key`` when it is not valid."""
    def bad(why: str) -> InputError:
        return InputError(f"destino SSH inválido: {why}", file=file, key=key, remedy=REMEDY)

    if not isinstance(text, str) or "@" not in text:
        raise bad("falta 'usuario@'")
    user, _, rest = text.strip().partition("@")
    if not USER.fullmatch(user):
        raise bad("usuário deve ter letras minúsculas, dígitos, '_', '.' ou '-' (até 32)")
    port_text = None
    if rest.startswith("["):  # [IPv6]:port
        host, sep, tail = rest[1:].partition("]")
        if not sep or (tail and not tail.startswith(":")):
            raise bad("endereço IPv6 entre colchetes malformado")
        port_text = tail[1:] if tail else None
    elif rest.count(":") == 1:
        host, _, port_text = rest.partition(":")
    else:
        host = rest
    if host.startswith("[") or not valid_host(host):  # brackets only around [IPv6]:porta
        raise bad("host deve ser um nome (RFC 1123) ou endereço IP")
    port = 22
    if port_text is not None:
        if not re.fullmatch(r"[0-9]{1,5}", port_text) or not 1 <= int(port_text) <= 65535:
            raise bad("porta deve ser um número de 1 a 65535")
        port = int(port_text)
    return Target(user, host, port)
