"""The ambiente stage's checks: one method per requirement of the official profile, each
adding its check with the evidence and the remedy, and a row of the measured × required chart
(docs/dominio.md). Thresholds and tables come from ``data/``."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from ..commands import ps, sh
from ..data import read_csv
from ..jvm import settings
from ..render.numbers import number
from ..results import StageResult
from ..sites.loading import Site
from ..status import Status

GIB = 1024 ** 3
# Checks that the instalacao stage's pre-install checklist reads from this stage's result.
CHECK_LOCALE, CHECK_FUSO = "AMB_LOCALE", "AMB_FUSO"
CHECK_LOCALE_SISTEMA = "AMB_LOCALE_SISTEMA"
CHECK_REMOVEIPC, CHECK_PORTAS = "AMB_REMOVEIPC", "AMB_PORTAS"
OK, ALERTA, PENDENTE, FALHA = Status.OK, Status.ALERTA, Status.PENDENTE, Status.FALHA


def _norm_locale(name: str) -> str:
    """pt_BR.UTF-8, pt_BR.utf8 and pt_br.UTF8 are the same locale."""
    return name.strip().lower().replace("-", "")


def num(x: float | None, digits: int = 1) -> str:
    """Measurements in check texts: one decimal unless told, trailing zeros dropped."""
    return number(x, digits, trim=True)


class Checks:
    """The checks of one probe against one profile; fills ``r`` and the chart rows."""

    def __init__(self, site: Site, r: StageResult, p: dict[str, Any],
                 profile: dict[str, Any] | None):
        self.site, self.r, self.p, self.profile = site, r, p, profile
        self.s = settings()
        self.single = profile is None or profile.get("servers") == 1
        self.target = "servidor único: aplicação e banco" if self.single else \
            "servidor de aplicação"
        self.rows: list[dict[str, Any]] = []
        self.not_applicable: dict[str, str] = {}
        self.linux = not p["is_windows"] and (p["is_linux"] or p["os"]["system"] is None)

    def add(self, cid: str, title: str, status: Status, expected: Any, observed: Any,
            remedy: str | None = None) -> None:
        self.r.add(cid, title, status, expected, observed, remedy)

    def row(self, cid: str, label: str, measured: float | None, required: float | None,
            unit: str) -> None:
        if measured is not None and required:
            status = next(c.status.value for c in reversed(self.r.checks) if c.id == cid)
            self.rows.append({"id": cid, "rotulo": label, "medido": round(measured, 2),
                              "exigido": required, "unidade": unit, "status": status})

    # -- sizing -----------------------------------------------------------------------
    def ram(self) -> None:
        m, prof = self.p["memory"], self.profile
        req = prof["app_ram_gb"]
        total = m["total_bytes"]
        title = f"Memória RAM ({self.target})"
        expected = f"≥ {req} GB (perfil {prof['label']})"
        if total is None:
            self.add("AMB_RAM", title, PENDENTE, expected, "não medida",
                     "A sondagem não trouxe a memória: rode de novo a sondagem no servidor.")
            return
        limit = m["cgroup_limit_bytes"]
        eff = min(total, limit) if limit else total
        observed = f"{num(eff / GIB)} GiB"
        if limit and limit < total:
            observed += f" (limite do contêiner; a máquina tem {num(total / GIB)} GiB)"
        tol = float(self.s["ram_tolerancia"])
        if eff >= req * GIB * tol:
            self.add("AMB_RAM", title, OK, expected, observed)
        else:
            more = " com o PostgreSQL na mesma máquina" if self.single else ""
            self.add("AMB_RAM", title, FALHA, expected, observed,
                     f"Aumente a memória para pelo menos {req} GB: o perfil "
                     f"{prof['label']} exige {req} GB{more}. Com menos, o PEC fica lento e o "
                     "sistema encerra o processo por falta de memória ('Killed')."
                     + (" Num contêiner (LXC/Docker), aumente também o limite de memória."
                        if limit else ""))
        self.row("AMB_RAM", "RAM (GB)", eff / GIB, req, "GB")

    def cores(self) -> None:
        c, prof = self.p["cpu"], self.profile
        req = prof["cpu_cores"]
        title = f"Núcleos de CPU ({self.target})"
        ghz = f" de {num(prof['cpu_ghz'])} GHz" if prof.get("cpu_ghz") else ""
        expected = f"≥ {req} núcleos{ghz}"
        phys, logi, usable = c["physical_cores"], c["logical_cores"], c["usable_cores"]
        parts = [f"{phys} físicos" if phys else "físicos ?", f"{logi} lógicos" if logi else
                 "lógicos ?"]
        if usable is not None and logi and usable < logi:
            parts.append(f"{usable} utilizáveis (limite do contêiner/afinidade)")
        observed = ", ".join(parts)
        if phys is None and logi is None:
            self.add("AMB_CPU_NUCLEOS", title, PENDENTE, expected, "não medido",
                     "A sondagem não trouxe os núcleos: rode de novo a sondagem no servidor.")
            return
        seen = phys or logi
        if usable is not None and logi and usable < logi and usable < req:
            self.add("AMB_CPU_NUCLEOS", title, FALHA, expected, observed,
                     f"Só {usable} núcleos podem ser usados por este sistema: aumente os vCPUs "
                     f"da VM ou o limite de CPU do contêiner para {req}.")
            seen = usable
        elif phys is not None and phys >= req or phys is None and logi >= req:
            self.add("AMB_CPU_NUCLEOS", title, OK, expected, observed)
        elif logi is not None and logi >= req:
            self.add("AMB_CPU_NUCLEOS", title, ALERTA, expected, observed,
                     f"O perfil pede {req} núcleos físicos; com hyper-threading os lógicos "
                     "não rendem o mesmo: confira a pontuação PassMark da CPU.")
        else:
            self.add("AMB_CPU_NUCLEOS", title, FALHA, expected, observed,
                     f"Use um servidor (ou VM) com pelo menos {req} núcleos.")
        self.row("AMB_CPU_NUCLEOS", "Núcleos", float(seen), req, "núcleos")
        mhz = c["max_mhz"] or c["current_mhz"]
        if prof.get("cpu_ghz"):
            want = prof["cpu_ghz"] * 1000
            title = f"Frequência da CPU ({self.target})"
            if mhz is None:
                self.add("AMB_CPU_FREQUENCIA", title, ALERTA, f"≥ {num(prof['cpu_ghz'])} GHz",
                         "não medida", "Confira a frequência no modelo da CPU "
                         f"({c['model'] or 'modelo não informado'}); a pontuação PassMark é a "
                         "referência mais segura.")
            elif mhz >= want * float(self.s["cpu_ghz_tolerancia"]):
                self.add("AMB_CPU_FREQUENCIA", title, OK, f"≥ {num(prof['cpu_ghz'])} GHz",
                         f"{num(mhz / 1000, 2)} GHz")
            else:
                self.add("AMB_CPU_FREQUENCIA", title, ALERTA,
                         f"≥ {num(prof['cpu_ghz'])} GHz", f"{num(mhz / 1000, 2)} GHz",
                         "CPU abaixo da frequência do perfil: confira se a pontuação PassMark "
                         "atende; senão, use uma CPU mais rápida.")

    def passmark(self) -> None:
        prof, score = self.profile, self.site.ambiente.get("passmark")
        req = prof["passmark"]
        model = self.p["cpu"]["model"]
        title = "Desempenho da CPU (PassMark)"
        expected = f"≥ {number(req)}"
        if score is None:
            self.add("AMB_PASSMARK", title, ALERTA, expected, "não informado",
                     f"Procure o modelo '{model or 'da CPU do servidor'}' em "
                     "https://www.cpubenchmark.net/ (valor 'CPU Mark') e informe em "
                     "ambiente.passmark. Numa VM, considere a fração dos núcleos que ela "
                     "recebe.")
            return
        if score >= req:
            self.add("AMB_PASSMARK", title, OK, expected, number(score))
        else:
            self.add("AMB_PASSMARK", title, FALHA, expected, number(score),
                     f"A CPU fica abaixo do mínimo do perfil {prof['label']}: use um servidor "
                     "com CPU mais forte (ou mais vCPUs numa VM).")
        self.row("AMB_PASSMARK", "PassMark", float(score), req, "pontos")

    def disk_free(self) -> None:
        inst, prof = self.p["install_path"], self.profile
        req = prof["app_disk_gb"]
        where = inst["path"] or ("C:\\Program Files" if self.p["is_windows"] else "/opt")
        title = f"Disco livre onde o PEC instala ({self.target})"
        expected = f"≥ {req} GB livres em {where}"
        free = inst["free_bytes"]
        if free is None:
            self.add("AMB_DISCO_LIVRE", title, PENDENTE, expected, "não medido",
                     "A sondagem não trouxe o disco: rode de novo com --pasta-instalacao apontando "
                     "para onde o PEC será instalado.")
            return
        observed = f"{num(free / GIB)} GiB livres"
        if inst["total_bytes"]:
            observed += f" de {num(inst['total_bytes'] / GIB)} GiB"
        if inst["mount"]:
            observed += f" (partição {inst['mount']})"
        if free >= req * GIB * float(self.s["disco_tolerancia"]):
            self.add("AMB_DISCO_LIVRE", title, OK, expected, observed)
        else:
            self.add("AMB_DISCO_LIVRE", title, FALHA, expected, observed,
                     f"Libere espaço ou amplie o disco de {where} para pelo menos {req} GB "
                     "livres: o banco do PEC cresce com o uso e os backups precisam de espaço.")
        self.row("AMB_DISCO_LIVRE", "Disco livre (GB)", free / GIB, req, "GB")

    def disk_speed(self) -> None:
        ds, prof = self.p["disk_speed"], self.profile
        w_req, r_req = prof["app_write_mb_s"], prof["app_read_mb_s"]
        title = f"Velocidade do disco ({self.target})"
        expected = f"gravação ≥ {w_req} MB/s, leitura ≥ {r_req} MB/s"
        if ds is None:
            self.add("AMB_DISCO_VELOCIDADE", title, ALERTA, expected, "não medida",
                     "Rode a sondagem com --velocidade-disco no servidor (grava e lê um arquivo "
                     "temporário de 256 MB e o apaga).")
            return
        w, rd, method = ds["write_mb_s"], ds["read_mb_s"], ds["read_method"]
        observed = f"gravação {num(w)} MB/s, leitura {num(rd)} MB/s"
        if method:
            observed += f" (leitura via {method})"
        problems, warnings = [], []
        if w is not None and w < w_req:
            problems.append(f"gravação {num(w)} < {w_req} MB/s")
        if rd is not None and rd < r_req and method != "cache":
            problems.append(f"leitura {num(rd)} < {r_req} MB/s")
        if w is None or rd is None:
            warnings.append("um dos sentidos não foi medido")
        if method == "cache":
            warnings.append("a leitura pode ter vindo do cache do sistema (Windows)")
        if ds["same_disk_as_install"] is False:
            warnings.append(f"medido em {ds['mount']}, não no disco onde o PEC instala")
        if problems:
            self.add("AMB_DISCO_VELOCIDADE", title, FALHA, expected,
                     observed + "; " + "; ".join(problems + warnings),
                     "Disco lento para o perfil: use SSD/NVMe ou um volume com mais IOPS "
                     "(em nuvem, aumente a classe do volume). Disco lento deixa o PEC lento "
                     "para todos.")
        elif warnings:
            self.add("AMB_DISCO_VELOCIDADE", title, ALERTA, expected,
                     observed + "; " + "; ".join(warnings),
                     "Rode a sondagem com --velocidade-disco e --pasta-instalacao no disco onde o PEC "
                     "será instalado, com um usuário que possa gravar ali.")
        else:
            self.add("AMB_DISCO_VELOCIDADE", title, OK, expected, observed)
        if w is not None:
            self.row("AMB_DISCO_VELOCIDADE", "Gravação (MB/s)", w, w_req, "MB/s")
        if rd is not None and method != "cache":
            self.row("AMB_DISCO_VELOCIDADE", "Leitura (MB/s)", rd, r_req, "MB/s")

    # -- operating system -------------------------------------------------------------
    def bits(self) -> None:
        o = self.p["os"]
        title = "Sistema operacional de 64 bits"
        observed = f"{o['bits']} bits ({o['arch'] or 'arquitetura ?'})" if o["bits"] else \
            f"não identificado ({o['arch'] or 'arquitetura ?'})"
        if o["bits"] == 64:
            self.add("AMB_64BITS", title, OK, "64 bits (x64)", observed)
        elif o["bits"] == 32:
            self.add("AMB_64BITS", title, FALHA, "64 bits (x64)", observed,
                     "O PEC só tem instalador de 64 bits (o de 32 bits foi descontinuado em "
                     "2019, porque o PEC precisa de 8 GB de RAM): reinstale o servidor com um "
                     "sistema de 64 bits.")
        else:
            self.add("AMB_64BITS", title, PENDENTE, "64 bits (x64)", observed,
                     "Confira a arquitetura no servidor (`uname -m` deve mostrar x86_64; no "
                     "Windows, Sistema > Tipo de sistema: 64 bits).")

    def os_supported(self) -> None:
        o, p = self.p["os"], self.p
        title = "Sistema operacional suportado"
        expected = "Ubuntu, Debian, RHEL, CentOS, Windows ou Windows Server (64 bits)"
        name = o["distro"] or o["system"] or "não identificado"
        if o["distro"] and o["distro_version"] and o["distro_version"] not in name:
            name += f" ({o['distro_version']})"
        table = {row["id"]: row for row in read_csv("sistemas.csv")}
        sid = "windows" if p["is_windows"] else (o["distro_id"] or "").lower()
        like = (o["distro_like"] or "").lower().split()
        platform = self.site.instalador.get("plataforma")
        mismatch = (platform == "linux" and p["is_windows"]) or \
            (platform == "windows" and p["is_linux"])
        if mismatch:
            self.add("AMB_SO", title, FALHA, f"servidor {platform} (instalador.plataforma)",
                     name, f"O instalador escolhido é para {platform}, mas o servidor é "
                     f"{o['system']}: corrija instalador.plataforma ou use outro servidor.")
            return
        row = table.get(sid)
        if row is not None and row["status"] == "ok":
            self.add("AMB_SO", title, OK, expected, name)
        elif row is not None:
            self.add("AMB_SO", title, ALERTA, expected, name,
                     f"{row['nome']} é compatível com o RHEL mas não aparece na lista oficial: "
                     "o PEC deve funcionar; teste a instalação antes da produção.")
        elif any(x in ("rhel", "centos", "fedora", "debian", "ubuntu") for x in like):
            self.add("AMB_SO", title, ALERTA, expected, name,
                     f"Derivado de {' / '.join(like)}, fora da lista oficial: prefira Ubuntu, "
                     "Debian, RHEL ou CentOS na produção.")
        elif o["system"] is None and o["distro"] is None:
            self.add("AMB_SO", title, ALERTA, expected, name,
                     "A sondagem não identificou o sistema: confira com `cat /etc/os-release`.")
        else:
            self.add("AMB_SO", title, FALHA, expected, name,
                     "Sistema fora da lista oficial do PEC: instale Ubuntu, Debian, RHEL ou "
                     "CentOS (64 bits) ou Windows/Windows Server (64 bits).")

    def locale(self) -> None:
        if not self.linux:
            self.not_applicable[CHECK_LOCALE] = "locale pt_BR.UTF-8 é requisito do Linux"
            return
        loc, o = self.p["locale"], self.p["os"]
        title = "Locale pt_BR.UTF-8"
        rhel = any(x in (o["distro_id"] or "") + " " + (o["distro_like"] or "")
                   for x in ("rhel", "centos", "fedora", "rocky", "alma"))
        how = ("`sudo dnf install -y glibc-langpack-pt` (CentOS 7: `sudo localedef -i pt_BR -f "
               "UTF-8 pt_BR.UTF-8`)") if rhel else (
            "`sudo sed -i 's/^# *pt_BR.UTF-8 UTF-8/pt_BR.UTF-8 UTF-8/' /etc/locale.gen && sudo "
            "locale-gen` (Ubuntu: `sudo locale-gen pt_BR.UTF-8`)")
        if loc["pt_BR_utf8"] is True:
            self.add(CHECK_LOCALE, title, OK, "pt_BR.UTF-8 instalado",
                     ", ".join(loc["found"]) or "pt_BR.UTF-8")
        elif loc["pt_BR_utf8"] is False:
            self.add(CHECK_LOCALE, title, FALHA, "pt_BR.UTF-8 instalado",
                     "ausente" + (f" (há {', '.join(loc['found'])})" if loc["found"] else ""),
                     f"Gere o locale antes de instalar: {how}. Sem ele a instalação fica "
                     "incompleta.")
        else:
            self.add(CHECK_LOCALE, title, ALERTA, "pt_BR.UTF-8 instalado", "não verificado",
                     f"Confira com `locale -a | grep -i pt_BR`; se faltar: {how}.")
        self._system_locale(loc, rhel)

    def _system_locale(self, loc: dict, rhel: bool) -> None:
        """The system default locale, the one e-SUS-PEC.service starts with (the probe's
        /etc/locale.conf, /etc/default/locale or `localectl status`), not the probing
        shell's LANG: docs/dominio.md, "Ambiente"."""
        title = "Locale padrão do sistema (o do serviço do PEC)"
        expected = "LANG=pt_BR.UTF-8"
        how = ("`sudo localectl set-locale LANG=pt_BR.UTF-8`" if rhel else
               "`sudo update-locale LANG=pt_BR.UTF-8` (ou `sudo localectl set-locale "
               "LANG=pt_BR.UTF-8`)") + " e reinicie o servidor para o serviço do PEC subir " \
            "com ele"
        if not loc.get("system_known"):
            self.add(CHECK_LOCALE_SISTEMA, title, ALERTA, expected, "não verificado",
                     "A sondagem não trouxe o locale padrão do sistema (sondagem de uma versão "
                     "anterior do esus-runbook?): gere a sondagem de novo ou confira com "
                     f"`localectl status` ou `cat /etc/default/locale /etc/locale.conf`; se "
                     f"não for pt_BR.UTF-8: {how}.")
            return
        lang, ctype, source = loc["system_lang"], loc.get("system_ctype"), loc["system_source"]
        where = f" ({source})" if source else ""
        if not lang:
            observed = ("nenhum LANG configurado" + where + ": o serviço sobe com o locale C "
                        "(POSIX)")
        else:
            observed = f"LANG={lang}" + (f", LC_CTYPE={ctype}" if ctype else "") + where
        effective = _norm_locale(ctype or lang or "")
        if effective == "pt_br.utf8":
            if loc["pt_BR_utf8"] is False:
                self.add(CHECK_LOCALE_SISTEMA, title, ALERTA, expected, observed,
                         "O padrão do sistema é pt_BR.UTF-8, mas esse locale não está gerado "
                         "(veja AMB_LOCALE): gere-o e reinicie o servidor.")
            else:
                self.add(CHECK_LOCALE_SISTEMA, title, OK, expected, observed)
            return
        self.add(CHECK_LOCALE_SISTEMA, title, ALERTA, expected, observed,
                 "O PEC roda como serviço e herda o locale padrão do sistema, não o "
                 "LANG=pt_BR.UTF-8 usado no comando do instalador: com outro locale, acentos "
                 f"e formatos podem sair errados. Defina o padrão: {how}.")

    def timezone(self) -> None:
        p = self.p
        title = "Fuso horário"
        fusos = {row["nome"]: row for row in read_csv("fusos.csv")}
        uf_row = municipality_zone(self.site.data.get("municipio_ibge"))
        want = uf_row["fuso"] if uf_row else None
        expected = f"fuso brasileiro configurado (para {uf_row['uf']}: {want})" if uf_row \
            else "fuso brasileiro configurado"
        how = timezone_command(uf_row, windows=bool(p["is_windows"]))
        tz = p["timezone"]
        if tz is None:
            if p["timezone_configured"] is False:
                self.add(CHECK_FUSO, title, FALHA, expected, "não configurado "
                         "(/etc/localtime ausente)", f"Configure o fuso antes de instalar: "
                         f"{how}. Sem fuso a instalação fica incompleta.")
            else:
                self.add(CHECK_FUSO, title, ALERTA, expected, "não identificado",
                         f"Confira o fuso no servidor (`timedatectl`) e ajuste com {how}.")
            return
        row = fusos.get(tz)
        if row is None:
            self.add(CHECK_FUSO, title, ALERTA, expected, tz,
                     f"O servidor não está num fuso brasileiro (datas e a transmissão das "
                     f"00:00 ficam erradas): ajuste com {how}.")
            return
        offset_now, offset_want = _utc_offset(row["iana"]), _utc_offset(want)
        if uf_row and offset_now is not None and offset_want is not None \
                and offset_now != offset_want:
            self.add(CHECK_FUSO, title, ALERTA, expected,
                     f"{tz} (UTC{offset_now}; {uf_row['uf']} usa UTC{offset_want})",
                     f"O fuso do servidor difere do município: ajuste com {how}.")
        else:
            self.add(CHECK_FUSO, title, OK, expected, tz)

    def ports(self) -> None:
        inst = self.site.instalacao
        need = {"8080": "HTTP do PEC"}
        if self.single:
            need["5433"] = "PostgreSQL embutido"
        if inst.get("https_dominio"):
            https = str(inst.get("https_porta") or 443)
            need["80"] = "validação do certificado (HTTPS automático)"
            need[https] = "HTTPS automático"
        ports, owners = self.p["ports"], self.p["port_owners"]
        title = "Portas livres"
        expected = ", ".join(f"{k} ({v})" for k, v in need.items()) + " livres"
        observed = ", ".join(
            f"{k} {'livre' if ports.get(k) == 'free' else 'em uso' if ports.get(k) == 'in_use' else 'não verificada'}"
            + (f" por {owners[k]}" if k in owners else "") for k in need)
        busy = [k for k in need if ports.get(k) == "in_use"]
        unknown = [k for k in need if ports.get(k, "unknown") == "unknown"]
        port = int((busy or unknown or ["8080"])[0])
        find = f"`netstat -ano | findstr :{port}`" if self.p["is_windows"] else \
            f"`sudo ss -ltnp 'sport = :{port}'`"
        if busy and inst.get("atualizacao"):
            self.add(CHECK_PORTAS, title, ALERTA, expected, observed,
                     f"Numa atualização as portas {', '.join(busy)} podem ser do próprio PEC: "
                     f"confira o processo com {find}.")
        elif busy:
            pec = self.p["pec"]["installed"]
            self.add(CHECK_PORTAS, title, FALHA, expected, observed,
                     f"Libere as portas {', '.join(busy)}: descubra o processo com {find}, "
                     "pare-o ou mude a porta dele. O PEC não sobe com a porta ocupada."
                     + (" Há um PEC instalado neste servidor: se for uma atualização, "
                        "informe instalacao.atualizacao: true." if pec else ""))
        elif unknown:
            self.add(CHECK_PORTAS, title, ALERTA, expected, observed,
                     f"Confira as portas {', '.join(unknown)} no servidor com {find}.")
        else:
            self.add(CHECK_PORTAS, title, OK, expected, observed)

    def remove_ipc(self) -> None:
        if not self.linux:
            self.not_applicable[CHECK_REMOVEIPC] = "RemoveIPC é configuração do systemd (Linux)"
            return
        sd = self.p["systemd"] or {}
        title = "systemd-logind RemoveIPC=no"
        value = sd.get("remove_ipc")
        how = ("`sudo mkdir -p /etc/systemd/logind.conf.d && printf '[Login]\\nRemoveIPC=no\\n' "
               "| sudo tee /etc/systemd/logind.conf.d/esus-pec.conf && sudo systemctl restart "
               "systemd-logind`")
        observed = f"RemoveIPC={value}" + (f" ({sd['source']})" if sd.get("source") else "") \
            if value else "não verificado"
        if value == "no":
            self.add(CHECK_REMOVEIPC, title, OK, "RemoveIPC=no", observed)
        elif value == "yes":
            self.add(CHECK_REMOVEIPC, title, FALHA, "RemoveIPC=no", observed,
                     f"Defina RemoveIPC=no: {how}. Com RemoveIPC=yes o PostgreSQL do PEC perde "
                     "os semáforos e a instalação falha com 'Falha ao migrar o Banco de Dados'.")
        else:
            self.add(CHECK_REMOVEIPC, title, ALERTA, "RemoveIPC=no", observed,
                     f"Confira com `systemd-analyze cat-config systemd/logind.conf | grep "
                     f"RemoveIPC`; se não houver RemoveIPC=no, aplique: {how}.")

    def java(self) -> None:
        """The host Java that opens the ``.jar`` installer (Linux64 and Win64 alike; the
        PEC itself runs on the Java it brings). Only an old Windows ``.exe`` installer
        needs none: docs/dominio.md, "Java"."""
        windows = bool(self.p["is_windows"])
        installer = str(self.site.instalador.get("arquivo") or "")
        if windows and installer.lower().endswith(".exe"):
            self.not_applicable["AMB_JAVA"] = ("o instalador .exe (versões antigas) traz o "
                                              "próprio Java")
            return
        j = self.p["java"]
        # the manual asks for Java 8 (64-bit) to open the installer; the PEC >= 5.3 itself
        # runs on the JRE 17 it brings (docs/dominio.md, "Ambiente")
        low = int(self.s["java_instalador_minimo"])
        title = "Java 64 bits no sistema (para abrir o instalador .jar)"
        expected = f"Java {low} ou mais novo, 64 bits (o manual pede o Java {low})"
        if windows:
            how = (f"`winget install EclipseAdoptium.Temurin.{low}.JRE` (ou outro Java {low}+ "
                   "de 64 bits) e confira com `java -version` num PowerShell novo (deve "
                   "mostrar \"64-Bit\")")
        else:
            how = "`sudo apt install -y openjdk-17-jre-headless` (RHEL: `sudo dnf install -y " \
                  f"java-17-openjdk-headless`; qualquer Java {low}+ de 64 bits serve)"
        if j["found"] is None:
            self.add("AMB_JAVA", title, ALERTA, expected, "não verificado",
                     f"Confira com `java -version`; se faltar: {how}.")
            return
        if not j["found"]:
            self.add("AMB_JAVA", title, FALHA, expected, "não encontrado",
                     f"Instale um Java 64 bits para rodar o instalador: {how}. O PEC em si usa "
                     "o Java que vem com ele.")
            return
        observed = f"{j['version'] or 'versão ?'} ({j['bits'] or '?'} bits)"
        if j["bits"] == 32:
            self.add("AMB_JAVA", title, FALHA, expected, observed,
                     f"O Java do sistema é de 32 bits e não abre o instalador x64: {how}.")
        elif j["major"] is not None and j["major"] < low:
            self.add("AMB_JAVA", title, ALERTA, expected, observed,
                     f"Java anterior ao {low}, que o manual pede para o instalador: {how}.")
        elif j["bits"] is None or j["major"] is None:
            self.add("AMB_JAVA", title, ALERTA, expected, observed,
                     f"Confira com `java -version` que é um Java {low}+ de 64 bits.")
        else:
            self.add("AMB_JAVA", title, OK, expected, observed)

    def postgres(self) -> None:
        pg, s = self.p["postgres"], self.s
        pmin = tuple(int(x) for x in str(s["postgres_min"]).split("."))
        scram = int(s["postgres_scram_desde"])
        title = "Banco de dados PostgreSQL"
        if not self.single:
            prof = self.profile
            self.add("AMB_POSTGRES", title, ALERTA,
                     f"servidor de banco separado: {prof['db_ram_gb']} GB de RAM, "
                     f"{prof['db_disk_gb']} GB de disco ({prof['db_write_mb_s']}/"
                     f"{prof['db_read_mb_s']} MB/s), PostgreSQL ≥ {s['postgres_min']} com md5",
                     "não verificado: esta sondagem descreve o servidor de aplicação",
                     "Rode `esus-runbook sondar --velocidade-disco` também no servidor de banco e "
                     "confira com o perfil; crie o usuário do PEC com password_encryption=md5 "
                     "e regra md5 no pg_hba.conf (o instalador não aceita SCRAM). A etapa de "
                     "instalação (verify-install) confere a conexão.")
            return
        expected = (f"PostgreSQL embutido do instalador, ou externo ≥ {s['postgres_min']} "
                    "com autenticação md5")
        if pg["found"] is None:
            self.add("AMB_POSTGRES", title, ALERTA, expected, "não verificado",
                     "Confira se há um PostgreSQL no servidor (`psql --version`); o instalador "
                     "traz o próprio PostgreSQL 9.6 na porta 5433.")
            return
        if not pg["found"]:
            bundled = pg["bundled_pec"]
            self.add("AMB_POSTGRES", title, OK, expected,
                     "nenhum PostgreSQL externo: o PEC usará o embutido (porta 5433)"
                     + (f"; já instalado com o PEC ({bundled['version'] or 'versão ?'})"
                        if bundled["found"] else ""))
            return
        v = pg["version_tuple"]
        observed = f"PostgreSQL {pg['version'] or '?'} no sistema"
        if v is None:
            self.add("AMB_POSTGRES", title, ALERTA, expected, observed,
                     "Confira a versão com `postgres --version`: o PEC exige 9.6 ou mais nova.")
        elif v < pmin:
            self.add("AMB_POSTGRES", title, FALHA, expected, observed,
                     f"PostgreSQL externo abaixo de {s['postgres_min']}: atualize-o ou use o "
                     "banco embutido do instalador (sem -url=).")
        elif v[0] >= scram:
            self.add("AMB_POSTGRES", title, ALERTA, expected, observed,
                     f"Se o PEC for usar este PostgreSQL (instalador com -url=), ele precisa de "
                     f"md5: a partir da versão {scram} o padrão é SCRAM e o instalador falha "
                     "com 'authentication type 10 is not supported'. Defina "
                     "password_encryption = md5, recrie a senha do usuário do PEC e use md5 no "
                     "pg_hba.conf. A etapa de instalação (verify-install) confere ao vivo.")
        else:
            self.add("AMB_POSTGRES", title, OK, expected,
                     observed + " (md5 é o padrão desta versão)")

    def jvm(self, plan: dict[str, Any]) -> None:
        title = "Parâmetros da JVM do PEC"
        sit = plan.get("situacao")
        table = plan.get("tabela") or {}
        expected = (f"-Xmx até {table.get('xmx_mb')}M (perfil), sem passar da RAM" if table
                    else "valores de JVM do perfil")
        where = plan.get("onde") or {}
        apply = (f"Aplique com o drop-in {where['dropin_path']} (conteúdo no notebook 02 e em "
                 "metrics.jvm.onde.dropin) e reinicie o e-SUS-PEC." if where.get("dropin_path")
                 else where.get("texto", ""))
        if sit == "tabela":
            stock = table.get("xmx_mb") == 4096 and table.get("xms_mb") == 2048
            self.add("AMB_JVM", title, OK, expected, plan["java_opts"],
                     None if stock else apply)
        elif sit == "reduzido":
            self.add("AMB_JVM", title, ALERTA, expected, plan["java_opts"],
                     f"{plan['mensagem']} {apply} Para usar os valores do perfil, aumente a "
                     "RAM do servidor.")
        elif sit == "insuficiente":
            self.add("AMB_JVM", title, FALHA, expected, "não há memória para o heap",
                     plan["mensagem"])
        else:
            self.add("AMB_JVM", title, ALERTA, expected, "sem recomendação",
                     plan.get("mensagem") or "Sem dados para dimensionar a JVM.")


def municipality_zone(ibge: str | None) -> dict[str, Any] | None:
    """The ``data/uf_fuso.csv`` row (uf, IANA ``fuso``, ``fuso_windows``) of a municipality's
    state (the IBGE code's first two digits), or None for an unknown code."""
    uf = str(ibge or "")[:2]
    return next((row for row in read_csv("uf_fuso.csv") if str(row["uf_ibge"]) == uf), None)


def timezone_command(zone: dict[str, Any] | None, *, windows: bool) -> str:
    """The command that sets the municipality's zone (zone names come from the packaged
    table, never from the site file)."""
    if zone is None:
        return ("`timedatectl list-timezones | grep America/` e `sudo timedatectl "
                "set-timezone <fuso do município>`" if not windows else
                '`tzutil /l` e `tzutil /s "<fuso do município>"`')
    return (f"`tzutil /s {ps(zone['fuso_windows'])}`" if windows else
            f"`sudo timedatectl set-timezone {sh(zone['fuso'])}`")


def _utc_offset(zone: str | None) -> str | None:
    """The zone's current UTC offset as '-03:00' (None when tzdata is unavailable)."""
    if not zone:
        return None
    try:
        off = datetime.now(ZoneInfo(zone)).utcoffset()
    except Exception:  # noqa: BLE001 - no tzdata on this machine
        return None
    if off is None:
        return None
    minutes = int(off.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


