"""The server probe: real measurements of this machine, the Windows branch with recorded
registry values, the disk-speed cleanup under real signals, and the tolerant loader."""

from __future__ import annotations

import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from esus_runbook import probe
from esus_runbook.errors import HostileFileError, InputError
from esus_runbook.probe import diskspeed, linux, windows
from esus_runbook.probe import facts as facts_mod
from esus_runbook.probe.summary import lines as summary_lines

from .support.batch_procs import terminal_signals
from .support.project import ROOT, require, run_cli
from .support.waiting import wait_until

PROBES = Path(__file__).parent / "data" / "probes"
LINUX = platform.system() == "Linux"


def meminfo_total_bytes() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("MemTotal missing from /proc/meminfo")


# --------------------------------------------------------------------------- this machine
def test_local_probe_agrees_with_the_system(tmp_path):
    require(LINUX and Path("/proc/meminfo").exists(), "Linux /proc/meminfo")
    facts = probe.collect(install_path=str(tmp_path))
    assert facts["schema"] == "esus-runbook/probe/1"
    assert facts["cpu"]["logical_cores"] == os.cpu_count()
    assert facts["memory"]["total_bytes"] == meminfo_total_bytes()
    du = shutil.disk_usage(tmp_path)
    inst = facts["install_path"]
    assert inst["path"] == str(tmp_path) and inst["exists"] is True
    assert inst["total_bytes"] == du.total
    assert abs(inst["free_bytes"] - du.free) <= max(64 << 20, du.free // 100)
    assert any(d["mount"] == inst["mount"] for d in facts["disks"])
    assert facts["os"]["system"] == "Linux" and facts["os"]["bits"] in (32, 64)
    assert set(facts["ports"]) == {"80", "443", "5433", "8080"}
    assert set(facts["ports"].values()) <= {"free", "in_use", "unknown"}
    assert not {"cpu", "memory", "install_path", "ports", "os"} & set(facts["errors"])
    loaded = probe.normalize(json.loads(json.dumps(facts)))
    assert loaded["warnings"] == []
    assert loaded["memory"]["total_bytes"] == meminfo_total_bytes()


def test_probe_sees_a_port_in_use(tmp_path):
    """A real listening socket on 127.0.0.1 shows up as in_use in the socket table."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        got = facts_mod._ports((port,))
    assert got["ports"][str(port)] == "in_use"
    assert "python" in got["owners"][str(port)].lower()


def test_probe_cli_writes_the_facts_within_its_budget(tmp_path):
    """The CLI end to end. Its 3 s budget rests on the parts' shared deadline
    (``facts.DEADLINE_S``, checked by the hanging-part test below); how fast the whole CLI is
    on a free machine is measured by benchmarks/probe.py, not asserted here: the wall time of
    a new interpreter on a shared machine is the machine's load."""
    out = tmp_path / "sondagem.json"
    proc = run_cli("sondar", "--json", out, "--pasta-instalacao", tmp_path)
    assert proc.returncode == 0, proc.stderr
    facts = json.loads(out.read_text())
    assert isinstance(facts["duration_s"], float) and facts["duration_s"] >= 0
    assert "Sondagem gravada" in proc.stdout and "RAM:" in proc.stdout
    assert probe.load_probe(out)["hostname"]


@pytest.fixture
def shared_dir():
    """A folder every user can reach (pytest's tmp_path lives under a 0700 folder)."""
    import tempfile

    path = Path(tempfile.mkdtemp(prefix="esus-probe-"))
    path.chmod(0o777)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_probe_never_needs_root(shared_dir):
    """As root, the probe runs again in a child that dropped to `nobody`: same figures."""
    require(LINUX, "Linux")
    tmp_path = shared_dir
    if os.geteuid() != 0:  # already unprivileged: the plain run is the proof
        facts = probe.collect(install_path=str(tmp_path))
        assert facts["user"]["is_admin"] is False
        assert facts["memory"]["total_bytes"] and facts["cpu"]["logical_cores"]
        return
    probe.collect(install_path=str(tmp_path))  # import every lazy module while still root
    import pwd

    nobody = pwd.getpwnam("nobody")
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: drop privileges, probe, report through the pipe
        code = 1
        signal.alarm(60)  # a child that hangs dies instead of hanging the test run
        try:
            os.close(rfd)
            os.setgroups([])
            os.setgid(nobody.pw_gid)
            os.setuid(nobody.pw_uid)
            facts = probe.collect(install_path=str(tmp_path), disk_speed=True,
                                  disk_speed_mb=16)
            os.write(wfd, json.dumps(facts).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(wfd)
    data = b""
    while chunk := os.read(rfd, 65536):
        data += chunk
    os.close(rfd)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    facts = json.loads(data)
    assert facts["user"] == {"name": "nobody", "is_admin": False}
    assert facts["cpu"]["logical_cores"] == os.cpu_count()
    assert facts["memory"]["total_bytes"] == meminfo_total_bytes()
    assert facts["install_path"]["free_bytes"] > 0
    assert facts["disk_speed"]["write_mb_s"] > 0
    assert not {"cpu", "memory", "install_path", "ports", "os", "locale", "timezone",
                "systemd", "disk_speed"} & set(facts["errors"]), facts["errors"]
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- robustness
def test_an_unmeasurable_part_is_unknown_not_a_crash(tmp_path, monkeypatch):
    import psutil

    def broken():
        raise RuntimeError("sem acesso")

    monkeypatch.setattr(psutil, "virtual_memory", broken)
    monkeypatch.setattr(linux, "locale_info", broken)
    facts = probe.collect(install_path=str(tmp_path))
    assert facts["memory"] is None and facts["locale"] is None
    assert facts["errors"]["memory"].startswith("RuntimeError")
    p = probe.normalize(facts)
    assert p["memory"]["total_bytes"] is None and p["locale"]["pt_BR_utf8"] is None
    assert p["cpu"]["logical_cores"] == os.cpu_count()  # the rest is still there


def test_a_hanging_part_is_cut_at_the_deadline(tmp_path, monkeypatch):
    monkeypatch.setattr(linux, "systemd_info", lambda: time.sleep(30))
    t0 = time.perf_counter()
    facts = probe.collect(install_path=str(tmp_path), deadline_s=0.5)
    assert time.perf_counter() - t0 < 2.5
    assert facts["systemd"] is None and "tempo esgotado" in facts["errors"]["systemd"]
    assert facts["memory"]["total_bytes"]


# --------------------------------------------------------------------------- disk speed
def test_disk_speed_measures_and_removes_its_file(tmp_path):
    facts = probe.collect(install_path=str(tmp_path), disk_speed=True, disk_speed_mb=32)
    ds = facts["disk_speed"]
    assert ds["write_mb_s"] > 0 and ds["read_mb_s"] > 0 and ds["size_mb"] == 32
    assert ds["read_method"] in ("O_DIRECT", "posix_fadvise(DONTNEED)", "cache")
    if LINUX:
        assert ds["read_method"] != "cache"  # never a page-cache read on Linux
    assert ds["same_disk_as_install"] is True
    assert list(tmp_path.iterdir()) == []


def test_disk_speed_falls_back_to_the_temp_folder(tmp_path, monkeypatch):
    """Where PEC installs is often not writable by a normal user (or lacks room)."""
    real = diskspeed.measure

    def measure(folder, size_mb):
        if folder == str(tmp_path):
            raise PermissionError(13, "Permission denied")
        return real(folder, size_mb)

    monkeypatch.setattr(diskspeed, "measure", measure)
    facts = probe.collect(install_path=str(tmp_path), disk_speed=True, disk_speed_mb=16)
    ds = facts["disk_speed"]
    assert ds["path"] != str(tmp_path) and ds["write_mb_s"] > 0
    assert isinstance(ds["same_disk_as_install"], bool)
    assert "disk_speed" not in facts["errors"]


def test_disk_speed_refuses_to_fill_the_disk(tmp_path, monkeypatch):
    monkeypatch.setattr(diskspeed, "MARGIN", shutil.disk_usage(tmp_path).free)
    with pytest.raises(OSError, match="espaço livre insuficiente"):
        diskspeed.measure(str(tmp_path), 16)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM", "SIGHUP"])
def test_disk_speed_cleans_up_when_interrupted(tmp_path, sig):
    """A real process measuring 2 GB is interrupted as soon as its file appears."""
    require(hasattr(signal, sig), sig)
    out = tmp_path / "sondagem.json"
    target = tmp_path / "disco"
    target.mkdir()
    require(shutil.disk_usage(target).free > (4 << 30), "4 GB free in the temp folder")
    # started as a terminal starts a command: with Ctrl-C's default action, even when this
    # suite runs from a background job (which inherits SIGINT as ignored, and a Python that
    # starts with SIGINT ignored keeps it so: the measurement then ran to the end, exit 0)
    proc = subprocess.Popen(
        [sys.executable, "-m", "esus_runbook", "sondar", "--pasta-instalacao", str(target),
         "--velocidade-disco", "--velocidade-disco-mb", "2048", "--json", str(out)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=terminal_signals)
    # the handlers are in place before the file is named: signal once it exists
    wait_until(lambda: list(target.glob(diskspeed.PREFIX + "*")) or proc.poll() is not None,
               30, "the temporary file", interval=0.01)
    assert proc.poll() is None, f"temporary file never appeared: {proc.communicate(timeout=60)}"
    proc.send_signal(getattr(signal, sig))
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, (proc.returncode, stderr)
    assert "interrompido" in stderr and "Traceback" not in stderr
    assert list(target.iterdir()) == []
    assert not out.exists()  # no partial probe file


# --------------------------------------------------------------------------- Windows
class FakeRegistry:
    """HKEY_LOCAL_MACHINE values recorded from the machines named in each test."""

    def __init__(self, values: dict[tuple[str, str], object]):
        self.values = values

    def get(self, key: str, name: str):
        return self.values.get((key, name))


SERVER_2019 = FakeRegistry({
    (windows.CURRENT_VERSION, "ProductName"): "Windows Server 2019 Standard",
    (windows.CURRENT_VERSION, "CurrentBuildNumber"): "17763",
    (windows.CURRENT_VERSION, "InstallationType"): "Server",
    (windows.CURRENT_VERSION, "ReleaseId"): "1809",
    (windows.CURRENT_VERSION, "EditionID"): "ServerStandard",
    (windows.CPU0, "ProcessorNameString"): "Intel(R) Xeon(R) Silver 4208 CPU @ 2.10GHz   ",
    (windows.CPU0, "~MHz"): 2095,
    (windows.TIMEZONE, "TimeZoneKeyName"): "E. South America Standard Time\x00",
})
WIN11_WOW64 = FakeRegistry({
    (windows.CURRENT_VERSION, "ProductName"): "Windows 10 Pro",
    (windows.CURRENT_VERSION, "CurrentBuildNumber"): "22631",
    (windows.CURRENT_VERSION, "InstallationType"): "Client",
    (windows.CURRENT_VERSION, "DisplayVersion"): "23H2",
})


def test_windows_branch_reads_the_registry():
    env = {"PROCESSOR_ARCHITECTURE": "AMD64", "ProgramFiles": r"C:\Program Files"}
    o = windows.os_info(SERVER_2019, env, "10")
    assert o["distro"] == "Windows Server 2019 Standard" and o["bits"] == 64
    assert o["installation_type"] == "Server" and o["distro_version"] == "1809"
    cpu = windows.cpu_info(SERVER_2019)
    assert cpu["model"] == "Intel(R) Xeon(R) Silver 4208 CPU @ 2.10GHz"
    assert cpu["max_mhz"] == 2095.0
    assert windows.timezone_info(SERVER_2019)["name"] == "E. South America Standard Time"
    assert windows.pec_dir(env) == r"C:\Program Files\e-SUS"


def test_windows_11_and_a_32bit_process_on_64bit_windows():
    env = {"PROCESSOR_ARCHITECTURE": "x86", "PROCESSOR_ARCHITEW6432": "AMD64"}
    o = windows.os_info(WIN11_WOW64, env)
    assert o["distro"] == "Windows 11 Pro" and o["bits"] == 64
    assert windows.os_info(FakeRegistry({}), {"PROCESSOR_ARCHITECTURE": "x86"})["bits"] == 32


def test_windows_branch_with_missing_values_is_unknown():
    empty = FakeRegistry({})
    assert windows.os_info(empty, {})["distro"] is None
    assert windows.cpu_info(empty) == {"model": None, "max_mhz": None, "current_mhz": None,
                                       "mhz_source": None}
    assert windows.timezone_info(empty)["name"] is None


def test_whole_windows_probe_runs_on_linux_without_breaking(tmp_path, monkeypatch):
    """collect() down the Windows branch (recorded registry, fake Program Files)."""
    pf = tmp_path / "Program Files"
    (pf / "PostgreSQL" / "16" / "bin").mkdir(parents=True)
    monkeypatch.setattr(facts_mod.platform, "system", lambda: "Windows")
    monkeypatch.setattr(windows, "WinRegistry", lambda: SERVER_2019)
    monkeypatch.setenv("ProgramFiles", str(pf))
    monkeypatch.setenv("PROCESSOR_ARCHITECTURE", "AMD64")
    facts = probe.collect()
    assert facts["os"]["distro"] == "Windows Server 2019 Standard"
    assert facts["timezone"] == "E. South America Standard Time"
    assert facts["systemd"] is None and facts["locale"]["applicable"] is False
    assert facts["install_path"]["path"] == str(pf)
    p = probe.normalize(facts)
    assert p["is_windows"] and p["systemd"] is None and p["locale"]["applicable"] is False


# --------------------------------------------------------------------------- Linux parsers
def _logind(root: Path, rel: str, text: str) -> None:
    f = root / rel
    f.parent.mkdir(parents=True, exist_ok=True)
    f.write_text(text)


def test_remove_ipc_follows_systemd_precedence(tmp_path):
    assert linux.remove_ipc_from_config(str(tmp_path))["remove_ipc"] is None  # no logind
    _logind(tmp_path, "etc/systemd/logind.conf", "[Login]\n#RemoveIPC=yes\n")
    got = linux.remove_ipc_from_config(str(tmp_path))
    assert got["remove_ipc"] == "yes" and "padrão" in got["source"]
    _logind(tmp_path, "etc/systemd/logind.conf", "[Login]\nRemoveIPC=no\n")
    assert linux.remove_ipc_from_config(str(tmp_path))["remove_ipc"] == "no"
    _logind(tmp_path, "usr/lib/systemd/logind.conf.d/50-vendor.conf", "[Login]\nRemoveIPC=yes\n")
    got = linux.remove_ipc_from_config(str(tmp_path))
    assert got["remove_ipc"] == "yes" and got["source"].endswith("50-vendor.conf")
    _logind(tmp_path, "etc/systemd/logind.conf.d/50-vendor.conf", "[Login]\nRemoveIPC=off\n")
    assert linux.remove_ipc_from_config(str(tmp_path))["remove_ipc"] == "no"  # /etc masks
    _logind(tmp_path, "etc/systemd/logind.conf.d/90-pec.conf", "[Other]\nRemoveIPC=yes\n")
    assert linux.remove_ipc_from_config(str(tmp_path))["remove_ipc"] == "no"  # wrong section


def test_timezone_from_a_recorded_etc(tmp_path):
    (tmp_path / "etc").mkdir()
    assert linux.timezone_info(str(tmp_path))["configured"] is False
    (tmp_path / "etc/localtime").symlink_to("../usr/share/zoneinfo/America/Recife")
    assert linux.timezone_info(str(tmp_path))["name"] == "America/Recife"
    (tmp_path / "etc/localtime").unlink()
    (tmp_path / "etc/localtime").write_bytes(b"TZif2")
    (tmp_path / "etc/timezone").write_text("America/Bahia\n")
    got = linux.timezone_info(str(tmp_path))
    assert got == {"name": "America/Bahia", "configured": True, "source": "/etc/timezone"}


def test_cgroup_limits_v2_and_v1(tmp_path):
    v2 = tmp_path / "v2"
    (v2 / "proc/self").mkdir(parents=True)
    (v2 / "proc/self/cgroup").write_text("0::/lxc/pec\n")
    own = v2 / "sys/fs/cgroup/lxc/pec"
    own.mkdir(parents=True)
    (v2 / "sys/fs/cgroup/cgroup.controllers").write_text("cpu memory\n")
    (own / "cpu.max").write_text("200000 100000\n")
    (own / "memory.max").write_text("4294967296\n")
    assert linux.cgroup_limits(str(v2)) == {"cpu_quota": 2.0, "memory_limit_bytes": 4294967296,
                                            "version": 2}
    (own / "cpu.max").write_text("max 100000\n")
    (own / "memory.max").write_text("max\n")
    assert linux.cgroup_limits(str(v2))["memory_limit_bytes"] is None
    v1 = tmp_path / "v1"
    (v1 / "proc/self").mkdir(parents=True)
    (v1 / "proc/self/cgroup").write_text("4:memory:/docker/abc\n1:cpu,cpuacct:/docker/abc\n")
    (v1 / "sys/fs/cgroup/memory/docker/abc").mkdir(parents=True)
    (v1 / "sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes").write_text("6442450944\n")
    (v1 / "sys/fs/cgroup/cpu/docker/abc").mkdir(parents=True)
    (v1 / "sys/fs/cgroup/cpu/docker/abc/cpu.cfs_quota_us").write_text("150000\n")
    (v1 / "sys/fs/cgroup/cpu/docker/abc/cpu.cfs_period_us").write_text("100000\n")
    assert linux.cgroup_limits(str(v1)) == {"cpu_quota": 1.5, "memory_limit_bytes": 6442450944,
                                            "version": 1}


# --------------------------------------------------------------------------- loader
def test_minimal_probe_with_only_the_core_keys_loads():
    p = probe.load_probe(PROBES / "minima-v1.json")
    assert p["memory"]["total_bytes"] == 17179869184 and p["cpu"]["usable_cores"] is None
    assert p["disk_speed"] is None and p["ports"]["8080"] == "in_use"
    assert p["systemd"]["remove_ipc"] == "no" and p["systemd"]["running"] is None
    assert p["java"]["major"] == 17 and p["postgres"]["found"] is False
    assert p["warnings"] == []


def test_windows_probe_loads_with_what_it_has():
    p = probe.load_probe(PROBES / "windows-server-2019.json")
    assert p["is_windows"] and not p["is_linux"]
    assert p["systemd"] is None and p["locale"] == {"pt_BR_utf8": None, "found": [],
                                                     "applicable": False}
    assert p["disk_speed"]["read_method"] == "cache"


def test_wrong_types_become_unknown_with_a_warning(tmp_path):
    raw = json.loads((PROBES / "linux-ok.json").read_text())
    raw["memory"]["total_bytes"] = "16 GB"
    raw["os"]["bits"] = 48
    raw["ports"]["8080"] = "ocupada"
    raw["systemd"]["remove_ipc"] = "talvez"
    raw["cpu"] = ["não é objeto"]
    p = probe.normalize(raw)
    assert p["memory"]["total_bytes"] is None and p["os"]["bits"] is None
    assert p["ports"]["8080"] == "unknown" and p["systemd"]["remove_ipc"] is None
    assert p["cpu"]["logical_cores"] is None
    assert len(p["warnings"]) == 5


def test_speeds_only_on_disk_entries_are_used():
    raw = json.loads((PROBES / "minima-v1.json").read_text())
    raw["disks"][0].update(write_mb_s=120.0, read_mb_s=400.0)
    ds = probe.normalize(raw)["disk_speed"]
    assert ds["write_mb_s"] == 120.0 and ds["same_disk_as_install"] is True


@pytest.mark.parametrize("name,message", [
    ("nao-existe.json", "não encontrado"),
    ("corrompida.json", "JSON inválido"),
    ("versao-futura.json", "versão mais nova"),
])
def test_unusable_probe_files_are_refused(name, message):
    with pytest.raises(InputError, match=message) as exc:
        probe.load_probe(PROBES / name)
    assert name in str(exc.value) and "\n" not in str(exc.value)


def test_not_a_probe_and_hostile_files_are_refused(tmp_path):
    f = tmp_path / "lista.json"
    f.write_text("[1, 2]")
    with pytest.raises(InputError, match="não é um objeto"):
        probe.load_probe(f)
    f.write_text('{"schema": "esus-runbook/stage-result/1"}')
    with pytest.raises(InputError, match="não é um arquivo de sondagem"):
        probe.load_probe(f)
    f.write_bytes(b'{"a": "' + b"x" * (6 << 20) + b'"}')
    with pytest.raises(HostileFileError):
        probe.load_probe(f)
    f.write_text("[" * 100000 + "]" * 100000)
    with pytest.raises(InputError):
        probe.load_probe(f)
    with pytest.raises(InputError, match="pasta"):
        probe.load_probe(tmp_path)


# --------------------------------------------------------------------------- CLI
@pytest.mark.parametrize("name", ["corrompida.json", "nao-existe.json", "versao-futura.json"])
def test_cli_read_of_a_bad_probe_exits_2(name):
    proc = run_cli("sondar", "--ler", PROBES / name)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert name in proc.stderr


def test_cli_read_summarizes_a_probe():
    proc = run_cli("sondar", "--ler", PROBES / "windows-server-2019.json")
    assert proc.returncode == 0, proc.stderr
    assert "SRV-PEC-SMS" in proc.stdout and "Windows Server 2019" in proc.stdout
    assert "RemoveIPC" not in proc.stdout  # not a Windows thing


def test_cli_json_to_stdout_and_unwritable_target(tmp_path):
    proc = run_cli("sondar", "--json", "-", "--pasta-instalacao", tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["schema"] == "esus-runbook/probe/1"
    blocker = tmp_path / "arquivo"
    blocker.write_text("x")
    proc = run_cli("sondar", "--json", blocker / "sondagem.json")  # refused before collecting
    assert proc.returncode == 2 and f"--json: {blocker} não é uma pasta" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "Traceback" not in proc.stderr
    proc = run_cli("sondar", "--velocidade-disco-mb", "0")
    assert proc.returncode == 2


# --------------------------------------------------------------------------- system locale
LOCALECTL = """   System Locale: LANG=pt_BR.UTF-8
                  LC_TIME=pt_BR.UTF-8
       VC Keymap: br-abnt2
      X11 Layout: br
"""


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "raiz"
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    root.mkdir(exist_ok=True)
    return root


@pytest.mark.parametrize("files,lang,source", [
    # Debian/Ubuntu: update-locale writes /etc/default/locale (quotes, export, comments)
    ({"etc/default/locale": '#  File generated by update-locale\nexport LANG="pt_BR.UTF-8"\n'},
     "pt_BR.UTF-8", "/etc/default/locale"),
    # systemd's own file wins over Debian's
    ({"etc/locale.conf": "LANG=C.UTF-8\n", "etc/default/locale": "LANG=pt_BR.UTF-8\n"},
     "C.UTF-8", "/etc/locale.conf"),
    # the file exists but sets nothing: the service starts with C/POSIX
    ({"etc/default/locale": "#  File generated by update-locale\n"}, None,
     "/etc/default/locale"),
    ({}, None, None),
])
def test_system_locale_is_read_from_the_systems_files(tmp_path, files, lang, source):
    got = linux.system_locale(str(_tree(tmp_path, files)))
    assert (got["system_lang"], got["system_source"]) == (lang, source)


def test_system_locale_falls_back_to_localectl(tmp_path):
    root = _tree(tmp_path, {})
    got = linux.system_locale(str(root), LOCALECTL)
    assert got == {"system_lang": "pt_BR.UTF-8", "system_ctype": None,
                   "system_source": "localectl status"}
    assert linux.parse_localectl("System has not been booted with systemd as init system "
                                 "(PID 1). Can't operate.\n") == {}
    # a fixture tree never asks this machine's localectl
    tree = linux.locale_info(str(_tree(tmp_path, {"etc/locale.conf": 'LANG="pt_BR.UTF-8"\n'})))
    assert tree["system_lang"] == "pt_BR.UTF-8" and tree["system_source"] == "/etc/locale.conf"


def test_probe_reports_the_systems_locale_not_the_shells(tmp_path, monkeypatch):
    """The probing shell's LANG (empty over SSH, anything in a terminal) is not what the PEC
    service starts with: the local probe reads the system's files like the SSH probe."""
    monkeypatch.setenv("LANG", "xx_YY.UTF-8")
    raw = linux.locale_info()
    assert raw["lang"] == "xx_YY.UTF-8"                 # kept for older readers only
    assert raw["system_lang"] != "xx_YY.UTF-8"
    expected = linux.system_locale("/")
    if expected["system_source"] is not None:
        assert raw["system_source"] == expected["system_source"]
        assert raw["system_lang"] == expected["system_lang"]


def test_old_probe_files_load_and_say_the_system_locale_was_not_collected(tmp_path):
    old = probe.load_probe(PROBES / "minima-v1.json")       # written before these fields
    assert old["locale"]["pt_BR_utf8"] is True and old["locale"]["system_known"] is False
    new = probe.load_probe(PROBES / "linux-ok.json")
    assert new["locale"]["system_known"] is True
    assert new["locale"]["system_lang"] == "pt_BR.UTF-8"
    raw = json.loads((PROBES / "linux-ok.json").read_text("utf-8"))
    raw["locale"].update(system_lang="pt_BR.UTF-8; rm -rf /", system_source="/etc/shadow")
    bad = tmp_path / "ruim.json"
    bad.write_text(json.dumps(raw), "utf-8")
    loaded = probe.load_probe(bad)
    assert loaded["locale"]["system_lang"] is None
    assert loaded["locale"]["system_source"] is None
    assert any("locale.system_lang" in w for w in loaded["warnings"])
    assert "  Locale padrão do sistema (o do serviço do PEC): LANG=pt_BR.UTF-8 " \
        "(/etc/default/locale)" in summary_lines(new)
    assert not any("Locale padrão do sistema" in x for x in summary_lines(old))


@pytest.mark.ssh
def test_ssh_probe_reads_the_servers_system_locale(tmp_path, monkeypatch):
    """Over SSH the session's LANG is empty; the probe reads the server's /etc/locale.conf and
    /etc/default/locale (here a real sshd whose /etc is an overlay holding a fixture tree, in
    its own mount namespace) the same way the local probe reads a tree."""
    from esus_runbook.ssh import SshOptions, connect, parse_target
    from esus_runbook.ssh.remote_probe import collect_ssh

    from .support import sshd as sshd_mod

    files = {"default/locale": '#  File generated by update-locale\nLANG="pt_BR.UTF-8"\n',
             "locale.conf": "LANG=pt_BR.UTF-8\nLC_CTYPE=pt_BR.UTF-8\n"}
    original = sshd_mod._etc_upper

    def etc_with_locale(upper, home):
        original(upper, home)
        for rel, text in files.items():
            (upper / rel).parent.mkdir(parents=True, exist_ok=True)
            (upper / rel).write_text(text, encoding="utf-8")

    monkeypatch.setattr(sshd_mod, "_etc_upper", etc_with_locale)
    server = sshd_mod.start_sshd(tmp_path / "sshd")
    try:
        opts = SshOptions(identity=str(server.client_key),
                          known_hosts=str(server.known_hosts()))
        with connect(parse_target(server.target()), opts) as s:
            raw = collect_ssh(s)
    finally:
        sshd_mod.stop_sshd(server)
    loc = raw["locale"]
    assert loc["lang"] is None                                  # the session's: nothing
    assert (loc["system_lang"], loc["system_ctype"], loc["system_source"]) == \
        ("pt_BR.UTF-8", "pt_BR.UTF-8", "/etc/locale.conf")
    tree = _tree(tmp_path, {f"etc/{rel}": text for rel, text in files.items()})
    local = linux.system_locale(str(tree))
    assert {k: loc[k] for k in local} == local                  # the same parser, both ways
    n = probe.normalize(raw, "ssh")
    assert n["locale"]["system_known"] is True and n["locale"]["system_lang"] == "pt_BR.UTF-8"
