"""JSON Schemas of every file esus-runbook reads or writes, shipped with the package.

``site.schema.json`` is generated from the site file's field table (:data:`sites.fields.FIELDS`) by
:func:`site_schema` and kept in sync by a test; the others are written by hand next to the
code that produces the file. Editors use them for completion and validation of site files
(``# yaml-language-server: $schema=...``); the tests validate the demo's outputs with them.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..files.reading import MAX_PATH_CHARS, MAX_SITE_ID_CHARS, MAX_TEXT_CHARS
from ..sites.fields import (
    BOOL_WORDS,
    CONTROL,
    ENV_NAME,
    FIELDS,
    NUMERIC_TEXT_KEYS,
    Field,
    words_pattern,
)

NAMES = ("site", "inventario", "probe", "stage-result", "run", "xml-audit", "xml-diff",
         "xml-reconcile", "operacao")
_NO_CONTROL = "^[^" + CONTROL.pattern[1:-1] + "]*$"  # no line break, tab or ESC


def path(name: str) -> Path:
    """The shipped file of schema ``name`` (one of :data:`NAMES`)."""
    if name not in NAMES:
        raise KeyError(name)
    return Path(str(resources.files(__package__) / f"{name}.schema.json"))


@cache
def load(name: str) -> dict[str, Any]:
    return json.loads(path(name).read_text(encoding="utf-8"))


def errors(name: str, data: Any) -> list[str]:
    """Every violation of schema ``name`` in ``data``, as ``caminho: mensagem`` lines."""
    # lazy: jsonschema loads its format checkers at import (rfc3987_syntax builds a grammar:
    # 2.7 s measured); the catalog's commands import this package and never call this
    import jsonschema

    validator = jsonschema.Draft202012Validator(load(name))
    found = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    return [f"{'/'.join(map(str, e.absolute_path)) or '(raiz)'}: {e.message}" for e in found]


def validate(name: str, data: Any, *, file: str) -> None:
    """Raise InputError (exit 2) naming ``file`` when ``data`` does not follow schema ``name``."""
    problems = errors(name, data)
    if problems:
        raise InputError(f"não segue o esquema {name}: {problems[0]}", file=file,
                         remedy=f"confira o arquivo com o esquema {path(name).name}")


def _field_schema(f: Field) -> dict[str, Any]:
    """One field as JSON Schema: the same forms the loader accepts (``sites.loading._coerce`` after
    ``sites.fields.normalize``); what only code can check (check digits, a URL's parts, an
    impossible date) stays with ``check``, which is therefore never looser than this."""
    out: dict[str, Any] = {"description": f"{f.label}. {f.help}"}
    limit = MAX_SITE_ID_CHARS if f.key == "site_id" else \
        MAX_PATH_CHARS if f.kind == "path" else MAX_TEXT_CHARS
    text: dict[str, Any] = {"type": "string", "maxLength": limit}
    if f.kind == "enum":
        forms: list[dict[str, Any]] = [{"enum": list(f.choices)},
                                       {"type": "string", "pattern": words_pattern(
                                           f.choices, enum=True)}]
    elif f.kind == "bool":
        forms = [{"type": "boolean"},
                 {"type": "string", "pattern": words_pattern(tuple(BOOL_WORDS))}]
    elif f.kind in ("int", "float"):
        number: dict[str, Any] = {"type": "integer" if f.kind == "int" else "number"}
        if f.minimum is not None:
            number["minimum"] = f.minimum
        if f.maximum is not None:
            number["maximum"] = f.maximum
        forms = [number]
        if f.kind == "int":  # "12" is read as 12 (its range then checked by check only)
            forms.append({"type": "string", "pattern": r"^\s*[0-9]{1,18}\s*$"})
    elif f.kind == "date":
        forms = [{**text, "pattern": r"^\s*[0-9]{4}-[0-9]{2}-[0-9]{2}"}]
    else:
        if f.kind == "env":
            text["pattern"] = ENV_NAME.pattern
        elif f.pattern:
            text["pattern"] = f.pattern
        else:
            text["pattern"] = _NO_CONTROL
        forms = [text]
        if f.key in NUMERIC_TEXT_KEYS:  # municipio_ibge: 2927409 without quotes
            forms.append({"type": "integer", "minimum": 1_000_000 if f.key == "municipio_ibge"
                          else 0, "maximum": 9_999_999})
        elif f.kind == "str" and f.check is None:  # nome: 2024 is the text "2024"
            forms.append({"type": "number"})
    if not f.required:
        forms.append({"type": "null"})
    if len(forms) == 1:
        out.update(forms[0])
    else:
        out["anyOf"] = forms
    if f.default is not None:
        out["default"] = f.default
    return out


def site_schema() -> dict[str, Any]:
    """The JSON Schema of a site file, derived from the validator's own field table."""
    props: dict[str, Any] = {}
    required: list[str] = []
    for section, fields in FIELDS.items():
        if section is None:
            for f in fields:
                props[f.key] = _field_schema(f)
                if f.required:
                    required.append(f.key)
        else:
            props[section] = {"type": ["object", "null"], "additionalProperties": False,
                              "properties": {f.key: _field_schema(f) for f in fields}}
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": "urn:esus-runbook:schema:site",
            "title": "Arquivo de site do esus-runbook",
            "description": "Um site (instalação do PEC) a implantar; veja o README.",
            "type": "object", "required": required, "additionalProperties": False,
            "properties": props}


def render_site_schema() -> str:
    return json.dumps(site_schema(), ensure_ascii=False, indent=2) + "\n"
