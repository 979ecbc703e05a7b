"""The one rule for where site files are (sites/folders.py), table-driven, and that every face
that walks a folder or an inventory follows it: ``esus-runbook validar`` (the loading ``run``
and ``batch`` do), the form's folder chooser and ``lab``."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from esus_runbook import cli, lab
from esus_runbook.errors import InputError
from esus_runbook.form import folder_sites, locate
from esus_runbook.sites import folders as site_files
from esus_runbook.sites import loading as sites


def site_text(site_id: str) -> str:
    return f"site_id: {site_id}\nnome: UBS {site_id}\nmunicipio_ibge: '2927408'\n"


def regular(folder: Path, name: str) -> None:
    (folder / name).write_text(site_text(Path(name).stem.lower().strip(".")), encoding="utf-8")


def directory(folder: Path, name: str) -> None:
    (folder / name).mkdir()
    regular(folder / name, "escondido.yaml")


def fifo(folder: Path, name: str) -> None:
    os.mkfifo(folder / name)


def loop(folder: Path, name: str) -> None:
    (folder / name).symlink_to(folder / name)


def dangling(folder: Path, name: str) -> None:
    (folder / name).symlink_to(folder / "nao-existe.yaml")


def link_to_file(folder: Path, name: str) -> None:
    real = folder.parent / "fora" / "ubs-link.yaml"
    real.parent.mkdir(exist_ok=True)
    real.write_text(site_text("ubs-link"), encoding="utf-8")
    (folder / name).symlink_to(real)


# entry of a folder of sites → (how it is made, is it a site file?, site_id read from it, or
# the pt-BR refusal every face gives for the folder)
ENTRIES = [
    ("ubs-b.yaml", regular, True, "ubs-b"),
    ("UBS-C.YML", regular, True, "ubs-c"),
    (".ubs-oculta.yaml", regular, False, None),        # editor backups, hidden files
    (".git", directory, False, None),                  # hidden folders
    ("leia-me.txt", regular, False, None),             # not YAML
    ("site.json", regular, False, None),               # a run's snapshot, not a site file
    ("subpasta", directory, False, None),              # no recursion
    ("pasta.yaml", directory, True, "é uma pasta"),
    ("fifo.yaml", fifo, True, "não é um arquivo comum"),
    ("ciclo.yaml", loop, True, "link simbólico em ciclo"),
    ("quebrado.yaml", dangling, True, "arquivo não encontrado"),
    ("ubs-link.yaml", link_to_file, True, "ubs-link"),
]


def folder_with(tmp_path: Path, name: str, make) -> Path:
    folder = tmp_path / "sites"
    folder.mkdir()
    regular(folder, "ubs-a.yaml")
    make(folder, name)
    return folder


@pytest.mark.parametrize("name,make,listed,outcome", ENTRIES, ids=[e[0] for e in ENTRIES])
def test_folder_rule(tmp_path, name, make, listed, outcome):
    folder = folder_with(tmp_path, name, make)
    expected = sorted([folder / "ubs-a.yaml"] + ([folder / name] if listed else []))
    assert site_files.folder_site_files(folder) == expected
    assert site_files.is_site_file_name(name) is listed
    assert sites.inventory_files(folder) == expected  # what run.json hashes


@pytest.mark.parametrize("name,make,listed,outcome", ENTRIES, ids=[e[0] for e in ENTRIES])
def test_cli_form_and_lab_agree_on_a_folder(tmp_path, capsys, name, make, listed, outcome):
    folder = folder_with(tmp_path, name, make)
    refused = listed and " " in outcome
    ids = ["ubs-a"] + ([outcome] if listed and not refused else [])
    # the CLI: `validar` loads the folder as `run` and `batch` do
    code = cli.main(["validar", str(folder)])
    out, err = capsys.readouterr()
    if refused:
        assert code == 2 and outcome in err and str(folder / name) in err
        with pytest.raises(InputError, match=outcome):
            sites.load_sites(folder)
        with pytest.raises(InputError, match=outcome):
            lab.discover(folder)
    else:
        assert code == 0 and err == ""
        assert sorted(s.site_id for s in sites.load_sites(folder)) == sorted(ids)
        assert sorted(e.site_id for e in lab.discover(folder)) == sorted(ids)
    # the form's chooser offers the readable sites; an unreadable one is not offered
    assert sorted(folder_sites(folder)) == sorted(ids)


@pytest.mark.parametrize("item,make", [
    ("outros/ubs-x.yaml", regular),
    ("../fora/ubs-x.yaml", regular),
    ("ciclo.yaml", loop),
])
def test_inventory_items_resolve_alike(tmp_path, item, make):
    inv_dir = tmp_path / "inventarios"
    inv_dir.mkdir()
    target = inv_dir / item
    target.parent.mkdir(parents=True, exist_ok=True)
    make(target.parent, target.name)
    inventory = inv_dir / "inventario.yaml"
    inventory.write_text(f"sites:\n  - {item}\n", encoding="utf-8")
    path = site_files.inventory_item(inventory, item)
    assert path.is_absolute() and ".." not in path.parts
    assert sites.inventory_files(inventory) == [inventory, path]
    if make is loop:
        for load in (sites.load_sites, lab.discover):
            with pytest.raises(InputError, match="link simbólico em ciclo"):
                load(inventory)
        return
    assert [s.source for s in sites.load_sites(inventory)] == [str(path)]
    assert [e.site_id for e in lab.discover(inventory)] == ["ubs-x"]
    assert locate(inventory, "ubs-x").path == path  # the form edits that same file


def test_unreadable_folder_is_refused_in_portuguese(tmp_path, monkeypatch):
    """A folder that cannot be listed (no read permission: the tests run as root, who may
    read anything, so the OS's refusal is raised here) is one pt-BR line, not a traceback."""
    folder = tmp_path / "sites"
    folder.mkdir()

    def refuse(path):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(site_files.os, "scandir", refuse)
    with pytest.raises(InputError, match="pasta de sites: sem permissão de leitura"):
        sites.load_sites(folder)
