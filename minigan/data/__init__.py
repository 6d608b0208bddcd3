"""Data for training GANs: MNIST and Fashion-MNIST, batching, and toy 2-D distributions.

    from minigan import data

    ds = data.mnist("train")                    # ImageDataset: .images uint8 (N, 28, 28), .labels, .source
    loader = data.DataLoader((ds.images, ds.labels), batch_size=64, seed=0,
                             transform=lambda x, y: (data.to_unit_range(x), y))
    samples, centres = data.ring(2500)          # 8 Gaussians on a circle

Read in this order: ``idx.py`` (the file format), ``datasets.py`` (where files are found,
downloaded and checked; the bundled fallback), ``loader.py`` (batches and reproducible
shuffling), ``toy.py`` (ring and grid; ``minigan.metrics.mode_coverage`` scores them).
"""
from .idx import IDXError, read_idx, write_idx
from .loader import DataLoader, from_unit_range, to_unit_range
from .datasets import (DatasetNotFoundError, DownloadError, ImageDataset, cache_dir, fashion_mnist, mnist,
                    mnist_bundled)
from .toy import grid, ring

__all__ = [
    "read_idx", "write_idx", "IDXError",
    "mnist", "mnist_bundled", "fashion_mnist", "ImageDataset", "DatasetNotFoundError", "DownloadError",
    "cache_dir",
    "DataLoader", "to_unit_range", "from_unit_range",
    "ring", "grid",
]
