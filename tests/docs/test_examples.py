"""The docs pages run: every Python and shell block of each page under docs/, in order, in a
child process of its own against a fresh local S3 (what `mpu serve` starts: moto with a bucket
named "bucket"), so each page is self-contained and pages run in parallel under xdist. A block
that only illustrates carries ``<!-- not run: why -->`` on the line before it; there are few.
A broken example fails here, naming its page and line."""

from __future__ import annotations

import pathlib

import pytest
from doc_examples import ROOT, blocks, pages, run_page

RUNNABLE_PAGES = [page for page in pages() if any(not b.not_run for b in blocks(page))]


def test_only_a_few_blocks_are_illustration_and_each_says_why() -> None:
    found = [block for page in pages() for block in blocks(page)]
    skipped = [block for block in found if block.not_run]
    assert len(found) >= 20 and len(skipped) <= len(found) // 4, [
        (b.page, b.line) for b in skipped]
    assert all(len(str(b.not_run)) > 10 for b in skipped)
    assert len(RUNNABLE_PAGES) >= 10, RUNNABLE_PAGES


@pytest.mark.slow
@pytest.mark.parametrize("page", RUNNABLE_PAGES,
                         ids=[str(p.relative_to(ROOT / "docs")) for p in RUNNABLE_PAGES])
def test_every_example_of_the_page_runs_in_order(page: pathlib.Path,
                                                 tmp_path: pathlib.Path) -> None:
    run_page(page, tmp_path)
