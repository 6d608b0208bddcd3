"""``cupy.cuda`` in the stand-in: one pretend device, whose work is always finished."""
from . import runtime  # noqa: F401


class Device:
    """``cupy.cuda.Device(id)``: device 0 is the only one."""

    def __init__(self, device=None):
        self.id = 0 if device is None else int(device)
        if self.id != 0:
            raise RuntimeError(f"the CuPy stand-in has one device (0), not {self.id}")

    def synchronize(self):
        """Nothing to wait for: NumPy has finished by the time a call returns."""

    def use(self):
        return self

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def is_available():
    return True
