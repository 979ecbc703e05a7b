"""Stage 5 — contra-chave: PEC's activation.

The *chave* (32 digits shown by PEC, 8 groups of 4) is not secret and is validated here. The
*contra-chave* generated in e-Gestor AB is a credential: it is read only through a reference
(``contra_chave_env`` / ``contra_chave_file``) and the result keeps only a masked form and a
salted fingerprint, so a later run can tell whether it changed without storing it.

A training installation (``instalacao.modo: treinamento``) is not activated: the official
training guide (PEC 5.3.28) shows the activation screen with chave and contra-chave disabled
and says "clique em AVANÇAR" (docs/dominio.md, "Contra-chave"). Such a site passes this stage
on the one check ``CC_TREINAMENTO``, whose evidence is the site's mode and, when stage 04 read
PEC's database, ``TREINAMENTO = 1`` there (a database in production mode is a ``falha``).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Mapping
from typing import Any

from ..commands import sh
from ..errors import SecretError
from ..results import StageResult
from ..secret_refs import Secret, fingerprint, mask, read_secret, resume_salt, same_secret
from ..sites.loading import Site
from ..status import Status
from .context import StageContext
from .steps import Step, file_step

_CHAVE = re.compile(r"^\d{32}$")
EGESTOR = ("Gere a contra-chave no e-Gestor AB: o titular do CNPJ do Fundo Municipal de Saúde "
           "libera um token (válido por 24 h) para o Gestor do SISAB ou Gestor Técnico, que "
           "usa o Gerador de Contra-Chave com a chave do PEC (opção eSUSAB). Sem internet: "
           "Disque Saúde 136, opção 8.")


def normalize_chave(text: str | None) -> str | None:
    """``0916-0409-…`` from a chave typed with or without hyphens/spaces; None if malformed."""
    if text is None:
        return None
    digits = re.sub(r"[\s\-.]", "", str(text))
    if not _CHAVE.match(digits):
        return None
    return "-".join(digits[i:i + 4] for i in range(0, 32, 4))


def _read(site: Site, env) -> tuple[Secret | None, str | None]:
    cc = site.contra_chave
    try:
        return read_secret(cc["contra_chave_env"], cc["contra_chave_file"],
                           what="contra-chave", env=env), None
    except SecretError as exc:
        return None, str(exc)


def extra_fingerprint(site: Site) -> dict[str, Any]:
    """The contra-chave's identity for resuming a batch: a slow hash salted per site, so an
    unchanged secret gives the same value and a changed one does not."""
    secret, error = _read(site, None)
    if secret is None:
        return {"contra_chave": "indisponivel" if error else None}
    return {"contra_chave": fingerprint(secret, resume_salt(site.site_id))}


def _training(site: Site, ctx) -> StageResult:
    """Stage 05 of a training installation: no activation, so no chave nor contra-chave."""
    r = StageResult(site.site_id, "contra_chave")
    title = "Ativação da instalação (treinamento)"
    expected = "instalação de treinamento: ativação não exigida"
    inst = ctx.previous("instalacao") if ctx is not None else None
    db = [c for c in (inst.checks if inst is not None else ()) if c.id == "DB_TREINAMENTO"]
    if db and db[0].status is Status.FALHA:
        r.add("CC_TREINAMENTO", title, Status.FALHA, expected,
              f"o banco do PEC não está em modo de treinamento ({db[0].observed})",
              "O site diz treinamento (instalacao.modo), mas o PEC instalado é de produção e "
              "exige a ativação com contra-chave: reinstale com -treinamento ou, se a "
              "instalação é mesmo de produção, corrija instalacao.modo e informe a chave e a "
              "contra-chave.")
    elif db and db[0].status is Status.OK:
        r.add("CC_TREINAMENTO", title, Status.OK, expected,
              "instalação de treinamento: ativação não exigida (TREINAMENTO = 1 no banco do "
              "PEC, etapa 4)")
    else:
        r.add("CC_TREINAMENTO", title, Status.OK, expected,
              "instalação de treinamento: ativação não exigida (instalacao.modo: treinamento;"
              " no guia oficial de treinamento a tela de ativação traz chave e contra-chave "
              "desabilitadas)")
    return r.finish(modo="treinamento", ativacao_exigida=False,
                    aviso="Instalação de treinamento: nada do que for registrado nela chega "
                          "ao SISAB.")


def evaluate(site: Site, ctx=None) -> StageResult:
    if site.instalacao["modo"] == "treinamento":
        return _training(site, ctx)
    cc = site.contra_chave
    r = StageResult(site.site_id, "contra_chave")
    generated = cc["gerada_em"]
    metrics: dict[str, Any] = {"gerada_em": generated.isoformat() if generated else None,
                               "gerada_por": cc["gerada_por"]}

    chave = normalize_chave(cc["chave"])
    if cc["chave"] is None:
        r.add("CC_CHAVE", "Chave exibida pelo PEC", Status.PENDENTE, "32 dígitos (8 × 4)",
              None, "Instale o PEC, abra a tela de ativação e copie a chave para "
                    "contra_chave.chave no arquivo do site.")
    elif chave is None:
        digits = re.sub(r"\D", "", str(cc["chave"]))
        r.add("CC_CHAVE", "Chave exibida pelo PEC", Status.FALHA, "32 dígitos (8 × 4)",
              f"{len(digits)} dígitos", "Copie de novo a chave da tela de ativação do PEC: "
                                        "são 8 grupos de 4 dígitos.")
    else:
        r.add("CC_CHAVE", "Chave exibida pelo PEC", Status.OK, "32 dígitos (8 × 4)", chave)
    metrics["chave"] = chave

    env = ctx.env if ctx is not None else None
    secret, error = _read(site, env)
    if secret is None and error is None:
        r.add("CC_CONTRA_CHAVE", "Contra-chave disponível", Status.PENDENTE,
              "referência a variável de ambiente ou arquivo", None,
              f"{EGESTOR} Depois informe contra_chave.contra_chave_env (nome da variável) ou "
              "contra_chave.contra_chave_file (arquivo com permissão 600) — nunca o valor.")
    elif secret is None:
        r.add("CC_CONTRA_CHAVE", "Contra-chave disponível", Status.FALHA,
              "referência resolvida", "referência sem valor",
              f"{error}. Defina a variável ou crie o arquivo antes de executar.")
    else:
        value = secret.reveal()
        if chave is not None and re.sub(r"\D", "", value) == chave.replace("-", ""):
            r.add("CC_CONTRA_CHAVE", "Contra-chave disponível", Status.FALHA,
                  "a contra-chave gerada no e-Gestor", "igual à chave",
                  "O valor informado é a própria chave do PEC. " + EGESTOR)
        else:
            r.add("CC_CONTRA_CHAVE", "Contra-chave disponível", Status.OK,
                  "referência resolvida", f"{mask(secret)} ({secret.source})")
        for w in secret.warnings:
            r.add("CC_ARQUIVO_PERMISSAO", "Proteção do arquivo da contra-chave", Status.ALERTA,
                  "legível só pelo dono (600)", w,
                  f"Restrinja o arquivo: chmod 600 {sh(cc['contra_chave_file'] or 'ARQUIVO')} "
                  "(a contra-chave é uma credencial).")
        metrics["contra_chave_mascarada"] = mask(secret)
        metrics["contra_chave_fingerprint"] = fingerprint(secret)
        metrics["contra_chave_origem"] = secret.source

    _check_dates(r, cc, site.instalacao["data_instalacao"])
    if secret is not None and chave is not None:
        _check_change(r, ctx, chave, secret)
    return r.finish(**metrics)


def _check_dates(r: StageResult, cc: dict, installed: dt.date | None) -> None:
    generated: dt.date | None = cc["gerada_em"]
    today = dt.date.today()
    if generated is None or not cc["gerada_por"]:
        missing = [k for k in ("gerada_em", "gerada_por") if not cc[k]]
        r.add("CC_REGISTRO", "Registro de quando e por quem foi gerada", Status.ALERTA,
              "gerada_em e gerada_por", f"faltam: {', '.join(missing)}",
              "Registre a data e o gestor que gerou a contra-chave (auditoria da ativação).")
    else:
        r.add("CC_REGISTRO", "Registro de quando e por quem foi gerada", Status.OK,
              "gerada_em e gerada_por", f"{generated.isoformat()} por {cc['gerada_por']}")
    if generated is None:
        return
    if generated > today:
        r.add("CC_DATA", "Data de geração", Status.FALHA, f"até {today.isoformat()}",
              generated.isoformat(), "A data de geração está no futuro: corrija "
                                     "contra_chave.gerada_em.")
    elif installed is not None and generated < installed:
        # docs/dominio.md, "Contra-chave": only the 24 h authorization token expires; a
        # date before the installation is a hint (a typo, or a chave replaced since), not proof
        r.add("CC_DATA", "Data de geração", Status.ALERTA,
              f"a partir da instalação ({installed.isoformat()})", generated.isoformat(),
              "A contra-chave consta como gerada antes da instalação. Ela não vence (só o "
              "token de liberação do e-Gestor vale 24 h), mas pertence a uma chave: se o PEC "
              "foi reinstalado ou a senha do instalador foi redefinida (/reset), a chave "
              "mudou e é preciso gerar outra contra-chave. Confira se a chave exibida pelo "
              "PEC é a mesma usada no e-Gestor e corrija contra_chave.gerada_em se a data "
              "estiver errada.")
    else:
        expected = f"entre {installed.isoformat()} e hoje" if installed else "até hoje"
        r.add("CC_DATA", "Data de geração", Status.OK, expected, generated.isoformat())


def _check_change(r: StageResult, ctx: StageContext | None, chave: str,
                  secret: Secret) -> None:
    """The chave changed since this site's latest earlier run: was the contra-chave too?"""
    prev = ctx.earlier_run("contra_chave") if ctx is not None else None
    if prev is None or not prev.metrics.get("chave"):
        return
    old_chave = prev.metrics["chave"]
    old_fp = prev.metrics.get("contra_chave_fingerprint")
    if old_chave == chave:
        return
    if old_fp and same_secret(secret, old_fp):
        r.add("CC_CHAVE_MUDOU", "Chave nova com a contra-chave antiga", Status.ALERTA,
              "contra-chave nova para a chave nova", f"chave mudou desde {prev.finished_at}",
              "Nova chave exige nova contra-chave (a chave muda, por exemplo, após redefinir a "
              "senha do instalador em /reset). " + EGESTOR)
    else:
        r.add("CC_CHAVE_MUDOU", "Chave nova com a contra-chave antiga", Status.OK,
              "contra-chave nova para a chave nova", "chave e contra-chave mudaram juntas")


def _env_defined(name: str | None, env: Mapping[str, str]) -> bool:
    return bool(name) and bool((env.get(name) or "").strip())


def next_steps(site: Site, env: Mapping[str, str] | None = None) -> list[Step]:
    env = os.environ if env is None else env
    if site.instalacao["modo"] == "treinamento":
        return []   # a training installation is not activated
    cc = site.contra_chave
    steps = []
    if not cc["chave"]:
        steps.append(Step("Copie a chave de 32 dígitos da tela de ativação do PEC para "
                          "contra_chave.chave (ela não é secreta)."))
    var = cc["contra_chave_env"]
    if not var and not cc["contra_chave_file"]:
        steps.append(Step("Gere a contra-chave no e-Gestor AB e guarde-a numa variável de "
                          "ambiente antes de abrir o JupyterLab (a contra-chave nunca vai no "
                          "arquivo do site nem no notebook):",
                          "read -s PEC_CONTRA_CHAVE && export PEC_CONTRA_CHAVE && "
                          "esus-runbook lab <arquivo do site>"))
        steps.append(Step("Informe contra_chave.contra_chave_env: PEC_CONTRA_CHAVE"))
    elif var and not _env_defined(var, env) and not cc["contra_chave_file"]:
        steps.append(Step(f"A variável {var} não está definida neste JupyterLab: feche-o, "
                          "defina a variável no terminal e abra de novo:",
                          f"read -s {sh(var)} && export {sh(var)} && esus-runbook lab "
                          "<arquivo do site>"))
    missing = file_step(site, "contra_chave.contra_chave_file",
                        "o arquivo protegido (chmod 600) com a contra-chave")
    if missing:
        steps.append(missing)
    return steps
