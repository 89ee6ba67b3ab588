"""Arrows point down only: every import of every module, also inside functions.

Layers (top to bottom): faces (the magics, the panel) -> display -> the turn
engine and session -> the client -> the pure core. A face renders what a
turn emits: it touches no transport, no event loop and no other module's
private names. Read statically (``ast``), so an import inside a function
that a test never runs is checked too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "nscale_jupyter"

PURE = {
    "_types", "_results", "_options", "_option_checks", "_events", "_sse", "_accumulator",
    "_exceptions", "_retry", "_config", "_schema", "_interpolate", "_sampling",
    "_prompt_logprobs", "_redact", "_branching", "_provenance", "_structured", "_rows",
    "_transcript", "_images",
}  # fmt: skip
CLIENT = {"_client", "_chat_stream", "_sync", "_cassette", "_cassette_transport"}
SESSION = {
    "_session", "_thread", "_turn", "_turn_events", "_bridge", "_tools", "_compare", "_api",
    "_settings", "_usage", "_batch", "_batch_plan", "_grid", "_archive", "_catalog",
}  # fmt: skip
FACES = {
    "_magics",
    "_magic_spec",
    "_flags",
    "_input",
    "_subcommands",
    "_thread_commands",
    "_autoload",
    "_cli",
    "_evaluate",
    "_export",
    "widgets",
}
MODULES = {p.stem for p in PACKAGE.glob("*.py")} | {"display", "widgets", "local"}
UI = {"IPython", "ipywidgets", "matplotlib"}

#: What each layer may import from the package (by first path part) and from outside.
ALLOWED: dict[str, tuple[set[str], set[str]]] = {
    "pure": (PURE, set()),
    "client": (PURE | CLIENT, {"httpx"}),
    "session": (PURE | CLIENT | SESSION, {"traitlets", "httpx"}),
    "display": (PURE | {"_turn", "_turn_events", "_tools", "_compare", "_retry", "display"}, UI),
    "local": (PURE | {"local"}, {"httpx"}),
    # The package surface re-exports the public names of every layer (lazily).
    "surface": (PURE | CLIENT | SESSION | FACES | {"display", "local"}, set()),
    "faces": (PURE | SESSION | FACES | {"display", "local", "__init__"}, UI | {"traitlets"}),
}
#: The arrows up: ChatResult's, Branch's and GridResult's repr and plot methods call
#: the display package's thin entry points on first use (``display/__init__.py``), and
#: ``ChatResult.branch`` runs its turn through ``_api.branch`` (the Python API).
EXCEPTIONS = {
    ("_results", "display"), ("_branching", "display"), ("_grid", "display"),
    ("_results", "_api"),
}  # fmt: skip
#: What a face must not touch: the session's loop and transports, the client.
FORBIDDEN_ATTRIBUTES = {"loop", "_loop", "_transport", "aclient", "_aclient", "_client"}


def layer(module: str) -> str:
    head = module.split(".")[0]
    if head in PURE:
        return "pure"
    if head in CLIENT:
        return "client"
    if head in SESSION:
        return "session"
    if head == "display":
        return "display"
    if head == "local":
        return "local"
    if head == "__init__":
        return "surface"
    assert head in FACES, f"{module}: add it to a layer in tests/test_layers.py"
    return "faces"


def modules() -> list[tuple[str, ast.Module]]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        name = ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
        out.append((name, ast.parse(path.read_text())))
    return out


def _type_checking_nodes(tree: ast.Module) -> set[int]:
    """ids of the nodes under ``if TYPE_CHECKING:`` (annotations only, never run)."""
    hidden: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                hidden |= {id(n) for n in ast.walk(child)}
    return hidden


def imports(module: str, tree: ast.Module) -> list[tuple[str, int, tuple[str, ...], bool]]:
    """(imported module, ".x" when internal, line, names, only for type checking)."""
    package = module.split(".")[:-1]
    typing_only = _type_checking_nodes(tree)
    found = []
    for node in ast.walk(tree):
        hidden = id(node) in typing_only
        if isinstance(node, ast.Import):
            found += [(a.name, node.lineno, (), hidden) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = tuple(a.name for a in node.names)
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join([*base, *(node.module or "").split(".")]).strip(".")
                found.append(("." + target, node.lineno, names, hidden))
            else:
                found.append((node.module or "", node.lineno, names, hidden))
    return found


CASES = modules()


@pytest.mark.parametrize(("module", "tree"), CASES, ids=[m for m, _ in CASES])
def test_imports_point_down(module: str, tree: ast.Module) -> None:
    internal_ok, external_ok = ALLOWED[layer(module)]
    own = module.split(".")[0]
    for target, line, names, typing_only in imports(module, tree):
        if target.startswith("."):
            parts = [p for p in target[1:].split(".") if p]
            # "from . import x": x is a module, or a name of the package's surface.
            heads = [parts[0]] if parts else [n if n in MODULES else "__init__" for n in names]
            for head in heads:
                if head == own or (own, head) in EXCEPTIONS:
                    continue
                assert head in internal_ok, f"{module}:{line} imports {head} ({layer(module)})"
        elif not typing_only:
            top = target.split(".")[0]
            if top in UI | {"httpx", "traitlets"}:
                assert top in external_ok, f"{module}:{line} imports {top} ({layer(module)})"


@pytest.mark.parametrize(
    ("module", "tree"), [c for c in CASES if layer(c[0]) == "faces"], ids=lambda c: str(c)[:40]
)
def test_faces_touch_no_transport_loop_or_private_name(module: str, tree: ast.Module) -> None:
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            assert node.attr not in FORBIDDEN_ATTRIBUTES, f"{module}:{node.lineno} .{node.attr}"
        if isinstance(node, ast.ImportFrom) and node.level and node.module:
            private = [a.name for a in node.names if a.name.startswith("_")]
            assert not private, f"{module}:{node.lineno} imports private {private}"


def test_the_check_sees_imports_inside_functions() -> None:
    tree = ast.parse("def f():\n    import httpx\n    from ..display import x\n")
    found = imports("widgets._panel", tree)
    assert ("httpx", 2, (), False) in found and (".display", 3, ("x",), False) in found
