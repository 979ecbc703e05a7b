"""Network helpers: the one host-name rule (site file, URLs, SSH targets) and a free local
port for the faces (``lab``) and the demo tooling."""

from __future__ import annotations

import ipaddress
import re
import socket

_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_NUMBER = re.compile(r"[0-9]+|0[xX][0-9A-Fa-f]*")


def valid_host(text: str) -> bool:
    """Whether ``text`` is a host the runbook connects to or names: an IPv4 address, an IPv6
    address (bare, or in brackets as a URL writes it) or a host name. The one rule for the
    site file, every URL and every SSH target (``docs/limites-de-entrada.md``):

    * a name is labels of ASCII letters, digits and inner hyphens (RFC 1123), 1 to 63
      characters each, at most 253 in all; no underscore, no trailing dot (``pec.local.``
      would be another name in known_hosts and in the certificate check);
    * an internationalized name is written in its ASCII form (``xn--...``), never in Unicode;
    * the last label is not a number (``10.0.0.256``, ``pec.123``, ``0x7f``): browsers and
      ``getaddrinfo`` read such a name as an IPv4 address, so it is either a valid IPv4
      address or refused.
    """
    if not isinstance(text, str) or not text:
        return False
    if text.startswith("[") and text.endswith("]"):
        try:
            return ipaddress.ip_address(text[1:-1]).version == 6
        except ValueError:
            return False
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        pass
    if len(text) > 253 or not text.isascii():
        return False
    labels = text.split(".")
    if _NUMBER.fullmatch(labels[-1]):
        return False
    return all(_LABEL.fullmatch(label) for label in labels)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (the OS picks it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
