"""Every file format, by name or by a URL's extension: the one place a format is looked up.

A format is one module ending with its :class:`~.record.Format` record, listed here.
"""

from __future__ import annotations

from ..errors import ConfigurationError
from .compression import CODECS, split_codec
from .parquet import PARQUET
from .record import Format
from .text import CSV, JSONL

__all__ = ["FORMATS", "format_named", "format_of", "names_a_file"]

#: every format, by name
FORMATS: dict[str, Format] = {f.name: f for f in (PARQUET, CSV, JSONL)}


def format_named(name: str) -> Format:
    """The format ``format=name`` asks for."""
    try:
        return FORMATS[name]
    except (KeyError, TypeError):
        raise ConfigurationError(f"format={name!r}: use one of "
                                 f"{', '.join(map(repr, FORMATS))}") from None


def format_of(url: str) -> Format:
    """The format ``url``'s extension names (after a compression suffix, for the formats
    that take one: ".csv.gz")."""
    found = _by_extension(url)
    if found is None:
        raise ConfigurationError(f"cannot tell the format of {url!r} from its extension: "
                                 f"name it {_known()}, or pass format=")
    return found


def names_a_file(url: str) -> bool:
    """Whether ``url`` ends like a file of a known format (or a compressed file)."""
    return split_codec(_name(url))[1] is not None or _by_extension(url) is not None


def _by_extension(url: str) -> Format | None:
    stem, codec = split_codec(_name(url))
    return next((f for f in FORMATS.values() if stem.endswith(f.extensions)
                 and (codec is None or f.compressible)), None)


def _name(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1].lower()


def _known() -> str:
    compressed = " / ".join(s for suffixes in CODECS.values() for s in suffixes[:1])
    return "; ".join(f"{' / '.join(f.extensions)} ({f.name}"
                     + (f", optionally {compressed})" if f.compressible else ")")
                     for f in FORMATS.values())
