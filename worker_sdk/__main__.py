"""``python -m worker_sdk run module:attr``: see :mod:`worker_sdk.cli`."""

from .cli import main

raise SystemExit(main())
