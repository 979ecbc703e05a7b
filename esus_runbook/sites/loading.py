"""Site files and inventories: load, validate strictly, resolve paths.

A *site file* is a YAML mapping describing one site (keys in pt-BR, see ``FIELDS`` and the
README). An *inventory* is either a YAML with a ``sites:`` list (items are mappings or paths
to site files, with optional ``padroes:`` merged under every site) or a folder of site files.
JSON site snapshots (the copy in each site folder of a run) load through the same validation.

Validation collects every problem before failing, each as ``arquivo:chave: problema — como
corrigir``; unknown keys get the closest known key as a suggestion.
"""

from __future__ import annotations

import copy
import datetime as dt
import difflib
import functools
import hashlib
import json
import math
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import HostileFileError, InputError, Problem
from ..files.reading import (
    MAX_NESTING,
    MAX_PATH_CHARS,
    MAX_SITE_FILE_BYTES,
    MAX_SITE_ID_CHARS,
    MAX_TEXT_CHARS,
    read_bounded,
    resolved,
)
from .fields import (
    CONTROL,
    ENV_NAME,
    FIELDS,
    NUMERIC_TEXT_KEYS,
    SECTIONS,
    Field,
    check_cnes,
    check_ibge,
    normalize,
)
from .folders import folder_site_files, inventory_item

# Lazy imports: ids (numpy 0.2 s) and ruamel's constructor and errors only when a YAML site file
# is read or validated; a kernel reading the site snapshot (JSON) never needs them.

SECRET_LIKE_KEYS = ("senha", "password", "contra_chave_valor", "token")
MAX_UNKNOWN_KEYS = 20  # unknown keys reported one by one per mapping
MAX_PROBLEMS = 100  # problems reported for one inventory
MAX_SITES = 5000  # sites in one inventory (docs/limites-de-entrada.md)
NOT_A_SITE = "não é um arquivo de site do esus-runbook (esperado 'site_id: ...', 'nome: ...')"
NOT_A_SITE_REMEDY = "confira o caminho; veja o exemplo em examples/sites/"


@dataclass
class Site:
    """A validated site. ``data`` holds every key of ``FIELDS`` (defaults filled, paths
    absolute); sections are reachable as attributes: ``site.cenario["usuarios_simultaneos"]``.
    """

    data: dict[str, Any]
    source: str
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def site_id(self) -> str:
        return self.data["site_id"]

    @property
    def nome(self) -> str:
        return self.data["nome"]

    def __getattr__(self, name: str) -> Any:
        if name in SECTIONS:
            return self.data[name]
        raise AttributeError(name)

    def to_json(self) -> dict[str, Any]:
        """A JSON-safe snapshot (dates as ISO strings) that :func:`load_site` reads back.

        It carries ``_validated``, a digest of its own content: a snapshot read back unchanged
        skips the per-value checks it already passed (check digits need numpy, a cost every
        batch notebook would pay); any edit voids the digest and brings the checks back."""
        snap = json.loads(json.dumps({**self.data, "_source": self.source, "_extra": self.extra},
                                     default=str, allow_nan=False))  # NaN is not JSON
        snap["_validated"] = _snapshot_digest(snap)
        return snap


def _snapshot_digest(raw: dict[str, Any]) -> str:
    body = {k: v for k, v in raw.items() if k != "_validated"}
    blob = json.dumps(body, sort_keys=True, ensure_ascii=False, default=str).encode()
    return "sha256:" + hashlib.sha256(blob).hexdigest()


# --------------------------------------------------------------------------- parsing
def safe_yaml():
    """The YAML reader of site files (ruamel, safe, no duplicate keys, dates kept as text);
    the form reads what it is about to save with it too."""
    from ruamel.yaml import YAML  # imported here: a kernel reading a run snapshot never needs it

    y = YAML(typ="safe", pure=True)
    y.allow_duplicate_keys = False
    y.Constructor = _text_dates_constructor()
    return y


@functools.lru_cache(maxsize=1)
def _text_dates_constructor():
    """ruamel's safe constructor with timestamps left as text: an impossible date
    (2026-02-30) becomes a validation problem of its key, not a ValueError in the parser."""
    from ruamel.yaml.constructor import SafeConstructor

    class TextDates(SafeConstructor):
        pass

    TextDates.add_constructor("tag:yaml.org,2002:timestamp", SafeConstructor.construct_yaml_str)
    return TextDates


# ruamel's English problem texts → pt-BR (the first fragment found in the message wins)
_YAML_PROBLEMS = (
    ("duplicate", "chave repetida"),
    ("another document", "mais de um documento YAML no arquivo (---)"),
    ("special characters are not allowed", "caractere de controle não permitido"),
    ("unacceptable character", "caractere de controle não permitido"),
    ("cannot start any token", "caractere que não pode começar um valor (tabulação?)"),
    ("mapping values are not allowed", "':' em lugar inesperado (valor com ':' sem aspas?)"),
    ("could not find expected ':'", "falta ':' depois de uma chave"),
    ("found unexpected end of stream", "aspas ou colchetes não fechados"),
    ("found undefined alias", "alias (*nome) sem âncora (&nome)"),
    ("could not determine a constructor", "tag YAML (!) não suportada"),
    ("expected <block end>", "indentação inconsistente"),
    ("expected a single document", "mais de um documento YAML no arquivo (---)"),
    ("exceeds the limit", "número grande demais"),
)


def yaml_problem(exc: BaseException) -> str:
    """ruamel's English problem as a short pt-BR phrase."""
    text = str(exc).lower()
    for fragment, pt in _YAML_PROBLEMS:
        if fragment in text:
            return pt
    return "sintaxe inválida"


def read_mapping_file(path: Path) -> Any:
    """Parse a YAML or JSON file; a syntax problem is an InputError naming the line.

    The file must be a regular file of at most ``MAX_SITE_FILE_BYTES`` (checked before
    parsing) nested at most ``MAX_NESTING`` levels; dates stay text (see ``_coerce``)."""
    path = Path(path)
    data = read_bounded(path, MAX_SITE_FILE_BYTES, "arquivo de site",
                        "um arquivo de site tem poucos KB; num inventário grande use um "
                        "arquivo por site")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("o arquivo não está em UTF-8", file=str(path),
                         remedy="salve o arquivo com codificação UTF-8") from None
    if path.suffix.lower() == ".json":
        try:
            raw = json.loads(text, parse_constant=_no_constant)
        except json.JSONDecodeError as exc:
            raise InputError(f"JSON inválido na linha {exc.lineno}", file=str(path),
                             remedy="corrija a sintaxe") from None
        except ValueError:
            raise InputError("JSON com NaN ou Infinity", file=str(path),
                             remedy="use números finitos") from None
        except RecursionError:
            raise _too_deep(path) from None
    else:
        raw = _load_yaml(text, path)
    if _depth(raw) > MAX_NESTING:
        raise _too_deep(path)
    return raw


def _no_constant(name: str) -> Any:
    raise ValueError(name)


def _too_deep(path: Path) -> InputError:
    return HostileFileError(f"aninhamento demais (mais de {MAX_NESTING} níveis)",
                            file=str(path), remedy="um arquivo de site tem no máximo 4 níveis")


def _load_yaml(text: str, path: Path) -> Any:
    from ruamel.yaml.error import YAMLError

    try:
        return safe_yaml().load(text)
    except RecursionError:
        raise _too_deep(path) from None
    except (YAMLError, ValueError, TypeError, AttributeError) as exc:
        # YAMLError and its subclasses (ReaderError, ComposerError...); ValueError/TypeError
        # for values ruamel's constructors reject: never shown to users in English
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = f" na linha {mark.line + 1}" if mark is not None else ""
        if mark is None and getattr(exc, "position", None) is not None:  # ReaderError
            line = f" na posição {exc.position}"
        raise InputError(f"YAML inválido{line}: {yaml_problem(exc)}", file=str(path),
                         remedy="corrija a sintaxe (indentação com espaços, 'chave: valor')") \
            from None


def _depth(node: Any) -> int:
    """Nesting depth of parsed YAML/JSON, without recursion (aliases counted once)."""
    deepest, stack, seen = 0, [(node, 1)], set()
    while stack:
        item, level = stack.pop()
        if not isinstance(item, (dict, list)) or id(item) in seen:
            continue
        seen.add(id(item))
        deepest = max(deepest, level)
        if level > MAX_NESTING:
            return level
        stack.extend((child, level + 1)
                     for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def _coerce(f: Field, value: Any, where: str, base: Path, problems: list[Problem],
            display: str, trusted: bool = False) -> Any:
    """Check and normalize one value; append a Problem and return None when invalid."""
    def bad(msg: str, remedy: str | None = None) -> None:
        problems.append(Problem(display, where, msg, remedy or f.remedy))

    if value is None or (isinstance(value, str) and value.strip() == ""):
        if f.required:
            bad("campo obrigatório ausente", f.remedy or f"preencha {f.key}: {f.help}")
        return f.default
    value = normalize(f, value)
    kind = f.kind
    if kind in ("str", "path", "env", "enum"):
        if isinstance(value, bool) or isinstance(value, (dict, list)):
            return bad(f"esperado texto, encontrado {type(value).__name__}",
                       f"escreva um texto: {f.help}")
        if isinstance(value, float) and value.is_integer() and f.key in NUMERIC_TEXT_KEYS:
            value = int(value)
        if isinstance(value, int) and f.key in NUMERIC_TEXT_KEYS:
            value = str(value).zfill(7 if f.key == "cnes" else 0)
        elif isinstance(value, (int, float)) and (f.check is not None or kind != "str"):
            # a number where a code, name or path is expected (versao: 5.5): the schema
            # says the same; plain text fields (nome) keep taking a number as its text
            return bad(f"esperado texto, encontrado o número {_shown(value)}",
                       f"escreva o valor entre aspas: {f.help}")
        value = str(value).strip()
        limit = MAX_SITE_ID_CHARS if f.key == "site_id" else \
            MAX_PATH_CHARS if kind == "path" else MAX_TEXT_CHARS
        if len(value) > limit:
            return bad(f"texto longo demais ({len(value)} caracteres; limite {limit})",
                       f"encurte o valor: {f.help}")
        if CONTROL.search(value):  # a terminal escape sequence, a line break in a command
            # the field's own check first: it may recognise what was pasted (a private key)
            msg = f.check(value) if f.check is not None else None
            if isinstance(msg, tuple):
                return bad(*msg)
            return bad(msg or "caractere de controle no texto (quebra de linha, tabulação, "
                       "ESC...)", f"escreva o valor numa linha só: {f.help}")
        if kind == "enum" and value not in f.choices:
            near = difflib.get_close_matches(value, f.choices, n=1)
            hint = f"você quis dizer '{near[0]}'? " if near else ""
            return bad(f"valor '{_shown(value)}' inválido",
                       f"{hint}use um de: {', '.join(f.choices)}")
        if kind == "env" and not ENV_NAME.match(value):
            return bad("não parece um nome de variável de ambiente",
                       "informe o NOME da variável (ex.: PEC_DB_SENHA), nunca o valor secreto")
        if kind == "path":
            p = Path(os.path.expanduser(value))
            value = str(p if p.is_absolute() else resolved(base / p))
    elif kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            elif isinstance(value, str) and value.strip().isdigit() and len(value) < 19:
                value = int(value.strip())
            else:
                return bad(f"esperado número inteiro, encontrado '{_shown(value)}'",
                           f"escreva um número inteiro: {f.help}")
    elif kind == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return bad(f"esperado número, encontrado '{_shown(value)}'", f"escreva um número: {f.help}")
        value = float(value)
        if not math.isfinite(value):
            return bad("número inválido (NaN ou infinito)", f"escreva um número: {f.help}")
    elif kind == "bool":
        if not isinstance(value, bool):
            return bad(f"esperado sim ou não, encontrado '{_shown(value)}'",
                       "escreva sim ou não (ou true/false)")
    elif kind == "date":
        if isinstance(value, dt.datetime):
            value = value.date()
        elif isinstance(value, str):
            value = _parse_date(value.strip())
            if value is None:
                return bad("data inválida (dia, mês ou hora inexistente)",
                           "use uma data real no formato AAAA-MM-DD")
        elif not isinstance(value, dt.date):
            return bad(f"data inválida '{_shown(value)}'", "use o formato AAAA-MM-DD")
    if f.minimum is not None and isinstance(value, (int, float)) and value < f.minimum:
        return bad(f"valor {value} abaixo do mínimo {f.minimum:g}", f"informe um valor ≥ {f.minimum:g}")
    if f.maximum is not None and isinstance(value, (int, float)) and value > f.maximum:
        return bad(f"valor {value:g} acima do máximo {f.maximum:g}",
                   f"informe um valor ≤ {f.maximum:g}: {f.help}")
    if f.check is not None and isinstance(value, str):
        # an unedited snapshot skips only the check digits (numpy); every other check is
        # cheap and runs always: the digest proves no edit, not who wrote the snapshot
        msg = ((None if re.fullmatch(r"\d{7}", value) else "deve ter 7 dígitos")
               if trusted and f.check in (check_ibge, check_cnes) else f.check(value))
        if isinstance(msg, tuple):
            return bad(*msg)
        if msg:
            return bad(msg)
    return value


def _shown(value: Any) -> str:
    """A value as echoed in a message: at most 40 characters of it."""
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _parse_date(text: str) -> dt.date | None:
    """A date from ``AAAA-MM-DD`` (or a date-time, which YAML also writes unquoted); None
    when the day, month or time does not exist."""
    if len(text) > 40:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        pass
    try:
        return dt.datetime.fromisoformat(text).date()
    except ValueError:
        return None


def _unknown(key: str, known: Iterable[str], display: str, where: str,
             problems: list[Problem]) -> str | None:
    """Report an unknown key; return the known key it was probably meant to be."""
    known = list(known)
    if len(where) > 80:  # a key is echoed back: keep it short
        where = where[:77] + "..."
    near = difflib.get_close_matches(key[:80], known, n=1, cutoff=0.6)
    hint = f"você quis dizer '{near[0]}'?" if near else f"chaves válidas: {', '.join(known)}"
    msg = "chave desconhecida"
    if any(s in key.lower() for s in SECRET_LIKE_KEYS):
        hint = "segredos não vão no arquivo do site: use *_env (variável) ou *_file (arquivo)"
    problems.append(Problem(display, where, msg, hint))
    return near[0] if near else None


def _report_unknown(keys: list[Any], known: Iterable[str], display: str, prefix: str,
                    problems: list[Problem]) -> set[str]:
    """Report at most ``MAX_UNKNOWN_KEYS`` unknown keys, then how many more there are (a file
    with thousands of keys gets a short answer); the keys they were probably meant to be."""
    meant = {_unknown(str(k), known, display, f"{prefix}{k}", problems) or ""
             for k in keys[:MAX_UNKNOWN_KEYS]}
    if len(keys) > MAX_UNKNOWN_KEYS:
        problems.append(Problem(display, prefix.rstrip(".") or None,
                                f"e mais {len(keys) - MAX_UNKNOWN_KEYS} chaves desconhecidas",
                                "confira se é o arquivo certo"))
    return meant


def validate_site(raw: Any, *, source: Path, display: str | None = None,
                  problems: list[Problem] | None = None) -> Site | None:
    """Validate one site mapping. Appends problems to ``problems`` (and returns None when
    there are any) or raises InputError when ``problems`` is not given."""
    own = problems is None
    problems = [] if own else problems
    display = display or str(source)
    base = source.parent
    before = len(problems)
    if not isinstance(raw, dict):
        problems.append(Problem(display, None, NOT_A_SITE, NOT_A_SITE_REMEDY))
        if own:
            raise InputError.from_problems(problems)
        return None
    # a snapshot written by Site.to_json and not edited since already passed every check
    trusted = isinstance(raw.get("_validated"), str) and \
        raw["_validated"] == _snapshot_digest(raw)
    top_keys = [f.key for f in FIELDS[None]] + list(SECTIONS)
    if raw and not any(k in top_keys for k in raw):
        # another kind of file (a mistyped path, /etc/shadow...): never echo its content
        problems.append(Problem(display, None, NOT_A_SITE, NOT_A_SITE_REMEDY))
        if own:
            raise InputError.from_problems(problems)
        return None
    data: dict[str, Any] = {}
    meant: set[str] = set()  # keys a typo was probably meant to be: not also "missing"
    meant.update(_report_unknown([k for k in raw if k not in ("_source", "_extra", "_validated")
                                  and k not in top_keys], top_keys, display, "", problems))
    for f in FIELDS[None]:
        if f.key in meant and raw.get(f.key) is None:
            data[f.key] = None
            continue
        data[f.key] = _coerce(f, raw.get(f.key), f.key, base, problems, display, trusted)
    for section in SECTIONS:
        sub = raw.get(section)
        if sub is None:
            sub = {}
        if not isinstance(sub, dict):
            problems.append(Problem(display, section,
                                    "a seção deve ser um mapeamento 'chave: valor'",
                                    "indente as chaves da seção com dois espaços"))
            sub = {}
        fields = {f.key: f for f in FIELDS[section]}
        _report_unknown([k for k in sub if k not in fields], fields, display, f"{section}.",
                        problems)
        data[section] = {k: _coerce(f, sub.get(k), f"{section}.{k}", base, problems,
                                    display, trusted)
                         for k, f in fields.items()}
    if len(problems) > before:
        if own:
            raise InputError.from_problems(problems)
        return None
    extra = raw.get("_extra") if isinstance(raw.get("_extra"), dict) else {}
    return Site(data=data, source=str(raw.get("_source") or source), extra=dict(extra))


def deep_merge(base: dict, over: dict) -> dict:
    """``over`` merged into a copy of ``base``, mapping by mapping (an inventory's ``padroes``)."""
    out = copy.deepcopy(base)
    for k, v in over.items():
        out[k] = deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) \
            else v
    return out


def load_site(path: str | os.PathLike, site_id: str | None = None) -> Site:
    """Load one site: a site file, or ``site_id`` out of an inventory or folder."""
    sites = load_sites(path)
    if site_id is None:
        if len(sites) != 1:
            raise InputError(f"o inventário tem {len(sites)} sites", file=str(path),
                             remedy="informe site_id para escolher um")
        return sites[0]
    for s in sites:
        if s.site_id == site_id:
            return s
    known = [s.site_id for s in sites]
    near = difflib.get_close_matches(site_id, known, n=1)
    raise InputError(f"site '{site_id}' não está no inventário", file=str(path), key="site_id",
                     remedy=f"você quis dizer '{near[0]}'?" if near else
                     f"sites: {', '.join(known[:10])}")


def _check_unique(raws: list[tuple[str, Any]], problems: list[Problem]) -> None:
    """site_id must be unique, checked on the raw values so that a duplicate is reported
    even when the sites have other problems."""
    seen: dict[str, str] = {}
    for display, raw in raws:
        sid = raw.get("site_id") if isinstance(raw, dict) else None
        if not isinstance(sid, str) or not sid:
            continue
        if sid in seen:
            problems.append(Problem(display, "site_id", f"site_id '{sid}' repetido (também em "
                                    f"{seen[sid]})", "cada site precisa de um site_id único"))
        else:
            seen[sid] = display


def load_sites(path: str | os.PathLike) -> list[Site]:
    """Load and validate a site file, an inventory YAML (``sites:``) or a folder of site
    files. Every problem of every site is reported at once (InputError, exit 2)."""
    path = Path(path).expanduser()
    problems: list[Problem] = []
    sites: list[Site] = []
    raws: list[tuple[str, Any]] = []
    if path.is_dir():
        files = folder_site_files(path)
        if not files:
            raise InputError("a pasta não tem arquivos de site (.yaml)", file=str(path),
                             remedy="crie um arquivo por site, veja examples/sites/")
        if len(files) > MAX_SITES:
            raise InputError(f"a pasta tem {len(files)} arquivos de site (limite {MAX_SITES})",
                             file=str(path), remedy="divida os sites em várias pastas")
        for f in files:
            try:
                raw = read_mapping_file(f)
            except InputError as exc:
                problems.extend(exc.problems)
                continue
            _load_into(f, raw, sites, problems, raws, allow_inventory=False)
    else:
        _load_into(path, read_mapping_file(path), sites, problems, raws, allow_inventory=True)
    _check_unique(raws, problems)
    if len(problems) > MAX_PROBLEMS:
        more = len(problems) - MAX_PROBLEMS
        problems = problems[:MAX_PROBLEMS] + [Problem(str(path), None, f"e mais {more} problemas",
                                                      "corrija os primeiros e confira de novo")]
    if problems:
        raise InputError.from_problems(problems)
    return sites


def check(path: str | os.PathLike) -> str:
    """``esus-runbook validar``: validate like ``run`` and ``batch`` (InputError, exit 2, on
    any problem) and say which sites are valid."""
    valid = load_sites(path)
    return (f"{path}: {len(valid)} site(s) válido(s): "
            f"{', '.join(s.site_id for s in valid)}")


def _load_into(path: Path, raw: Any, sites: list[Site], problems: list[Problem],
               raws: list[tuple[str, Any]], allow_inventory: bool) -> None:
    display = str(path)
    if isinstance(raw, dict) and "sites" in raw:
        if not allow_inventory:
            problems.append(Problem(display, "sites", "inventário dentro de uma pasta de sites",
                                    "use um arquivo por site na pasta ou um único inventário"))
            return
        inventory_keys = ("sites", "padroes", "registro_instaladores")
        _report_unknown([k for k in raw if k not in inventory_keys], inventory_keys, display,
                        "", problems)
        registry = raw.get("registro_instaladores")
        extra = {"registro_instaladores": str(resolved(path.parent / registry))} \
            if isinstance(registry, str) and registry.strip() else {}
        defaults = raw.get("padroes") or {}
        if not isinstance(defaults, dict):
            problems.append(Problem(display, "padroes", "deve ser um mapeamento",
                                    "indente as chaves de padroes"))
            defaults = {}
        items = raw.get("sites")
        if not isinstance(items, list) or not items:
            problems.append(Problem(display, "sites", "deve ser uma lista não vazia",
                                    "liste os sites com '- site_id: ...' ou caminhos"))
            return
        if len(items) > MAX_SITES:
            problems.append(Problem(display, "sites", f"{len(items)} sites (limite {MAX_SITES})",
                                    "divida o inventário em vários"))
            return
        for i, item in enumerate(items):
            if isinstance(item, str):
                sub = inventory_item(path, item)
                try:
                    sub_raw = read_mapping_file(sub)
                except InputError as exc:
                    problems.extend(exc.problems)
                    continue
                merged = deep_merge(defaults, sub_raw) if isinstance(sub_raw, dict) else sub_raw
                raws.append((str(sub), merged))
                site = validate_site(merged, source=sub, problems=problems)
            else:
                merged = deep_merge(defaults, item) if isinstance(item, dict) else item
                raws.append((f"{display}:sites[{i}]", merged))
                site = validate_site(merged, source=path, display=f"{display}:sites[{i}]",
                                     problems=problems)
            if site is not None:
                site.extra.update(extra)
                sites.append(site)
        return
    raws.append((display, raw))
    site = validate_site(raw, source=path, problems=problems)
    if site is not None:
        sites.append(site)


def inventory_files(path: str | os.PathLike) -> list[Path]:
    """Every file an inventory reads (for hashing into run.json)."""
    path = Path(path)
    if path.is_dir():
        return folder_site_files(path)
    files = [path]
    raw = read_mapping_file(path)
    if isinstance(raw, dict) and isinstance(raw.get("sites"), list):
        files += [inventory_item(path, s) for s in raw["sites"] if isinstance(s, str)]
    return files


def raw_site_id(path: Path) -> str | None:
    """The ``site_id`` written in a site file, without validating the rest (None when the
    file cannot be read or has none); raises InputError like :func:`read_mapping_file`."""
    raw = read_mapping_file(path)
    sid = raw.get("site_id") if isinstance(raw, dict) else None
    return sid if isinstance(sid, str) else None


def folder_site_ids(folder: str | os.PathLike) -> tuple[dict[str, Path], list[Problem]]:
    """``site_id`` → file for the site files of a folder (:mod:`esus_runbook.sites.folders`
    rule; the first file wins a repeated id), and the problems of the files that could not
    be read (FIFO, symlink loop, bad YAML...), worded as ``load_sites`` words them."""
    out: dict[str, Path] = {}
    problems: list[Problem] = []
    for f in folder_site_files(folder):
        try:
            sid = raw_site_id(f)
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        if sid and sid not in out:
            out[sid] = f
    return out, problems
