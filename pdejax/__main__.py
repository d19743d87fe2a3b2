"""``python -m pdejax`` is the ``pdejax`` command."""

import sys

from .experiment.cli import main

sys.exit(main())
