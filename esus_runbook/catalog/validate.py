"""What the catalog accepts from a run folder, checked before anything is recorded.

A run folder (:mod:`esus_runbook.run_folder`) is a set of files anyone with access to the
share can edit: each run's json, site snapshot, stage result and roll-up json is read bounded
(size and nesting checked before parsing, UTF-8, no NaN, no 5000-digit integers), validated
against its published schema (``esus_runbook/schemas/``) and the site-id rule, and refused
with one pt-BR reason (:class:`Refused`) that the import shows beside the file's name.
Numbers are stored through :func:`real` and :func:`integer`, which keep SQLite's ranges. See
docs/catalogo.md.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import fastjsonschema

if TYPE_CHECKING:
    import jsonschema

from .. import schemas
from ..errors import InputError
from ..files.reading import MAX_SITE_ID_CHARS, MAX_TEXT_CHARS, read_json_bounded
from ..sites.fields import CONTROL, SLUG

# The date bounds live here, not in .history, so that importing the catalog's writer (every
# notebook does, for the dossier link) does not pull pandas.
EARLIEST = datetime(2000, 1, 1, tzinfo=timezone.utc)
"""No run of esus-runbook is older (the dashboard draws one bar per week from the first)."""
FUTURE = timedelta(days=366)
"""How far past today a date may be (clocks drift; a year more is an error)."""


def in_range(moment: datetime, now: datetime | None = None) -> bool:
    """``moment`` (aware) between :data:`EARLIEST` and a year from now."""
    return EARLIEST <= moment <= (now or datetime.now(timezone.utc)) + FUTURE


MAX_FILE_BYTES = 16 * 1024 * 1024
"""A run's json, site snapshot, roll-up json or stage result (the largest measured: 37 KB)."""
MAX_DEPTH = 64
"""Nesting of those files (a stage result measured 6 levels)."""
INT64_MIN, INT64_MAX = -(2 ** 63), 2 ** 63 - 1
SITE_KEYS = ("site_id", "nome", "municipio_ibge", "cnes")
RUN_REQUIRED = ("schema", "run_id", "status", "started_at")
"""The keys of ``run.json`` the catalog cannot do without; the schema's other keys are
checked when present (a run folder written before they existed is still imported)."""
_REMEDY = "refaça a execução ou restaure o arquivo original"


class Refused(Exception):
    """A file the catalog does not record; ``str()`` is the pt-BR reason."""


def site_id_problem(value: Any) -> str | None:
    """Why ``value`` is not a site id (lowercase letters, digits and single hyphens, at most
    63 characters: it names folders and files), or None."""
    if not isinstance(value, str):
        return "site_id deve ser um texto"
    if len(value) > MAX_SITE_ID_CHARS:
        return f"site_id longo demais (limite {MAX_SITE_ID_CHARS})"
    if not SLUG.fullmatch(value):
        return ("site_id inválido: use só letras minúsculas, números e hífens "
                "(ex.: ubs-centro)")
    return None


def read(path: Path, what: str) -> Any:
    """The parsed JSON of ``path`` (bounded), else :class:`Refused`."""
    try:
        return read_json_bounded(path, MAX_FILE_BYTES, what, _REMEDY, MAX_DEPTH)
    except InputError as exc:
        raise Refused(exc.problems[0].message) from None


def _where(error: jsonschema.ValidationError) -> str:
    return "/".join(map(str, error.absolute_path)) or "raiz"


def _pt(error: jsonschema.ValidationError) -> str:
    """A jsonschema violation in pt-BR (its own messages are English)."""
    where, kind = _where(error), error.validator
    if kind == "required":
        missing = next((k for k in error.validator_value
                        if isinstance(error.instance, dict) and k not in error.instance), "?")
        return f"falta a chave {missing}" + ("" if where == "raiz" else f" em {where}")
    if kind == "type":
        expected = error.validator_value
        names = {"string": "texto", "integer": "inteiro", "number": "número",
                 "object": "objeto", "array": "lista", "boolean": "booleano", "null": "nulo"}
        wanted = " ou ".join(names.get(t, t) for t in
                             (expected if isinstance(expected, list) else [expected]))
        return f"{where}: tipo errado (esperado {wanted})"
    if kind in ("enum", "const"):
        return f"{where}: valor fora dos permitidos"
    if kind in ("pattern", "minLength"):
        return f"{where}: formato inválido"
    if kind == "minimum":
        return f"{where}: abaixo do mínimo ({error.validator_value})"
    return f"{where}: valor inválido ({kind})"


def _view(name: str) -> dict[str, Any]:
    """The catalog's view of published schema ``name``: of ``run``, only the keys it needs
    are required; of ``site``, only the keys it records are checked."""
    schema = schemas.load(name)
    if name == "run":
        return {**schema, "required": list(RUN_REQUIRED)}
    if name == "site":
        return {"type": "object",
                "required": [k for k in schema["required"] if k in SITE_KEYS],
                "properties": {k: schema["properties"][k] for k in SITE_KEYS}}
    return schema


@cache
def _validator(name: str) -> jsonschema.Draft202012Validator:
    # lazy: importing jsonschema loads its format checkers (rfc3987_syntax builds a grammar:
    # 2.7 s measured on the shared machine); only a file that fails fastjsonschema needs it,
    # and every catalog command (painel, dossie) imports this module
    import jsonschema

    return jsonschema.Draft202012Validator(_view(name))


@cache
def _fast(name: str) -> Callable[[Any], Any]:
    """The same schema compiled to Python by fastjsonschema: 90 µs per stage result where
    jsonschema takes 3.7 ms (an import checks thousands). The keywords the schemas use mean
    the same in its draft 7; formats are off, as in jsonschema (dates: :func:`_date`)."""
    schema = {**_view(name), "$schema": "http://json-schema.org/draft-07/schema#"}
    return fastjsonschema.compile(schema, use_formats=False)


def _schema(name: str, data: Any) -> None:
    """Refused unless ``data`` follows the catalog's view of schema ``name``; the reason is
    jsonschema's first violation (by path), in pt-BR."""
    try:
        _fast(name)(data)
        return
    except fastjsonschema.JsonSchemaValueException:
        pass
    error = min(_validator(name).iter_errors(data),
                key=lambda e: list(map(str, e.absolute_path)), default=None)
    raise Refused(f"não segue o esquema {name}" + (f": {_pt(error)}" if error else ""))


def _date(value: Any, key: str, optional: bool = False) -> None:
    if value is None and optional:
        return
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise Refused(f"{key}: data inválida (esperado AAAA-MM-DDTHH:MM:SS±HH:MM)") from None
    if not in_range(moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)):
        raise Refused(f"{key}: data fora do intervalo (de {EARLIEST.year} até um ano a "
                      "partir de hoje)")


def _text_value(value: Any, key: str) -> None:
    """A text the site file would accept: short, without control characters."""
    if isinstance(value, str):
        if len(value) > MAX_TEXT_CHARS:
            raise Refused(f"{key}: texto longo demais (limite {MAX_TEXT_CHARS})")
        if CONTROL.search(value):
            raise Refused(f"{key}: caractere de controle não permitido")


def check_run(meta: Any) -> None:
    """``run.json`` as the run schema says (its types and values; of its required keys,
    :data:`RUN_REQUIRED`), with dates that parse."""
    _schema("run", meta)
    _date(meta["started_at"], "started_at")
    _date(meta.get("finished_at"), "finished_at", optional=True)


def check_site(site: Any) -> None:
    """The keys of a site snapshot the catalog records (a snapshot holds more: other
    versions may add sections), by the site schema and the site-id rule."""
    if isinstance(site, dict):  # the specific reasons first; the schema words them vaguely
        if isinstance(site.get("site_id"), str):
            problem = site_id_problem(site["site_id"])
            if problem:
                raise Refused(problem)
        for key in SITE_KEYS:
            value = site.get(key)
            if value is not None and (isinstance(value, bool)
                                      or not isinstance(value, (str, int))):
                raise Refused(f"{key}: tipo errado (esperado texto)")
            _text_value(value, key)
    _schema("site", site)


def check_result(data: Any, site_id: str, stage: str) -> None:
    """A stage result: its schema, the site and stage of the folder it is in, dates."""
    if not isinstance(data, dict):
        raise Refused("não é um resultado de etapa (esperado um objeto JSON)")
    _schema("stage-result", data)
    if data["site_id"] != site_id:
        raise Refused(f"é do site {data['site_id']}, não de {site_id}")
    if data["stage"] != stage:
        raise Refused(f"é da etapa {data['stage']}, não de {stage}")
    _date(data["started_at"], "started_at")
    _date(data["finished_at"], "finished_at", optional=True)


def real(value: Any) -> float | None:
    """A number SQLite stores as REAL (finite), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        out = float(value)
    except OverflowError:  # an integer beyond a double
        return None
    return out if math.isfinite(out) else None


def integer(value: Any) -> int | None:
    """An integer within SQLite's 64-bit INTEGER, else None."""
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if INT64_MIN <= value <= INT64_MAX else None


def text(value: Any) -> str | None:
    """A string (TEXT column), else None."""
    return value if isinstance(value, str) else None
