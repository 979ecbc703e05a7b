"""User-facing words, the one place for them: what the code calls a *site* is, to a health
team, a *local de implantação* (a "site" reads as a web site, and "unidade" already names a
CNES establishment on the XML pages); plurals follow the count (``plural(1, "local")`` is
``1 local``, never ``1 locais`` or ``local(is)``)."""

from __future__ import annotations

from .numbers import number

SITE = "local de implantação"

_IRREGULAR = {"local": "locais", "profissional": "profissionais", "alteração": "alterações",
              "diferença": "diferenças", "lotação": "lotações", "verificação": "verificações",
              "ocorrência": "ocorrências", "execução": "execuções", "pendência": "pendências",
              "alerta": "alertas", "erro": "erros", "falha": "falhas", "pronto": "prontos",
              "pendente": "pendentes", "parado": "parados", "dia": "dias", "etapa": "etapas",
              "local de implantação": "locais de implantação",
              "problema": "problemas", "unidade": "unidades", "equipe": "equipes"}


def plural_of(word: str) -> str:
    """The pt-BR plural of ``word`` (the table above, else the regular ``-s``/``-es``)."""
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    if word.endswith(("r", "z", "s")):
        return word + "es"
    if word.endswith("ão"):
        return word[:-2] + "ões"
    if word.endswith("l"):
        return word[:-1] + "is"
    return word + "s"


def plural(n: int | float, singular: str, plural_form: str | None = None) -> str:
    """``n`` and the word agreeing with it, the number in pt-BR (``1.234 locais``)."""
    word = singular if n == 1 else (plural_form or plural_of(singular))
    return f"{number(n)} {word}"
