"""Build hook: copy the top-level ``notebooks/`` into the wheel as ``esus_runbook/notebooks``.

Everything else about the package is declared in ``pyproject.toml``. The notebooks stay at the
top of the checkout, where analysts open them; an installed (non-editable) package finds its
copy through ``esus_runbook.resources.notebooks_dir``.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


class BuildWithNotebooks(build_py):
    def run(self):
        super().run()
        target = Path(self.build_lib) / "esus_runbook" / "notebooks"
        target.mkdir(parents=True, exist_ok=True)
        for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
            self.copy_file(str(notebook), str(target / notebook.name))


setup(cmdclass={"build_py": BuildWithNotebooks})
