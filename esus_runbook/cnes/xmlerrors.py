"""pt-BR descriptions of libxml2's syntax errors (``lxml.etree.XMLSyntaxError``).

libxml2 writes its messages in English ("Opening and ending tag mismatch: ..."); users see
instead one pt-BR phrase chosen by the error's code (``etree.ErrorTypes``), with the element
or attribute names the message carries, and the line. Unknown codes get a generic phrase and
the libxml2 code number, never the English text (see docs/cnes-xml-audit.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from lxml import etree

from ..ids import scrub

# code name → pt-BR phrase; "{0}", "{1}", "{2}" are groups of the matching _DETAIL regex
_TEXT = {
    "ERR_TAG_NAME_MISMATCH": "elemento <{0}> aberto na linha {1} e fechado por </{2}>",
    "ERR_TAG_NOT_FINISHED": "elemento <{0}> (linha {1}) não foi fechado",
    "ERR_DOCUMENT_END": "conteúdo depois do fim do documento (há mais de um elemento raiz "
                        "ou texto solto no fim)",
    "ERR_DOCUMENT_EMPTY": "o documento não começa com um elemento XML",
    "ERR_EXTRA_CONTENT": "conteúdo depois do fim do documento",
    "ERR_NOT_WELL_BALANCED": "elementos abertos e fechados fora de ordem",
    "ERR_ATTRIBUTE_NOT_STARTED": "valor de atributo sem aspas",
    "ERR_ATTRIBUTE_NOT_FINISHED": "valor de atributo sem a aspa de fechamento",
    "ERR_ATTRIBUTE_WITHOUT_VALUE": "atributo {0} sem valor",
    "ERR_ATTRIBUTE_REDEFINED": "atributo {0} repetido no mesmo elemento",
    "ERR_LT_IN_ATTRIBUTE": "'<' dentro do valor de um atributo",
    "ERR_NAME_REQUIRED": "nome de elemento ou de atributo inválido, ou '&' sem escape",
    "ERR_ENTITYREF_SEMICOL_MISSING": "'&' sem escape (ou falta ';' numa referência &...;)",
    "ERR_ENTITYREF_NO_NAME": "'&' sem escape",
    "ERR_INVALID_ENCODING": "bytes inválidos para a codificação declarada (o arquivo foi "
                            "salvo em outra codificação?)",
    "ERR_UNSUPPORTED_ENCODING": "codificação declarada não suportada",
    "ERR_INVALID_CHAR": "caractere inválido em XML (caractere de controle)",
    "ERR_INVALID_HEX_CHARREF": "referência de caractere (&#x...;) inválida",
    "ERR_INVALID_DEC_CHARREF": "referência de caractere (&#...;) inválida",
    "ERR_INVALID_CHARREF": "referência de caractere inválida",
    "ERR_RESERVED_XML_NAME": "declaração <?xml ...?> fora do início (dois arquivos colados?)",
    "ERR_XMLDECL_NOT_STARTED": "declaração <?xml ...?> malformada",
    "ERR_XMLDECL_NOT_FINISHED": "declaração <?xml ...?> malformada",
    "ERR_PI_NOT_STARTED": "instrução de processamento <?...?> malformada",
    "ERR_PI_NOT_FINISHED": "instrução de processamento <?...?> não fechada",
    "ERR_COMMENT_NOT_FINISHED": "comentário <!-- não fechado",
    "ERR_CDATA_NOT_FINISHED": "seção CDATA não fechada",
    "ERR_GT_REQUIRED": "falta '>' para fechar a tag",
    "ERR_LTSLASH_REQUIRED": "falta a tag de fechamento",
    "ERR_SPACE_REQUIRED": "falta espaço entre os atributos",
    "ERR_STRING_NOT_CLOSED": "texto entre aspas não fechado",
    "ERR_STRING_NOT_STARTED": "falta a aspa de abertura",
    "ERR_RESOURCE_LIMIT": "elementos aninhados fundo demais ou texto grande demais (limite "
                          "de segurança)",
    "ERR_NO_MEMORY": "memória insuficiente para ler o XML",
    "NS_ERR_UNDEFINED_NAMESPACE": "prefixo de namespace não declarado",
    "NS_ERR_QNAME": "nome com prefixo de namespace inválido",
}
_DETAIL = {
    "ERR_TAG_NAME_MISMATCH": re.compile(r"mismatch: (\S+) line (\d+) and ([^\s,]+)"),
    "ERR_TAG_NOT_FINISHED": re.compile(r"in tag (\S+) line (\d+)"),
    "ERR_ATTRIBUTE_WITHOUT_VALUE": re.compile(r"for attribute ([^\s,]+)"),
    "ERR_ATTRIBUTE_REDEFINED": re.compile(r"Attribute ([^\s,]+) redefined"),
}
_PLAIN = {  # when the message does not carry the names
    "ERR_TAG_NAME_MISMATCH": "elemento fechado com outro nome",
    "ERR_TAG_NOT_FINISHED": "elemento não fechado",
    "ERR_ATTRIBUTE_WITHOUT_VALUE": "atributo sem valor",
    "ERR_ATTRIBUTE_REDEFINED": "atributo repetido no mesmo elemento",
}
# entities and DTDs are refused as hostile (billion laughs, XXE); '&' without ';' is not
_HOSTILE = re.compile(r"DOCTYPE|DTD|PEREF|UNDECLARED_ENTITY|UNPARSED_ENTITY|ERR_ENTITY_"
                      r"|ENTITY_LOOP|ENTITY_AMPLIFICATION|EXT_ENTITY")


@dataclass(frozen=True)
class SyntaxProblem:
    line: int | None
    text: str          # pt-BR
    name: str          # libxml2 code name, e.g. ERR_TAG_NAME_MISMATCH ("" when unknown)
    hostile: bool      # entities/DTD


@cache
def _names() -> dict[int, str]:
    return {v: k for k, v in vars(etree.ErrorTypes).items()
            if isinstance(v, int) and k.isupper()}


def _name_part(text: str) -> str:
    return scrub(text)[:40]


def describe(exc: Exception) -> SyntaxProblem:
    """What a libxml2 syntax error means, in pt-BR, with its line."""
    code = getattr(exc, "code", None)
    name = _names().get(code, "") if isinstance(code, int) else ""
    msg = str(getattr(exc, "msg", None) or exc)
    line = getattr(exc, "lineno", None) or (getattr(exc, "position", None) or (None,))[0]
    if name in ("", "ERR_INTERNAL_ERROR"):
        # iterparse may raise a generic "no element found" after the real error (an
        # undeclared entity, for one): the log keeps the first one
        first = next(iter(getattr(exc, "error_log", None) or ()), None)
        if first is not None and first.type:
            code, name, msg, line = first.type, _names().get(first.type, ""), first.message, \
                first.line
    hostile = bool(_HOSTILE.search(name)) or (
        not name and bool(re.search(r"[Ee]ntity '|DOCTYPE|DTD", msg)))
    text = _TEXT.get(name)
    if text is None:
        text = "erro de sintaxe XML" + (f" (código libxml2 {code})" if code else "")
    elif "{0}" in text:
        m = _DETAIL[name].search(msg)
        text = text.format(*(_name_part(g) for g in m.groups())) if m else _PLAIN[name]
    return SyntaxProblem(line or None, text, name, hostile)
