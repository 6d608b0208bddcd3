"""MNIST and Fashion-MNIST: where the files are found, how they are downloaded and checked.

    ds = minigan.data.mnist("train")       # an ImageDataset
    x, y = ds.images, ds.labels            # uint8 (60000, 28, 28) and uint8 (60000,)
    print(ds.source, ds.location)          # e.g. "cache" "/home/you/.cache/minigan/mnist"

Both datasets come as four IDX files (see ``idx.py``), two per split:

    train: train-images-idx3-ubyte  train-labels-idx1-ubyte   (60,000 images)
    test:  t10k-images-idx3-ubyte   t10k-labels-idx1-ubyte    (10,000 images)

each either raw or gzipped (``.gz``); the spelling ``train-images.idx3-ubyte`` is accepted too.

Where the files are looked for, in this order (the first folder holding both files of the split
wins; ``ds.source`` names the kind of place):

1. ``root``, when given: the folder itself, then ``root/mnist`` (``root/fashion-mnist``);
2. ``$MINIGAN_DATA/mnist`` (``$MINIGAN_DATA/fashion-mnist``), when ``MINIGAN_DATA`` is set;
3. the user cache, ``$XDG_CACHE_HOME/minigan/mnist``, which is ``~/.cache/minigan/mnist`` when
   ``XDG_CACHE_HOME`` is not set;
4. Fashion-MNIST only: the folders where system packages install it (``FASHION_MNIST_SYSTEM_DIRS``,
   e.g. ``/usr/share/datasets/fashion-mnist`` from Debian's ``dataset-fashion-mnist``);
5. with ``download=True``: the files missing from the cache are downloaded into it, trying each
   mirror in turn; each file's SHA-256 is checked before it is renamed into place, so a bad or
   partial download never reaches the cache, and a download stops once it passes
   ``MAX_DOWNLOAD_BYTES``. Files found in 1-4 are not checksummed (Debian, for
   one, recompresses them) but are checked for shape, type and matching counts.
6. if all of that fails: MNIST falls back to the 5,000 real digits bundled with minigan
   (``mnist_bundled``; train = the first 4,000, test = the last 1,000, each with every digit
   equally often) and says so in one line. Fashion-MNIST has no bundle: it raises
   ``DatasetNotFoundError`` listing every place looked and how to get the files.

Within one Python process a download that failed is not tried again (restart to retry), so
asking for "train" then "test" offline waits for the network only once.
Messages (the source used, download progress) go to stderr; ``verbose=False`` silences them.
"""
import hashlib
import http.client
import os
import sys
import urllib.request
from dataclasses import dataclass, replace

import numpy as np

from ..files import atomic_file
from ..progress import ProgressBar
from .idx import IDXError, read_idx

SPLITS = ("train", "test")
# The standard file names, per split: (images, labels).
SPLIT_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
IMAGE_SHAPE = (28, 28)
DOWNLOAD_TIMEOUT = 10  # seconds without an answer before a mirror counts as failed
# The most bytes one download may bring (fetch's max_bytes): MNIST's largest file, the gzipped train
# images, is 9.9 MB, so 64 MiB leaves room for any mirror yet stops a wrong URL from filling the disk.
MAX_DOWNLOAD_BYTES = 64 * 2**20

# Mirrors are tried in order; a file's URL is the mirror followed by the file name.
MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",      # the mirror PyTorch uses
    "https://storage.googleapis.com/cvdf-datasets/mnist/",  # the mirror TensorFlow uses
)
# SHA-256 of the original gzipped files from yann.lecun.com, which both mirrors copy byte for byte
# (the values TensorFlow Datasets and many other projects check). Their well-known MD5 sums, as
# torchvision lists them: f68b3c2dcbeaaa9fbdd348bbdeb94873, d53e105ee54ea40749a09fcbcd1e9432,
# 9fb629c4189551a2d022fa330f9573f3, ec29112dd5afa0611ce80d1b7f02629c.
MNIST_SHA256 = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}

FASHION_MNIST_MIRRORS = (
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",  # the address in Zalando's README
)
# SHA-256 of Zalando's gzipped files (their README publishes the MD5 sums 8d4fb7e6c68d591d4c3dfef9ec88bf0d,
# 25c81989df183df01b3e8a0aad5dffbe, bef4ecab320f06d8554ea6380940ec79, bb300cfdad3c16e7a12a480ee83cd310).
FASHION_MNIST_SHA256 = {
    "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
    "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
    "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
    "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
}
# Where system packages put Fashion-MNIST: Debian/Ubuntu's `apt-get install dataset-fashion-mnist`
# installs the four .gz files here (its gzip headers differ from Zalando's, so its .gz checksums do too).
FASHION_MNIST_SYSTEM_DIRS = ("/usr/share/datasets/fashion-mnist",)

FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")

# The bundled subset (see bundled/README.md): 5,000 real MNIST digits, 500 of each, ordered
# 0, 1, ..., 9, 0, 1, ... so that any prefix holds every digit equally often.
BUNDLE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bundled")
BUNDLE_FILES = ("mnist5k-images-idx3-ubyte.gz", "mnist5k-labels-idx1-ubyte.gz")
BUNDLE_TRAIN = 4000  # train = the first 4,000 digits, test = the last 1,000


class DatasetNotFoundError(FileNotFoundError):
    """No copy of a dataset was found and none could be downloaded; the message says where we looked."""


class DownloadError(OSError):
    """Every mirror failed for a file; ``attempts`` holds one line per URL tried."""

    def __init__(self, file_name, attempts):
        self.file_name = file_name
        self.attempts = list(attempts)
        super().__init__(f"could not download {file_name}: " + "; ".join(self.attempts))


@dataclass(frozen=True)
class _Spec:
    """What differs between MNIST and Fashion-MNIST."""
    name: str            # for messages: "MNIST"
    folder: str          # the subfolder of the cache and of $MINIGAN_DATA: "mnist"
    mirrors: tuple
    sha256: dict         # published .gz file name -> its SHA-256
    system_dirs: tuple
    classes: tuple


MNIST = _Spec("MNIST", "mnist", MNIST_MIRRORS, MNIST_SHA256, (), tuple(str(d) for d in range(10)))
FASHION_MNIST = _Spec("Fashion-MNIST", "fashion-mnist", FASHION_MNIST_MIRRORS, FASHION_MNIST_SHA256,
                      FASHION_MNIST_SYSTEM_DIRS, FASHION_MNIST_CLASSES)


@dataclass(frozen=True, eq=False, repr=False)
class ImageDataset:
    """Images with their labels, and where they came from.

    images:   uint8 array (N, 28, 28), 0 = background
    labels:   uint8 array (N,), values 0..9 (names in ``classes``)
    source:   the kind of place they were read from: "root", "MINIGAN_DATA", "cache", "system",
              "download" (fetched into the cache just now) or "bundled"
    location: that folder
    """
    name: str
    split: str
    images: np.ndarray
    labels: np.ndarray
    source: str
    location: str
    classes: tuple

    def __len__(self):
        return len(self.labels)

    def __repr__(self):
        return (f"ImageDataset({self.name} {self.split}: {len(self):,} images {self.images.shape[1:]}, "
                f"source={self.source!r}, location={self.location!r})")


# --- where to look ---------------------------------------------------------------------------

def cache_dir(folder="mnist"):
    """The download folder: ``$XDG_CACHE_HOME/minigan/<folder>``, else ``~/.cache/minigan/<folder>``."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):  # unset, empty or relative: the XDG spec says ignore it
        base = os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "minigan", folder)


def _places(spec, root):
    """The (kind, folder) pairs to look in, in order (folder None: $MINIGAN_DATA is not set)."""
    places = []
    if root is not None:
        root = os.path.abspath(os.path.expanduser(os.fspath(root)))
        if not os.path.isdir(root):
            raise FileNotFoundError(f"{spec.name}: root={root!r} is not a folder; expected a folder holding "
                                    f"the IDX files (or leave root=None to use the cache)")
        places += [("root", root), ("root", os.path.join(root, spec.folder))]
    env = os.environ.get("MINIGAN_DATA", "")
    if env:
        places.append(("MINIGAN_DATA", os.path.join(os.path.abspath(os.path.expanduser(env)), spec.folder)))
    else:
        places.append(("MINIGAN_DATA", None))  # listed in messages as "not set"
    places.append(("cache", cache_dir(spec.folder)))
    places += [("system", d) for d in spec.system_dirs]
    return places


def _spellings(stem):
    """The file names accepted for one file, e.g. train-images-idx3-ubyte(.gz), train-images.idx3-ubyte(.gz)."""
    dotted = stem.replace("-idx", ".idx")
    return [stem + ".gz", stem, dotted + ".gz", dotted]


def _find_file(folder, stem):
    for name in _spellings(stem):
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            return path
    return None


def _look(folder, split):
    """(images path, labels path) when ``folder`` holds both files of ``split``, else (None, why not)."""
    if not os.path.isdir(folder):
        return None, "no such folder"
    images_stem, labels_stem = SPLIT_FILES[split]
    images, labels = _find_file(folder, images_stem), _find_file(folder, labels_stem)
    if images and labels:
        return (images, labels), ""
    if images or labels:
        missing = labels_stem if images else images_stem
        return None, f"has {os.path.basename(images or labels)} but no {missing}(.gz)"
    return None, "no files for this split"


# --- reading and checking ------------------------------------------------------------------

def _read_pair(spec, split, images_path, labels_path, source, location):
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.ndim != 3 or images.shape[1:] != IMAGE_SHAPE or images.dtype != np.uint8:
        raise IDXError(f"{images_path}: expected uint8 images of shape (N, 28, 28), "
                       f"found {images.dtype} of shape {images.shape}")
    if labels.ndim != 1 or labels.dtype != np.uint8:
        raise IDXError(f"{labels_path}: expected uint8 labels of shape (N,), "
                       f"found {labels.dtype} of shape {labels.shape}")
    if len(images) != len(labels):
        raise IDXError(f"{spec.name} {split}: {len(images):,} images in {images_path} but "
                       f"{len(labels):,} labels in {labels_path}; expected one label per image")
    if len(labels) and labels.max() >= len(spec.classes):
        raise IDXError(f"{labels_path}: expected labels 0..{len(spec.classes) - 1}, found {labels.max()}")
    return ImageDataset(spec.name, split, images, labels, source, location, spec.classes)


def _check_split(split, allowed=SPLITS):
    if split not in allowed:
        raise ValueError(f"split must be one of {', '.join(map(repr, allowed))}; got {split!r}")


# --- downloading -----------------------------------------------------------------------------

_failed_downloads = {}  # dataset name -> the DownloadError, so one process does not wait twice


def fetch(url, out, timeout=DOWNLOAD_TIMEOUT, verbose=True, max_bytes=MAX_DOWNLOAD_BYTES):
    """Stream the bytes at ``url`` into ``out`` (a file opened for binary writing).

    Refuses a file the server announces (Content-Length) as larger than ``max_bytes``, and stops once
    more than ``max_bytes`` have arrived; ``out`` then holds part of the file, for the caller to delete.
    The only function here that touches the network; tests replace it with a fake.
    Raises OSError (urllib's URLError and HTTPError are OSErrors) or http.client.HTTPException.
    """
    with urllib.request.urlopen(url, timeout=timeout) as response:
        length = response.headers.get("Content-Length") or ""
        size = int(length) if length.isdecimal() else None  # None: the server does not say (or not as a number)
        if size is not None and size > max_bytes:
            raise OSError(f"the server announces {size:,} bytes (Content-Length); expected at most "
                          f"{max_bytes:,} (max_bytes)")
        bar = ProgressBar(size, desc=f"  downloading {url}", enabled=verbose, count_bytes=True)
        done = 0
        try:
            while chunk := response.read(1 << 16):
                done += len(chunk)
                if done > max_bytes:
                    raise OSError(f"stopped: more than {max_bytes:,} bytes arrived; expected at most "
                                  f"{max_bytes:,} (max_bytes)")
                out.write(chunk)
                bar.update(len(chunk))
        finally:
            bar.close()


def sha256_of(path):
    """The SHA-256 of a file, as 64 hex digits (read in 1 MiB pieces)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


class _ChecksumMismatch(Exception):
    """A download arrived whole but is not the published file; the next mirror is tried."""


def _why(error):
    reason = getattr(error, "reason", None)  # URLError keeps the underlying cause here
    return str(reason if reason is not None and not hasattr(error, "code") else error)


def _download_file(spec, file_name, folder, verbose):
    """Fetch one file into ``folder``, trying each mirror; DownloadError if all fail.

    Each attempt writes to a temporary file in ``folder`` (``atomic_file``); only a file whose
    SHA-256 matches is renamed to its real name, so the cache never holds a bad or partial file.
    """
    expected = spec.sha256[file_name]
    attempts = []
    for mirror in spec.mirrors:
        url = mirror + file_name
        try:
            with atomic_file(os.path.join(folder, file_name)) as out:
                fetch(url, out, timeout=DOWNLOAD_TIMEOUT, verbose=verbose)
                out.flush()
                found = sha256_of(out.name)  # the temporary file, before it gets the real name
                if found != expected:  # an error inside the block removes the temporary file
                    raise _ChecksumMismatch(f"SHA-256 mismatch (expected {expected}, got {found})")
            return
        except (OSError, http.client.HTTPException, _ChecksumMismatch) as e:
            attempts.append(f"{url}: {_why(e)}")
    raise DownloadError(file_name, attempts)


def _download(spec, verbose):
    """Download the files of ``spec`` missing from its cache folder; return the folder.

    Stops at the first file that no mirror could deliver (the others would fail the same way).
    """
    if spec.name in _failed_downloads:
        raise _failed_downloads[spec.name]
    folder = cache_dir(spec.folder)
    try:
        os.makedirs(folder, exist_ok=True)
        for file_name in spec.sha256:
            if _find_file(folder, file_name[:-len(".gz")]) is None:
                _download_file(spec, file_name, folder, verbose)
    except DownloadError as e:
        _failed_downloads[spec.name] = e
        raise
    except OSError as e:  # e.g. the cache folder cannot be created
        raise DownloadError("files", [f"{folder}: {e}"]) from e
    return folder


# --- the loaders -----------------------------------------------------------------------------

def _load(spec, split, root, download, verbose):
    """Look in every place, then download. Returns (ImageDataset or None, lines saying what was tried)."""
    _check_split(split)
    tried = []
    for kind, folder in _places(spec, root):
        if folder is None:
            tried.append(f"$MINIGAN_DATA/{spec.folder}: not looked at, MINIGAN_DATA is not set")
            continue
        pair, why = _look(folder, split)
        if pair:
            ds = _read_pair(spec, split, *pair, source=kind, location=folder)
            _say(verbose, f"minigan: {spec.name} {split}: {len(ds):,} images from {folder} ({kind})")
            return ds, tried
        tried.append(f"{folder} ({kind}): {why}")
    if not download:
        tried.append("download: skipped (download=False)")
        return None, tried
    try:
        folder = _download(spec, verbose)
    except DownloadError as e:
        tried.append("download: " + str(e))
        return None, tried
    pair, why = _look(folder, split)
    ds = _read_pair(spec, split, *pair, source="download", location=folder)
    _say(verbose, f"minigan: {spec.name} {split}: {len(ds):,} images, downloaded into {folder}")
    return ds, tried


def _say(verbose, line):
    if verbose:
        print(line, file=sys.stderr)


def mnist(split="train", root=None, download=True, verbose=True):
    """MNIST handwritten digits: 60,000 (train) or 10,000 (test) images, as an ``ImageDataset``.

    ``x, y = ds.images, ds.labels`` gives uint8 arrays (N, 28, 28) and (N,); ``ds.source`` says
    where they came from. The search order is in this module's docstring; when no files are found
    and the download fails (or ``download=False``), you get the 5,000 bundled digits instead
    (``ds.source == "bundled"``), with one line on stderr saying so.
    """
    ds, tried = _load(MNIST, split, root, download, verbose)
    if ds is not None:
        return ds
    ds = mnist_bundled(split)
    if verbose:
        download_note = next((t for t in tried if t.startswith("download")), "")
        part = f"the first {BUNDLE_TRAIN:,}" if split == "train" else f"the last {5000 - BUNDLE_TRAIN:,}"
        print(f"minigan: no MNIST files found ({download_note}); using the 5,000 real MNIST digits bundled "
              f"with minigan ({split}: {part}). For the full 70,000: put the four MNIST files in "
              f"{cache_dir('mnist')} (or $MINIGAN_DATA/mnist), or run once with network access.",
              file=sys.stderr)
    return ds


def mnist_bundled(split="train"):
    """The 5,000 real MNIST digits shipped with minigan (see bundled/README.md).

    split "train" gives the first 4,000, "test" the last 1,000, "all" all 5,000; each holds every
    digit equally often (400 or 100 or 500 of each).
    """
    _check_split(split, SPLITS + ("all",))
    images_path, labels_path = (os.path.join(BUNDLE_DIR, name) for name in BUNDLE_FILES)
    for path in (images_path, labels_path):
        if not os.path.isfile(path):
            raise FileNotFoundError(f"the bundled MNIST subset is missing: expected {path}; "
                                    "the installed minigan package is incomplete, reinstall it")
    ds = _read_pair(MNIST, split, images_path, labels_path, source="bundled", location=BUNDLE_DIR)
    part = {"train": slice(0, BUNDLE_TRAIN), "test": slice(BUNDLE_TRAIN, None), "all": slice(None)}[split]
    return replace(ds, images=ds.images[part], labels=ds.labels[part])


def fashion_mnist(split="train", root=None, download=True, verbose=True):
    """Fashion-MNIST (Zalando): 28x28 pictures of 10 kinds of clothing, as an ``ImageDataset``.

    Same files, layout and search order as ``mnist`` (cache folder ``fashion-mnist``), plus the
    system folders in ``FASHION_MNIST_SYSTEM_DIRS``. There is no bundled fallback: when nothing is
    found, raises DatasetNotFoundError listing every place looked and how to get the files.
    Class names: ``ds.classes[label]``.
    """
    spec = FASHION_MNIST
    ds, tried = _load(spec, split, root, download, verbose)
    if ds is not None:
        return ds
    images, labels = SPLIT_FILES[split]
    files = ", ".join(spec.sha256)
    raise DatasetNotFoundError(
        f"{spec.name} {split} not found: looked for {images}(.gz) and {labels}(.gz) in\n"
        + "".join(f"  - {line}\n" for line in tried)
        + "To get the files: on Debian or Ubuntu, `sudo apt-get install dataset-fashion-mnist` (installs them "
        f"in {', '.join(spec.system_dirs) or 'a system folder'}); or download {files} from "
        f"{spec.mirrors[0]} into {cache_dir(spec.folder)} (or set MINIGAN_DATA to a folder holding "
        f"{spec.folder}/).")
