"""`python -m benchmarks [name ...]`: run every benchmark script (or the named ones) in turn."""

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent


def main(argv: list[str]) -> int:
    scripts = sorted(p for p in HERE.glob("*.py") if not p.name.startswith("_"))
    if argv:
        scripts = [p for p in scripts if p.stem in argv]
    rc = 0
    for script in scripts:
        print(f"\n=== {script.stem} ===", flush=True)
        rc |= subprocess.call([sys.executable, str(script)], cwd=HERE.parent)
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
