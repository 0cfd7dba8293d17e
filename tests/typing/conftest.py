"""tests/typing/ holds programs for mypy (tests/test_typing.py), never run: not collected."""

collect_ignore_glob = ["*.py"]
