"""JVM sizing: never above the machine, never a malformed flag, never the manual's defects;
the systemd drop-in really rewrites PEC's start script (real sed, real systemd parser)."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess

import pytest

from esus_runbook import jvm
from esus_runbook.stages.cenario import profiles

from .support.project import require_tool

HEAP = re.compile(r"^-X(ms|mx)\d+[MG]$")
XX = re.compile(r"^-XX:\w+=\d+[MG]$")
GIB = 1024 ** 3
STOCK = """#!/bin/sh
JAVA_OPTS="-Xms2048M -Xmx4096M -XX:MetaspaceSize=256M -XX:MaxMetaspaceSize=512M -XX:ReservedCodeCacheSize=512M"
JAVA_OPTS="$JAVA_OPTS -Djava.net.preferIPv4Stack=true"
JAVA_OPTS="$JAVA_OPTS -Dfile.encoding=UTF-8"
JAVA_OPTS="$JAVA_OPTS -Djava.awt.headless=true -XX:CompressedClassSpaceSize=256M"

BUNDLE_HOME=$(dirname $0)
cd $BUNDLE_HOME
$JAVA_HOME/bin/java -jar $JAVA_OPTS $BUNDLE_HOME/pec-bundle.jar
"""


def by_id(pid):
    return next(p for p in profiles() if p["profile_id"] == pid)


def mb(flag: str) -> int:
    return int(re.search(r"(\d+)M$", flag).group(1))


@pytest.mark.parametrize("profile", profiles(), ids=lambda p: p["profile_id"])
@pytest.mark.parametrize("windows", [False, True])
@pytest.mark.parametrize("single", [True, False])
def test_flags_are_well_formed_and_fit_the_machine(profile, windows, single):
    for ram_gb in [x / 2 for x in range(2, 129)]:  # 1 GB .. 64 GB
        ram = int(ram_gb * GIB)
        plan = jvm.recommend(profile, ram, windows=windows, single_server=single)
        # the manual's stray space never reaches a recommendation (only its citation does)
        assert "MetaspaceSize =" not in json.dumps({k: v for k, v in plan.items()
                                                    if k != "fonte"})
        for f in plan["flags"]:
            assert " " not in f
            assert HEAP.match(f) or XX.match(f), f
        if not plan["flags"]:
            assert plan["situacao"] == "insuficiente"
            continue
        v = {m.group(1): int(m.group(2)) for m in
             (re.match(r"^-(X(?:ms|mx)|XX:\w+?)=?(\d+)M$", f) for f in plan["flags"])}
        xms, xmx = v["Xms"], v["Xmx"]
        meta, max_meta = v["XX:MetaspaceSize"], v["XX:MaxMetaspaceSize"]
        code = v["XX:ReservedCodeCacheSize"]
        assert xms <= xmx and meta <= max_meta
        assert xmx * 1024 * 1024 < ram  # never an -Xmx above physical RAM
        b = plan["orcamento"]
        assert xmx + max_meta + code + b["reserva_so_mb"] + b["reserva_banco_mb"] <= b["ram_mb"]
        assert xmx <= plan["tabela"]["xmx_mb"]


def test_the_manuals_heap_is_cut_on_an_8gb_app_server():
    plan = jvm.recommend(by_id("ate_1000"), 8 * GIB)
    assert plan["tabela"]["xmx_mb"] == 10240  # the manual's value...
    assert plan["situacao"] == "reduzido" and plan["reduzido"] is True
    assert mb(plan["flags"][1]) < 8192  # ...never reaches the machine
    assert "-XX:MetaspaceSize=512M" in plan["flags"]
    plan16 = jvm.recommend(by_id("ate_1000"), 16 * GIB)
    assert "-Xmx10240M" in plan16["flags"] and plan16["situacao"] == "tabela"
    central = jvm.recommend(by_id("centralizador_municipal"), 16 * GIB)
    assert "-XX:ReservedCodeCacheSize=500M" in central["flags"]


def test_single_server_leaves_room_for_postgresql():
    single = jvm.recommend(by_id("ate_40"), 6 * GIB)
    split = jvm.recommend(by_id("ate_40"), 6 * GIB, single_server=False)
    assert single["orcamento"]["reserva_banco_mb"] > 0 == split["orcamento"]["reserva_banco_mb"]
    assert mb(single["flags"][1]) < mb(split["flags"][1])


def test_no_flags_without_ram_or_with_too_little():
    assert jvm.recommend(by_id("ate_40"), None)["flags"] == []
    tiny = jvm.recommend(by_id("ate_40"), 3 * GIB)
    assert tiny["situacao"] == "insuficiente" and tiny["flags"] == []
    assert "Aumente a RAM" in tiny["mensagem"]


def test_flag_builder_refuses_bad_values():
    for bad in (0, -1, 1.5, "512", True):
        with pytest.raises(ValueError):
            jvm.flag("-Xmx", bad)
    with pytest.raises(ValueError):
        jvm.flag("-XX:MetaspaceSize =", 512)


def _exec_start_pre(dropin: str) -> list[str]:
    line = next(x for x in dropin.splitlines() if x.startswith("ExecStartPre="))
    cmd = line.split("=", 1)[1]
    assert cmd.startswith("-/bin/sed ")  # '-': a missing script never blocks the service
    return shlex.split(cmd[1:])


def test_dropin_rewrites_the_start_script_and_is_idempotent(tmp_path):
    require_tool("sed")
    plan = jvm.recommend(by_id("ate_1000"), 12 * GIB)
    where = plan["onde"]
    assert where["dropin_path"] == "/etc/systemd/system/e-SUS-PEC.service.d/esus-runbook-jvm.conf"
    assert where["script"] == "/opt/e-SUS/webserver/standalone.sh"
    script = tmp_path / "standalone.sh"
    # the manual's defect (space before '=') must be repaired too
    script.write_text(STOCK.replace("-XX:MetaspaceSize=256M", "-XX:MetaspaceSize =256M"))
    argv = _exec_start_pre(where["dropin"])
    assert argv[-1] == where["script"]
    argv[-1] = str(script)
    argv[0] = "sed"
    subprocess.run(argv, check=True)
    first = script.read_text()
    line = first.splitlines()[1]
    assert line == 'JAVA_OPTS="' + " ".join(plan["flags"]) + '"'
    assert first.splitlines()[2:] == STOCK.splitlines()[2:]  # nothing else touched
    subprocess.run(argv, check=True)
    assert script.read_text() == first


def test_dropin_parses_cleanly_with_systemd(tmp_path):
    """systemd's own parser reads the drop-in without quoting errors and keeps every flag."""
    analyze = require_tool("systemd-analyze")
    plan = jvm.recommend(by_id("ate_40"), 16 * GIB)
    unit = tmp_path / "e-SUS-PEC.service"
    unit.write_text("[Unit]\nDescription=e-SUS PEC\n[Service]\n"
                    "ExecStart=/bin/sh /opt/e-SUS/webserver/standalone.sh\n"
                    "[Install]\nWantedBy=multi-user.target\n")
    (tmp_path / "e-SUS-PEC.service.d").mkdir()
    (tmp_path / "e-SUS-PEC.service.d" / "esus-runbook-jvm.conf").write_text(
        plan["onde"]["dropin"])
    env = {**os.environ, "SYSTEMD_UNIT_PATH": f"{tmp_path}:", "SYSTEMD_LOG_LEVEL": "debug"}
    proc = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True,
                          env=env, timeout=60)
    log = proc.stdout + proc.stderr
    assert "esus-runbook-jvm.conf" in log  # the drop-in was loaded
    assert "Unbalanced quoting" not in log and "Invalid" not in log
    cmdline = [x for x in log.splitlines() if "Command Line:" in x and "sed" in x]
    if cmdline:  # systemd versions that dump the parsed unit show the final argv
        for f in plan["flags"]:
            assert f in cmdline[0]
