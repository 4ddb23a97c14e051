"""Tests that run inside the Rasa env (.venv-rasa, Python 3.10): they import rasa and nlu only.

The app env's pytest skips collecting them and runs them through `test_in_rasa_env.py` instead,
so `make test` covers them too.
"""

from __future__ import annotations

import importlib.util

RASA_ENV = importlib.util.find_spec("rasa") is not None

collect_ignore = [] if RASA_ENV else ["test_speedups.py"]
