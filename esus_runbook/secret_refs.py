"""Secret references: the contra-chave and database passwords.

A site file never holds a secret, only a *reference*: the name of an environment variable
(``*_env``) or the path of a protected file (``*_file``). Papermill copies parameters into
the executed notebook, so secrets are read here, inside the stage, and never passed as
parameters. A :class:`Secret` hides its value from ``repr``/``str``; what results and reports
keep is :func:`mask` and a salted, slow :func:`fingerprint` that lets a later run tell
whether the value changed without storing it.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .commands import sh
from .errors import InputError, SecretError
from .files.reading import read_bounded

# PBKDF2 work factor: slow enough that a stored fingerprint of a short secret resists
# guessing, cheap enough (~50 ms) for a batch of hundreds of sites.
_ITERATIONS = 50_000
MAX_SECRET_FILE_BYTES = 64 * 1024  # a contra-chave, a password, an SSH key


@dataclass(frozen=True)
class Secret:
    """A secret value and where it came from. ``str()`` and ``repr()`` never show it."""

    _value: str = field(repr=False)
    source: str  # pt-BR description: "variável PEC_CONTRA_CHAVE" / "arquivo /etc/..."
    warnings: tuple[str, ...] = ()

    def reveal(self) -> str:
        """The clear value: pass it to the one call that needs it, never to an output."""
        return self._value

    def __str__(self) -> str:
        return f"<segredo de {self.source}>"

    __repr__ = __str__


def read_secret(env_name: str | None = None, file_path: str | os.PathLike | None = None,
                *, what: str, env: Mapping[str, str] | None = None) -> Secret | None:
    """Read a secret from the environment variable ``env_name`` or the file ``file_path``
    (the variable wins when both are given). None when neither reference is given.
    A reference that points to nothing raises :class:`SecretError` naming the reference,
    never the value."""
    env = os.environ if env is None else env
    if env_name:
        value = env.get(env_name)
        if value is None or not value.strip():
            if not file_path:
                raise SecretError(f"{what}: a variável de ambiente {env_name} não está definida",
                                  key=env_name,
                                  remedy=f"exporte {env_name} antes de executar "
                                         f"(ex.: read -s {env_name}; export {env_name})")
        else:
            return Secret(value.strip(), f"variável {env_name}")
    if file_path:
        path = Path(file_path)
        try:
            # a regular file of at most 64 KiB: a FIFO or a device would block the stage
            value = read_bounded(path, MAX_SECRET_FILE_BYTES, what,
                                 "crie o arquivo com o segredo (chmod 600)").decode("utf-8")
            value = value.strip()
            st = path.stat()
        except InputError as exc:
            p = exc.problems[0]
            raise SecretError(p.message, file=p.file, remedy=p.remedy) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise SecretError(f"{what}: não foi possível ler o arquivo "
                              f"({exc.__class__.__name__})", file=str(path),
                              remedy="confira o caminho e as permissões") from None
        if not value:
            raise SecretError(f"{what}: o arquivo está vazio", file=str(path),
                              remedy="grave o segredo no arquivo")
        warnings: tuple[str, ...] = ()
        if os.name == "posix" and st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            warnings = (f"o arquivo {path} pode ser lido por outros usuários "
                        f"(permissão {stat.S_IMODE(st.st_mode):o}): use chmod 600 {sh(path)}",)
        return Secret(value, f"arquivo {path}", warnings)
    return None


def mask(value: str | Secret | None) -> str:
    """A display form that shows at most the last two characters of a long secret."""
    if value is None:
        return ""
    text = value.reveal() if isinstance(value, Secret) else str(value)
    return "•" * 8 + text[-2:] if len(text) >= 12 else "•" * 8


def fingerprint(value: str | bytes | Secret, salt: bytes | str | None = None) -> str:
    """``pbkdf2-sha256$<iterations>$<salt hex>$<digest hex>``: slow and salted, so the
    stored form does not reveal a short secret; the same salt gives the same fingerprint."""
    text = value.reveal() if isinstance(value, Secret) else value
    if salt is None:
        salt = os.urandom(16)
    elif isinstance(salt, str):
        salt = bytes.fromhex(salt)
    data = text if isinstance(text, bytes) else text.encode("utf-8")
    digest = hashlib.pbkdf2_hmac("sha256", data, salt, _ITERATIONS)
    return f"pbkdf2-sha256${_ITERATIONS}${salt.hex()}${digest.hex()}"


def same_secret(value: str | Secret, stored: str) -> bool:
    """Whether ``value`` is the secret that produced the fingerprint ``stored``."""
    try:
        algo, iterations, salt, digest = stored.split("$")
    except (AttributeError, ValueError):
        return False
    if algo != "pbkdf2-sha256":
        return False
    text = value.reveal() if isinstance(value, Secret) else value
    again = hashlib.pbkdf2_hmac("sha256", text.encode("utf-8"), bytes.fromhex(salt),
                                int(iterations))
    return hmac.compare_digest(again.hex(), digest)


# Site keys that reference secrets: (section, env-var key, file key).
SITE_SECRET_REFS = (("contra_chave", "contra_chave_env", "contra_chave_file"),
                    ("instalacao", "db_password_env", "db_password_file"),
                    ("servidor", "senha_env", None))


def is_secret_file_key(dotted: str) -> bool:
    """Whether the site key ``section.key`` names a file holding a secret: every ``*_file``
    key (contra_chave_file, db_password_file, an SSH key file...)."""
    return dotted.rsplit(".", 1)[-1].endswith("_file")


def resume_salt(site_id: str) -> str:
    """The salt of a site's resume fingerprints: stable for the site, so an unchanged secret
    gives the same fingerprint in the next run."""
    return hashlib.sha256(f"esus-runbook/resume/{site_id}".encode()).hexdigest()[:32]


def file_fingerprint(path: str | os.PathLike | None, salt: str) -> str | None:
    """The slow salted :func:`fingerprint` of a secret file's bytes, never a plain content
    hash (which would let anyone holding a run folder confirm a guessed secret); None when
    the file does not exist, ``ilegivel`` when it cannot be read or is not a small regular
    file."""
    if not path or not Path(path).exists():
        return None
    try:
        data = read_bounded(path, MAX_SECRET_FILE_BYTES, "segredo", "")
    except InputError:  # a FIFO, a folder, too big, unreadable: the stage says which
        return "ilegivel"
    return fingerprint(data, salt)


def site_secret_values(site, env: Mapping[str, str] | None = None) -> set[str]:
    """Every secret value a site references (unresolvable references are skipped): what
    :func:`redact` must remove from messages that leave a stage."""
    values: set[str] = set()
    for section, env_key, file_key in SITE_SECRET_REFS:
        ref = site.data.get(section) or {}
        for env_name, file_path in ((ref.get(env_key), None), (None, ref.get(file_key))):
            try:
                secret = read_secret(env_name, file_path, what="segredo", env=env)
            except SecretError:
                continue
            if secret is not None and len(secret.reveal()) >= 4:
                values.add(secret.reveal())
    return values


def redact(text: str, values: set[str]) -> str:
    """Replace every occurrence of the given secret values in ``text``."""
    for value in sorted(values, key=len, reverse=True):
        text = text.replace(value, mask(value))
    return text
