"""The site form's ipywidgets UI: one widget per :data:`esus_runbook.sites.fields.FIELDS` field.

:class:`SiteForm` shows each field with its pt-BR label, help and default, shows each problem
next to its field and calls back after a save; the document (reading, validation, atomic
save) is :class:`esus_runbook.form.model.SiteDocument`. A key added to ``FIELDS`` appears in
the form without touching this module.
"""

from __future__ import annotations

import datetime as dt
import html
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ipywidgets as w
from IPython.utils.capture import capture_output
from ipywidgets.widgets.widget_description import DescriptionStyle  # not re-exported
from ipywidgets.widgets.widget_string import HTMLStyle, TextStyle

from ..errors import InputError, Problem, describe_os_error
from ..sites.fields import FIELDS, Field
from .model import (
    SaveOutcome,
    SiteDocument,
    dotted,
    fields,
    folder_sites,
    from_text,
    to_text,
)

# --------------------------------------------------------------------------- widgets
SECTION_TITLES: dict[str | None, str] = {
    None: "Identificação",
    "cenario": "Cenário",
    "ambiente": "Ambiente (servidor)",
    "instalador": "Instalador",
    "instalacao": "Instalação",
    "contra_chave": "Contra-chave",
    "xml": "XML do CNES",
    "servidor": "Servidor (acesso SSH)",
    "backup": "Backup do banco",
    "certificado": "Certificado HTTPS",
    "atualizacao": "Atualização de versão",
}
"""pt-BR titles of the form's sections; a section missing here is titled by its key."""

NEW_SITE = "__novo__"
"""The folder chooser's entry for a site not written yet."""

_LABEL_WIDTH = "230px"
_INPUT_WIDTH = "360px"


def _css_class(name: str) -> str:
    return "esus-f-" + name.replace(".", "-").replace("_", "-")


class Looks:
    """Layouts and styles shared by every widget of one form.

    Each ipywidgets control otherwise gets a Layout and a Style model of its own, and each
    ``add_class`` after creation is one more message: the form was ~1,300 messages sent at
    once (1,028 models), more than half of them layouts, styles and class updates. Sharing
    them and giving the CSS classes at creation leaves ~400 models and no update messages:
    a busy browser or kernel connection has a third of the burst to carry (issue 28)."""

    def __init__(self) -> None:
        self.label = w.Layout(width=_LABEL_WIDTH)
        self.input = w.Layout(width=_INPUT_WIDTH)  # also the help line under the input
        self.error = w.Layout(width="auto")
        self.row = w.Layout(align_items="flex-start", margin="2px 0")
        self.plain = w.Layout()
        self.section = w.Layout(border="1px solid #d9e2ec", padding="4px 10px", margin="6px 0")
        self.html = HTMLStyle()
        self.text = TextStyle()
        self.choice = DescriptionStyle()


class FieldWidget:
    """One field: label, input, help line and the problem shown next to it."""

    def __init__(self, section: str | None, f: Field, looks: Looks):
        self.section, self.field, self.name = section, f, dotted(section, f.key)
        classes = (_css_class(self.name),)
        if f.kind == "bool":
            self.input = w.Dropdown(options=self._bool_options(None), layout=looks.input,
                                    style=looks.choice, _dom_classes=classes)
        elif f.kind == "enum":
            self.input = w.Dropdown(options=self._enum_options(None), layout=looks.input,
                                    style=looks.choice, _dom_classes=classes)
        else:
            self.input = w.Text(layout=looks.input, style=looks.text,
                                placeholder=self._placeholder(), _dom_classes=classes)
        required = " *" if f.required else ""
        self.label = w.HTML(f"<div style='line-height:1.35'><b>{_esc(f.label)}{required}</b>"
                            f"<br><code style='font-size:11px'>{_esc(self.name)}</code></div>",
                            layout=looks.label, style=looks.html)
        self.help = w.HTML(f"<div style='color:#52606d;font-size:12px;line-height:1.35'>"
                           f"{_esc(f.help)}</div>", layout=looks.input, style=looks.html)
        self.error = w.HTML("", layout=looks.error, style=looks.html,
                            _dom_classes=("esus-erro", _css_class(self.name) + "-erro"))
        self.box = w.HBox([self.label, w.VBox([self.input, self.help], layout=looks.plain),
                           self.error], layout=looks.row, _dom_classes=("esus-campo",))

    def _placeholder(self) -> str:
        f = self.field
        if f.kind == "env":
            return "NOME_DA_VARIAVEL (nunca o valor)"
        if f.kind == "date":
            return "AAAA-MM-DD"
        if f.kind == "path":
            return "caminho relativo à pasta do arquivo do site"
        return ""

    @staticmethod
    def _bool_options(extra: Any) -> list[tuple[str, Any]]:
        opts: list[tuple[str, Any]] = [("— não informado —", None), ("Sim", True),
                                       ("Não", False)]
        if extra is not None and not isinstance(extra, bool):
            opts.append((f"{extra} (inválido)", extra))
        return opts

    def _enum_options(self, extra: Any) -> list[tuple[str, Any]]:
        f = self.field
        opts: list[tuple[str, Any]] = [] if f.default is not None else \
            [("— não informado —", None)]
        opts += [(c, c) for c in f.choices]
        if extra is not None and extra not in f.choices:
            opts.append((f"{extra} (inválido)", extra))
        return opts

    def set(self, raw: Any, inherited: Any) -> None:
        """Show the file's value, else the inherited one (``padroes`` or schema default)."""
        value = inherited if raw is None else raw
        f = self.field
        if f.kind == "bool":
            self.input.options = self._bool_options(value)
            self.input.value = value
        elif f.kind == "enum":
            self.input.options = self._enum_options(value)
            self.input.value = value if value is not None else self.input.options[0][1]
        else:
            self.input.value = to_text(value)
        self.show_problem(None)

    def get(self) -> Any:
        if self.field.kind in ("bool", "enum"):
            return self.input.value
        return from_text(self.field, self.input.value)

    def show_problem(self, problem: Problem | None) -> None:
        if problem is None:
            self.error.value = ""
            self.input.remove_class("esus-invalido")
            return
        text = problem.message + (f" — {problem.remedy}" if problem.remedy else "")
        self.error.value = (f"<div style='color:#c81e1e;font-size:12px;line-height:1.35;"
                            f"max-width:420px'>✖ {_esc(text)}</div>")
        self.input.add_class("esus-invalido")


def _esc(text: Any) -> str:
    return html.escape(str(text))


class SiteForm:
    """The ipywidgets form. ``form.widget`` is what the notebook displays; ``form.output``
    holds what ``on_save`` shows below the form through :meth:`show_below` (the cenário
    result, guidance, status)."""

    def __init__(self, site_file: str | Path, site_id: str | None = None,
                 on_save: Callable[[SaveOutcome], None] | None = None):
        self.site_file = Path(site_file).expanduser()
        self.doc = SiteDocument(site_file, site_id)
        self.on_save = on_save
        self.fields: dict[str, FieldWidget] = {}
        looks = Looks()
        sections = []
        for section, group in FIELDS.items():
            rows = []
            for f in group:
                fw = FieldWidget(section, f, looks)
                self.fields[fw.name] = fw
                rows.append(fw.box)
            title = w.HTML(f"<h4 style='margin:10px 0 4px'>"
                           f"{_esc(SECTION_TITLES.get(section, section))}</h4>",
                           layout=looks.plain, style=looks.html)
            sections.append(w.VBox([title, *rows], layout=looks.section,
                                   _dom_classes=(f"esus-secao-{section or 'site'}",)))
        # created with its text: its first state (comm open) already names the form, with
        # no later update message for a saved notebook's widget state to miss
        self.header = w.HTML(self._header_html())
        self.chooser = None
        if self.doc.target.folder is not None:
            self.chooser = w.Dropdown(description="Site:", layout=w.Layout(width="420px"),
                                      _dom_classes=("esus-escolher-site",))
            self._fill_chooser(site_id)
            self.chooser.observe(self._chosen, names="value")
        self.save_button = w.Button(description="Salvar", button_style="primary",
                                    icon="save", tooltip="Validar e gravar o arquivo do site",
                                    _dom_classes=("esus-salvar",))
        self.save_button.on_click(self.save)
        self.reload_button = w.Button(description="Recarregar do arquivo", icon="refresh",
                                      _dom_classes=("esus-recarregar",))
        self.reload_button.on_click(lambda _: self.reload())
        self.message = w.HTML(layout=looks.plain, style=looks.html,
                              _dom_classes=("esus-form-msg",))
        self.output = w.Output(_dom_classes=("esus-form-saida",))
        note = w.HTML(
            "<div style='background:#fff8e1;border-left:4px solid #f0b429;padding:6px 10px;"
            "font-size:12px'>Campos com * são obrigatórios. <b>Nunca digite senhas nem a "
            "contra-chave</b>: nos campos de variável informe só o NOME da variável de "
            "ambiente (ex.: PEC_CONTRA_CHAVE) e nos de arquivo o caminho de um arquivo "
            "protegido. Caminhos relativos valem a partir da pasta do arquivo do site.</div>",
            layout=looks.plain, style=looks.html)
        top = [self.header] + ([self.chooser] if self.chooser else []) + [note]
        self.widget = w.VBox([*top, *sections,
                              w.HBox([self.save_button, self.reload_button]),
                              self.message, self.output], _dom_classes=("esus-form",))
        self._fill()

    def show_below(self, draw: Callable[[], None]) -> None:
        """Replace what is shown below the form with what ``draw()`` displays and prints.

        The displays are captured in the kernel and set as the Output widget's ``outputs``
        state, never routed by ``with self.output:``: that routing is done by the browser,
        which learns the Output widget's capture id only once its model is built. When the
        form and the evaluation come from the same cell (an existing site, Run All), a busy
        browser could build the model after the evaluation's messages and its clear_output
        arrived, so the evaluation landed in the cell and the clear wiped the form itself
        (issue 28). State has no such race: the view shows it whenever it renders.

        An exception ends the drawing and is shown below the form, like a failed cell (a
        callback's exception would otherwise only reach the kernel's log).
        """
        failure: list[dict] = []
        with capture_output() as captured:
            try:
                draw()
            except Exception as exc:  # noqa: BLE001 - shown to the analyst, not swallowed
                failure.append({"output_type": "error", "ename": type(exc).__name__,
                                "evalue": str(exc),
                                "traceback": traceback.format_exception(exc)})
        outputs = [{"output_type": "display_data", "data": o.data, "metadata": o.metadata or {}}
                   for o in captured.outputs]
        outputs += [{"output_type": "stream", "name": name, "text": text}
                    for name, text in (("stdout", captured.stdout),
                                       ("stderr", captured.stderr)) if text]
        self.output.outputs = tuple(outputs + failure)

    # -- state ----------------------------------------------------------------------------
    @property
    def site_id(self) -> str | None:
        value = self.fields["site_id"].get()
        return value if isinstance(value, str) else None

    def _fill_chooser(self, selected: str | None) -> None:
        known = folder_sites(self.doc.target.folder)
        self.chooser.options = [("(novo site)", NEW_SITE)] + [(k, k) for k in known]
        self.chooser.value = selected if selected in known else NEW_SITE

    def _chosen(self, change: dict) -> None:
        sid = None if change["new"] == NEW_SITE else change["new"]
        self.doc = SiteDocument(self.doc.target.folder, sid)
        self._fill()
        self.message.value = ""

    def _fill(self) -> None:
        raw = self.doc.raw_values()
        for section, f in fields():
            self.fields[dotted(section, f.key)].set(raw[dotted(section, f.key)],
                                                    self.doc.inherited(section, f))
        self._header()

    def _header(self) -> None:
        self.header.value = self._header_html()

    def _header_html(self) -> str:
        d = self.doc
        if d.path is None:
            where = (f"novo site: será gravado em <code>{_esc(d.target.folder)}/"
                     "&lt;site_id&gt;.yaml</code>")
        elif d.is_new:
            where = f"novo site: será gravado em <code>{_esc(d.path)}</code>"
        else:
            where = f"arquivo <code>{_esc(d.path)}</code>"
            if d.target.item is not None:
                where += f" (item {d.target.item + 1} da lista sites:)"
        return (f"<h3 style='margin:4px 0'>Formulário do site</h3>"
                f"<div class='esus-form-arquivo'>{where}</div>")

    def values(self) -> dict[str, Any]:
        return {name: fw.get() for name, fw in self.fields.items()}

    def set_value(self, name: str, value: Any) -> None:
        """Set a field as the analyst would (used by tests and scripts)."""
        fw = self.fields[name]
        fw.input.value = value if fw.field.kind in ("bool", "enum") else to_text(value)

    # -- actions --------------------------------------------------------------------------
    def reload(self) -> None:
        self.doc.reload()
        self._fill()
        self.message.value = ""

    def save(self, _button: Any = None) -> SaveOutcome:
        """Validate and write the site file; show problems next to their fields."""
        try:
            outcome = self.doc.save(self.values())
        except InputError as exc:  # e.g. the file became unreadable meanwhile
            outcome = SaveOutcome(False, self.doc.path, self.site_id, list(exc.problems))
        except OSError as exc:  # disk full, no permission: the old file is untouched
            outcome = SaveOutcome(False, self.doc.path, self.site_id, [Problem(
                str(self.doc.path or self.doc.base), None,
                f"não foi possível gravar ({describe_os_error(exc)})",
                "confira a permissão e o espaço da pasta; o arquivo anterior continua igual")])
        return self._report(outcome, saving=True)

    def check(self) -> SaveOutcome:
        """Validate what the form shows without writing (used when an existing site is
        opened); a valid site is passed to ``on_save`` like after a save."""
        text, changed = self.doc.render(self.values())
        problems = self.doc.check(text)
        outcome = SaveOutcome(not problems, self.doc.path, self.site_id, problems, changed)
        return self._report(outcome, saving=False)

    def _report(self, outcome: SaveOutcome, saving: bool) -> SaveOutcome:
        loose: list[Problem] = []
        by_field: dict[str, Problem] = {}
        for p in outcome.problems:
            if p.key in self.fields and p.key not in by_field:
                by_field[p.key] = p
            else:
                loose.append(p)
        for name, fw in self.fields.items():
            fw.show_problem(by_field.get(name))
        now = dt.datetime.now().strftime("%H:%M:%S")
        if outcome.ok:
            if saving:
                what = "Salvo" if outcome.changed else "Nada mudou; arquivo conferido"
                self.message.value = (f"<div style='color:#0e7c3a' data-ok='1'>✔ {what}: "
                                      f"<code>{_esc(outcome.path)}</code> ({now})</div>")
                if self.chooser is not None:
                    self.chooser.unobserve(self._chosen, names="value")
                    self._fill_chooser(outcome.site_id)
                    self.chooser.observe(self._chosen, names="value")
                self._header()
            if self.on_save is not None:
                self.on_save(outcome)
        else:
            items = "".join(f"<li>{_esc(p)}</li>" for p in loose)
            nothing = " nada foi gravado." if saving else " o arquivo ainda não é válido."
            self.message.value = (
                f"<div style='color:#c81e1e' data-ok='0'>✖ {len(outcome.problems)} "
                f"problema(s);{nothing} Corrija os campos marcados e salve."
                f"{'<ul>' + items + '</ul>' if items else ''}</div>")
        return outcome
