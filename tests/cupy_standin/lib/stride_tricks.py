"""``cupy.lib.stride_tricks`` in the stand-in: views of a device array with other strides."""
import numpy as _np

from .._core import numpy_backed as _numpy_backed

as_strided = _numpy_backed(_np.lib.stride_tricks.as_strided)
sliding_window_view = _numpy_backed(_np.lib.stride_tricks.sliding_window_view)
