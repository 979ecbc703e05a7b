"""Backup evidence: the dumps in the folder the site declares (``backup.pasta``), read where
they are, without copying them. One ``sh -s`` on the server lists the dumps (time, size, mode),
hashes the newest with ``openssl dgst -sha256`` (or ``sha256sum``), lists its table of contents with ``pg_restore --list``
and reads its last data block (``pg_restore --data-only -t <última tabela> -f /dev/null``): the
table of contents sits at the head of a custom-format dump, so ``--list`` succeeds on a dump
cut short; the last block does not. Nothing is written on the server and no row of the dump
leaves it (only object names of the table of contents are parsed, and they are not recorded).

``--restaurar-teste`` streams the newest dump into a scratch database that this module creates
on the PostgreSQL the site names (``backup.restaurar_em``), reads ``VERSAOBANCODADOS`` back in
a read-only transaction and drops the database: never PEC's database.

Checks (``BKP_*``) and what to do: docs/backup.md.
"""

from __future__ import annotations

import glob
import os
import re
import secrets
import shlex
import shutil
import statistics
import subprocess
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..results import Checks
from ..secret_refs import read_secret
from ..status import Status
from ..urls import parse_db_url

# Tables a PEC dump must hold (docs/dominio.md, "Instalação e banco do PEC": tb_config_sistema
# [H]; tb_prof, tb_lotacao, tb_unidade_saude, tb_equipe, tb_ator_papel [M]).
REQUIRED_TABLES = ("tb_config_sistema", "tb_prof", "tb_lotacao", "tb_unidade_saude",
                   "tb_equipe", "tb_ator_papel")
DROP_RATIO = 0.5   # newest below half the median of the earlier ones: a failed dump
TREND_SIZES = 7    # earlier dumps the trend compares with
SCRIPT_TIMEOUT_S = 3600.0  # hashing a 40 GB dump takes minutes
SCRATCH_PREFIX = "esus_runbook_restauro_"
_TOC_TABLE = re.compile(r"^\d+; \d+ \d+ TABLE (\S+) (\S+) ")
_TOC_DBNAME = re.compile(r"^;\s+dbname:\s*(.*)$", re.IGNORECASE)


@dataclass
class Dump:
    name: str
    mtime: float
    size: int
    mode: str


@dataclass
class Listing:
    """What the server said about the backup folder and its newest dump."""

    folder_ok: bool = False
    dumps: list[Dump] = field(default_factory=list)
    now: float | None = None
    sha256: str | None = None
    sha_tool: str | None = None  # openssl or sha256sum, the one the server had
    toc_rc: int | None = None
    toc_tables: set[str] = field(default_factory=set)
    toc_entries: int = 0
    toc_error: str = ""
    dbname: str | None = None
    last_table: str | None = None
    last_rc: int | None = None
    last_error: str = ""

    @property
    def newest(self) -> Dump | None:
        return self.dumps[-1] if self.dumps else None


def script(marker: str, folder: str, pattern: str, pg_restore: str) -> str:
    """The read-only shell script (sent on stdin: the paths stay out of the process list)."""
    q = shlex.quote
    m = marker
    return "\n".join([
        f"d={q(folder)}; pat={q(pattern)}; pgr={q(pg_restore)}",
        f"echo '{m} pasta'; if [ -d \"$d\" ] && [ -r \"$d\" ] && [ -x \"$d\" ]; then echo sim;"
        " else echo nao; exit 0; fi",
        f"echo '{m} agora'; date +%s",
        f"echo '{m} lista'; find \"$d\" -maxdepth 1 -type f -name \"$pat\" "
        "-printf '%T@ %s %m %f\\n' 2>/dev/null | sort -n | tail -n 30",
        "newest=$(find \"$d\" -maxdepth 1 -type f -name \"$pat\" -printf '%T@ %f\\n' "
        "2>/dev/null | sort -n | tail -n 1 | cut -d' ' -f2-)",
        "[ -n \"$newest\" ] || exit 0",
        "f=\"$d/$newest\"",
        f"echo '{m} toc'; \"$pgr\" --list \"$f\" 2>&1; echo \"{m} toc_rc $?\"",
        "last=$(\"$pgr\" --list \"$f\" 2>/dev/null | grep -E '^[0-9]+; [0-9]+ [0-9]+ TABLE DATA ' "
        "| tail -n 1 | awk '{print $6\" \"$7}')",
        # the hash reads the whole file: it runs beside the read of the last block, and each
        # prints only once both are done (no interleaved output)
        # OpenSSL's SHA-256 uses the CPU's SHA instructions (3x coreutils' sha256sum on 1 GB,
        # benchmarks/backup.py); sha256sum where the server has no openssl
        "( if command -v openssl >/dev/null 2>&1; then h=$(openssl dgst -sha256 -r \"$f\" "
        "2>/dev/null | cut -d' ' -f1); t=openssl; else h=$(sha256sum \"$f\" 2>/dev/null | "
        f"cut -d' ' -f1); t=sha256sum; fi; echo \"{m} sha $h\"; echo \"{m} sha_tool $t\" ) &",
        "if [ -n \"$last\" ]; then set -- $last; o=$(\"$pgr\" --data-only -n \"$1\" -t \"$2\" "
        "-f /dev/null \"$f\" 2>&1); r=$?; fi",
        "wait",
        f"if [ -n \"$last\" ]; then echo \"{m} last $1.$2\"; printf '%s\\n' \"$o\" | "
        f"head -c 400; echo; echo \"{m} last_rc $r\"; fi",
        "",
    ])


def parse(out: str, marker: str) -> Listing:
    """The :class:`Listing` of the script's output."""
    lst = Listing()
    section, previous, toc_err = "", "", []
    for line in out.splitlines():
        if line.startswith(marker + " "):
            head = line[len(marker) + 1:].split(" ", 1)
            section = head[0]
            if section == "toc_rc":
                lst.toc_rc = int(head[1])
                lst.toc_error = "\n".join(toc_err[-3:])
            elif section == "last":
                lst.last_table = head[1]
            elif section == "last_rc":
                lst.last_rc = int(head[1])
            elif section == "sha":
                value = head[1].strip() if len(head) > 1 else ""
                lst.sha256 = value if re.fullmatch(r"[0-9a-f]{64}", value) else None
                section = previous  # the hash line may land inside another section
            elif section == "sha_tool":
                tool = head[1].strip() if len(head) > 1 else ""
                lst.sha_tool = tool if tool in ("openssl", "sha256sum") else None
                section = previous
            previous = section
            continue
        if section == "pasta":
            lst.folder_ok = line.strip() == "sim"
        elif section == "agora" and line.strip().isdigit():
            lst.now = float(line.strip())
        elif section == "lista":
            parts = line.split(" ", 3)
            if len(parts) == 4:
                lst.dumps.append(Dump(parts[3], float(parts[0]), int(parts[1]), parts[2]))
        elif section == "toc":
            m = _TOC_TABLE.match(line)
            if m:
                lst.toc_tables.add(m.group(2) if m.group(1) != "DATA" else "")
            if re.match(r"^\d+; ", line):
                lst.toc_entries += 1
            dbm = _TOC_DBNAME.match(line)
            if dbm:
                lst.dbname = dbm.group(1).strip()
            if line.startswith("pg_restore:"):
                toc_err.append(line.strip()[:200])
        elif section == "last" and line.strip():
            lst.last_error = (lst.last_error + " " + line.strip())[:200].strip()
    lst.toc_tables.discard("")
    return lst


def _size(n: int) -> str:
    for unit, div in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= div:
            return f"{n / div:.1f} {unit}".replace(".", ",")
    return f"{n} bytes"


def _age(hours: float) -> str:
    return f"{hours / 24:.1f} dias".replace(".", ",") if hours >= 48 else \
        f"{hours:.1f} h".replace(".", ",")


def judge(lst: Listing, cfg: Mapping[str, Any], checks: Checks) -> dict[str, Any]:
    """The BKP_* checks of a listing; returns the metrics to record."""
    folder, window = cfg["pasta"], int(cfg.get("janela_horas") or 24)
    metrics: dict[str, Any] = {"pasta": folder, "janela_horas": window}
    if not lst.folder_ok:
        checks.add("BKP_PASTA", "Pasta dos backups", Status.FALHA, f"{folder} legível",
                   "não existe ou sem permissão de leitura",
                   "Confira backup.pasta no arquivo do site e se o usuário SSH lê a pasta "
                   "(ou use servidor.sudo: true).")
        return metrics
    checks.add("BKP_PASTA", "Pasta dos backups", Status.OK, f"{folder} legível", "legível")
    newest = lst.newest
    if newest is None:
        checks.add("BKP_RECENTE", "Backup mais novo dentro da janela", Status.FALHA,
                   f"um dump {cfg.get('padrao')} com até {window} h", "nenhum dump na pasta",
                   "Não há backup: configure a rotina diária (pg_dump -Fc no cron) gravando "
                   "nesta pasta; o SISAB não é backup.")
        return metrics
    now = lst.now or newest.mtime
    hours = max(0.0, (now - newest.mtime) / 3600)
    metrics.update(arquivo=newest.name, idade_horas=round(hours, 2),
                   tamanho_bytes=newest.size, modo=newest.mode, dumps=len(lst.dumps),
                   tamanhos=[d.size for d in lst.dumps[-(TREND_SIZES + 1):]])
    checks.judge("BKP_RECENTE", "Backup mais novo dentro da janela", hours <= window,
                 f"até {window} h", f"{newest.name}: {_age(hours)}",
                 "A rotina de backup parou: confira o cron (ou timer systemd) e o espaço em "
                 "disco da pasta, rode um backup agora e confira de novo.")
    earlier = [d.size for d in lst.dumps[:-1]][-TREND_SIZES:]
    if newest.size == 0:
        checks.add("BKP_TAMANHO", "Tamanho do backup", Status.FALHA, "maior que zero",
                   "arquivo vazio", "O último dump falhou (disco cheio? senha?): veja o log "
                   "da rotina e rode um backup agora.")
    elif earlier:
        ref = statistics.median(earlier)
        drop = newest.size < DROP_RATIO * ref
        checks.judge("BKP_TAMANHO", "Tamanho do backup (tendência)", not drop,
                     f"≥ {int(DROP_RATIO * 100)}% da mediana dos {len(earlier)} anteriores "
                     f"({_size(int(ref))})", _size(newest.size),
                     "Queda brusca de tamanho: o dump provavelmente parou no meio (disco cheio, "
                     "processo morto). Veja o log da rotina e rode um backup agora.")
    else:
        checks.add("BKP_TAMANHO", "Tamanho do backup (tendência)", Status.OK,
                   "maior que zero", f"{_size(newest.size)} (primeiro dump: sem tendência)")
    private = newest.mode.isdigit() and int(newest.mode, 8) & 0o077 == 0
    checks.judge("BKP_PERMISSAO", "Backup legível só pelo dono", private, "600",
                 newest.mode, f"O backup tem dados de saúde: chmod 600 {shlex.quote(folder)}/* "
                 "e umask 077 na rotina de backup.")
    if lst.sha256:
        metrics["sha256"] = lst.sha256
        checks.add("BKP_SHA256", "SHA-256 do backup (calculado no servidor)", Status.OK,
                   "SHA-256 do arquivo inteiro", f"{lst.sha256} ({lst.sha_tool or 'sha256sum'})")
    else:
        checks.add("BKP_SHA256", "SHA-256 do backup (calculado no servidor)", Status.FALHA,
                   "SHA-256 do arquivo inteiro", "não calculado",
                   "O servidor não tem openssl nem sha256sum (coreutils) ou não lê o arquivo: "
                   "confira as permissões.")
    if lst.toc_rc is None or lst.toc_rc == 127:
        checks.add("BKP_LISTA", "pg_restore --list lê o backup", Status.FALHA,
                   "código 0", "pg_restore não encontrado no servidor",
                   "Informe em backup.pg_restore o caminho do pg_restore do PostgreSQL que "
                   "gera o dump (ex.: /opt/e-SUS/database/postgresql-*/bin/pg_restore).")
        return metrics
    metrics.update(toc_objetos=lst.toc_entries, banco_do_dump=lst.dbname)
    if lst.toc_rc != 0:
        checks.add("BKP_LISTA", "pg_restore --list lê o backup", Status.FALHA, "código 0",
                   f"código {lst.toc_rc}: {lst.toc_error or 'sem mensagem'}",
                   "O arquivo não é um dump legível (vazio, corrompido ou em outro formato): "
                   "a rotina deve usar pg_dump -Fc; rode um backup agora e confira de novo.")
        return metrics
    checks.add("BKP_LISTA", "pg_restore --list lê o backup", Status.OK, "código 0",
               f"{lst.toc_entries} objetos" + (f" (banco {lst.dbname})" if lst.dbname else ""))
    missing = [t for t in REQUIRED_TABLES if t not in lst.toc_tables]
    checks.judge("BKP_TABELAS", "Tabelas do PEC no backup", not missing,
                 ", ".join(REQUIRED_TABLES),
                 "todas presentes" if not missing else f"faltam: {', '.join(missing)}",
                 "O dump não é do banco do PEC (outro banco?) ou foi feito com filtros: a "
                 "rotina deve gerar pg_dump -Fc do banco esus inteiro.")
    if lst.last_table is None:
        checks.add("BKP_COMPLETO", "Backup lido até o fim", Status.FALHA,
                   "último bloco de dados legível", "o dump não tem dados de tabela",
                   "Rode um backup completo (sem --schema-only).")
    else:
        checks.judge("BKP_COMPLETO", "Backup lido até o fim", lst.last_rc == 0 and
                     not lst.last_error, "último bloco de dados legível",
                     f"{lst.last_table}: " + ("legível" if lst.last_rc == 0 and
                                              not lst.last_error else
                                              lst.last_error or f"código {lst.last_rc}"),
                     "O dump está cortado (o processo parou antes do fim: disco cheio, "
                     "queda, tempo): não serve para restaurar. Rode um backup agora e "
                     "confira o espaço da pasta.")
    return metrics


def offsite_check(cfg: Mapping[str, Any], checks: Checks) -> None:
    copy, where = cfg.get("copia_externa"), cfg.get("copia_externa_onde")
    if copy is None:
        checks.add("BKP_COPIA_EXTERNA", "Cópia fora do servidor", Status.PENDENTE, "sim",
                   "não informado", "Informe backup.copia_externa (true/false) e onde fica "
                   "em backup.copia_externa_onde.")
    else:
        checks.judge("BKP_COPIA_EXTERNA", "Cópia fora do servidor (declarada)", bool(copy),
                     "sim", f"sim: {where}" if copy and where else ("sim" if copy else "não"),
                     "Um backup só no servidor se perde com ele (disco, ransomware): copie os "
                     "dumps para outra máquina ou nuvem todo dia.", otherwise=Status.ALERTA)


def scenario_check(declared: bool | None, checks: Checks) -> None:
    """CEN_BACKUP (stage 01's yes/no) beside the measured evidence."""
    measured = [c for c in checks if c.id in ("BKP_RECENTE", "BKP_LISTA", "BKP_COMPLETO",
                                              "BKP_TABELAS")]
    good = bool(measured) and all(c.status is Status.OK for c in measured) and \
        len(measured) == 4
    shown = {True: "sim", False: "não", None: "não respondido"}[declared]
    if declared is None:
        checks.add("BKP_CENARIO", "Resposta do cenário (CEN_BACKUP) e a medição",
                   Status.PENDENTE, "cenario.backup_automatizado respondido", shown,
                   "Responda cenario.backup_automatizado no arquivo do site.")
    elif declared and not good:
        checks.add("BKP_CENARIO", "Resposta do cenário (CEN_BACKUP) e a medição", Status.FALHA,
                   "backup declarado e comprovado", "declarado sim; a medição falhou",
                   "O cenário diz que há backup automatizado, mas a medição não confirma: "
                   "corrija a rotina (veja as verificações acima).")
    else:
        checks.judge("BKP_CENARIO", "Resposta do cenário (CEN_BACKUP) e a medição",
                     declared == good, f"resposta igual à medição ({shown})",
                     "medição: backup válido" if good else "medição: sem backup válido",
                     "Atualize cenario.backup_automatizado para true: a medição encontrou "
                     "backups válidos.", otherwise=Status.ALERTA)


def collect(shell: Any, cfg: Mapping[str, Any]) -> Listing:
    marker = "@@BKP" + secrets.token_hex(6)
    rc, out, err = shell.run("sh -s", input=script(marker, cfg["pasta"], cfg.get("padrao")
                                                   or "*.backup",
                                                   cfg.get("pg_restore") or "pg_restore"),
                             timeout=SCRIPT_TIMEOUT_S)
    return parse(out, marker)


# ------------------------------------------------------------------ restore test
def local_pg_restore() -> str | None:
    """The newest pg_restore of this machine (Debian's versioned folders first)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_restore"),
                   key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    return found[-1] if found else shutil.which("pg_restore")


def restore_test(shell: Any, cfg: Mapping[str, Any], dump_name: str, checks: Checks,
                 env: Mapping[str, str] | None = None, timeout: float = 3600.0
                 ) -> dict[str, Any]:
    """Stream the dump into a scratch database on ``backup.restaurar_em``, read
    ``VERSAOBANCODADOS`` back (read-only transaction) and drop the database."""
    title = "Teste de restauração num banco temporário"
    url = cfg.get("restaurar_em")
    if not url:
        checks.add("BKP_RESTAURACAO", title, Status.PENDENTE, "backup.restaurar_em",
                   "não informado", "Informe em backup.restaurar_em um PostgreSQL de teste "
                   "(nunca o do PEC) e a variável da senha em backup.restaurar_senha_env.")
        return {}
    binary = local_pg_restore()
    if binary is None:
        checks.add("BKP_RESTAURACAO", title, Status.PENDENTE, "pg_restore nesta máquina",
                   "não encontrado", "Instale o cliente do PostgreSQL nesta máquina "
                   "(apt install postgresql-client) e repita.")
        return {}
    import psycopg  # lazy: the optional "postgres" extra, only for --restaurar-teste

    info = parse_db_url(url, "backup.restaurar_em")
    secret = read_secret(cfg.get("restaurar_senha_env"), what="senha do PostgreSQL de teste",
                         env=env)
    password = secret.reveal() if secret else None
    scratch = SCRATCH_PREFIX + secrets.token_hex(4)
    base = {k: v for k, v in info.items() if k in ("host", "port", "user")}
    admin_db = info.get("dbname") or "postgres"
    metrics: dict[str, Any] = {"restauracao_em": f"{base.get('host')}:{base.get('port', 5432)}"}
    try:
        admin = psycopg.connect(dbname=admin_db, password=password, autocommit=True,
                                connect_timeout=10, **base)
    except psycopg.Error as exc:
        checks.add("BKP_RESTAURACAO", title, Status.FALHA, "conexão ao PostgreSQL de teste",
                   _clean(str(exc), password),
                   "Confira backup.restaurar_em e a variável da senha.")
        return metrics
    try:
        admin.execute(f'CREATE DATABASE "{scratch}"')
        env_run = {**os.environ, "PGPASSWORD": password or "", "PGCONNECT_TIMEOUT": "10"}
        args = [binary, "--no-owner", "--no-acl", "--exit-on-error", "-d", scratch,
                "-h", str(base.get("host", "localhost")), "-p", str(base.get("port", 5432))]
        if base.get("user"):
            args += ["-U", str(base["user"])]
        proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, env=env_run)
        errors: list[bytes] = []
        reader = threading.Thread(target=lambda: errors.append(proc.stderr.read()),
                                  daemon=True)
        reader.start()
        q = shlex.quote(f"{cfg['pasta'].rstrip('/')}/{dump_name}")
        try:
            for chunk in shell.stream(f"cat {q}"):
                proc.stdin.write(chunk)
        except BrokenPipeError:
            pass
        finally:
            try:
                proc.stdin.close()
            except BrokenPipeError:
                pass
        rc = proc.wait(timeout=timeout)
        reader.join(10)
        err = _clean(b"".join(errors).decode("utf-8", "replace"), password)
        if rc != 0:
            checks.add("BKP_RESTAURACAO", title, Status.FALHA, "restauração sem erro",
                       f"pg_restore código {rc}: {err[:300]}",
                       "O backup não restaura: não confie nele. Rode um backup novo e repita "
                       "o teste; veja a mensagem acima.")
            return metrics
        with psycopg.connect(dbname=scratch, password=password, connect_timeout=10,
                             options="-c default_transaction_read_only=on", **base) as conn:
            row = conn.execute("SELECT ds_texto FROM tb_config_sistema WHERE "
                               "co_config_sistema = 'VERSAOBANCODADOS'").fetchone()
        versao = row[0] if row else None
        metrics["versao_restaurada"] = versao
        checks.judge("BKP_RESTAURACAO", title, bool(versao),
                     "restaurado; VERSAOBANCODADOS lido de volta",
                     f"restaurado; VERSAOBANCODADOS = {versao}" if versao else
                     "restaurado, mas sem VERSAOBANCODADOS",
                     "O dump restaura mas não tem a configuração do PEC: confira se é o banco "
                     "certo.")
        return metrics
    except psycopg.Error as exc:
        checks.add("BKP_RESTAURACAO", title, Status.FALHA, "restauração sem erro",
                   _clean(str(exc), password)[:300],
                   "O backup não restaura (tabela de configuração ausente?): rode um backup "
                   "novo e repita o teste.")
        return metrics
    finally:
        try:
            admin.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
        finally:
            admin.close()
            password = None


def _clean(text: str, password: str | None) -> str:
    text = " ".join(text.split())
    return text.replace(password, "****") if password else text


def evidence(shell: Any, site_data: Mapping[str, Any], checks: Checks, *,
             restore: bool = False, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Every backup check of a validated site; the metrics to record."""
    cfg = site_data.get("backup") or {}
    if not cfg.get("pasta"):
        checks.add("BKP_PASTA", "Pasta dos backups", Status.PENDENTE, "backup.pasta",
                   "não informada", "Informe em backup.pasta a pasta do servidor onde a "
                   "rotina grava os dumps (e backup.janela_horas).")
        offsite_check(cfg, checks)
        return {}
    lst = collect(shell, cfg)
    own = Checks()  # the scenario check reads only this measurement's checks
    metrics = judge(lst, cfg, own)
    if restore and lst.newest is not None and lst.toc_rc == 0:
        metrics.update(restore_test(shell, cfg, lst.newest.name, own, env=env))
    offsite_check(cfg, own)
    scenario_check((site_data.get("cenario") or {}).get("backup_automatizado"), own)
    checks.extend(own)
    metrics["servidor"] = shell.where
    return metrics


def restore_refused(cfg: Mapping[str, Any], pec_db_url: str | None) -> None:
    """Refuse a restore test aimed at PEC's own database (InputError, exit 2)."""
    url = cfg.get("restaurar_em")
    if not url or not pec_db_url:
        return
    a, b = parse_db_url(url, "backup.restaurar_em"), parse_db_url(pec_db_url, "instalacao.db_url")
    same = (a.get("host"), str(a.get("port", 5432))) == (b.get("host"), str(b.get("port", 5432)))
    if same and a.get("dbname") == b.get("dbname"):
        raise InputError("backup.restaurar_em aponta para o banco do PEC", file="site",
                         key="backup.restaurar_em",
                         remedy="use um PostgreSQL de teste (ou ao menos o banco postgres): o "
                                "teste cria e apaga um banco temporário ao lado")
