"""The README runs: every Python and shell block, in order, against the local S3 of
`mpu serve` (started here the same way, on a free port), in a child process and a scratch
directory (tests/doc_examples.py; the docs pages run the same way in
tests/docs/test_examples.py). A block that only illustrates carries ``<!-- not run: why -->``
on the line before it; there are few. A broken example fails here, naming its line in
README.md. (The notebooks' code cells run in test_notebooks.py.)
"""

from __future__ import annotations

import pathlib

import pytest
from doc_examples import ROOT, blocks, run_page

README = ROOT / "README.md"


def test_only_a_few_blocks_are_illustration_and_each_says_why() -> None:
    found = blocks(README)
    skipped = [b for b in found if b.not_run]
    assert len(found) >= 4 and len(skipped) <= 2, [b.line for b in skipped]
    assert all(len(str(b.not_run)) > 10 for b in skipped)


@pytest.mark.slow
def test_every_readme_example_runs_in_order(tmp_path: pathlib.Path) -> None:
    run_page(README, tmp_path)
