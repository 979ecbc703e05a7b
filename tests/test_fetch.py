"""Resumable verified download and the release registry, against real HTTP servers on
127.0.0.1 (esus_runbook.demo.pec_simulator): Range, dropped connections, errors, TLS, DNS, TOFU."""

from __future__ import annotations

import hashlib
import json
import os
import ssl
import subprocess
import sys
import threading
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from esus_runbook.demo.pec_simulator import FileConfig, PecConfig, installer_bytes
from esus_runbook.installer.downloader import DownloadError, download
from esus_runbook.installer.releases import Registry, Release, read_registry_file
from esus_runbook.installer.verify import verify_file
from esus_runbook.integrity import check_pe, check_zip, describe_zip_error
from esus_runbook.status import Status

from .support.installers import EXE_DATA
from .support.project import ROOT, require_tool, run_cli

NAME = "eSUS-AB-PEC-0.0.7-Linux64.jar"
PATH = f"/PEC/a1b2c3/0.0.7/{NAME}"


def payload(n: int = 3_000_000, seed: bytes = b"a") -> bytes:
    """A JAR-shaped body (a valid ZIP) of exactly n bytes, deterministic."""
    return installer_bytes(n, seed)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def ids(checks) -> dict[str, str]:
    return {c.id: c.status.value for c in checks}


def test_download_first_use_records_hash_then_next_download_matches(http_server, tmp_path):
    data = payload()
    srv = http_server(files={PATH: FileConfig(data=data)})
    reg_file = tmp_path / "registro.csv"
    # no registry knows this release's size: verified, but kept as .part until confirmed
    waiting = download(srv.url + PATH, tmp_path / "a", "0.0.7", plataforma="linux",
                       registry=Registry(reg_file), progress=False)
    assert waiting.pending and not waiting.ok and waiting.status is Status.PENDENTE
    assert ids(waiting.checks)["DL_REGISTRO"] == "pendente"
    assert ids(waiting.checks)["DL_FORMATO"] == "ok"
    assert waiting.kept == tmp_path / "a" / f"{NAME}.part" and waiting.kept.read_bytes() == data
    assert not (tmp_path / "a" / NAME).exists() and not reg_file.exists()
    n = len(srv.requests)
    out = download(srv.url + PATH, tmp_path / "a", "0.0.7", plataforma="linux",
                   registry=Registry(reg_file), progress=False, trust_first_use=True)
    assert len(srv.requests) == n  # the complete, verified part: no new transfer
    assert out.ok and out.path == tmp_path / "a" / NAME
    assert out.path.read_bytes() == data
    assert out.verification.sha256 == sha(data)
    checks = ids(out.checks)
    assert checks["DL_TAMANHO"] == "ok"  # Content-Length
    assert checks["DL_REGISTRO"] == "alerta"  # first use: nothing to compare with
    assert not list((tmp_path / "a").glob("*.part")) and not list((tmp_path / "a").glob(".*json"))
    row = read_registry_file(reg_file)[("0.0.7", "linux")]
    assert row.sha256 == sha(data) and row.tamanho_bytes == len(data) and row.registrado_em

    again = download(srv.url + PATH, tmp_path / "b", "0.0.7", plataforma="linux",
                     registry=Registry(reg_file), progress=False)
    assert again.ok and ids(again.checks)["DL_REGISTRO"] == "ok"
    assert again.verification.recorded is None  # compared, not rewritten


def test_dropped_connection_resumes_with_range_in_the_same_call(http_server, tmp_path):
    data = payload(4_000_000)
    cfg = FileConfig(data=data, drop_after=700_000, drops=3)
    srv = http_server(files={PATH: cfg})
    out = download(srv.url + PATH, tmp_path, "0.0.7", registry=Registry(tmp_path / "r.csv"),
                   progress=False, backoff=0.01, trust_first_use=True)
    assert out.ok and out.path.read_bytes() == data
    assert out.verification.sha256 == sha(data)
    ranges = [r["range"] for r in srv.requests]
    assert ranges == [None, "bytes=700000-", "bytes=1400000-", "bytes=2100000-"]
    assert all(r["if_range"] == '"sim-1"' for r in srv.requests[1:])
    assert out.attempts == 4 and out.downloaded_bytes == len(data)


def test_part_file_resumes_on_the_next_call(http_server, tmp_path):
    data = payload(3_000_000)
    cfg = FileConfig(data=data, drop_after=1_000_000, drops=1)
    srv = http_server(files={PATH: cfg})
    with pytest.raises(DownloadError) as err:
        download(srv.url + PATH, tmp_path, "0.0.7", progress=False, retries=0)
    assert "a conexão caiu" in str(err.value) and "próxima execução" in str(err.value)
    part = tmp_path / f"{NAME}.part"
    assert part.stat().st_size == 1_000_000 and not (tmp_path / NAME).exists()

    out = download(srv.url + PATH, tmp_path, "0.0.7", progress=False, retries=0)
    assert out.ok and out.resumed_from == 1_000_000
    assert out.downloaded_bytes == 2_000_000
    assert srv.requests[-1]["range"] == "bytes=1000000-"
    assert out.path.read_bytes() == data and out.verification.sha256 == sha(data)
    assert not part.exists()


def test_server_without_range_support_restarts_from_zero(http_server, tmp_path):
    data = payload(2_000_000)
    srv = http_server(files={PATH: FileConfig(data=data, ranges=False, drop_after=500_000,
                                              drops=1)})
    out = download(srv.url + PATH, tmp_path, "0.0.7", progress=False, backoff=0.01)
    assert out.ok and out.verification.sha256 == sha(data)
    assert out.path.read_bytes() == data


def test_changed_file_on_server_is_not_glued_to_an_old_part(http_server, tmp_path):
    old, new = payload(2_000_000, b"old"), payload(2_000_000, b"new")
    srv = http_server(files={PATH: FileConfig(data=new, etag='"v2"')})
    (tmp_path / f"{NAME}.part").write_bytes(old[:800_000])
    (tmp_path / f".{NAME}.part.json").write_text(json.dumps({
        "url": srv.url + PATH, "versao": "0.0.7", "etag": '"v1"', "total": 2_000_000,
        "ranges": True}))
    out = download(srv.url + PATH, tmp_path, "0.0.7", progress=False)
    assert srv.requests[0]["if_range"] == '"v1"'  # server answered 200: whole new file
    assert out.ok and out.path.read_bytes() == new and out.verification.sha256 == sha(new)


def test_size_announced_differs_from_registry_nothing_downloaded(http_server, tmp_path):
    reg = tmp_path / "r.csv"
    reg.write_text("versao,plataforma,tamanho_bytes\n0.0.7,linux,5\n", encoding="utf-8")
    data = payload()
    srv = http_server(files={PATH: FileConfig(data=data)})
    out = download(srv.url + PATH, tmp_path / "d", "0.0.7", registry=Registry(reg),
                   progress=False)
    assert not out.ok and out.status is Status.FALHA
    assert ids(out.checks) == {"DL_TAMANHO": "falha"}
    assert list((tmp_path / "d").iterdir()) == [tmp_path / "d" / f".{NAME}.lock"]


def test_sha256_mismatch_quarantines_and_never_leaves_installer_name(http_server, tmp_path):
    data = payload()
    srv = http_server(files={PATH: FileConfig(data=data)})
    out = download(srv.url + PATH, tmp_path, "0.0.7", expected_sha256="0" * 64,
                   registry=Registry(tmp_path / "r.csv"), progress=False)
    assert out.status is Status.FALHA and ids(out.checks)["DL_SHA256"] == "falha"
    assert not (tmp_path / NAME).exists() and not (tmp_path / f"{NAME}.part").exists()
    assert out.quarantined.parent == tmp_path / "quarentena"
    assert out.quarantined.read_bytes() == data
    assert not out.quarantined.name.endswith(".jar")
    why = json.loads(Path(str(out.quarantined) + ".json").read_text())
    assert {c["id"] for c in why["verificacoes"]} >= {"DL_SHA256"}
    # nothing is recorded for a file that failed: TOFU only trusts verified files
    assert not read_registry_file(tmp_path / "r.csv")
    assert ids(out.checks)["DL_REGISTRO"] == "alerta"


def test_registry_mismatch_is_an_alarm(http_server, tmp_path):
    reg = tmp_path / "r.csv"
    reg.write_text("versao,plataforma,arquivo,tamanho_bytes,sha256\n"
                   f"0.0.7,linux,{NAME},3000000,{'a' * 64}\n", encoding="utf-8")
    srv = http_server(files={PATH: FileConfig(data=payload())})
    out = download(srv.url + PATH, tmp_path, "0.0.7", registry=Registry(reg), progress=False)
    checks = {c.id: c for c in out.checks}
    assert checks["DL_REGISTRO"].status is Status.FALHA
    assert "ALARME" in checks["DL_REGISTRO"].remedy
    assert not (tmp_path / NAME).exists() and out.quarantined.exists()
    assert read_registry_file(reg)[("0.0.7", "linux")].sha256 == "a" * 64  # untouched


def test_existing_verified_file_is_reused_without_network(http_server, tmp_path):
    data = payload()
    (tmp_path / NAME).write_bytes(data)
    reg = tmp_path / "r.csv"
    Registry(reg).record(Release("0.0.7", "linux", NAME, len(data), sha(data), "2026-01-01"))
    srv = http_server(files={PATH: FileConfig(data=data)})
    out = download(srv.url + PATH, tmp_path, "0.0.7", registry=Registry(reg), progress=False)
    assert out.ok and out.reused and srv.requests == []


def test_transient_5xx_is_retried_then_succeeds(http_server, tmp_path):
    data = payload(500_000)
    srv = http_server(files={PATH: FileConfig(data=data, statuses=[503, 502])})
    out = download(srv.url + PATH, tmp_path, "0.0.7", progress=False, backoff=0.01)
    assert out.ok and out.attempts == 3


@pytest.mark.parametrize("status,words", [
    (404, "não encontrado no servidor (HTTP 404)"), (403, "acesso negado (HTTP 403)"),
    (500, "erro HTTP 500 após 3 tentativas")])
def test_http_errors_are_pt_br(http_server, tmp_path, status, words):
    srv = http_server(files={PATH: FileConfig(data=payload(1000), status=status)})
    with pytest.raises(DownloadError) as err:
        download(srv.url + PATH, tmp_path, "0.0.7", progress=False, retries=2, backoff=0.01)
    assert words in str(err.value) and err.value.exit_code == 2
    assert not (tmp_path / NAME).exists()


def test_html_page_instead_of_installer(http_server, tmp_path):
    srv = http_server(files={PATH: FileConfig(data=b"<html>login</html>",
                                              content_type="text/html; charset=utf-8")})
    with pytest.raises(DownloadError, match="página HTML"):
        download(srv.url + PATH, tmp_path, "0.0.7", progress=False)


def test_read_timeout_is_reported(http_server, tmp_path):
    srv = http_server(files={PATH: FileConfig(data=payload(1000), delay_s=1.5)})
    with pytest.raises(DownloadError, match="parou de responder"):
        download(srv.url + PATH, tmp_path, "0.0.7", progress=False, retries=1, backoff=0.01,
                 timeout=(2, 0.3))


def test_connection_refused_is_reported(closed_url, tmp_path):
    with pytest.raises(DownloadError, match="recusou a conexão"):
        download(f"{closed_url}{PATH}", tmp_path, "0.0.7", progress=False, retries=1,
                 backoff=0.01)


def test_dns_failure_is_reported(tmp_path):
    with pytest.raises(DownloadError, match=r"resolver o nome .*\(DNS\)"):
        download(f"http://portal.nao-existe.invalid{PATH}", tmp_path, "0.0.7", progress=False)


def test_tls_failure_is_reported(http_server, tmp_path):
    """A real TLS server whose certificate is not trusted (self-signed)."""
    openssl = require_tool("openssl")
    key, cert = tmp_path / "k.pem", tmp_path / "c.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1"], check=True,
                   capture_output=True)
    srv = http_server(files={PATH: FileConfig(data=payload(1000))})
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    url = f"https://127.0.0.1:{srv.port}{PATH}"
    with pytest.raises(DownloadError, match="TLS/certificado"):
        download(url, tmp_path / "d", "0.0.7", progress=False)
    assert not (tmp_path / "d" / NAME).exists()


def test_name_version_and_platform_must_match(http_server, tmp_path):
    with pytest.raises(DownloadError, match="não da versão 0.0.8"):
        download(f"http://127.0.0.1:9{PATH}", tmp_path, "0.0.8", progress=False)
    win = PATH.replace("Linux64", "Win64")
    with pytest.raises(DownloadError, match="mas o servidor é linux"):
        download(f"http://127.0.0.1:9{win}", tmp_path, "0.0.7", plataforma="linux",
                 progress=False)
    srv = http_server(files={"/baixar?id=1": FileConfig(data=payload(1000))})
    srv.files["/baixar"] = srv.files.pop("/baixar?id=1")
    with pytest.raises(DownloadError, match="não leva a um instalador"):
        download(srv.url + "/baixar?id=1", tmp_path, "0.0.7", progress=False)


def test_name_from_content_disposition(http_server, tmp_path):
    data = payload(100_000)
    srv = http_server(files={"/baixar": FileConfig(data=data, disposition=NAME)})
    out = download(srv.url + "/baixar?versao=0.0.7", tmp_path, "0.0.7", progress=False)
    assert out.ok and out.path == tmp_path / NAME and out.path.read_bytes() == data


def test_verify_local_file_checks(tmp_path):
    good = tmp_path / NAME
    good.write_bytes(payload(10_000))
    v = verify_file(good, "0.0.7", "linux")
    assert ids(v.checks) == {"DL_NOME": "ok", "DL_VERSAO": "ok", "DL_PLATAFORMA": "ok",
                             "DL_FORMATO": "ok", "DL_TAMANHO": "alerta"}
    html = tmp_path / "eSUS-AB-PEC-0.0.7-Win64.jar"
    html.write_bytes(b"<html>erro</html>")
    v = verify_file(html, "0.0.6", "linux")
    assert ids(v.checks) | {} == {"DL_NOME": "ok", "DL_VERSAO": "falha",
                                  "DL_PLATAFORMA": "falha", "DL_FORMATO": "falha",
                                  "DL_TAMANHO": "alerta"}
    renamed = tmp_path / "instalador.jar"
    renamed.write_bytes(payload(1000))
    assert ids(verify_file(renamed, "0.0.7", "linux").checks)["DL_NOME"] == "falha"


def test_packaged_registry_sizes_are_used(tmp_path):
    big = tmp_path / "eSUS-AB-PEC-5.5.24-Linux64.jar"
    big.write_bytes(payload(1000))
    v = verify_file(big, "5.5.24", "linux", registry=Registry(None))
    size = next(c for c in v.checks if c.id == "DL_TAMANHO")
    assert size.status is Status.FALHA and "737.144.580" in size.expected


def test_registry_file_errors_name_the_line(tmp_path):
    from esus_runbook.errors import InputError

    reg = tmp_path / "r.csv"
    reg.write_text("versao,plataforma,sha256\n5.5.24,linux,xyz\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_registry_file(reg)
    assert "linha 2" in str(err.value) and "SHA-256" in str(err.value)
    reg.write_text("versao,plataforma,senha\n", encoding="utf-8")
    with pytest.raises(InputError, match="colunas desconhecidas: senha"):
        read_registry_file(reg)


def test_registry_records_from_many_threads_without_losing_rows(tmp_path):
    reg = Registry(tmp_path / "r.csv")
    barrier = threading.Barrier(8)

    def record(i: int) -> str:
        barrier.wait()
        return reg.record(Release(f"0.1.{i}", "linux", f"eSUS-AB-PEC-0.1.{i}-Linux64.jar", i,
                                  sha(bytes([i])), "agora")).action

    with ThreadPoolExecutor(8) as ex:
        actions = list(ex.map(record, range(8)))
    assert actions == ["registrado"] * 8
    rows = read_registry_file(tmp_path / "r.csv")
    assert {v for v, _ in rows} == {f"0.1.{i}" for i in range(8)}


_RECORD = """
import sys
from esus_runbook.installer.releases import Registry, Release
reg = Registry(sys.argv[1])
print(reg.record(Release("0.2.0", "linux", "x", 10, sys.argv[2], "agora")).action)
"""


def test_registry_first_use_wins_across_processes(tmp_path):
    """Processes racing to record the same release: exactly one records, the others see the
    recorded hash (same → ja_registrado, different → divergente)."""
    reg = tmp_path / "r.csv"
    hashes = ["1" * 64] * 4 + ["2" * 64]
    procs = [subprocess.Popen([sys.executable, "-c", _RECORD, str(reg), h],
                              stdout=subprocess.PIPE, text=True, cwd=ROOT) for h in hashes]
    actions = [p.communicate(timeout=60)[0].strip() for p in procs]
    winner = read_registry_file(reg)[("0.2.0", "linux")].sha256
    assert actions.count("registrado") == 1
    for h, a in zip(hashes, actions, strict=True):
        if a != "registrado":
            assert a == ("ja_registrado" if h == winner else "divergente")


# --------------------------------------------------------------------------- CLI
def test_cli_download_ok_progress_and_registry(http_server, tmp_path):
    data = payload(2_000_000)
    srv = http_server(files={PATH: FileConfig(data=data, drop_after=600_000, drops=1)})
    proc = run_cli("baixar", "--url", srv.url + PATH, "--versao-pec", "0.0.7", "--pasta",
                   tmp_path, "--sha256", sha(data))
    assert proc.returncode == 0, proc.stderr
    assert f"SHA-256: {sha(data)}" in proc.stdout and "[   ok   ] DL_SHA256" in proc.stdout
    assert "B/s" in proc.stderr  # tqdm progress bar with speed
    assert (tmp_path / NAME).read_bytes() == data
    assert read_registry_file(tmp_path / "registro-instaladores.csv")[("0.0.7", "linux")]


def test_cli_download_mismatch_exits_1_and_quarantines(http_server, tmp_path):
    srv = http_server(files={PATH: FileConfig(data=payload())})
    proc = run_cli("baixar", "--url", srv.url + PATH, "--versao-pec", "0.0.7", "--pasta",
                   tmp_path, "--sha256", "f" * 64, "--sem-progresso")
    assert proc.returncode == 1
    assert "quarentena" in proc.stderr and "[ falha  ] DL_SHA256" in proc.stdout
    assert not (tmp_path / NAME).exists()


def test_cli_download_says_when_the_file_was_already_there(http_server, tmp_path):
    data = payload(1_000_000)
    srv = http_server(files={PATH: FileConfig(data=data)})
    args = ("baixar", "--url", srv.url + PATH, "--versao-pec", "0.0.7", "--pasta", tmp_path,
            "--sha256", sha(data), "--sem-progresso")
    assert run_cli(*args).returncode == 0
    n = len(srv.requests)
    proc = run_cli(*args)
    assert proc.returncode == 0, proc.stderr
    assert len(srv.requests) == n  # verified on disk, nothing fetched
    out = proc.stdout.splitlines()
    assert out[-2] == f"Instalador já estava baixado e foi conferido: {tmp_path / NAME}"
    assert out[-1] == (f"SHA-256: {sha(data)}  Registro: "
                       f"{tmp_path / 'registro-instaladores.csv'}")
    assert out[0].startswith("[   ok   ] DL_NOME") and proc.stderr == ""


def test_cli_download_refused_before_any_byte_says_nothing_was_written(http_server, tmp_path):
    reg = tmp_path / "r.csv"
    reg.write_text("versao,plataforma,tamanho_bytes\n0.0.7,linux,5\n", encoding="utf-8")
    srv = http_server(files={PATH: FileConfig(data=payload())})
    proc = run_cli("baixar", "--url", srv.url + PATH, "--versao-pec", "0.0.7", "--pasta",
                   tmp_path / "d", "--registro", reg, "--sem-progresso")
    assert proc.returncode == 1
    assert proc.stdout.startswith("[ falha  ] DL_TAMANHO             Tamanho do arquivo: "
                                  "3.000.000 bytes anunciados pelo servidor\n")
    assert proc.stderr.strip() == "Nada foi gravado com o nome do instalador."


@pytest.mark.parametrize("args,words", [
    (("--versao-pec", "5.5"), "--versao-pec: versão '5.5' inválida"),
    (("--sha256", "abc"), "SHA-256 deve ter 64"),
])
def test_cli_download_bad_input_one_line_exit_2(tmp_path, args, words):
    base = {"--url": f"http://127.0.0.1:9{PATH}", "--versao-pec": "0.0.7", "--pasta": str(tmp_path)}
    base.update(dict(zip(args[::2], args[1::2], strict=True)))
    proc = run_cli("baixar", *[x for kv in base.items() for x in kv])
    assert proc.returncode == 2 and words in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


def test_cli_download_404_one_line_exit_2(http_server, tmp_path):
    srv = http_server(pec=PecConfig())
    proc = run_cli("baixar", "--url", srv.url + PATH, "--versao-pec", "0.0.7", "--pasta",
                   tmp_path, "--sem-progresso")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "--url: arquivo não encontrado no servidor (HTTP 404) — o endereço tem um trecho "
        "aleatório por versão: copie de novo o link no portal SISAPS, não o digite"]
    assert os.listdir(tmp_path) == [f".{NAME}.lock"] or not [
        p for p in os.listdir(tmp_path) if p.endswith((".jar", ".part"))]


def test_corrupted_file_under_installer_name_is_quarantined_and_fetched_again(http_server,
                                                                              tmp_path):
    data = payload(1_000_000)
    reg = tmp_path / "r.csv"
    Registry(reg).record(Release("0.0.7", "linux", NAME, len(data), sha(data), "2026-01-01"))
    (tmp_path / NAME).write_bytes(data[:400_000])  # someone copied a partial download
    srv = http_server(files={PATH: FileConfig(data=data)})
    out = download(srv.url + PATH, tmp_path, "0.0.7", registry=Registry(reg), progress=False)
    assert out.ok and not out.reused and (tmp_path / NAME).read_bytes() == data
    (rejected,) = (tmp_path / "quarentena").glob("*.rejeitado")
    assert rejected.stat().st_size == 400_000


# --------------------------------------------------------------------------- integrity
def _deflated_zip(path: Path, members: dict[str, bytes]) -> bytes:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path.read_bytes()


def test_zip_check_reads_every_entry_and_names_the_broken_one(tmp_path):
    good = _deflated_zip(tmp_path / "g.zip", {"META-INF/MANIFEST.MF": b"Manifest-Version: 1.0\n",
                                              "lib/a.bin": os.urandom(200_000)})
    assert check_zip(tmp_path / "g.zip").ok
    # flip one byte inside the stored data of the entry: only its CRC can tell
    stored = bytearray(installer_bytes(50_000))
    stored[30_000] ^= 0xFF
    (tmp_path / "s.zip").write_bytes(bytes(stored))
    result = check_zip(tmp_path / "s.zip")
    assert result.problem == ("o CRC-32 não confere na entrada 'LEIA-ME-SIMULADOR.bin' (dados "
                              "corrompidos)")
    (tmp_path / "t.zip").write_bytes(good[: len(good) - 30])  # central directory cut
    assert "diretório central" in check_zip(tmp_path / "t.zip").problem
    (tmp_path / "e.zip").write_bytes(b"PK\x05\x06" + bytes(18))  # an empty archive
    assert check_zip(tmp_path / "e.zip").problem == "o ZIP não tem nenhuma entrada"


def test_zip_check_refuses_a_bomb_before_inflating_it(tmp_path, monkeypatch):
    import esus_runbook.integrity as integrity

    _deflated_zip(tmp_path / "b.zip", {"zeros": bytes(20_000_000)})
    assert (tmp_path / "b.zip").stat().st_size < 100_000
    monkeypatch.setattr(integrity, "MAX_ZIP_UNCOMPRESSED", 10_000_000)
    assert "possível bomba de ZIP" in integrity.check_zip(tmp_path / "b.zip").problem


def test_pe_check(tmp_path):

    exe = tmp_path / "a.exe"
    exe.write_bytes(EXE_DATA)
    assert check_pe(exe).ok
    exe.write_bytes(EXE_DATA[:60])
    assert "MZ" in check_pe(exe).problem
    bad = bytearray(EXE_DATA)
    bad[64:68] = b"XX\0\0"
    exe.write_bytes(bytes(bad))
    assert check_pe(exe).problem == "sem a assinatura PE em e_lfanew=64"
    exe.write_bytes(EXE_DATA[:100_000])
    assert "truncado" in check_pe(exe).problem


def test_describe_zip_error_is_never_empty():
    import zlib

    for exc in (EOFError(), zlib.error("Error -3"), zipfile.BadZipFile("File is not a zip file"),
                zipfile.BadZipFile("something new"), OSError(28, "No space left on device"),
                RuntimeError("File 'x' is encrypted, password required")):
        reason = describe_zip_error(exc)
        assert reason and "()" not in reason and "Error" not in reason


def test_complete_part_with_valid_sidecar_is_finished_by_a_416(http_server, tmp_path):
    """A run killed after the last byte but before the rename: the next one asks for the rest,
    the server answers 416 with the same total, and the part is verified as it is."""
    data = payload(1_000_000)
    srv = http_server(files={PATH: FileConfig(data=data)})
    (tmp_path / f"{NAME}.part").write_bytes(data)
    (tmp_path / f".{NAME}.part.json").write_text(json.dumps({
        "url": srv.url + PATH, "versao": "0.0.7", "etag": '"sim-1"', "total": len(data),
        "ranges": True}))
    out = download(srv.url + PATH, tmp_path, "0.0.7", progress=False)
    assert out.ok and out.downloaded_bytes == 0 and out.resumed_from == len(data)
    assert [r["range"] for r in srv.requests] == [f"bytes={len(data)}-"]
    assert out.path.read_bytes() == data
