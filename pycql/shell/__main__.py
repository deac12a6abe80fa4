"""``python -m pycql.shell``: the same as the ``pycql`` command."""

import sys

from pycql.shell import main

sys.exit(main())
