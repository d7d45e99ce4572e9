"""Unit tests import their shared in-memory fakes (`fakes.py`) from this folder."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
