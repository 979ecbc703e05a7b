"""What a leak test looks for: the usual written forms of a CPF or CNS and the pieces of a
secret that must never appear in an output."""

from __future__ import annotations

import hashlib


def variants(value: bytes) -> set[bytes]:
    """The plain value and how it is usually formatted."""
    v = value.decode()
    out = {v}
    if len(v) == 11:
        out.add(f"{v[:3]}.{v[3:6]}.{v[6:9]}-{v[9:]}")
    if len(v) == 15:
        out.add(f"{v[:3]} {v[3:7]} {v[7:11]} {v[11:]}")
    return {x.encode() for x in out}


def secret_needles(secret: str | bytes) -> set[bytes]:
    """What must never appear in an output for a secret: the value, its plain sha256 (hex)
    and every 8-character piece of it."""
    raw = secret.encode() if isinstance(secret, str) else secret
    needles = {raw, hashlib.sha256(raw).hexdigest().encode()}
    needles.update(raw[i:i + 8] for i in range(max(0, len(raw) - 7)))
    return needles
