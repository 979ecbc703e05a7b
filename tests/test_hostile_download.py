"""Hostile downloads: one row per way a server, a leftover file or the machine tried to get a
corrupt or unvouched installer accepted (issue 12, items 3 and 6 and the download's low items).

Every row runs the real CLI (``python -m esus_runbook download``) against a real HTTP server on
127.0.0.1 (esus_runbook.demo.pec_simulator) and asserts the exit code, the pt-BR message, no traceback,
what is left under the installer's final name and what the team registry holds afterwards.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from esus_runbook import stages
from esus_runbook.demo.pec_simulator import FileConfig, SimServer, installer_bytes
from esus_runbook.installer.releases import read_registry_file
from esus_runbook.sites.loading import load_sites
from esus_runbook.stages import StageContext
from esus_runbook.status import Status

from .support.installers import EXE_DATA
from .support.project import EXAMPLES, ROOT, require, run_cli

VERSION = "0.0.7"
JAR = f"eSUS-AB-PEC-{VERSION}-Linux64.jar"
EXE = f"eSUS-AB-PEC-{VERSION}-Win64.exe"
MB = 1024 * 1024

NEW = installer_bytes(3_000_000, b"new")
OLD = installer_bytes(3_000_000, b"old")


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()




@dataclass
class Ctx:
    tmp: Path
    dest: Path
    srv: SimServer
    path: str

    @property
    def url(self) -> str:
        return self.srv.url + self.path

    @property
    def registry(self) -> Path:
        return self.dest / "registro-instaladores.csv"

    def download(self, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
        return run_cli("baixar", "--url", self.url, "--versao-pec", VERSION, "--pasta", self.dest,
                       "--sem-progresso", *args, env=env)


@dataclass
class Case:
    id: str
    served: Callable[[], FileConfig]
    rc: int
    says: tuple[str, ...]                 # every one must be in stdout + stderr
    args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    before: Callable[[Ctx], None] | None = None
    name: str = JAR
    final: bytes | None = None            # the bytes under the final name (None: nothing)
    recorded: bytes | None = None         # the file whose hash the registry holds (None: no hash)
    part_left: bool = False               # a .part (with its sidecar) kept for the next run
    requests: int | None = None           # exact number of requests this run made
    never_says: tuple[str, ...] = ("o download falhou",)
    first_request_range: str | None | bool = False  # False: not checked


# ------------------------------------------------------------------ what happens before a run
def stale_part_without_sidecar(ctx: Ctx) -> None:
    """Another tool's (or an older run's) partial file, with nothing saying where it came from."""
    (ctx.dest / f"{JAR}.part").write_bytes(OLD[:1_000_000])


def stale_part_from_another_url(ctx: Ctx) -> None:
    (ctx.dest / f"{JAR}.part").write_bytes(OLD[:1_000_000])
    (ctx.dest / f".{JAR}.part.json").write_text(json.dumps({
        "url": ctx.srv.url + "/outra/versao/" + JAR, "versao": VERSION, "etag": '"sim-1"',
        "total": len(OLD), "ranges": True}), encoding="utf-8")


def stale_part_with_sidecar(text: str) -> Callable[[Ctx], None]:
    def before(ctx: Ctx) -> None:
        (ctx.dest / f"{JAR}.part").write_bytes(OLD[:1_000_000])
        (ctx.dest / f".{JAR}.part.json").write_text(text, encoding="utf-8")
    return before


def interrupted_then_file_changed(etag: str | None) -> Callable[[Ctx], None]:
    """A first run is cut after 1 MB (the .part is resumable); then the server publishes another
    file under the same URL and, like a broken cache, ignores If-Range."""
    def before(ctx: Ctx) -> None:
        first = ctx.download("--tentativas", "0")
        assert first.returncode == 2 and "a próxima execução continua deles" in first.stderr
        assert (ctx.dest / f"{JAR}.part").stat().st_size == 1_000_000
        ctx.srv.files[ctx.path] = FileConfig(data=NEW, etag=etag, if_range=False)
        ctx.srv.requests.clear()
    return before


def registry_knows_size(size: int) -> Callable[[Ctx], None]:
    def before(ctx: Ctx) -> None:
        ctx.registry.write_text(f"versao,plataforma,arquivo,tamanho_bytes\n{VERSION},linux,"
                                f"{JAR},{size}\n", encoding="utf-8")
    return before


CASES = [
    # -- 3(a): a .part is resumed only when its sidecar proves it is the same file
    Case("part-sem-controle-recomeca", lambda: FileConfig(data=NEW), 0,
         ("Instalador baixado e verificado", "[   ok   ] DL_FORMATO",
          f"Aviso: o {JAR}.part encontrado foi descartado (sem o arquivo de controle que prova "
          "de onde vieram os bytes); o download recomeçou do início."),
         args=("--confiar-primeiro-uso",), before=stale_part_without_sidecar, final=NEW,
         recorded=NEW, requests=1, first_request_range=None),
    Case("part-de-outro-endereco-recomeca", lambda: FileConfig(data=NEW), 0,
         ("Instalador baixado e verificado", "descartado (baixado de outro endereço)"),
         args=("--confiar-primeiro-uso",), before=stale_part_from_another_url, final=NEW, recorded=NEW, requests=1,
         first_request_range=None),
    Case("controle-corrompido", lambda: FileConfig(data=NEW), 0,
         ("Instalador baixado e verificado", "descartado (sem o arquivo de controle"),
         args=("--confiar-primeiro-uso",), before=stale_part_with_sidecar('{"url": '),
         final=NEW, recorded=NEW, requests=1, first_request_range=None),
    Case("controle-com-tipos-errados", lambda: FileConfig(data=NEW), 0,
         ("Instalador baixado e verificado", "descartado (baixado de outro endereço)"),
         args=("--confiar-primeiro-uso",),
         before=stale_part_with_sidecar('{"url": [1], "versao": 7, "total": "x", '
                                        '"ranges": "sim", "completo": 1}'),
         final=NEW, recorded=NEW, requests=1, first_request_range=None),
    Case("arquivo-mudou-etag-diferente", lambda: FileConfig(data=OLD, drop_after=1_000_000,
                                                            drops=1), 0,
         ("Instalador baixado e verificado",), args=("--confiar-primeiro-uso",),
         before=interrupted_then_file_changed('"sim-2"'), final=NEW, recorded=NEW, requests=2,
         first_request_range="bytes=1000000-"),
    # only the length to compare: resumed by the rule, and the ZIP's CRC catches the glue
    Case("arquivo-mudou-mesmo-tamanho-sem-etag",
         lambda: FileConfig(data=OLD, etag=None, drop_after=1_000_000, drops=1), 1,
         ("[ falha  ] DL_FORMATO", "o CRC-32 não confere", "REJEITADO"),
         args=("--confiar-primeiro-uso",), before=interrupted_then_file_changed(None),
         requests=1, first_request_range="bytes=1000000-"),
    # -- 3(b): ZIP integrity, size cap, no record without every check and a known size
    Case("sem-content-length-zeros-sem-fim-teto",
         lambda: FileConfig(data=b"PK\x03\x04", endless=True), 2,
         ("--url: o servidor enviou mais de 20.971.520 bytes (teto para versão sem tamanho "
          "no registro) sem terminar o arquivo",), args=("--confiar-primeiro-uso",),
         env={"ESUS_RUNBOOK_INSTALADOR_MAX_MB": "20"}, requests=1),
    Case("sem-content-length-zeros-sem-fim-registro",
         lambda: FileConfig(data=b"PK\x03\x04", endless=True), 2,
         ("o servidor enviou mais de 5.000.000 bytes (tamanho do registro)",),
         before=registry_knows_size(5_000_000), requests=1),
    Case("zip-truncado-sem-content-length",
         lambda: FileConfig(data=NEW[:2_000_000], no_length=True), 1,
         ("[ falha  ] DL_FORMATO", "o diretório central do ZIP não foi encontrado",
          "REJEITADO"), args=("--confiar-primeiro-uso",)),
    Case("zeros-com-cabecalho-zip", lambda: FileConfig(data=b"PK\x03\x04" + bytes(3 * MB)), 1,
         ("[ falha  ] DL_FORMATO", "REJEITADO"), args=("--confiar-primeiro-uso",)),
    Case("anuncia-mais-que-o-teto", lambda: FileConfig(data=NEW), 2,
         ("o servidor anuncia 3.000.000 bytes, acima do teto de 2.097.152 bytes",),
         env={"ESUS_RUNBOOK_INSTALADOR_MAX_MB": "2"}),
    Case("teto-invalido", lambda: FileConfig(data=NEW), 2,
         ("ESUS_RUNBOOK_INSTALADOR_MAX_MB: valor 'muito' inválido",),
         env={"ESUS_RUNBOOK_INSTALADOR_MAX_MB": "muito"}, requests=0),
    # undecided (3), not refused: the hash is evidence nobody vouched for yet
    Case("primeiro-uso-sem-tamanho-pede-confirmacao", lambda: FileConfig(data=NEW), 3,
         ("--confiar-primeiro-uso: primeiro uso da versão 0.0.7 sem tamanho em nenhum "
          "registro", f"{sha(NEW)} NÃO foi registrado", "[pendente] DL_REGISTRO"),
         part_left=True),
    Case("primeiro-uso-confirmado", lambda: FileConfig(data=NEW), 0,
         ("Instalador baixado e verificado", "primeiro uso"), args=("--confiar-primeiro-uso",),
         final=NEW, recorded=NEW),
    Case("primeiro-uso-com-tamanho-no-registro", lambda: FileConfig(data=NEW), 0,
         ("Instalador baixado e verificado",), before=registry_knows_size(len(NEW)), final=NEW,
         recorded=NEW),
    Case("exe-truncado", lambda: FileConfig(data=EXE_DATA[:70_000]), 1,
         ("[ falha  ] DL_FORMATO", "as seções do executável vão até o byte 131584",
          "REJEITADO"), args=("--plataforma", "windows", "--confiar-primeiro-uso"), name=EXE),
    Case("exe-sem-assinatura-pe", lambda: FileConfig(data=b"MZ" + bytes(100_000)), 1,
         ("[ falha  ] DL_FORMATO",), args=("--plataforma", "windows", "--confiar-primeiro-uso"),
         name=EXE),
    Case("exe-integro", lambda: FileConfig(data=EXE_DATA), 0,
         ("executável PE: 1 seções dentro do arquivo",),
         args=("--plataforma", "windows", "--confiar-primeiro-uso"), name=EXE, final=EXE_DATA,
         recorded=EXE_DATA),
    # -- 6: retry storm and what the message claims
    Case("ignora-range-e-cai-retries-2",
         lambda: FileConfig(data=installer_bytes(8 * MB), ranges=False, drop_after=5 * MB,
                            drops=100), 2,
         ("--url: a conexão caiu durante o download após 3 tentativas; nada foi guardado (o "
          "servidor não aceita retomada (Range)): a próxima execução baixa do início",),
         args=("--tentativas", "2"), requests=3,
         never_says=("continua deles", "o download falhou")),
    Case("content-range-malformado",
         lambda: FileConfig(data=NEW, drop_after=1_000_000, drops=1,
                            content_range="bytes 1000000-999/abc"), 2,
         ("Content-Range inválido ('bytes 1000000-999/abc')", "nada foi guardado"),
         requests=2, never_says=("continua deles", "o download falhou")),
    Case("erro-503-retries-2", lambda: FileConfig(data=NEW, status=503), 2,
         ("o servidor respondeu erro HTTP 503 após 3 tentativas",), args=("--tentativas", "2"),
         requests=3, never_says=("continua deles",)),
    Case("cai-com-retries-0-guarda-o-part",
         lambda: FileConfig(data=NEW, drop_after=1_000_000, drops=1), 2,
         ("após 1 tentativa; 1.000.000 bytes guardados em " + JAR + ".part, a próxima "
          "execução continua deles",), args=("--tentativas", "0"), part_left=True, requests=1),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_download(case: Case, http_server, tmp_path):
    path = f"/PEC/x9y8z7/{VERSION}/{case.name}"
    srv = http_server(files={path: case.served()})
    ctx = Ctx(tmp_path, tmp_path / "instaladores", srv, path)
    ctx.dest.mkdir()
    if case.before is not None:
        case.before(ctx)
    registry_before = ctx.registry.read_bytes() if ctx.registry.exists() else None
    proc = ctx.download(*case.args, env=case.env)
    text = proc.stdout + proc.stderr

    assert proc.returncode == case.rc, text
    assert "Traceback" not in proc.stderr
    for words in case.says:
        assert words in text, text
    for words in case.never_says:
        assert words not in text, text
    if case.rc in (2, 3):
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    final = ctx.dest / case.name
    if case.final is None:
        assert not final.exists()
    else:
        assert final.read_bytes() == case.final
    rows = read_registry_file(ctx.registry)
    row = rows.get((VERSION, "windows" if case.name == EXE else "linux"))
    if case.recorded is None:
        assert row is None or row.sha256 is None
        assert (ctx.registry.read_bytes() if ctx.registry.exists() else None) == registry_before
    else:
        assert row is not None and row.sha256 == sha(case.recorded)
        assert row.tamanho_bytes == len(case.recorded)
    part = ctx.dest / f"{case.name}.part"
    sidecar = ctx.dest / f".{case.name}.part.json"
    assert part.exists() == case.part_left and sidecar.exists() == case.part_left
    if case.rc == 1:  # rejected bytes live only in quarantine, under a name nobody installs
        (rejected,) = (ctx.dest / "quarentena").glob("*.rejeitado")
        assert not rejected.name.endswith((".jar", ".exe"))
    if case.requests is not None:
        assert len(srv.requests) == case.requests, srv.requests
    if case.first_request_range is not False:
        assert srv.requests[0]["range"] == case.first_request_range, srv.requests


def test_pending_first_use_is_confirmed_without_downloading_again(http_server, tmp_path):
    """The complete .part kept for the confirmation is taken up by the confirmed run."""
    path = f"/PEC/x9y8z7/{VERSION}/{JAR}"
    srv = http_server(files={path: FileConfig(data=NEW)})
    ctx = Ctx(tmp_path, tmp_path / "d", srv, path)
    assert ctx.download().returncode == 3
    n = len(srv.requests)
    proc = ctx.download("--confiar-primeiro-uso")
    assert proc.returncode == 0, proc.stderr
    assert len(srv.requests) == n and (ctx.dest / JAR).read_bytes() == NEW
    assert read_registry_file(ctx.registry)[(VERSION, "linux")].sha256 == sha(NEW)
    # a tampered complete .part is not taken up: it is downloaded again
    ctx2 = Ctx(tmp_path, tmp_path / "e", srv, path)
    assert ctx2.download().returncode == 3
    part = ctx2.dest / f"{JAR}.part"
    part.write_bytes(OLD)
    proc = ctx2.download("--confiar-primeiro-uso")
    assert proc.returncode == 0 and (ctx2.dest / JAR).read_bytes() == NEW
    assert srv.requests[-1]["range"] is None


# ------------------------------------------------------------------ the machine: read-only dest
def _read_only_runner(mnt: Path) -> tuple[list[str], str]:
    """(command prefix, pt-BR reason) that makes ``mnt`` unwritable for the command: a tmpfs
    remounted read-only in a private mount namespace (root, or a user namespace); else, for a
    user that is not root, a folder without write permission (root ignores permissions)."""
    tool = shutil.which("unshare")
    if tool is not None:
        cmd = [tool, "-m"] if os.geteuid() == 0 else [tool, "-r", "-m"]
        if subprocess.run([*cmd, "true"], capture_output=True).returncode == 0:
            return [*cmd, "sh", "-ec", MOUNT_RO, "sh", str(mnt)], \
                "sistema de arquivos somente leitura"
    require(os.geteuid() != 0, "unshare com namespace de montagem (root sem CAP_SYS_ADMIN)")
    (mnt / "instaladores").mkdir()
    mnt.chmod(0o555)
    (mnt / "instaladores").chmod(0o555)
    return [], "permissão negada"


MOUNT_RO = ('d=$1; shift; mount -t tmpfs -o size=1m none "$d"; mkdir "$d/instaladores"; '
            'mount -o remount,ro "$d"; exec "$@"')


@pytest.mark.parametrize("sub,says", [
    ("instaladores", "não foi possível gravar na pasta"),
    ("nova", "não foi possível criar a pasta"),
])
def test_read_only_dest_is_one_line_exit_2(http_server, tmp_path, sub, says):
    path = f"/PEC/x9y8z7/{VERSION}/{JAR}"
    srv = http_server(files={path: FileConfig(data=NEW)})
    mnt = tmp_path / "ro"
    mnt.mkdir()
    prefix, reason = _read_only_runner(mnt)
    try:
        proc = subprocess.run(
            [*prefix, sys.executable, "-m", "esus_runbook", "baixar", "--url", srv.url + path,
             "--versao-pec", VERSION, "--pasta", str(mnt / sub), "--sem-progresso"],
            capture_output=True, text=True, cwd=ROOT, timeout=120)
    finally:
        mnt.chmod(0o755)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"{mnt / sub}:--pasta: {says} ({reason}) — " + (
            "a pasta está num sistema de arquivos somente leitura ou sem permissão de "
            "escrita: escolha outra pasta" if sub == "instaladores"
            else "escolha uma pasta com permissão de escrita")]
    assert srv.requests == []  # refused before any transfer
    assert not list(mnt.rglob("*.part")) and not list(mnt.rglob("*.jar"))


# ------------------------------------------------------------------ the other low items
def test_truncated_zip_names_a_reason_not_empty_parentheses(tmp_path):
    """A ZIP whose central directory says an entry is longer than the file: zipfile raises a
    bare EOFError, which used to print 'ZIP corrompido ou truncado ()'."""
    good = (EXAMPLES / "xml" / "XmlParaESUS31_292740.zip").read_bytes()
    bad = bytearray(good)
    at = bad.rfind(b"PK\x01\x02")
    struct.pack_into("<I", bad, at + 20, 50_000_000)  # compressed size of the entry
    target = tmp_path / "XmlParaESUS31_292740.zip"
    target.write_bytes(bytes(bad))
    assert zipfile.ZipFile(target).infolist()  # the archive still opens: only data is short
    proc = run_cli("xml", "auditar", target)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"{target}: ZIP corrompido ou truncado (o arquivo acaba no meio dos dados compactados "
        "de uma entrada) — baixe o arquivo novamente no e-Gestor AB"]


def test_declared_installer_file_missing_is_falha(tmp_path):
    """A declared instalador.arquivo that does not exist fails the stage (as every declared
    file does), with the fix; nothing is written next to it."""
    site_file = tmp_path / "site.yaml"
    site_file.write_text(f"site_id: ubs-a\nnome: UBS A\nmunicipio_ibge: '2927408'\n"
                         f"instalador:\n  versao: {VERSION}\n  arquivo: inst/{JAR}\n",
                         encoding="utf-8")
    (site,) = load_sites(site_file)
    r = stages.evaluate("download", site, StageContext(tmp_path / "run", env={}))
    assert r.status is Status.FALHA
    (check,) = r.checks
    assert check.id == "DL_ARQUIVO" and check.observed == "não encontrado"
    assert "Confira instalador.arquivo" in check.remedy
    assert f"--pasta {tmp_path / 'inst'}" in check.remedy
    assert not (tmp_path / "inst").exists()
