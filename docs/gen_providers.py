"""docs/providers.md, generated from the provider presets (mpu_toolkit/_s3/provider_presets.py):

    python docs/gen_providers.py > docs/providers.md

Every value of every preset is shown with its provenance: documented (the preset's sources,
with the date they were read), measured (how: the preset's ``measured``), a default (the
record leaves it out), or unknown. tests/docs/test_gen_providers.py fails when the file is not
what this script writes now.
"""

from __future__ import annotations

import sys
from typing import Any, Callable, Iterator

from mpu_toolkit._s3.provider_presets import PRESETS
from mpu_toolkit._s3.providers import PROVIDERS, Provider
from mpu_toolkit.doctor import NAMES
from mpu_toolkit.doctor.report import CHECKSUM_ORDER, FACTS

MiB, GiB = 1 << 20, 1 << 30
#: the values shown, by family: (title, [(field, column heading)])
FAMILIES: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("Where the store is, how to talk to it", (
        ("endpoint", "endpoint"), ("region", "region"), ("addressing", "addressing"),
        ("client_config", "botocore checksums"))),
    ("Part rules", (
        ("min_part", "smallest part"), ("max_part", "largest part"), ("max_parts", "parts"),
        ("equal_parts", "equal parts"))),
    ("What the store honours", (
        ("checksum", '`checksum="auto"`'), ("if_none_match_put", "If-None-Match on PUT"),
        ("if_none_match_complete", "If-None-Match on Complete"), ("if_match", "If-Match on PUT"),
        ("copy_source_if_match", "copy-source-if-match"),
        ("list_uploads_by_prefix", "uploads listed by prefix"),
        ("lifecycle", "lifecycle abort rule"), ("copies_by_reference", "CopyObject by reference"))),
)
#: what None means where it is not "unknown"
NOT_SET = {"endpoint": "— yours (`endpoint_url`), or botocore's", "region": "—",
           "addressing": "— botocore's", "checksum": "? unknown: `md5`"}


def size(value: int) -> str:
    """``5 MiB``, ``5 GiB``, ``5 GiB − 5 MiB``."""
    gibs = -(-value // GiB)
    if value < GiB or value % GiB == 0:
        return f"{value // GiB} GiB" if value % GiB == 0 else f"{value // MiB} MiB"
    return f"{gibs} GiB − {(gibs * GiB - value) // MiB} MiB"


def shown(name: str, value: Any) -> str:
    """A value as a cell shows it (None: unknown or not set)."""
    if value is None:
        return NOT_SET.get(name, "? unknown")
    if name == "client_config":
        return str(value["request_checksum_calculation"])
    if name in ("min_part", "max_part"):
        return size(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return f"{value:,}" if isinstance(value, int) else f"`{value}`"


def provenance(provider: Provider, record: dict[str, Any], name: str) -> str:
    """``name``'s value of ``provider`` and where it comes from, as one cell."""
    value = getattr(provider, name)
    if name in provider.measured:
        return f"{shown(name, value)} [measured](#{anchor(provider.name, name)})"
    if name not in record:
        return shown(name, value) + ("" if value is None else " [default](#defaults)")
    return shown(name, value) + ("" if value is None else f" [doc](#{provider.name})")


def anchor(provider: str, name: str = "") -> str:
    return f"{provider}-{name}".replace("_", "-") if name else provider


def tables() -> Iterator[str]:
    records = {str(r["name"]): dict(r) for r in PRESETS}
    for title, columns in FAMILIES:
        yield f"### {title}\n"
        yield "| provider | " + " | ".join(heading for _, heading in columns) + " |"
        yield "|---" * (len(columns) + 1) + "|"
        for provider in PROVIDERS.values():
            cells = [provenance(provider, records[provider.name], name) for name, _ in columns]
            yield f"| [`{provider.name}`](#{provider.name}) | " + " | ".join(cells) + " |"
        yield ""


def sources() -> Iterator[str]:
    for provider in PROVIDERS.values():
        yield f'### <a id="{provider.name}"></a>`{provider.name}`: {provider.title}\n'
        links = [f"[console]({provider.console})"] if provider.console else []
        links += [f"[pricing]({provider.pricing})"] if provider.pricing else []
        if links:
            yield ", ".join(links) + "\n"
        yield "Sources (of the values marked *doc*):\n"
        yield from (f"- {link(source)}" for source in provider.sources)
        if provider.measured:
            yield "\nMeasured (the values marked *measured*):\n"
            yield from (f'- <a id="{anchor(provider.name, name)}"></a>`{name}` = '
                        f"{shown(name, getattr(provider, name))}: {how}"
                        for name, how in provider.measured.items())
        if provider.quirks:
            yield "\nQuirks:\n"
            yield from (f"- {quirk}" for quirk in provider.quirks)
        yield ""


def link(source: str) -> str:
    """A source line with its URL as a link: ``<https://...> (read 2026-11-30)``."""
    url, _, rest = source.partition(" ")
    return f"<{url}> {rest}".rstrip() if url.startswith("https://") else source


def mapping() -> Iterator[str]:
    yield "| preset field | from the capabilities of `mpu doctor --json` |"
    yield "|---|---|"
    order = ", then ".join(f"`{name}` → `{mode}`" for name, mode in CHECKSUM_ORDER)
    yield (f"| `checksum` | the fastest mode the store verified: {order}; none of them: `md5` "
           "(the client checks it itself) |")
    for name, capability in FACTS:
        yield f"| `{name}` | `{capability}` (true → true, false → false) |"
    yield ("| `addressing` | `path_style`, `virtual_hosted_style`: the preset's own style where "
           "the store takes it, else path, else virtual-hosted |")
    used = {c for _, c in FACTS} | {c for c, _ in CHECKSUM_ORDER} | {
        "path_style", "virtual_hosted_style"}
    rest = ", ".join(f"`{name}`" for name in NAMES if name not in used)
    yield f"\nReported, but setting no field: {rest}.\n"


def document() -> Iterator[str]:
    yield from intro()
    yield from tables()
    yield "## Where each value comes from\n"
    yield from sources()
    yield from doctor_section()


def intro() -> Iterator[str]:
    yield """<!-- generated by docs/gen_providers.py from mpu_toolkit/_s3/provider_presets.py:
     python docs/gen_providers.py > docs/providers.md   (do not edit by hand) -->
# Providers: every preset value, and where it comes from

`provider=NAME` (or `MPU_PROVIDER=NAME`, or `mpu --provider NAME`) fills what your options
leave out from a preset: see the guide, [Providers](guides/providers.md). Each cell below is
a value and its provenance:

- **doc** — documented: the preset's sources say so (the link leads to them, with the date
  they were read; reports where the documentation is silent are marked third-party);
- **measured** — measured on a server of that kind: the link says how (the request and what
  came back);
- **default** — the preset leaves it out and gets the generic value (see [defaults](#defaults));
- **? unknown** — nobody has documented or measured it: the toolkit then checks instead of
  relying (a HEAD before an exclusive write, the sources HEADed again before a copy's
  Complete, the client's own MD5 per part). `mpu doctor` measures it on your store.

<a id="defaults"></a>**Defaults.** A preset that leaves a value out gets S3's part rules
(5 MiB to 5 GiB per part, 10,000 parts, documented for AWS at
<https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html>), no equal-parts rule,
and botocore's flexible checksums only when an operation requires them (`when_required`: many
stores reject or ignore botocore ≥ 1.36's default CRC32 trailers,
<https://github.com/boto/boto3/issues/4392>). `mpu doctor` checks the first two
(`min_part_size_enforced`, `equal_parts_required`) and the third (`aws_chunked_trailer`).
"""


def doctor_section() -> Iterator[str]:
    yield """## Correct it with `mpu doctor`

A preset says what a store's documentation promises; `mpu doctor` measures what *your* store
does, under a prefix of its own that it removes again
([measure your store](guides/doctor.md)):

```bash
mpu doctor mpu://bucket/prefix --json          # "capabilities" and "recommended"
mpu doctor mpu://bucket/prefix --save my-store # the same, kept as the user preset my-store
mpu --provider my-store uploads mpu://bucket/  # or storage_options={"provider": "my-store"},
                                               # or MPU_PROVIDER=my-store
```

Its `"recommended"` object holds the preset fields the measurement sets, read from
`"capabilities"` like this (a capability that is `null`, could not tell, sets nothing: the
preset's value stays):
"""
    yield from mapping()
    yield """`lifecycle_abort_incomplete` true means the store stored the doctor's abort rule and read
it back, not that it applies it (moto stores rules and never applies them).

`--save NAME` (or `report.save(NAME)`) writes `providers/NAME.json` in the user's config
directory: the matching built-in preset (`"provider"` of the JSON, or the generic one) with
the recommended fields over it, a first `sources` line naming the doctor, the date and the
endpoint, and in `measured` how each of those fields was measured (`mpu_toolkit's doctor on ENDPOINT,
DATE: CAPABILITY: EVIDENCE`). The preset's other values keep their provenance above.
`provider=NAME` then acts on it: the integrity mode, whether an exclusive write HEADs first,
whether a copy HEADs its sources again.

**A built-in value is wrong?** When your store's measurement contradicts a *doc* or
*measured* value above, or settles a *? unknown* one, open an issue in the project's tracker
with the output of `mpu doctor mpu://bucket/prefix --json` (the endpoint may be left out),
the store's name and version, and the date: the preset's record is then changed, with the
measurement in its `measured`.
"""


def main(write: Callable[[str], Any] = sys.stdout.write) -> None:
    write("\n".join(document()))


if __name__ == "__main__":
    main()
