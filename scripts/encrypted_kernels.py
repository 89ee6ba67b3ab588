"""How our scripts, tests and benchmarks start Jupyter kernels: encrypted.

ipykernel 7.3+ warns on every start over plain TCP ("Kernel is running over
TCP without encryption"); jupyter_client 8.9+ provisions CurveZMQ keys for a
kernel that declares support, which ipykernel does. Kernels we start keep
their traffic to themselves and a new user's first ``make demo`` shows no
security warning.
"""

from __future__ import annotations

from traitlets.config import Config

__all__ = ["ENCRYPTED", "SERVER_FLAGS"]

#: Config for an nbclient ``NotebookClient`` (its kernel manager reads it).
ENCRYPTED = Config({"KernelManager": {"transport_encryption": "auto"}})

#: The same for ``jupyter lab`` / ``jupyter notebook`` on the command line.
SERVER_FLAGS = ("--KernelManager.transport_encryption=auto",)
