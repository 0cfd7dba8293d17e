"""Griffe extension: the package's docstrings (prose with Sphinx roles) as Markdown.

mkdocs.yml loads it for mkdocstrings. Before griffe parses a docstring:

- a role, ``:func:`~mpu_toolkit.open_writer``` or ``:mod:`.offthread```, becomes an optional
  cross-reference (``<autoref optional>``): a link where the site documents its target, the
  name in code otherwise (private modules are not pages). ``~`` shows the last name only;
  a leading dot is relative to the docstring's package; a bare name is looked up where the
  docstring is.
- a ``<`` in prose (``<NA>``, ``<title>``) is escaped: Markdown would read an HTML tag.
- a run of ``>>>`` lines (doctest style) becomes a ``pycon`` code block without its
  ``# doctest:`` flags; Markdown would read ``>>>`` as nested quotes.
"""

from __future__ import annotations

import re
from typing import Any, Iterator

from griffe import Alias, Extension, Module, Object

ROLE = r":(?:py:)?(?P<role>func|meth|class|mod|attr|data|exc|obj|const):`(?P<text>[^`]+)`"
#: in prose: a role, or a code span (kept as it is), or a ``<``
PROSE = re.compile(rf"{ROLE}|(?P<code>``.+?``|`[^`]+`)|(?P<lt><)", re.DOTALL)
DOCTEST_FLAGS = re.compile(r"\s*# doctest:.*$")
CALLABLE_ROLES = {"func", "meth"}


def _package_of(obj: Object) -> Module:
    """The package a relative name in ``obj``'s docstring starts from."""
    module = obj.module
    if module.is_init_module or module.parent is None:
        return module
    parent = module.parent
    assert isinstance(parent, Module)
    return parent


def _scopes(obj: Object) -> list[Object]:
    """Where a bare name is looked up: the object, its class or module, and up."""
    found: list[Object] = []
    current: Object | None = obj
    while current is not None:
        found.append(current)
        current = current.parent
    return found


def _target_path(member: Object | Alias) -> str:
    if isinstance(member, Alias):
        return member.target_path
    return member.path


def resolve(target: str, obj: Object) -> str:
    """The dotted identifier ``target`` names, seen from ``obj``'s docstring."""
    if target.startswith("."):
        stripped = target.lstrip(".")
        base: Object = _package_of(obj)
        for _ in range(len(target) - len(stripped) - 1):
            base = base.parent or base
        return f"{base.path}.{stripped}"
    head, _, rest = target.partition(".")
    for scope in _scopes(obj):
        member = scope.members.get(head)
        if member is not None:
            path = _target_path(member)
            return f"{path}.{rest}" if rest else path
    return target


def _prose(match: re.Match[str], obj: Object) -> str:
    if match["code"]:
        return match["code"]
    if match["lt"]:
        return "&lt;"
    role, text = match["role"], match["text"].strip()
    explicit = re.fullmatch(r"(?P<title>.+?)\s*<(?P<target>[^>]+)>", text)
    if explicit:
        title, target = explicit["title"], explicit["target"]
    else:
        target = text.lstrip("~")
        title = target.rsplit(".", 1)[-1] if text.startswith("~") else target.lstrip(".")
        if role in CALLABLE_ROLES and not title.endswith(")"):
            title += "()"
    return (f'<autoref identifier="{resolve(target, obj)}" optional>'
            f"<code>{title}</code></autoref>")


def _blocks(lines: list[str]) -> Iterator[tuple[bool, list[str]]]:
    """``(doctest, lines)`` in order: runs of ``>>>`` lines up to a blank line, and prose."""
    block: list[str] = []
    doctest = False
    for line in lines:
        if doctest and not line.strip() or not doctest and line.lstrip().startswith(">>>"):
            yield doctest, block
            block, doctest = [], not doctest
        block.append(line)
    yield doctest, block


def _fenced(lines: list[str]) -> str:
    indent = lines[0][:len(lines[0]) - len(lines[0].lstrip())]
    body = [DOCTEST_FLAGS.sub("", line) for line in lines]
    return "\n".join(["", f"{indent}```pycon", *body, f"{indent}```", ""])


def markdown_of(text: str, obj: Object) -> str:
    """``text``, a docstring of ``obj``, in Markdown (see the module)."""
    return "\n".join(_fenced(lines) if doctest else
                     PROSE.sub(lambda match: _prose(match, obj), "\n".join(lines))
                     for doctest, lines in _blocks(text.split("\n")) if lines)


class SphinxRoles(Extension):
    """Rewrites every docstring of the package once it is loaded (see the module)."""

    def on_package(self, *, pkg: Module, **kwargs: Any) -> None:
        self._rewrite(pkg, set())

    def _rewrite(self, obj: Object, seen: set[str]) -> None:
        if obj.path in seen:
            return
        seen.add(obj.path)
        if obj.docstring is not None:
            obj.docstring.value = markdown_of(obj.docstring.value, obj)
        for member in obj.members.values():
            if not isinstance(member, Alias):
                self._rewrite(member, seen)
