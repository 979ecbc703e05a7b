"""The site form's document model: where a site lives and its YAML, edited without widgets.

:class:`SiteDocument` finds where the site lives (a site file, an item of an inventory, a file
in a folder of sites, or a new file; folders and inventory items by the one rule of
:mod:`esus_runbook.sites.folders`), reads the YAML in ruamel's round-trip mode, applies new
values and saves. Saving validates with :func:`esus_runbook.sites.loading.validate_site` — the
validation the CLI runs — on the exact text that will be written, then writes it atomically.
Comments, key order, quoting and keys the form does not show survive, because only the keys
whose value changed are touched and new keys are inserted at their schema position.

The form never reads or writes secrets: the site file only holds references (``*_env`` names,
``*_file`` paths). On top of the CLI's validation the form refuses an ``*_env`` value that is
not an UPPER_SNAKE name, because a password typed in that field would otherwise be a valid
lower-case variable name.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import YAMLError
from ruamel.yaml.tokens import CommentToken

from ..errors import InputError, Problem
from ..files.atomic import write_text_atomic
from ..run_folder import SITE_FILE
from ..sites import loading as sites
from ..sites.fields import FIELDS, SECTIONS, Field
from ..sites.folders import inventory_item

ENV_NAME_STRICT = re.compile(r"^[A-Z_][A-Z0-9_]*$")
HEADER = "Arquivo do site criado pelo formulário do esus-runbook (notebook 01_cenario)."


def dotted(section: str | None, key: str) -> str:
    return key if section is None else f"{section}.{key}"


def fields() -> list[tuple[str | None, Field]]:
    """Every field of the site file, in schema order, with its section (None = top level)."""
    return [(section, f) for section, group in FIELDS.items() for f in group]


# --------------------------------------------------------------------------- YAML
def _rt_yaml():
    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.indent(mapping=2, sequence=4, offset=2)
    y.width = 4096  # never fold a long value
    y.allow_duplicate_keys = False
    y.representer.add_representer(
        type(None), lambda r, _: r.represent_scalar("tag:yaml.org,2002:null", "null"))
    return y


def _load_rt(text: str, path: Path) -> Any:
    try:
        return _rt_yaml().load(text)
    except YAMLError:
        # the CLI's reader builds the one-line message (line number, what is wrong)
        sites.read_mapping_file(path)
        raise
    except (ValueError, TypeError):
        # an impossible date (2026-02-30): the CLI's validation names the key
        sites.load_sites(path)
        raise InputError("data ou valor inválido no arquivo", file=str(path),
                         remedy="confira as datas (AAAA-MM-DD)") from None


def _dump(doc: Any) -> str:
    buf = io.StringIO()
    _rt_yaml().dump(doc, buf)
    return buf.getvalue()


def _last_leaf(cm: Any) -> tuple[Any, Any] | None:
    """The mapping and key that hold the comment lines written after ``cm``'s last value."""
    if not isinstance(cm, CommentedMap) or not cm:
        return None
    key = list(cm.keys())[-1]
    inner = _last_leaf(cm[key])
    return inner or (cm, key)


def _move_trailing_comment(holder: tuple[Any, Any] | None, new_map: Any, new_key: Any) -> None:
    """ruamel attaches the comment lines that follow a value (e.g. the heading of the next
    section) to that value. When a key is inserted right after it, move those lines after
    the new key so they stay above what they describe."""
    if holder is None:
        return
    cm, key = holder
    tok = cm.ca.items.get(key)
    if not tok or len(tok) < 3 or tok[2] is None:
        return
    ct = tok[2]
    first, _, rest = ct.value.partition("\n")
    if not rest:
        return
    if first.strip():
        ct.value = first + "\n"
    else:
        tok[2] = None
    target = _last_leaf(new_map[new_key]) or (new_map, new_key)
    target[0].ca.items[target[1]] = [None, None,
                                     CommentToken("\n" + rest, ct.start_mark, None), None]


def _insert(cm: Any, order: list[str], key: str, value: Any) -> None:
    """Insert ``key`` into ``cm`` after the closest preceding key in ``order``."""
    pos, holder = 0, None
    keys = list(cm.keys())
    for earlier in order[:order.index(key)]:
        if earlier in cm:
            pos = keys.index(earlier) + 1
    if pos:
        prev = keys[pos - 1]
        holder = _last_leaf(cm[prev]) or (cm, prev)
    cm.insert(pos, key, value)
    _move_trailing_comment(holder, cm, key)


# --------------------------------------------------------------------------- values
def to_text(value: Any) -> str:
    """A raw YAML value as the text a field shows."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def from_text(f: Field, text: str | None) -> Any:
    """What a field's text means in YAML. Unparseable numbers and dates stay text so that
    the CLI's validation reports them with its own message."""
    if text is None:
        return None
    text = str(text).strip()
    if text == "":
        return None
    if f.kind == "int" and re.fullmatch(r"[+-]?\d+", text):
        return int(text)
    if f.kind == "float":
        t = text.replace(",", ".")  # pt-BR decimal comma
        if re.fullmatch(r"[+-]?\d+", t):
            return int(t)
        if re.fullmatch(r"[+-]?\d*\.\d+", t):
            return float(t)
    if f.kind == "date":
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            return text
    return text


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return float(a) == float(b)
    if isinstance(a, dt.date) or isinstance(b, dt.date):
        return to_text(a) == to_text(b)
    return a == b


# --------------------------------------------------------------------------- location
@dataclass
class Target:
    """Where a site lives.

    ``path`` is the file written on save (None for a new site in a folder until its
    ``site_id`` is known); ``item`` the index of the site in the inventory's ``sites:`` list
    when it is written inline there; ``defaults`` the inventory's ``padroes`` merged under it.
    """

    path: Path | None
    folder: Path | None = None
    item: int | None = None
    defaults: dict | None = None
    inventory: Path | None = None
    other_ids: tuple[str, ...] = ()
    text: str | None = field(default=None, repr=False)
    doc: Any = field(default=None, repr=False)

    @property
    def exists(self) -> bool:
        return self.path is not None and self.path.is_file()


def _read(path: Path) -> tuple[str, Any]:
    """The text of a YAML file and its round-trip parse; problems as the CLI words them."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        sites.read_mapping_file(path)  # raises the CLI's one-line message
        raise
    return text, _load_rt(text, path)


def _raw_site_id(path: Path) -> str | None:
    try:
        return sites.raw_site_id(path)
    except InputError:
        return None


def folder_sites(folder: Path) -> dict[str, Path]:
    """site_id → file for the site files of a folder (the rule of ``load_sites``; the
    chooser leaves unreadable files out: the CLI and ``lab`` name their problems)."""
    return sites.folder_site_ids(folder)[0]


def locate(site_file: str | Path, site_id: str | None = None) -> Target:
    """Find the file (and inventory item) holding ``site_id``; raise InputError (pt-BR) when
    the site cannot be edited there."""
    path = Path(site_file).expanduser()
    text = str(site_file)
    if path.suffix.lower() == ".json":
        raise InputError(f"é um retrato ({SITE_FILE}) de uma execução, não o arquivo do site",
                         file=str(path), remedy="abra o formulário com o arquivo .yaml do site")
    if path.is_dir() or (not path.exists() and (text.endswith(("/", "\\")) or not path.suffix)):
        known = folder_sites(path)
        others = tuple(k for k in known if k != site_id)
        if site_id is None:
            return Target(None, folder=path, other_ids=others)
        return Target(known.get(site_id, path / f"{site_id}.yaml"), folder=path,
                      other_ids=others)
    if not path.exists():
        return Target(path)
    if path.suffix.lower() not in (".yaml", ".yml"):
        raise InputError("o arquivo do site deve ser .yaml", file=str(path),
                         remedy="informe um arquivo .yaml, um inventário ou uma pasta de sites")
    text, raw = _read(path)
    if not (isinstance(raw, dict) and "sites" in raw):
        found = raw.get("site_id") if isinstance(raw, dict) else None
        if site_id is not None and found is not None and found != site_id:
            raise InputError(f"o arquivo é do site '{found}', não de '{site_id}'",
                             file=str(path), key="site_id",
                             remedy="confira os parâmetros site_file e site_id")
        return Target(path, text=text, doc=raw)
    items = raw.get("sites") if isinstance(raw.get("sites"), list) else []
    defaults = raw.get("padroes") if isinstance(raw.get("padroes"), dict) else {}
    ids: list[str | None] = []
    for item in items:
        if isinstance(item, str):
            ids.append(_raw_site_id(inventory_item(path, item)))
        else:
            ids.append(item.get("site_id") if isinstance(item, dict) else None)
    if site_id is None:
        if len(items) != 1:
            raise InputError(f"o inventário tem {len(items)} sites", file=str(path),
                             key="site_id", remedy="informe site_id para escolher qual editar")
        index = 0
    elif site_id in ids:
        index = ids.index(site_id)
    else:
        raise InputError(f"site '{site_id}' não está no inventário", file=str(path),
                         key="site_id", remedy="crie o arquivo do site numa pasta de sites e "
                         "acrescente o caminho à lista sites: do inventário")
    others = tuple(i for n, i in enumerate(ids) if n != index and i)
    item = items[index]
    if isinstance(item, str):
        return Target(inventory_item(path, item), defaults=defaults, inventory=path,
                      other_ids=others)
    return Target(path, item=index, defaults=defaults, inventory=path, other_ids=others,
                  text=text, doc=raw)


# --------------------------------------------------------------------------- document
@dataclass
class SaveOutcome:
    ok: bool
    path: Path | None
    site_id: str | None
    problems: list[Problem]
    changed: bool = False


class SiteDocument:
    """A site's YAML, edited in round-trip mode. Values are keyed by dotted names
    (``site_id``, ``cenario.usuarios_simultaneos``)."""

    def __init__(self, site_file: str | Path, site_id: str | None = None):
        self.site_file = Path(site_file).expanduser()
        self.target = locate(site_file, site_id)
        self.reload()

    # -- reading ------------------------------------------------------------------------
    def reload(self) -> None:
        """Read the file again (the first time, reuse what :func:`locate` parsed)."""
        t = self.target
        if t.text is not None:
            self.text, self.doc = t.text, t.doc
            t.text = t.doc = None
        elif t.exists:
            self.text, self.doc = _read(t.path)
        else:
            self.text, self.doc = "", None
        if self.doc is not None and not isinstance(self.doc, dict):
            raise InputError("o site deve ser um mapeamento 'chave: valor'",
                             file=str(t.path), remedy="veja o exemplo em examples/sites/")
        self.is_new = not t.exists

    def _site_map(self, doc: Any) -> Any:
        if doc is None:
            return None
        return doc["sites"][self.target.item] if self.target.item is not None else doc

    def raw_values(self) -> dict[str, Any]:
        """The values written in the file (None where a key is absent)."""
        cm = self._site_map(self.doc) or {}
        out: dict[str, Any] = {}
        for section, f in fields():
            node = cm if section is None else cm.get(section)
            out[dotted(section, f.key)] = node.get(f.key) if isinstance(node, dict) else None
        return out

    def inherited(self, section: str | None, f: Field) -> Any:
        """The value a key takes when the file does not set it: the inventory's ``padroes``,
        else the schema default."""
        d = self.target.defaults or {}
        node = d if section is None else d.get(section)
        if isinstance(node, dict) and node.get(f.key) is not None:
            return node[f.key]
        return f.default

    @property
    def path(self) -> Path | None:
        return self.target.path

    @property
    def base(self) -> Path:
        """Folder relative paths of the site resolve against."""
        t = self.target
        if t.path is not None:
            return t.path.parent
        return t.folder or self.site_file

    # -- writing ------------------------------------------------------------------------
    def render(self, values: dict[str, Any]) -> tuple[str, bool]:
        """The file text with ``values`` applied, and whether anything changed."""
        doc = _load_rt(self.text, self.target.path) if self.text else None
        if doc is None:
            doc = CommentedMap()
            doc.yaml_set_start_comment(HEADER)
        cm = self._site_map(doc)
        changed = False
        top_order = [f.key for f in FIELDS[None]] + list(SECTIONS)
        for section, group in FIELDS.items():
            node = cm
            if section is not None:
                node = cm.get(section)
            for f in group:
                name = dotted(section, f.key)
                if name not in values:
                    continue
                new = values[name]
                present = isinstance(node, dict) and f.key in node
                if present:
                    if not _same(node[f.key], new):
                        node[f.key] = new
                        changed = True
                    continue
                if new is None or _same(new, self.inherited(section, f)):
                    continue  # absent and nothing new: keep the file as it is
                if section is not None and not isinstance(node, dict):
                    if section in cm:  # a broken section (e.g. a list): let validation say so
                        continue
                    node = CommentedMap()
                    _insert(cm, top_order, section, node)
                _insert(node, [g.key for g in group], f.key, new)
                changed = True
        text = _dump(doc)
        self._rendered = (text, doc)
        return text, changed

    def check(self, text: str) -> list[Problem]:
        """Problems of the text about to be written: the CLI's validation (YAML read the way
        the CLI reads it, ``padroes`` merged, ``site_id`` unique) plus the form's secret
        guard."""
        t = self.target
        display = str(t.path or self.base)
        try:
            raw = sites.safe_yaml().load(text)
        except YAMLError as exc:  # the form wrote something the CLI cannot read: a bug
            return [Problem(display, None, f"YAML inválido: {sites.yaml_problem(exc)}",
                            "recarregue o arquivo")]
        raw = self._site_map(raw)
        if t.defaults and isinstance(raw, dict):
            raw = sites.deep_merge(t.defaults, raw)
        problems: list[Problem] = []
        if t.item is not None:
            display = f"{display}:sites[{t.item}]"
        sites.validate_site(raw, source=t.path or (self.base / "novo.yaml"), display=display,
                            problems=problems)
        sid = raw.get("site_id") if isinstance(raw, dict) else None
        if isinstance(sid, str) and sid in t.other_ids:
            where = f"a pasta {t.folder}" if t.folder else f"o inventário {t.inventory}"
            problems.append(Problem(display, "site_id", f"site_id '{sid}' já existe em {where}",
                                    "escolha outro site_id ou edite aquele site"))
        for section, f in fields():
            if f.kind != "env":
                continue
            node = raw if section is None else (raw or {}).get(section)
            value = node.get(f.key) if isinstance(node, dict) else None
            if isinstance(value, str) and value.strip() and \
                    not ENV_NAME_STRICT.match(value.strip()):
                problems.append(Problem(display, dotted(section, f.key),
                                        "use o NOME da variável de ambiente em maiúsculas",
                                        "ex.: PEC_DB_SENHA; nunca digite a senha ou a "
                                        "contra-chave no formulário"))
        return problems

    def save(self, values: dict[str, Any]) -> SaveOutcome:
        """Validate and write. Nothing is written when there is any problem."""
        text, changed = self.render(values)
        problems = self.check(text)
        sid = values.get("site_id")
        if problems:
            return SaveOutcome(False, self.target.path, sid, problems)
        t = self.target
        if t.path is None:  # a new site in a folder: named after its site_id
            path = t.folder / f"{sid}.yaml"
            if path.exists():
                return SaveOutcome(False, path, sid, [Problem(
                    str(path), "site_id", "já existe um arquivo com este nome",
                    "escolha outro site_id ou edite aquele site")])
            t.path = path
        if changed or not t.path.exists():
            write_text_atomic(t.path, text)
        # what was written is the new state (the rendered document dumps to this text)
        self.text, self.doc = self._rendered
        self.is_new = False
        return SaveOutcome(True, t.path, sid, [], changed)
