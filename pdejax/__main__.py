"""``python -m pdejax`` is the ``pdejax`` command."""

import sys

from .cli import main

sys.exit(main())
