"""Run pytest for `make test`: exit 5 (no tests collected) counts as a failure."""

from __future__ import annotations

import sys

import pytest

if __name__ == "__main__":
    code = pytest.main(["-q", *sys.argv[1:]])
    if code == pytest.ExitCode.NO_TESTS_COLLECTED:
        print("run_pytest: no tests were collected - failing", file=sys.stderr)
        code = 1
    sys.exit(int(code))
