"""A Dask DataFrame as a format sees it (:class:`~mpu_toolkit.formats.record.FrameJob`), the
format's keywords told from the writer's, and its encoder tried before any upload."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Collection, Mapping
from functools import partial
from typing import Any

import pandas as pd
import pyarrow as pa

from ..errors import ConfigurationError, MPUError
from ..formats.frameupload import split_options
from ..formats.record import Format, FrameJob

__all__ = ["frame_job", "format_options", "try_on_meta"]

#: rows of the first partition that type the columns its meta cannot (object columns)
_SAMPLE_ROWS = 1_000


def frame_job(ddf: Any, options: Mapping[str, Any], *, compression: str | None, encoding: str,
              url: str = "", footers: bool = False) -> FrameJob:
    """``ddf`` described to a format, with the format's own ``options``."""
    return FrameJob(ddf._meta, partial(_sample, ddf), options, compression, encoding, url,
                    footers)


def _sample(ddf: Any) -> pd.DataFrame:
    with warnings.catch_warnings():  # fewer rows than asked for is fine for a sample
        warnings.simplefilter("ignore", UserWarning)
        return ddf.head(_SAMPLE_ROWS, npartitions=1, compute=True)


def format_options(format: Format, options: Mapping[str, Any], caller: str,
                   named: Collection[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``options`` split into the format's keywords and the writer's (which get the format's
    Content-Type unless they name one); ``named``: the caller's own parameters."""
    own, writer_options = split_options(options, format.options, caller, named)
    writer_options.setdefault("content_type", format.content_type)
    return own, writer_options


def try_on_meta(encode: Callable[[pd.DataFrame], Any], meta: pd.DataFrame, format: Format,
                caller: str) -> None:
    """Encode the frame's (empty) meta, so that bad options fail before any upload."""
    try:
        encode(meta)
    except MPUError:
        raise
    except (ValueError, TypeError, LookupError, pa.ArrowException) as exc:
        raise ConfigurationError(f"{caller}: the frame cannot be written as {format.name} "
                                 f"with these options: {exc}") from exc
