"""The suite's live server is the package's own threaded server (kept as a name for the tests)."""

from simulator.testing import ThreadedServer as LiveServer

__all__ = ["LiveServer"]
