"""Griffe extension: a package's own function wins over its submodule of the same name.

``mpu_toolkit/inventory/__init__.py`` imports its submodule ``lifecycle`` (as ``rules``) and
then defines the function ``lifecycle``: at runtime ``mpu_toolkit.uploads.lifecycle`` is the
function, the last binding. Griffe gives the submodule precedence, which would drop the
function from the API reference; mkdocs.yml loads this extension so that the docs see what
Python sees.
"""

from __future__ import annotations

from typing import Any

from griffe import Extension, Function, Module


class FunctionsShadowSubmodules(Extension):
    """Puts back each function of an ``__init__`` that a submodule replaced (see the module)."""

    def __init__(self) -> None:
        self.defined: list[Function] = []

    def on_function_instance(self, *, func: Function, **kwargs: Any) -> None:
        parent = func.parent
        if isinstance(parent, Module) and parent.is_init_module:
            self.defined.append(func)

    def on_package(self, *, pkg: Module, **kwargs: Any) -> None:
        for func in self.defined:
            parent = func.parent
            assert parent is not None
            member = parent.members.get(func.name)
            if member is not func and isinstance(member, Module):
                parent.set_member(func.name, func)
        self.defined.clear()
