"""`python -m mpu_toolkit.cli`: the `mpu` command without its console script."""

import sys

from . import main

sys.exit(main())
