from esus_runbook import notebook


def test_interactive_report_follows_the_edited_site_file(tmp_path):
    site = tmp_path / "ubs.yaml"
    text = 'site_id: ubs-a\nnome: UBS Antiga\nmunicipio_ibge: "2927408"\n'
    site.write_text(text, encoding="utf-8")
    run_dir = tmp_path / "run"
    first = notebook.render_report(run_dir, site)
    assert "UBS Antiga" in first.read_text(encoding="utf-8")
    site.write_text(text.replace("UBS Antiga", "UBS Renomeada"), encoding="utf-8")
    again = notebook.render_report(run_dir, site)
    html = again.read_text(encoding="utf-8")
    assert "UBS Renomeada" in html and "UBS Antiga" not in html
