"""The site file's fields: one declaration per key (type, pt-BR label and help, bounds,
the validator of its text), read by the loader, the form, the guide and the published JSON
Schema (``schemas/site.schema.json`` is generated from :data:`FIELDS`)."""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import InputError
from ..net import valid_host
from ..ssh_target import parse_target
from ..urls import db_url_problem, http_url_problem

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
VERSION = re.compile(r"^\d+\.\d+\.\d+$")
TIPOS_INSTALACAO = ("prontuario", "centralizador_municipal", "centralizador_estadual")
PLATAFORMAS = ("linux", "windows")
MODOS = ("producao", "treinamento")


# What people type for a yes/no field (any case; "nao" without the tilde too).
BOOL_WORDS = {"sim": True, "s": True, "true": True, "yes": True,
              "não": False, "nao": False, "n": False, "false": False, "no": False}
_ACCENTED = {"a": "àáâãä", "c": "ç", "e": "èéêë", "i": "ìíîï", "o": "òóôõö", "u": "ùúûü"}
IBGE_PATTERN = r"^[0-9]{7}$"
CNES_PATTERN = r"^[0-9]{7}$"
NUMERIC_TEXT_KEYS = ("municipio_ibge", "cnes")  # written unquoted, read as a number by YAML


def fold(text: str) -> str:
    """An enumeration value as the table spells it: no accents, lower case, '_' for
    spaces and hyphens (``Prontuário`` → ``prontuario``, ``Centralizador municipal`` →
    ``centralizador_municipal``)."""
    bare = "".join(c for c in unicodedata.normalize("NFKD", text)
                   if not unicodedata.combining(c))
    return re.sub(r"[ _-]+", "_", bare.strip().casefold())


def normalize(f: Field, value: Any) -> Any:
    """The one normaliser of typed values, applied on load before validation: yes/no words
    for booleans, accents and case for enumerations; anything else is returned as is (the
    validator then says what is wrong with it)."""
    if f.kind == "bool" and isinstance(value, str):
        word = value.strip().casefold()
        return BOOL_WORDS.get(word, value)
    if f.kind == "enum" and isinstance(value, str):
        folded = fold(value)
        return folded if folded in f.choices else value
    return value


def _letter_class(ch: str) -> str:
    variants = ch + ch.upper() + _ACCENTED.get(ch, "") + _ACCENTED.get(ch, "").upper()
    return f"[{variants}]" if len(variants) > 1 else re.escape(ch)


def words_pattern(words: tuple[str, ...] | list[str], *, enum: bool = False) -> str:
    """A JSON Schema (ECMA-262) pattern accepting what :func:`normalize` accepts for these
    words: any case, accents (enumerations) and spaces or hyphens for '_'."""
    def one(word: str) -> str:
        out = []
        for ch in word:
            if ch == "_" and enum:
                out.append("[ _-]+")
            elif ch.isalpha():
                base = fold(ch) if enum else ch
                out.append(_letter_class(base) if enum else
                           f"[{ch}{ch.upper()}]" if ch.upper() != ch else re.escape(ch))
            else:
                out.append(re.escape(ch))
        return "".join(out)
    return "^\\s*(?:" + "|".join(one(w) for w in words) + ")\\s*$"


@dataclass(frozen=True)
class Field:
    """One key of the site file: its type, whether required, its default and pt-BR texts.

    ``kind`` is one of: str, int, float, bool, date, path, env (an environment variable
    name), enum (see ``choices``). ``check`` returns a pt-BR problem text or None.
    """

    key: str
    kind: str
    label: str
    help: str
    required: bool = False
    default: Any = None
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    check: Callable[[Any], str | tuple[str, str] | None] | None = None
    remedy: str | None = None
    pattern: str | None = None  # the text's form, for the JSON Schema (``check`` decides)


def _check_slug(v: str) -> str | None:
    return None if SLUG.match(v) else "identificador inválido"


def check_ibge(v: str) -> str | None:
    if not (len(v) == 7 and v.isdigit()):
        return "código IBGE deve ter 7 dígitos"
    from .. import ids  # lazy: ids imports numpy (0.2 s), which a notebook reading a snapshot skips

    return None if ids.ibge_valid(v) else "dígito verificador do código IBGE inválido"


def _check_confirmation(v: str) -> str | None:
    ok = len(v) == 12 and all(c in "0123456789abcdef" for c in v)
    return None if ok else "código de confirmação deve ter 12 caracteres (0-9, a-f)"


def check_cnes(v: str) -> str | None:
    from .. import ids  # lazy: see above

    return None if ids.cnes_format(v) else "CNES deve ter 7 dígitos"


def _check_version(v: str) -> str | None:
    return None if VERSION.match(v) else "versão deve ter o formato N.N.N"


def _check_sha256(v: str) -> str | None:
    return None if re.fullmatch(r"[0-9a-fA-F]{64}", v) else "SHA-256 deve ter 64 dígitos hex"


def _check_url(v: str) -> tuple[str, str] | None:
    return http_url_problem(v, "do instalador")


def _check_pec_url(v: str) -> tuple[str, str] | None:
    return http_url_problem(v, "do PEC")


def _check_link_url(v: str) -> tuple[str, str] | None:
    return http_url_problem(v, "pública da instalação")


def _check_db_url(v: str) -> tuple[str, str] | None:
    return db_url_problem(v)


def cert_domain_problem(v: str) -> str | None:
    """What is wrong with a value for the installer's ``-cert-domain`` (the public domain of
    the automatic HTTPS): a bare host name, no scheme, no port, no path, not an IP address
    (docs/dominio.md, "Instalação e banco do PEC"). None when it is fine."""
    bad = "domínio inválido"
    text = str(v)
    if "://" in text or text.lower().startswith(("http:", "https:")):
        return f"{bad}: informe só o nome, sem http:// ou https://"
    if "/" in text:
        return f"{bad}: informe só o nome, sem caminho ('/')"
    try:
        ipaddress.ip_address(text.strip("[]"))
        return (f"{bad}: informe um nome de domínio, não um endereço IP (o certificado é "
                "emitido para o domínio)")
    except ValueError:
        pass
    host, sep, port = text.rpartition(":")
    if sep and host and port.isdigit():
        return f"{bad}: informe só o nome, sem a porta (a porta vai em instalacao.https_porta)"
    if text.endswith("."):
        return f"{bad}: informe o nome sem o ponto final"
    if not valid_host(text) or ":" in text or text.startswith("["):
        return f"{bad} (RFC 1123: letras, números, '-' e '.')"
    if "." not in text:
        return f"{bad}: informe o domínio público completo, ex.: pec.municipio.gov.br"
    return None


def _check_hostname(v: str) -> str | None:
    """A host to connect to: an IPv4 address or an RFC 1123 name, no port, no brackets."""
    return None if valid_host(v) and not v.startswith("[") and ":" not in v else \
        "endereço inválido (IP ou nome RFC 1123: letras, números, '-' e '.')"


def _check_ssh(v: str) -> str | None:
    try:
        parse_target(v)
    except InputError as exc:
        return exc.problems[0].message
    return None


def _check_server_path(v: str) -> str | None:
    if not v.startswith("/") or "/../" in f"{v}/" or any(c in v for c in "'\"`$\\"):
        return "caminho absoluto no servidor Linux, sem aspas, '$', '`' ou '..'"
    return None


def _check_glob(v: str) -> str | None:
    ok = re.fullmatch(r"[A-Za-z0-9_.*?\[\]-]{1,80}", v) and "/" not in v
    return None if ok else "padrão de nome de arquivo: letras, números, '.', '_', '-', '*', '?'"


def _check_key_path(v: str) -> str | None:
    if "PRIVATE KEY" in v or "BEGIN " in v or "\n" in v:
        return "parece o conteúdo de uma chave, não o caminho do arquivo"
    return None


FIELDS: dict[str | None, tuple[Field, ...]] = {
    None: (
        Field("site_id", "str", "Identificador do site",
              "Letras minúsculas, números e hífens; único no inventário (ex.: ubs-centro).",
              required=True, check=_check_slug, pattern=SLUG.pattern,
              remedy="use só letras minúsculas, números e hífens, ex.: ubs-centro"),
        Field("nome", "str", "Nome", "Nome do estabelecimento ou da instalação.",
              required=True),
        Field("municipio_ibge", "str", "Município (IBGE)",
              "Código IBGE do município com 7 dígitos, ex.: 2927408 (Salvador).",
              required=True, check=check_ibge, pattern=IBGE_PATTERN,
              remedy="confira o código de 7 dígitos em https://www.ibge.gov.br/explica/codigos-dos-municipios.php"),
        Field("cnes", "str", "CNES da unidade",
              "CNES (7 dígitos) da UBS numa instalação descentralizada; vazio numa "
              "centralizada.", check=check_cnes, pattern=CNES_PATTERN,
              remedy="informe os 7 dígitos do CNES (com zeros à esquerda) ou deixe vazio"),
    ),
    "cenario": (
        Field("tipo_instalacao", "enum", "Tipo de instalação",
              "prontuario (PEC completo, onde as unidades atendem) ou centralizador "
              "municipal/estadual (recebe os dados de outras instalações e envia ao SISAB).",
              default="prontuario", choices=TIPOS_INSTALACAO),
        Field("usuarios_simultaneos", "int", "Usuários simultâneos",
              "Quantos profissionais usam o PEC ao mesmo tempo no pico.", minimum=1,
              maximum=100_000),
        Field("ubs_atendidas", "int", "UBS atendidas",
              "Quantas unidades atendem nesta instalação (mais de 1 = cenário "
              "centralizado).",
              default=1, minimum=1, maximum=10_000),
        Field("infraestrutura_adequada", "bool", "Infraestrutura adequada",
              "Servidor, rede e computadores mantêm o PEC rápido em todas as unidades?"),
        Field("internet_estavel", "bool", "Internet estável",
              "A conexão entre as unidades e o servidor é estável?"),
        Field("energia_estavel", "bool", "Energia estável",
              "Não há quedas frequentes de energia?"),
        Field("equipe_ti", "bool", "Equipe de TI",
              "Há equipe de TI com conhecimento do e-SUS APS?"),
        Field("backup_automatizado", "bool", "Backup automatizado",
              "Há rotina diária e automática de backup do banco?"),
        Field("politica_seguranca", "bool", "Política de segurança",
              "Há política de segurança da informação formalizada?"),
        Field("banda_mbps", "float", "Banda (Mbps)",
              "Banda contratada do link do servidor (opcional).", minimum=0,
              maximum=1_000_000),
    ),
    "ambiente": (
        Field("probe", "path", "Arquivo de sondagem",
              "JSON gerado por `esus-runbook sondar --json` no servidor."),
        Field("sondar_esta_maquina", "bool", "Sondar esta máquina",
              "true só quando o JupyterLab (ou o lote) roda no próprio servidor do PEC: a "
              "etapa 2 sonda a máquina onde roda. Sem isto, sem ambiente.probe e sem "
              "servidor.ssh, a etapa fica pendente com os comandos.", default=False),
        Field("passmark", "int", "PassMark da CPU",
              "Pontuação PassMark da CPU do servidor, se conhecida.", minimum=0,
              maximum=1_000_000),
    ),
    "instalador": (
        Field("versao", "str", "Versão do PEC", "Versão a instalar, ex.: 5.5.24.",
              check=_check_version, pattern=VERSION.pattern),
        Field("plataforma", "enum", "Plataforma", "linux ou windows.",
              default="linux", choices=PLATAFORMAS),
        Field("arquivo", "path", "Arquivo do instalador",
              "Caminho do instalador já baixado."),
        Field("url", "str", "URL do instalador",
              "Endereço de download copiado do portal SISAPS.", check=_check_url),
        Field("sha256", "str", "SHA-256 esperado",
              "Hash esperado do instalador; vazio = usar o registro de versões.",
              check=_check_sha256, pattern=r"^[0-9a-fA-F]{64}$"),
    ),
    "instalacao": (
        Field("modo", "enum", "Modo", "producao ou treinamento.", default="producao",
              choices=MODOS),
        Field("atualizacao", "bool", "Atualização",
              "true quando já existe um PEC instalado que será atualizado.", default=False),
        Field("pec_url", "str", "URL do PEC",
              "Endereço do PEC instalado, ex.: http://10.0.0.5:8080.", check=_check_pec_url),
        Field("db_url", "str", "URL do banco",
              "postgresql://usuario@host:5433/esus (sem senha).", check=_check_db_url,
              remedy="tire a senha da URL e informe o nome da variável em db_password_env"),
        Field("db_password_env", "env", "Variável da senha do banco",
              "Nome da variável de ambiente com a senha do banco (nunca a senha)."),
        Field("db_password_file", "path", "Arquivo da senha do banco",
              "Arquivo (permissão 600) com a senha do banco."),
        Field("link_instalacao", "str", "Link público da instalação",
              "Endereço pelo qual o PEC é acessado da internet (LINKINSTALACAO), ex.: "
              "https://pec.exemplo.gov.br; sem porta, http usa 80.", check=_check_link_url),
        Field("https_dominio", "str", "Domínio HTTPS",
              "Domínio público para o HTTPS automático (-cert-domain), se desejado.",
              check=cert_domain_problem,
              remedy="ex.: pec.municipio.gov.br (o domínio público que aponta para o "
                     "servidor)"),
        Field("https_porta", "int", "Porta HTTPS", "Porta do HTTPS automático.",
              default=443, minimum=1, maximum=65535),
        Field("data_instalacao", "date", "Data da instalação",
              "Quando o PEC foi instalado (uma contra-chave de antes desta data é "
              "conferida: a chave pode ter mudado)."),
    ),
    "contra_chave": (
        Field("chave", "str", "Chave",
              "Chave de 32 dígitos (8 grupos de 4) exibida pelo PEC na ativação; a etapa "
              "contra-chave confere o formato."),
        Field("contra_chave_env", "env", "Variável da contra-chave",
              "Nome da variável de ambiente com a contra-chave (nunca a contra-chave)."),
        Field("contra_chave_file", "path", "Arquivo da contra-chave",
              "Arquivo (permissão 600) com a contra-chave."),
        Field("gerada_em", "date", "Gerada em", "Data em que a contra-chave foi gerada."),
        Field("gerada_por", "str", "Gerada por", "Quem gerou a contra-chave no e-Gestor."),
    ),
    "xml": (
        Field("arquivo", "path", "XML do CNES",
              "XML ou ZIP gerado no e-Gestor AB para o município."),
        Field("anterior", "path", "XML anterior",
              "O último XML importado no PEC, para comparar o que muda."),
        Field("alteracoes_confirmadas", "str", "Alterações confirmadas",
              "Código de confirmação que a etapa 6 mostra ao comparar com xml.anterior: "
              "informe-o depois de revisar quem perde o acesso, CNS alterados e remoções.",
              check=_check_confirmation, pattern=r"^[0-9a-f]{12}$",
              remedy="copie o código exibido pela etapa 6 ou por 'esus-runbook xml comparar'"),
    ),
    "servidor": (
        Field("ssh", "str", "Acesso SSH ao servidor",
              "usuario@host ou usuario@host:porta (padrão 22), ex.: suporte@10.0.0.5.",
              check=_check_ssh,
              remedy="use usuario@host ou usuario@host:porta, ex.: suporte@10.0.0.5"),
        Field("chave_ssh_file", "path", "Chave SSH (arquivo)",
              "Caminho da chave privada, ex.: ~/.ssh/id_ed25519; vazio = agente SSH.",
              check=_check_key_path,
              remedy="informe o CAMINHO do arquivo da chave, nunca o conteúdo"),
        Field("known_hosts", "path", "Hosts conhecidos",
              "Arquivo known_hosts com a chave do servidor (padrão: ~/.ssh/known_hosts)."),
        Field("senha_env", "env", "Variável da senha SSH",
              "Nome da variável de ambiente com a senha SSH, se não usar chave (nunca a "
              "senha)."),
        Field("sudo", "bool", "Usar sudo -n",
              "true: leituras só de root (log do instalador) com sudo -n.", default=False),
    ),
}
FIELDS.update({
    "backup": (
        Field("pasta", "str", "Pasta dos backups no servidor",
              "Pasta onde a rotina diária grava os dumps do banco (pg_dump -Fc), ex.: "
              "/opt/e-SUS/backups.", check=_check_server_path,
              remedy="informe o caminho absoluto da pasta no servidor, ex.: /opt/e-SUS/backups"),
        Field("padrao", "str", "Nome dos arquivos de backup",
              "Padrão dos nomes dos dumps na pasta, ex.: esus-*.backup.",
              default="*.backup", check=_check_glob,
              remedy="use um padrão simples como esus-*.backup"),
        Field("janela_horas", "int", "Janela do backup (horas)",
              "O backup mais novo deve ter no máximo estas horas (24 = diário; 168 = "
              "semanal).", default=24, minimum=1, maximum=24 * 62),
        Field("copia_externa", "bool", "Cópia fora do servidor",
              "Há cópia dos backups fora do servidor (outra máquina, nuvem, mídia)?"),
        Field("copia_externa_onde", "str", "Onde fica a cópia externa",
              "Onde a cópia fora do servidor é guardada (texto livre, sem senhas)."),
        Field("pg_restore", "str", "pg_restore no servidor",
              "Caminho do pg_restore no servidor (o do PostgreSQL que gerou o dump), ex.: "
              "/opt/e-SUS/database/postgresql-9.6.13-linux-x64/bin/pg_restore.",
              default="pg_restore", check=lambda v: None if v == "pg_restore" else
              _check_server_path(v),
              remedy="informe o caminho absoluto do pg_restore no servidor"),
        Field("restaurar_em", "str", "PostgreSQL para o teste de restauração",
              "postgresql://usuario@host:porta/postgres de um PostgreSQL de teste (nunca o do "
              "PEC): o teste cria e apaga lá um banco temporário.", check=_check_db_url,
              remedy="tire a senha da URL e informe o nome da variável em restaurar_senha_env"),
        Field("restaurar_senha_env", "env", "Variável da senha do teste de restauração",
              "Nome da variável de ambiente com a senha do PostgreSQL de teste."),
    ),
    "certificado": (
        Field("endereco", "str", "Endereço para o teste do certificado",
              "IP ou nome onde conectar quando o domínio ainda não aponta para o servidor "
              "(o nome conferido continua o do domínio).", check=_check_hostname,
              remedy="informe só o IP ou o nome, ex.: 10.0.0.5"),
        Field("ca_arquivo", "path", "Autoridade certificadora (arquivo PEM)",
              "CA a usar em vez das do sistema, para uma cadeia interna do município."),
    ),
    "atualizacao": (
        Field("backup_instalador", "bool", "Backup pelo instalador (-backup)",
              "true: o comando de atualização mostrado inclui -backup (o instalador faz um "
              "dump antes de migrar).", default=False),
        Field("pasta_pec", "str", "Pasta do PEC no servidor",
              "Onde o PEC está instalado (o espaço livre é medido nela).",
              default="/opt/e-SUS", check=_check_server_path,
              remedy="informe o caminho absoluto, ex.: /opt/e-SUS"),
        Field("log_pec", "str", "Log do PEC no servidor",
              "O pec.log da aplicação, lido depois da atualização.",
              default="/opt/e-SUS/webserver/logs/pec.log", check=_check_server_path,
              remedy="informe o caminho absoluto do pec.log"),
        Field("ssl_properties", "str", "Configuração HTTPS no servidor",
              "Arquivo da configuração do HTTPS (só o SHA-256 dele é guardado).",
              default="/opt/e-SUS/webserver/config/ssl.properties", check=_check_server_path,
              remedy="informe o caminho absoluto do ssl.properties"),
    ),
})
SECTIONS = tuple(k for k in FIELDS if k is not None)
