"""docs/hooks/griffe_roles.py: the docstrings' Sphinx roles, ``<`` and doctests in Markdown."""

from __future__ import annotations

import pathlib

from tests.docs.hooks import load

roles = load("griffe_roles", "griffe")
import griffe  # noqa: E402  (after the check that names the extra)

ROOT = pathlib.Path(__file__).resolve().parents[2]


def package() -> griffe.Module:
    return griffe.load("mpu_toolkit", search_paths=[str(ROOT)], resolve_aliases=False)


def test_roles_become_optional_cross_references() -> None:
    parquet = package()["formats.parquet.write_parquet"]
    text = roles.markdown_of("See :func:`~mpu_toolkit.open_writer`, :mod:`.offthread`, "
                             ":func:`stream_parquet` and :class:`a writer <x.Writer>`.", parquet)
    assert text == (
        'See <autoref identifier="mpu_toolkit.open_writer" optional><code>open_writer()'
        '</code></autoref>, <autoref identifier="mpu_toolkit.formats.offthread" optional>'
        '<code>offthread</code></autoref>, <autoref identifier='
        '"mpu_toolkit.formats.parquet.stream_parquet" optional><code>stream_parquet()</code>'
        '</autoref> and <autoref identifier="x.Writer" optional><code>a writer</code>'
        '</autoref>.')


def test_a_relative_name_in_a_package_starts_from_that_package() -> None:
    doctor = package()["doctor"]
    assert roles.resolve(".safety", doctor) == "mpu_toolkit.doctor.safety"
    assert roles.resolve("..errors", doctor["doctor"]) == "mpu_toolkit.errors"


def test_angle_brackets_in_prose_are_text_and_code_is_kept() -> None:
    text = roles.markdown_of("parts are <NA>; ``<NA>`` and `a<b`", griffe.Module("m"))
    assert text == "parts are &lt;NA>; ``<NA>`` and `a<b`"


def test_doctest_runs_are_fenced_without_their_flags() -> None:
    text = roles.markdown_of("Use it:\n>>> f(1)  # doctest: +SKIP\n... more\n2\n\nAfter.",
                             griffe.Module("m"))
    assert text == "Use it:\n\n```pycon\n>>> f(1)\n... more\n2\n```\n\n\nAfter."
