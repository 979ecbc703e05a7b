"""``esus-runbook novo`` and ``esus-runbook esquema``: start a real site from the field table.

``novo SITE_ID`` writes ``<pasta>/<site_id>.yaml``: every section and key of
:data:`sites.fields.FIELDS` with its pt-BR label and help as comments; the required keys the
analyst must fill are left empty (``validar`` then names each one: "campo obrigatório
ausente — preencha ..."), the optional ones are commented out with their default. Its first
line points the editor to the JSON Schema written next to it (``site.schema.json``, a stable
relative path, never a site-packages one). With ``--inventario`` the file is added to that
inventory's ``sites:`` list by a ruamel round trip (its comments stay). Everything is checked
before anything is written, and an existing site file is never overwritten.
"""

from __future__ import annotations

import io
import os
import textwrap
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from .errors import InputError
from .files.atomic import write_text_atomic
from .schemas import render_site_schema
from .sites.fields import FIELDS, SLUG, Field
from .sites.loading import read_mapping_file

SCHEMA_FILE = "site.schema.json"
WIDTH = 92


def _comment(text: str, indent: str) -> list[str]:
    return [f"{indent}# {line}" for line in textwrap.wrap(text, WIDTH - len(indent) - 2,
                                                               break_on_hyphens=False)]


def _scalar(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"' if any(c in value for c in ":#*") else value
    return str(value)


def _field_lines(f: Field, indent: str, site_id: str) -> list[str]:
    lines = _comment(f"{f.label}: {f.help}", indent)
    if f.kind == "enum":
        lines += _comment("valores: " + ", ".join(f.choices), indent)
    if f.key == "site_id" and indent == "":
        return lines + [f"site_id: {site_id}"]
    if f.required:
        return lines + [f"{indent}{f.key}:   # PREENCHA (obrigatório)"]
    example = _scalar(f.default) if f.default is not None else ""
    return lines + [f"{indent}# {f.key}: {example}".rstrip()]


def site_text(site_id: str, schema_ref: str = SCHEMA_FILE) -> str:
    """The commented site file of a new site (valid YAML; ``validar`` flags the empty
    required keys)."""
    out = [f"# yaml-language-server: $schema={schema_ref}",
           f"# Site {site_id}: preencha os campos marcados PREENCHA e descomente (tire o '#')",
           "# os opcionais que souber. Confira com: esus-runbook validar ESTE_ARQUIVO", ""]
    for section, fields in FIELDS.items():
        indent = "" if section is None else "  "
        if section is not None:
            out += ["", f"{section}:"]
        for f in fields:
            out += _field_lines(f, indent, site_id)
    return "\n".join(out) + "\n"


def _inventory_text(inventory: Path, entry: str) -> str | None:
    """The inventory with ``entry`` appended to ``sites:`` (None: already listed)."""
    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.indent(mapping=2, sequence=4, offset=2)
    if not inventory.exists():
        return f"# Inventário: um caminho de arquivo de site por linha.\nsites:\n  - {entry}\n"
    read_mapping_file(inventory)  # size, encoding and syntax checks with pt-BR messages
    try:
        doc = y.load(inventory.read_text(encoding="utf-8"))
    except YAMLError:
        raise InputError("YAML inválido", file=str(inventory),
                         remedy="corrija o inventário e repita") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("sites"), list):
        raise InputError("não é um inventário (falta a lista 'sites:')", file=str(inventory),
                         key="sites", remedy="informe um inventário com 'sites:'")
    if entry in [str(s) for s in doc["sites"]]:
        return None
    doc["sites"].append(entry)
    buf = io.StringIO()
    y.dump(doc, buf)
    return buf.getvalue()


def new_site(site_id: str, folder: str | Path = "sites", inventory: str | Path | None = None
             ) -> list[str]:
    """Write the new site file (and the schema next to it, and the inventory entry); the
    lines to print."""
    if not SLUG.match(site_id) or len(site_id) > 63:
        raise InputError(f"identificador inválido: {site_id[:40]!r}", key="SITE_ID",
                         remedy="use só letras minúsculas, números e hífens, ex.: ubs-centro")
    folder = Path(folder).expanduser()
    path = folder / f"{site_id}.yaml"
    if path.exists() or path.is_symlink():
        raise InputError("o arquivo do site já existe (nada foi alterado)", file=str(path),
                         remedy="edite o arquivo existente ou escolha outro SITE_ID")
    if folder.exists() and not folder.is_dir():
        raise InputError("não é uma pasta", file=str(folder), key="--pasta",
                         remedy="informe a pasta dos arquivos de site, ex.: sites")
    inv_text = None
    entry = None
    if inventory is not None:
        inventory = Path(inventory).expanduser()
        entry = os.path.relpath(path.resolve(), inventory.resolve().parent)
        inv_text = _inventory_text(inventory, entry)
    schema = folder / SCHEMA_FILE
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    if not schema.exists():
        write_text_atomic(schema, render_site_schema())
        lines.append(f"Esquema para o editor: {schema}")
    write_text_atomic(path, site_text(site_id))
    lines.insert(0, f"Arquivo do site criado: {path}")
    if inv_text is not None:
        write_text_atomic(inventory, inv_text)
        lines.append(f"Incluído no inventário {inventory}: {entry}")
    elif inventory is not None:
        lines.append(f"O inventário {inventory} já lista {entry}")
    lines.append(f"Próximo passo: preencha os campos PREENCHA e confira com "
                 f"esus-runbook validar {path}")
    return lines


def write_schema(out: str | Path) -> str:
    """``esus-runbook esquema``: the site file's JSON Schema at ``out`` (for editors)."""
    out = Path(out).expanduser()
    write_text_atomic(out, render_site_schema())
    return (f"Esquema gravado em {out}. No início de cada arquivo de site: "
            f"# yaml-language-server: $schema={out.name} (caminho relativo ao arquivo)")
