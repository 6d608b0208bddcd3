"""``cupy.lib`` in the stand-in."""
from . import stride_tricks  # noqa: F401
