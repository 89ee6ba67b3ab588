"""`import nscale_jupyter` and `%load_ext nscale_jupyter` time, in fresh processes (issue 5).

Measured after a process has imported IPython and asyncio and made a shell
(what a kernel already has), so the figure is what our extension adds; with
the bytecode cache on (a warm-up run writes it), as in an installed package.
"""

from __future__ import annotations

import statistics
import subprocess
import sys

BASE = (
    "import time, asyncio, IPython; from IPython.core.interactiveshell import InteractiveShell; "
)
BASE += "ip = InteractiveShell.instance(); t = time.perf_counter(); "
CASES = {
    "import nscale_jupyter": "import nscale_jupyter",
    "%load_ext nscale_jupyter": "ip.run_line_magic('load_ext', 'nscale_jupyter')",
}
CHECK = "; import sys; print((time.perf_counter() - t) * 1000, 'matplotlib' in sys.modules, "
CHECK += "'ipywidgets' in sys.modules)"


def main() -> None:
    for name, code in CASES.items():
        times, heavy = [], set()
        for _ in range(7):
            out = subprocess.run(
                [sys.executable, "-c", BASE + code + CHECK],
                check=True,
                capture_output=True,
                text=True,
            ).stdout.split()
            times.append(float(out[0]))
            heavy.add((out[1], out[2]))
        print(
            f"  {name:<28} median {statistics.median(times):6.1f} ms over 7 fresh processes "
            f"(goal < 100 ms); matplotlib/ipywidgets imported: {sorted(heavy)}"
        )


if __name__ == "__main__":
    main()
