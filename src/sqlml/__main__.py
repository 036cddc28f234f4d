"""``python -m sqlml``: the same as the ``sqlml`` command."""

from sqlml.cli.main import main

main()
