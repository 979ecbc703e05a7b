"""A site for the ambiente stage's tests, with one of the recorded probe files of
tests/data/probes/ (or a probe given as a dict)."""

from __future__ import annotations

import json
from pathlib import Path

from esus_runbook.sites.loading import validate_site

PROBES = Path(__file__).resolve().parents[1] / "data" / "probes"


def make_site(tmp_path: Path, probe: str | Path | dict | None = "linux-ok", *, users=30,
              passmark=6500, ibge="2927408", instalador=None, instalacao=None, tipo=None,
              this_machine=None):
    if isinstance(probe, dict):
        path = tmp_path / "sondagem.json"
        path.write_text(json.dumps(probe))
        probe = path
    elif isinstance(probe, str):
        probe = PROBES / f"{probe}.json"
    raw = {"site_id": "s", "nome": "S", "municipio_ibge": ibge,
           "cenario": {"usuarios_simultaneos": users,
                       **({"tipo_instalacao": tipo} if tipo else {})},
           "ambiente": {"probe": str(probe) if probe else None, "passmark": passmark,
                        "sondar_esta_maquina": this_machine},
           "instalador": instalador or {}, "instalacao": instalacao or {}}
    return validate_site(raw, source=tmp_path / "s.yaml")
