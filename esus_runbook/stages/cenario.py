"""Stage 1 — cenário: centralized or decentralized, the installation type, the server profile.

Two separate axes (docs/dominio.md, "Cenário"):

- the *scenario* comes from how many units attend in this installation: more than one is the
  centralized scenario, which must meet the manual's six "do not centralize" criteria
  (``CRITERIA``, each a ``falha`` when answered "no"); one unit is decentralized and gets the
  same questions as warnings, because backup, power and internet still decide whether its data
  reach SISAB;
- the *installation type* (``prontuario`` or a municipal/state *centralizador*) is a product
  decision: a centralizer receives the data of other installations and sends them to SISAB,
  units do not attend in it, and it has its own profile in the manual.

The profile comes from ``data/profiles.csv``: the smallest ``prontuario`` profile whose
``max_users`` covers ``usuarios_simultaneos``, or the centralizer's own profile.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..data import read_csv
from ..results import StageResult
from ..sites.fields import FIELDS
from ..sites.loading import Site
from ..status import Status
from .steps import Step

# The six criteria are the manual's advice ("Unificação de bases", §3: centralizing "não é
# recomendado" without them); failing them in a centralized scenario is this runbook's policy
# (docs/dominio.md, "Cenário").
MANUAL_UNIFICACAO = ("Manual e-SUS APS, \"Unificação de bases\", §3 (https://saps-ms.github.io/"
                     "Manual-eSUS_APS/docs/Apoio%20a%20Implanta%C3%A7%C3%A3o/"
                     "Unificacao_de_bases/)")
OFFLINE_ROUTE = ("Uma unidade sem internet estável pode ter o seu próprio PEC "
                 "(descentralizado): os dados dela chegam ao SISAB por um PEC online ou pelo "
                 "centralizador do município, que recebe os dados das instalações e os envia.")

# (site key, check id, title if centralized, title if decentralized, remedy if centralized,
#  remedy if decentralized)
CRITERIA = (
    ("infraestrutura_adequada", "CEN_INFRA",
     "Infraestrutura adequada para manter o PEC eficiente em todas as unidades",
     "Infraestrutura adequada para manter o PEC eficiente na unidade",
     "Dimensione servidor, rede e computadores das unidades para que o PEC responda bem em "
     "todas elas antes de centralizar (perfil de servidor na etapa 2).",
     "Confira se o servidor e os computadores da unidade comportam o PEC (perfil de servidor "
     "na etapa 2)."),
    ("internet_estavel", "CEN_INTERNET", "Internet estável entre as unidades e o servidor",
     "Internet estável no local do PEC (envio ao SISAB)",
     "Estabilize o link (contrate redundância) antes de centralizar; sem internet as "
     "unidades param de atender. " + OFFLINE_ROUTE,
     "Sem internet estável os dados não chegam ao SISAB: a transmissão roda às 00:00 e "
     "precisa de conexão; melhore o link da unidade ou envie os dados por um PEC online ou "
     "pelo centralizador do município, que os transmite."),
    ("energia_estavel", "CEN_ENERGIA", "Energia estável (sem quedas frequentes)",
     "Energia estável (sem quedas frequentes)",
     "Instale nobreak/gerador no servidor e nos pontos de rede antes de centralizar.",
     "Instale nobreak no servidor: ele precisa ficar ligado para a transmissão ao SISAB "
     "(00:00) e quedas corrompem o banco."),
    ("equipe_ti", "CEN_EQUIPE_TI", "Equipe de TI com conhecimento do e-SUS APS",
     "Equipe de TI com conhecimento do e-SUS APS",
     "Designe e capacite uma equipe de TI responsável pelo PEC antes de centralizar.",
     "Defina quem dá suporte ao PEC na unidade (atualizações, backup, certificados)."),
    ("backup_automatizado", "CEN_BACKUP", "Rotina diária e automática de backup",
     "Rotina diária e automática de backup",
     "Automatize o backup diário do banco (pg_dump -Fc) e teste a restauração antes de "
     "centralizar.",
     "Automatize o backup diário do banco (pg_dump -Fc) e teste a restauração."),
    ("politica_seguranca", "CEN_SEGURANCA", "Política de segurança da informação",
     "Política de segurança da informação",
     "Formalize uma política de segurança da informação (acessos, senhas, LGPD) antes de "
     "centralizar.",
     "Formalize regras de acesso, senhas e cópias de segurança (LGPD)."),
)


TIPOS = {"prontuario": "prontuário", "centralizador_municipal": "centralizador municipal",
         "centralizador_estadual": "centralizador estadual"}


def profiles() -> tuple[dict[str, Any], ...]:
    return read_csv("profiles.csv")


def select_profile(tipo_instalacao: str, usuarios: int | None) -> dict[str, Any] | None:
    """The official profile for an installation type and number of concurrent users, or
    None when no official profile covers it (or users are unknown for a prontuário)."""
    rows = profiles()
    if tipo_instalacao != "prontuario":
        return next((r for r in rows if r["tipo"] == tipo_instalacao), None)
    if usuarios is None:
        return None
    fitting = [r for r in rows if r["tipo"] == "prontuario" and r["max_users"] >= usuarios]
    return min(fitting, key=lambda r: r["max_users"]) if fitting else None


def architecture(profile: dict[str, Any]) -> dict[str, Any]:
    """The recommended servers for a profile, as the next stages use it."""
    app = {"ram_gb": profile["app_ram_gb"], "cpu_cores": profile["cpu_cores"],
           "cpu_ghz": profile["cpu_ghz"], "passmark": profile["passmark"],
           "disk_gb": profile["app_disk_gb"], "write_mb_s": profile["app_write_mb_s"],
           "read_mb_s": profile["app_read_mb_s"]}
    if profile["servers"] == 1:
        return {"servidores": 1, "aplicacao_e_banco": app}
    db = {"ram_gb": profile["db_ram_gb"], "disk_gb": profile["db_disk_gb"],
          "write_mb_s": profile["db_write_mb_s"], "read_mb_s": profile["db_read_mb_s"]}
    return {"servidores": 2, "aplicacao": app, "banco": db}


def evaluate(site: Site, ctx=None) -> StageResult:
    c = site.cenario
    r = StageResult(site.site_id, "cenario")
    tipo, users, ubs = c["tipo_instalacao"], c["usuarios_simultaneos"], c["ubs_atendidas"]
    centralizer = tipo != "prontuario"
    centralized = ubs > 1   # the scenario: units attending in this installation
    scenario = "centralizado" if centralized else "descentralizado"

    profile = select_profile(tipo, users)
    if profile is not None:
        servers = "1 servidor" if profile["servers"] == 1 else f"{profile['servers']} servidores"
        r.add("CEN_PERFIL", "Perfil de servidor (tabela oficial)", Status.OK,
              f"perfil oficial para {users} usuários simultâneos" if tipo == "prontuario"
              else f"perfil oficial do {TIPOS[tipo]}",
              f"perfil \"{profile['label']}\" ({servers})")
    elif tipo == "prontuario" and users is None:
        r.add("CEN_PERFIL", "Perfil de servidor (tabela oficial)", Status.PENDENTE,
              "número de usuários simultâneos", None,
              "Informe cenario.usuarios_simultaneos (pico de profissionais usando o PEC ao "
              "mesmo tempo) para escolher o perfil de servidor.")
    else:
        r.add("CEN_PERFIL", "Perfil de servidor (tabela oficial)", Status.FALHA,
              "até 4 000 usuários simultâneos", f"{users} usuários",
              "Acima do maior perfil oficial: divida a instalação ou dimensione com a SAPS "
              "(suporte e-SUS APS) antes de seguir.")

    if centralizer:
        label = TIPOS[tipo]
        if centralized:
            r.add("CEN_TIPO", "Tipo de instalação", Status.ALERTA,
                  f"{label}: recebe os dados de outras instalações", f"{ubs} unidades "
                  "atendendo nesta instalação",
                  "Num centralizador as unidades não atendem: ele só recebe os dados das "
                  "instalações das unidades e envia ao SISAB. Se as unidades vão atender "
                  "nesta instalação, use cenario.tipo_instalacao: prontuario; senão, "
                  "informe cenario.ubs_atendidas: 1.")
        else:
            r.add("CEN_TIPO", "Tipo de instalação", Status.OK,
                  f"{label}: recebe os dados de outras instalações",
                  "nenhuma unidade atende diretamente nesta instalação")

    if tipo == "prontuario" and not site.data["cnes"] and not centralized:
        r.add("CEN_CNES", "CNES da unidade (descentralizado)", Status.ALERTA,
              "CNES de 7 dígitos", None,
              "Informe o CNES da UBS no arquivo do site: a auditoria do XML confere se a "
              "unidade está no arquivo.")

    for key, cid, title_central, title_local, remedy_central, remedy_local in CRITERIA:
        title = title_central if centralized else title_local
        answer = c[key]
        if answer is True:
            r.add(cid, title, Status.OK, "sim", "sim")
        elif answer is None:
            r.add(cid, title, Status.PENDENTE, "sim", "não informado",
                  f"Responda cenario.{key} (true/false) no arquivo do site.")
        elif centralized:
            r.add(cid, title, Status.FALHA, "sim", "não",
                  "Política deste runbook: não centralizar sem isto (o "
                  f"{MANUAL_UNIFICACAO} diz que centralizar nesse caso não é recomendado). "
                  f"{remedy_central}")
        else:
            r.add(cid, title, Status.ALERTA, "sim", "não", remedy_local)

    banda = c["banda_mbps"]
    if centralized:
        if banda is None:
            r.add("CEN_BANDA", "Banda do link do servidor", Status.ALERTA, "banda informada",
                  "não informada",
                  "Não há número oficial de banda: informe cenario.banda_mbps e meça o tempo "
                  "de resposta do PEC em cada UBS antes de centralizar.")
        elif banda <= 0:
            r.add("CEN_BANDA", "Banda do link do servidor", Status.FALHA, "> 0 Mbps",
                  f"{banda:g} Mbps", "Um cenário centralizado precisa de link de dados.")
        else:
            r.add("CEN_BANDA", "Banda do link do servidor", Status.OK, "banda informada",
                  f"{banda:g} Mbps ({banda / ubs:.1f} Mbps por UBS)")

    return r.finish(
        cenario=scenario,
        tipo_instalacao=tipo,
        centralizador=centralizer,
        usuarios_simultaneos=users,
        ubs_atendidas=ubs,
        perfil=dict(profile) if profile else None,
        arquitetura=architecture(profile) if profile else None,
        recomendacao=("A SAPS recomenda uma instalação centralizada por município quando os "
                      "seis pré-requisitos estão atendidos."),
    )


def next_steps(site: Site, env: Mapping[str, str] | None = None) -> list[Step]:
    c = site.cenario
    unanswered = [f.label for f in FIELDS["cenario"]
                  if f.kind == "bool" and c.get(f.key) is None]
    steps = []
    if c["usuarios_simultaneos"] is None or unanswered:
        what = ([] if c["usuarios_simultaneos"] is not None else ["Usuários simultâneos"]) \
            + unanswered
        steps.append(Step("No formulário do 01_cenario (seção Cenário), responda: "
                          + ", ".join(what) + "; depois clique em Salvar."))
    return steps
