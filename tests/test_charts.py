"""The one module that draws charts (esus_runbook.render.charts): data in, inline SVG out,
axes scaled to the data, the legend's and the notes' text present (fonts are not embedded:
``svg.fonttype`` none keeps every text as text)."""

from __future__ import annotations

import re

from lxml import etree

from esus_runbook.render import charts

SVG_NS = "{http://www.w3.org/2000/svg}"


def texts(svg: str) -> list[str]:
    """Every text of the drawing, in order (tick labels, titles, legend, notes)."""
    root = etree.fromstring(svg.encode("utf-8"))
    return ["".join(t.itertext()).strip() for t in root.iter(f"{SVG_NS}text")]


def ticks(svg: str) -> list[float]:
    """The numbers among the texts: the tick labels (and the bars' value labels)."""
    out = []
    for t in texts(svg):
        t = t.replace("\u2212", "-").replace(".", "").replace(",", ".")
        if re.fullmatch(r"-?\d+(\.\d+)?", t):
            out.append(float(t))
    return out


def test_bars_are_inline_svg_with_their_values_and_a_legend():
    svg = charts.ranked_bars(["Médico", "Enfermeiro"], [12, 1234], title="Por categoria",
                             xlabel="profissionais", colors=["#c62828", "#f9a825"],
                             legend=[("erro", "#c62828"), ("alerta", "#f9a825")])
    assert svg.startswith("<svg") and "<?xml" not in svg and "DOCTYPE" not in svg
    assert not re.search(r'<svg[^>]*\s(width|height)="[^"]*pt"', svg)  # scales with the page
    words = texts(svg)
    for expected in ("Médico", "Enfermeiro", "Por categoria", "profissionais", "erro",
                     "alerta", "1.234", "12"):
        assert expected in words, (expected, words)
    assert "#c62828" in svg and "#f9a825" in svg
    # the axis reaches the largest bar and not far beyond it
    axis = [v for v in ticks(svg) if v not in (12, 1234)]
    assert 1000 <= max(axis) < 2 * 1234


def test_the_axis_follows_the_data_not_a_far_away_limit():
    low = charts.columns_with_limit(["a", "b"], [4.0, 6.0], value_labels=["4 ms", "6 ms"],
                                    limit=2000, limit_label="limite (2 s)",
                                    under_limit_title="todas abaixo do limite, 2 s",
                                    ylabel="ms")
    assert "todas abaixo do limite, 2 s" in texts(low)
    assert "limite (2 s)" not in texts(low)
    assert max(ticks(low)) < 10  # 6 ms bars are not flattened under a 2000 ms axis
    near = charts.columns_with_limit(["a", "b"], [1500.0, 2600.0],
                                     value_labels=["1500 ms", "2600 ms"], limit=2000,
                                     limit_label="limite (2 s)",
                                     under_limit_title="todas abaixo do limite, 2 s",
                                     ylabel="ms")
    assert "limite (2 s)" in texts(near) and "todas abaixo do limite, 2 s" not in texts(near)
    assert 2000 <= max(ticks(near)) <= 2600 * 1.3


def test_percent_bars_cut_what_is_beyond_twice_the_requirement_and_say_it():
    svg = charts.percent_bars(["RAM (GB)", "CPU"], [50.0, 900.0],
                              colors=["#c62828", "#2e7d32"], marked=[True, False],
                              notes=["2 de 4 GB — falha", "18 de 2 núcleos"],
                              title="Medido × exigido", xlabel="% do exigido")
    words = texts(svg)
    assert "2 de 4 GB — falha" in words and "18 de 2 núcleos" in words
    assert max(ticks(svg)) <= 200 * 1.6  # 900% is cut at twice the requirement


def test_stacked_charts_and_histogram_name_their_parts():
    stacked = charts.stacked_bars(["eSF (3 eq.)", "eAP (1 eq.)"],
                                  [("Médico", [1, 0.5], "#1f77b4"),
                                   ("Dentista", [0, 0], "#2ca02c"),
                                   ("Enfermeiro", [1, 1], "#9467bd")],
                                  title="Composição", xlabel="profissionais por equipe")
    words = texts(stacked)
    assert "Médico" in words and "Enfermeiro" in words
    assert "Dentista" not in words  # zero everywhere: no part, no legend entry
    weekly = charts.stacked_columns(["01/12", "08/12"], [("OK", [1, 2], "#2e7d32", ""),
                                                         ("Falha", [3, 0], "#c62828", "xx")],
                                    title="Por semana", ylabel="locais")
    assert {"OK", "Falha", "Por semana", "01/12", "08/12"} <= set(texts(weekly))
    assert all(v == int(v) for v in ticks(weekly))  # whole sites
    hist = charts.histogram([0, 3, 3, 10], color="#2e7d32", marker=3,
                            title="Dias até ficar pronto", xlabel="dias", ylabel="locais")
    assert "Dias até ficar pronto" in texts(hist) and 8 <= max(ticks(hist)) < 20
    budget = charts.budget_bar([("Heap: 2 GB", 2.0, "#2e7d32"), ("Livre: 0 GB", 0, "#e0e0e0")],
                               6.0, xlabel="GB")
    assert "Heap: 2 GB" in texts(budget) and "Livre: 0 GB" not in texts(budget)


def test_reset_gives_the_next_notebook_no_figure_and_the_default_settings():
    """What a site kernel does between notebooks (batch.warmup.fresh_start)."""
    import matplotlib.pyplot as plt

    charts.ranked_bars(["x"], [1], title="x", xlabel="x")  # the project's settings applied
    assert plt.rcParams["svg.fonttype"] == "none"
    plt.figure()
    charts.reset()
    assert plt.get_fignums() == [] and plt.rcParams["svg.fonttype"] == "path"
    svg = charts.ranked_bars(["Médico"], [3], title="t", xlabel="x")  # style applied again
    assert "Médico" in texts(svg)
