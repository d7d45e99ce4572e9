"""Order tests run on the purchase stack (the parent folder's `stack`) and share `orders_kit`."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
