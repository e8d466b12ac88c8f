"""``python -m mage_bridge``: the ``mage-bridge`` command."""

import sys

from mage_bridge.cli import main

sys.exit(main())
