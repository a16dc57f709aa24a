"""``python -m quri_parts_oqtopus.cli``: the same as the ``oqtopus`` console script."""

import sys

from quri_parts_oqtopus.cli.main import main

sys.exit(main())
