"""The team's trust policy for installer files (docs/download.md): what the release registry
(:mod:`.releases`) records and when (``DL_REGISTRO``).

The Ministry publishes no checksum, so the first verified SHA-256 of a release is recorded in
the team registry (trust on first use) and every later file of the same release is compared
with it; a different hash is an alarm, never an update. A hash is recorded only for a file
that passed every other check and whose first use someone vouches for: a registry knows the
release's size, the SHA-256 the user gave matched, or the user confirmed it
(:data:`TRUST_FLAG`). Otherwise the check is ``pendente`` and nothing is written.
"""

from __future__ import annotations

from dataclasses import replace

from ..errors import InputError
from ..render.numbers import size_bytes
from ..results import Checks, now_iso
from ..status import Status
from .releases import Registry, Release

# The explicit confirmation needed to record the hash of a release no registry knows the size of.
TRUST_FLAG = "--confiar-primeiro-uso"
TITLE = "SHA-256 no registro de versões (primeiro uso confiável)"
RECORDED_BY = "primeiro download verificado (esus-runbook)"


def _recorded(r: Release) -> str:
    when = f" em {r.registrado_em}" if r.registrado_em else ""
    return f"{r.sha256} (registrado{when}; {r.source})"


def check_registry(checks: Checks, registry: Registry, refs: list[Release], candidate: Release,
                   *, record: bool, independently_checked: bool,
                   trust_first_use: bool = False) -> str | None:
    """Add ``DL_REGISTRO`` to ``checks`` for the file ``candidate`` describes (its version,
    platform, name, size and SHA-256), given the registry rows ``refs`` of its release, and
    record its hash when the policy allows. ``checks`` holds the file's other checks (a
    failure there forbids recording). Returns :attr:`RecordOutcome.action` when the team
    registry was written to or consulted under its lock, else None."""
    sha256 = candidate.sha256
    known = [r for r in refs if r.sha256]
    mismatched = [r for r in known if r.sha256 != sha256]
    if mismatched:
        checks.add("DL_REGISTRO", TITLE, Status.FALHA, _recorded(mismatched[0]), sha256,
                   "ALARME: este arquivo difere do que a equipe já verificou para a mesma "
                   "versão. Não instale. Baixe de novo pelo portal SISAPS; se o hash novo "
                   "repetir o registrado, o arquivo anterior estava corrompido; se não, avise a "
                   "equipe e a SAPS antes de mudar o registro.")
        return None
    if known:
        checks.add("DL_REGISTRO", TITLE, Status.OK, _recorded(known[0]), sha256)
        return None
    if not refs:
        versions = registry.known_versions(candidate.plataforma)
        note = f"versões conhecidas: {', '.join(versions[-6:])}" if versions else ""
        unknown = (f"A versão {candidate.versao} ({candidate.plataforma}) não consta dos "
                   f"registros ({note}). Confira a versão no portal SISAPS. ")
    else:
        unknown = ""
    others_failed = any(c.status is Status.FALHA for c in checks)
    if registry.team_file is None:
        checks.add("DL_REGISTRO", TITLE, Status.ALERTA, "hash registrado pela equipe",
                   f"{sha256} (sem registro da equipe configurado)",
                   unknown + "Defina registro_instaladores no inventário (um CSV da equipe, "
                   "versionado) para guardar o hash do primeiro download verificado.")
        return None
    if others_failed or not record:
        checks.add("DL_REGISTRO", TITLE, Status.ALERTA, "hash registrado pela equipe",
                   f"{sha256} (não registrado: o arquivo não passou nas outras verificações)"
                   if others_failed else f"{sha256} (não registrado)",
                   unknown + "Corrija as outras verificações; o hash só é registrado para "
                   "um arquivo que passou em todas.")
        return None
    size_known = any(r.tamanho_bytes is not None for r in refs)
    if not (size_known or independently_checked or trust_first_use):
        checks.add("DL_REGISTRO", TITLE, Status.PENDENTE,
                   "tamanho no registro, SHA-256 informado ou primeiro uso confirmado",
                   f"{sha256} (não registrado: nenhum registro conhece o tamanho desta versão)",
                   unknown + "Confira este SHA-256 com outra equipe que baixou a mesma "
                   f"versão e confirme o primeiro uso: {TRUST_FLAG} no comando download, ou "
                   "informe o hash (--sha256 ou instalador.sha256) ou o tamanho do portal "
                   f"(coluna tamanho_bytes de {registry.team_file.name}).")
        return None
    try:
        outcome = registry.record(replace(
            candidate, registrado_em=now_iso(), origem=RECORDED_BY,
            observacao="conferido com o SHA-256 informado" if independently_checked
            else f"primeiro uso confirmado ({TRUST_FLAG})" if trust_first_use and not size_known
            else "primeiro uso: sem hash oficial para comparar"))
    except (InputError, OSError) as exc:
        checks.add("DL_REGISTRO", TITLE, Status.ALERTA, "hash registrado pela equipe",
                   f"{sha256} (não foi possível gravar: {exc.__class__.__name__})",
                   f"Confira permissões de {registry.team_file} e execute de novo.")
        return None
    e = outcome.entry
    if outcome.action == "divergente":  # another site recorded a different file meanwhile
        checks.add("DL_REGISTRO", TITLE, Status.FALHA,
                   f"{e.sha256} ({size_bytes(e.tamanho_bytes)}; registrado em "
                   f"{e.registrado_em}; {e.source})",
                   f"{sha256} ({size_bytes(candidate.tamanho_bytes)})",
                   "ALARME: outro download da mesma versão, registrado há pouco, tem outro "
                   "conteúdo. Não instale nenhum dos dois antes de baixar de novo e comparar.")
    elif outcome.action == "ja_registrado":
        checks.add("DL_REGISTRO", TITLE, Status.OK,
                   f"{e.sha256} (registrado em {e.registrado_em}; {e.source})", sha256)
    elif independently_checked:
        checks.add("DL_REGISTRO", TITLE, Status.OK, "hash registrado pela equipe",
                   f"{sha256} registrado agora em {e.source} (conferido com o SHA-256 "
                   "informado)")
    else:
        checks.add("DL_REGISTRO", TITLE, Status.ALERTA, "hash registrado pela equipe",
                   f"{sha256} registrado agora em {e.source} (primeiro uso)",
                   unknown + "Primeiro download desta versão: não havia hash para comparar. "
                   "O hash foi registrado e os próximos downloads serão conferidos com ele; se "
                   "puder, confirme-o com outra equipe que baixou a mesma versão.")
    return outcome.action
