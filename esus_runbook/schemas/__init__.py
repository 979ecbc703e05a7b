"""JSON Schemas of every file esus-runbook reads or writes, shipped with the package.

``site.schema.json`` is generated from the site file's field table (:data:`site_fields.SCHEMA`) by
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

import jsonschema

from ..errors import InputError
from ..site_fields import ENV_NAME, SCHEMA, Field

NAMES = ("site", "inventario", "probe", "stage-result", "run", "xml-audit", "xml-diff",
         "xml-reconcile", "operacao")
_KINDS = {"str": "string", "path": "string", "date": "string", "env": "string",
          "enum": "string", "int": "integer", "float": "number", "bool": "boolean"}


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
    out: dict[str, Any] = {"description": f"{f.label}. {f.help}"}
    kind = _KINDS[f.kind]
    if f.kind == "enum":
        out["enum"] = [*f.choices, None] if not f.required else list(f.choices)
    else:
        out["type"] = kind if f.required else [kind, "null"]
    if f.kind == "env":
        out["pattern"] = ENV_NAME.pattern
    if f.minimum is not None:
        out["minimum"] = f.minimum
    if f.default is not None:
        out["default"] = f.default
    return out


def site_schema() -> dict[str, Any]:
    """The JSON Schema of a site file, derived from the validator's own field table."""
    props: dict[str, Any] = {}
    required: list[str] = []
    for section, fields in SCHEMA.items():
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
