"""The element structure of the CNES XML as PEC's XSD checks it, for layouts 2.1, 3.0 and 3.1.

PEC validates the file against the XSD embedded in its backend (``cnes/cnes_<layout>.xsd``)
before it reads anything, and refuses the whole file on a violation. That XSD is not
public, so :data:`SPEC` is the runbook's own description, built from the element tree of the
manual and from real e-Gestor exports of each layout (docs/cnes-xml-audit.md, "Estrutura",
grades every part). What it checks:

- nesting: each element only inside its parent (``IDENTIFICACAO`` holds ``ESTABELECIMENTOS``
  then ``PROFISSIONAIS``; a unit holds ``ENDERECO``, ``COMPLEXIDADE``, ``EQUIPES``; a
  professional ``ENDERECO`` then ``LOTACOES``), no unknown element;
- order and repetition of the children (an element out of place, or twice where once is the
  rule);
- required attributes (present, even if empty: an empty value is the other rules' business);
- elements of one layout only (``VINCULACOES_EQUIPES`` does not exist in 2.1).

Where the sources do not settle a minimum (a unit without ``EQUIPES``, an empty
``COMPLEXIDADE``) the description accepts it: a structural error must be one PEC makes.
Not checked: text inside elements and attributes the layout does not declare (real exports
differ in those, and reading them would cost the streaming parse its speed).

:func:`check` inspects one element (its attributes and its children, one level) and
:func:`check_tree` a whole subtree; the parser (:mod:`.parser`) calls them while streaming,
with a faster equivalent for the professionals (the bulk of a file).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

ALL_LAYOUTS = frozenset({"2.1", "3.0", "3.1"})


@dataclass(frozen=True)
class Node:
    """One element: its children in order as ``(tag, min, max)`` (max None = unbounded),
    the attributes it must carry, and the layouts in which it exists."""

    children: tuple[tuple[str, int, int | None], ...] = ()
    required: tuple[str, ...] = ()
    layouts: frozenset[str] = ALL_LAYOUTS


ROOT = "ImportarXMLCNES"
SPEC: dict[str, Node] = {
    ROOT: Node((("IDENTIFICACAO", 1, 1),)),
    # (an IDENTIFICACAO with neither is FILE_EMPTY; no source says the XSD requires them)
    "IDENTIFICACAO": Node((("ESTABELECIMENTOS", 0, 1), ("PROFISSIONAIS", 0, 1))),
    "ESTABELECIMENTOS": Node((("DADOS_GERAIS_ESTABELECIMENTOS", 0, None),)),
    "DADOS_GERAIS_ESTABELECIMENTOS": Node((("ENDERECO", 0, 1), ("COMPLEXIDADE", 0, 1),
                                           ("EQUIPES", 0, 1)), required=("CNES",)),
    # the same element (and model) under a unit and under a professional
    "ENDERECO": Node((("DADOS_ENDERECO", 0, 1),)),
    "DADOS_ENDERECO": Node(),
    "COMPLEXIDADE": Node((("DADOS_COMPLEXIDADE", 0, None),)),
    "DADOS_COMPLEXIDADE": Node(required=("SG_COMPLEXIDADE",)),
    "EQUIPES": Node((("DADOS_EQUIPES", 0, None),)),
    "DADOS_EQUIPES": Node((("VINCULACOES_EQUIPES", 0, 1),), required=("CO_INE",)),
    "VINCULACOES_EQUIPES": Node((("DADOS_VINCULACAO_EQUIPE", 0, None),),
                                layouts=frozenset({"3.0", "3.1"})),
    "DADOS_VINCULACAO_EQUIPE": Node(required=("INE_EQUIPE_VINCULADA",),
                                    layouts=frozenset({"3.0", "3.1"})),
    "PROFISSIONAIS": Node((("DADOS_PROFISSIONAIS", 0, None),)),
    "DADOS_PROFISSIONAIS": Node((("ENDERECO", 0, 1), ("LOTACOES", 0, 1)),
                                required=("CPF_PROF", "CO_CNS")),
    "LOTACOES": Node((("DADOS_LOTACOES", 0, None),)),
    "DADOS_LOTACOES": Node(required=("CNES", "CO_CBO")),
}
# where each element belongs (for the message when it is found elsewhere)
PARENTS: dict[str, tuple[str, ...]] = {}
for _parent, _node in SPEC.items():
    for _tag, _lo, _hi in _node.children:
        PARENTS.setdefault(_tag, ())
        PARENTS[_tag] += (_parent,)


@dataclass(frozen=True)
class Violation:
    line: int
    message: str   # pt-BR, what is wrong (the rule adds what to do)


def _where(el) -> str:
    parent = el.getparent()
    return f"<{parent.tag}>" if parent is not None else "na raiz"


def check(el, layout: str | None) -> list[Violation]:
    """The violations of ``el`` itself: its required attributes, whether it exists in
    ``layout`` (None: any supported layout), and the sequence of its children."""
    tag = el.tag
    node = SPEC.get(tag)
    line = el.sourceline or 0
    if node is None:
        return []          # reported by its parent, as an unknown child
    out: list[Violation] = []
    if layout is not None and layout not in node.layouts:
        out.append(Violation(line, f"<{tag}> não existe no layout {layout} (só em "
                                   f"{', '.join(sorted(node.layouts))})"))
    for name in node.required:
        if el.get(name) is None:
            out.append(Violation(line, f"<{tag}> sem o atributo obrigatório {name}"))
    model = node.children
    names = [m[0] for m in model]
    pos, count = 0, 0
    for child in el:
        ctag = child.tag
        if not isinstance(ctag, str):      # comments and PIs are not parsed; be safe
            continue
        j = pos
        while j < len(model) and model[j][0] != ctag:
            j += 1
        cline = child.sourceline or line
        if j == len(model):
            if ctag in names:
                order = ", ".join(f"<{n}>" for n in names)
                out.append(Violation(cline, f"<{ctag}> fora de ordem dentro de <{tag}> "
                                            f"(a ordem é {order})"))
            elif ctag in PARENTS:
                home = " ou ".join(f"<{p}>" for p in PARENTS[ctag])
                out.append(Violation(cline, f"<{ctag}> dentro de <{tag}>; o lugar dele é "
                                            f"dentro de {home}"))
            else:
                out.append(Violation(cline, f"elemento <{ctag}> desconhecido dentro de "
                                            f"<{tag}>"))
            continue
        if j != pos:
            out.extend(_missing(el, model[pos:j], count))
            pos, count = j, 0
        count += 1
        hi = model[pos][2]
        if hi is not None and count > hi:
            out.append(Violation(cline, f"<{ctag}> repetido dentro de <{tag}> (no máximo "
                                        f"{hi})"))
    if model:
        out.extend(_missing(el, model[pos:], count))
    return out


def _missing(el, models: Iterable[tuple[str, int, int | None]], first_count: int
             ) -> Iterator[Violation]:
    """Minimums not met among ``models`` (the first of them was seen ``first_count``
    times, the others never)."""
    for k, (name, lo, _hi) in enumerate(models):
        have = first_count if k == 0 else 0
        if have < lo:
            yield Violation(el.sourceline or 0, f"<{el.tag}> sem <{name}>")


def check_tree(el, layout: str | None) -> list[Violation]:
    """:func:`check` on ``el`` and every element below it."""
    out: list[Violation] = []
    for e in el.iter():
        if isinstance(e.tag, str):
            out.extend(check(e, layout))
    return out


def chain_ok(container, container_tag: str) -> bool:
    """Whether ``container`` (the parent of a unit or of a professional) is
    ``<container_tag>`` inside ``IDENTIFICACAO`` inside the root."""
    if container is None or container.tag != container_tag:
        return False
    header = container.getparent()
    if header is None or header.tag != "IDENTIFICACAO":
        return False
    root = header.getparent()
    return root is not None and root.tag == ROOT and root.getparent() is None


def misplaced(el) -> Violation:
    """The violation for a unit or professional that is not where the layout puts it."""
    path = []
    p = el.getparent()
    while p is not None:
        path.append(p.tag)
        p = p.getparent()
    where = "/".join(reversed(path)) or "(raiz)"
    expected = {"DADOS_GERAIS_ESTABELECIMENTOS": "ESTABELECIMENTOS",
                "DADOS_PROFISSIONAIS": "PROFISSIONAIS"}.get(el.tag, "?")
    return Violation(el.sourceline or 0,
                     f"<{el.tag}> está em {where}, fora de {ROOT}/IDENTIFICACAO/{expected} "
                     f"(um elemento fechado antes da hora, por exemplo)")
