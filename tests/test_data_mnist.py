"""MNIST / Fashion-MNIST: the search order, the checks, downloads (with a fake fetch), the bundle.

No test here touches the network: an autouse fixture replaces ``fetch`` (the one function that
would) with a fake that fails, and points HOME, XDG_CACHE_HOME and MINIGAN_DATA at temporary
folders so the real user cache is never read or written.
"""
import functools
import gzip
import hashlib
import importlib
import os
import sys
from dataclasses import replace

import numpy as np
import pytest

from minigan.data import DatasetNotFoundError, IDXError, fashion_mnist, mnist, mnist_bundled, write_idx
from minigan.data.idx import idx_bytes

M = importlib.import_module("minigan.data.datasets")  # the module behind data.mnist()
REAL_FETCH = M.fetch  # kept before the fixture below replaces it


class FakeNet:
    """Stands in for ``fetch``: serves bytes per URL, or raises; records every URL asked for."""

    def __init__(self, answers=None):
        self.answers = answers or {}  # url -> bytes, or an exception to raise
        self.urls = []

    def __call__(self, url, out, timeout=None, verbose=True):
        self.urls.append(url)
        answer = self.answers.get(url, OSError("no network in tests"))
        if isinstance(answer, BaseException):
            raise answer
        out.write(answer)


@pytest.fixture(autouse=True)
def offline(tmp_path, monkeypatch):
    """Isolate every test: fake HOME and cache, no MINIGAN_DATA, no network, no system folders."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("MINIGAN_DATA", raising=False)
    monkeypatch.setattr(M, "_failed_downloads", {})
    monkeypatch.setattr(M, "FASHION_MNIST", replace(M.FASHION_MNIST, system_dirs=()))
    net = FakeNet()
    monkeypatch.setattr(M, "fetch", net)
    return net


def fake_split(folder, split="train", n=6, value=0, gz=True, spelling="-idx"):
    """Write a synthetic split (n images filled with ``value``, labels 0..n-1 mod 10) into ``folder``."""
    os.makedirs(folder, exist_ok=True)
    images_stem, labels_stem = M.SPLIT_FILES[split]
    suffix = ".gz" if gz else ""
    images = np.full((n, 28, 28), value, dtype=np.uint8)
    labels = (np.arange(n) % 10).astype(np.uint8)
    write_idx(os.path.join(folder, images_stem.replace("-idx", spelling) + suffix), images, compress=gz)
    write_idx(os.path.join(folder, labels_stem.replace("-idx", spelling) + suffix), labels, compress=gz)
    return images, labels


def cache(tmp_path, name="mnist"):
    return str(tmp_path / "xdg" / "minigan" / name)


# --- the bundled subset ----------------------------------------------------------------------

def test_bundle_holds_5000_real_digits_balanced():
    every = mnist_bundled("all")
    assert every.images.shape == (5000, 28, 28) and every.images.dtype == np.uint8
    assert every.labels.shape == (5000,) and every.labels.dtype == np.uint8
    assert np.bincount(every.labels, minlength=10).tolist() == [500] * 10
    # Real MNIST digits: a dark background, some full-white strokes, mean intensity near MNIST's 33
    assert every.images.max() == 255 and every.images[:, 0, :].max() == 0
    assert 25 < every.images.mean() < 40
    train, test = mnist_bundled("train"), mnist_bundled("test")
    assert (len(train), len(test)) == (4000, 1000)
    assert np.bincount(train.labels).tolist() == [400] * 10
    assert np.bincount(test.labels).tolist() == [100] * 10
    np.testing.assert_array_equal(np.concatenate([train.images, test.images]), every.images)


def test_mnist_falls_back_to_the_bundle_with_one_line(capsys, offline, tmp_path):
    ds = mnist("train")
    assert ds.source == "bundled" and len(ds) == 4000 and ds.images.shape[1:] == (28, 28)
    assert set(np.unique(ds.labels)) == set(range(10))
    err = capsys.readouterr().err
    assert err.count("\n") == 1  # exactly one line
    assert "5,000 real MNIST digits bundled" in err and "the first 4,000" in err
    assert cache(tmp_path) in err and "MINIGAN_DATA" in err
    # what was tried: every mirror's URL for the first file, and why it failed
    for mirror in M.MNIST_MIRRORS:
        assert mirror + "train-images-idx3-ubyte.gz" in err
    assert "no network in tests" in err
    assert offline.urls == [m + "train-images-idx3-ubyte.gz" for m in M.MNIST_MIRRORS]


def test_test_split_of_the_bundle_and_quiet_mode(capsys):
    ds = mnist("test", download=False, verbose=False)
    assert ds.source == "bundled" and len(ds) == 1000
    assert capsys.readouterr().err == ""


def test_download_false_never_fetches(offline, capsys):
    mnist("train", download=False)
    assert offline.urls == []
    assert "download=False" in capsys.readouterr().err


def test_a_failed_download_is_not_retried_in_the_same_process(offline):
    mnist("train", verbose=False)
    mnist("test", verbose=False)
    assert len(offline.urls) == len(M.MNIST_MIRRORS)


# --- where files are found -----------------------------------------------------------------------

def test_root_beats_env_beats_cache(tmp_path, monkeypatch, capsys):
    root, env = tmp_path / "root", tmp_path / "env"
    fake_split(root, n=3)
    fake_split(env / "mnist", n=4)
    fake_split(cache(tmp_path), n=5)
    monkeypatch.setenv("MINIGAN_DATA", str(env))

    ds = mnist("train", root=root)
    assert (ds.source, len(ds), ds.location) == ("root", 3, str(root))
    assert f"3 images from {root} (root)" in capsys.readouterr().err
    ds = mnist("train")
    assert (ds.source, len(ds), ds.location) == ("MINIGAN_DATA", 4, str(env / "mnist"))
    monkeypatch.delenv("MINIGAN_DATA")
    ds = mnist("train")
    assert (ds.source, len(ds), ds.location) == ("cache", 5, cache(tmp_path))


def test_root_falls_through_when_it_lacks_the_files(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    fake_split(cache(tmp_path), n=5)
    assert mnist("train", root=root).source == "cache"


def test_root_may_hold_an_mnist_subfolder(tmp_path):
    fake_split(tmp_path / "data" / "mnist", "test", n=7)
    ds = mnist("test", root=tmp_path / "data")
    assert ds.location == str(tmp_path / "data" / "mnist") and len(ds) == 7


def test_root_that_is_not_a_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"root=.*nope.* is not a folder"):
        mnist("train", root=tmp_path / "nope")


def test_cache_follows_xdg_then_home(tmp_path, monkeypatch):
    assert M.cache_dir("mnist") == cache(tmp_path)
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert M.cache_dir("mnist") == str(tmp_path / "home" / ".cache" / "minigan" / "mnist")
    fake_split(tmp_path / "home" / ".cache" / "minigan" / "mnist", n=2)
    assert mnist("train").source == "cache"


@pytest.mark.parametrize("gz", [True, False], ids=["gz", "raw"])
@pytest.mark.parametrize("spelling", ["-idx", ".idx"], ids=["dash", "dot"])
def test_standard_spellings(tmp_path, gz, spelling):
    images, labels = fake_split(tmp_path / "r", "test", n=4, value=9, gz=gz, spelling=spelling)
    ds = mnist("test", root=tmp_path / "r")
    np.testing.assert_array_equal(ds.images, images)
    np.testing.assert_array_equal(ds.labels, labels)


def test_bad_split():
    with pytest.raises(ValueError, match=r"split must be one of 'train', 'test'; got 'val'"):
        mnist("val")


# --- bad files raise (they are never silently replaced by the bundle) ------------------------

def test_mismatched_counts_name_both_files(tmp_path):
    root = tmp_path / "r"
    fake_split(root, n=6)
    write_idx(root / "train-labels-idx1-ubyte.gz", np.zeros(5, dtype=np.uint8))
    with pytest.raises(IDXError, match=r"6 images in .*train-images-idx3-ubyte.gz but 5 labels in "
                                       r".*train-labels-idx1-ubyte.gz"):
        mnist("train", root=root)


def test_wrong_image_shape(tmp_path):
    root = tmp_path / "r"
    fake_split(root, n=2)
    write_idx(root / "train-images-idx3-ubyte.gz", np.zeros((2, 27, 28), dtype=np.uint8))
    with pytest.raises(IDXError, match=r"expected uint8 images of shape \(N, 28, 28\), "
                                       r"found uint8 of shape \(2, 27, 28\)"):
        mnist("train", root=root)


def test_labels_out_of_range(tmp_path):
    root = tmp_path / "r"
    fake_split(root, n=2)
    write_idx(root / "train-labels-idx1-ubyte.gz", np.array([3, 12], dtype=np.uint8))
    with pytest.raises(IDXError, match=r"expected labels 0..9, found 12"):
        mnist("train", root=root)


def test_corrupt_cached_file_raises(tmp_path):
    fake_split(cache(tmp_path), n=2)
    with open(os.path.join(cache(tmp_path), "train-images-idx3-ubyte.gz"), "wb") as f:
        f.write(b"<html>404</html>")
    with pytest.raises(IDXError, match=r"not an IDX file.*found 3c 68 74 6d"):
        mnist("train")


def test_half_a_split_is_skipped_and_reported(tmp_path):
    root = tmp_path / "r"
    fake_split(root, n=2)
    os.remove(root / "train-labels-idx1-ubyte.gz")
    with pytest.raises(DatasetNotFoundError, match=r"has train-images-idx3-ubyte.gz but no train-labels-idx1-ubyte"):
        fashion_mnist("train", root=root)


# --- downloading (with a fake fetch) -------------------------------------------------------------

def synthetic_release():
    """Gzipped IDX bytes for the four files, and their SHA-256 sums, to stand in for MNIST."""
    files = {}
    for split, n in (("train", 12), ("test", 4)):
        images_stem, labels_stem = M.SPLIT_FILES[split]
        images = np.random.default_rng(n).integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = (np.arange(n) % 10).astype(np.uint8)
        files[images_stem + ".gz"] = gzip.compress(idx_bytes(images))
        files[labels_stem + ".gz"] = gzip.compress(idx_bytes(labels))
    return files, {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}


@pytest.fixture
def release(monkeypatch):
    files, sums = synthetic_release()
    monkeypatch.setattr(M, "MNIST", replace(M.MNIST, sha256=sums))
    return files


def test_download_success_writes_the_cache_atomically(tmp_path, monkeypatch, release, capsys):
    mirror = M.MNIST_MIRRORS[0]
    folder = cache(tmp_path)
    seen = []

    def fake_fetch(url, out, timeout=None, verbose=True):
        name = url.rsplit("/", 1)[1]
        # written under a temporary name in the cache folder itself; the real name appears only after
        assert os.path.dirname(out.name) == folder and os.path.basename(out.name) != name
        assert not os.path.exists(os.path.join(folder, name))
        seen.append(url)
        out.write(release[name])

    monkeypatch.setattr(M, "fetch", fake_fetch)
    ds = mnist("train")
    assert (ds.source, len(ds), ds.location) == ("download", 12, folder)
    assert seen == [mirror + name for name in release]  # all four files, from the first mirror
    assert sorted(os.listdir(folder)) == sorted(release)  # no temporary files left
    for name, data in release.items():
        with open(os.path.join(folder, name), "rb") as f:
            assert f.read() == data
    assert "downloaded into" in capsys.readouterr().err
    ds = mnist("test")  # now found in the cache, nothing fetched
    assert (ds.source, len(ds)) == ("cache", 4) and len(seen) == 4


def test_checksum_failure_tries_the_next_mirror(tmp_path, offline, release):
    first, second = M.MNIST_MIRRORS[:2]
    for name, data in release.items():
        offline.answers[first + name] = b"not the file you wanted"
        offline.answers[second + name] = data
    ds = mnist("train")
    assert ds.source == "download"
    assert offline.urls[:2] == [first + "train-images-idx3-ubyte.gz", second + "train-images-idx3-ubyte.gz"]
    assert sorted(os.listdir(cache(tmp_path))) == sorted(release)  # the bad bytes were deleted


def test_checksum_failure_everywhere_falls_back_and_says_what_was_tried(tmp_path, offline, release, capsys):
    for mirror in M.MNIST_MIRRORS:
        offline.answers[mirror + "train-images-idx3-ubyte.gz"] = b"garbage"
    ds = mnist("train")
    assert ds.source == "bundled"
    assert os.listdir(cache(tmp_path)) == []  # nothing bad reached the cache, not even a temp file
    err = capsys.readouterr().err
    assert err.count("SHA-256 mismatch") == len(M.MNIST_MIRRORS)
    assert hashlib.sha256(b"garbage").hexdigest() in err
    for mirror in M.MNIST_MIRRORS:
        assert mirror + "train-images-idx3-ubyte.gz" in err


def test_a_download_cut_short_leaves_nothing(tmp_path, monkeypatch, release):
    def dropping_fetch(url, out, timeout=None, verbose=True):
        out.write(release[url.rsplit("/", 1)[1]][:100])
        raise ConnectionResetError("connection reset (simulated)")

    monkeypatch.setattr(M, "fetch", dropping_fetch)
    with pytest.raises(M.DownloadError, match="connection reset") as e:
        M._download(M.MNIST, verbose=False)
    assert len(e.value.attempts) == len(M.MNIST_MIRRORS)
    assert os.listdir(cache(tmp_path)) == []


def test_only_missing_files_are_downloaded(tmp_path, offline, release):
    folder = cache(tmp_path)
    os.makedirs(folder)
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"):
        with open(os.path.join(folder, name), "wb") as f:
            f.write(release[name])
    for name, data in release.items():
        offline.answers[M.MNIST_MIRRORS[0] + name] = data
    assert mnist("test").source == "download"
    assert [u.rsplit("/", 1)[1] for u in offline.urls] == ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]


def test_real_fetch_streams_a_file_url_with_a_progress_bar(tmp_path, capsys, monkeypatch):
    # file:// URLs go through urllib like http ones, without any network
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)  # a terminal: the bar redraws its line with \r
    source = tmp_path / "blob.bin"
    source.write_bytes(os.urandom(300_000))
    out_path = tmp_path / "copy.bin"
    with open(out_path, "wb") as out:
        REAL_FETCH(source.as_uri(), out)
    assert out_path.read_bytes() == source.read_bytes()
    err = capsys.readouterr().err
    assert "\r" in err and "100%" in err and "0.3 / 0.3 MB" in err and err.endswith("\n")


def test_fetch_writes_whole_progress_lines_to_a_log(tmp_path, capsys):
    # Not a terminal (a CI log, a file): lines that end in a newline, never a \r, and the last says 100%.
    source = tmp_path / "blob.bin"
    source.write_bytes(os.urandom(300_000))
    with open(tmp_path / "copy.bin", "wb") as out:
        REAL_FETCH(source.as_uri(), out)
    err = capsys.readouterr().err
    assert "\r" not in err and err.endswith("\n")
    assert "downloading file://" in err and "100% 0.3 / 0.3 MB" in err.splitlines()[-1]


class FakeResponse:
    """What ``urlopen`` returns, for the real ``fetch``: ``total`` zero bytes in 64 KiB pieces."""

    def __init__(self, total, content_length=None):
        self.headers = {} if content_length is None else {"Content-Length": str(content_length)}
        self.left, self.served = total, 0
        self.piece = bytes(1 << 16)

    def read(self, n):
        k = min(n, self.left, len(self.piece))
        self.left -= k
        self.served += k
        return self.piece[:k]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class CountingSink:
    """A file opened for writing that keeps only the count, so a test can stream 64 MiB cheaply."""

    def __init__(self):
        self.written = 0

    def write(self, data):
        self.written += len(data)


def test_fetch_stops_once_more_than_the_cap_has_arrived(monkeypatch):
    # Before: no cap, every byte the server sent was written out.
    cap = M.MAX_DOWNLOAD_BYTES
    response = FakeResponse(cap + (1 << 20))  # no Content-Length: the server does not say
    monkeypatch.setattr(M.urllib.request, "urlopen", lambda url, timeout=None: response)
    sink = CountingSink()
    with pytest.raises(OSError, match=f"more than {cap:,} bytes arrived; expected at most {cap:,}"):
        REAL_FETCH("https://example.invalid/huge.gz", sink, verbose=False)
    assert response.served <= cap + (1 << 16) and sink.written <= cap  # stopped within one piece


def test_fetch_refuses_a_too_large_content_length_up_front(monkeypatch):
    response = FakeResponse(0, content_length=10**12)
    response.read = lambda n: pytest.fail("read the body of a download announced as too large")
    monkeypatch.setattr(M.urllib.request, "urlopen", lambda url, timeout=None: response)
    cap = M.MAX_DOWNLOAD_BYTES
    with pytest.raises(OSError, match=f"announces 1,000,000,000,000 bytes .*; expected at most {cap:,}"):
        REAL_FETCH("https://example.invalid/huge.gz", CountingSink(), verbose=False)


def test_fetch_treats_a_malformed_content_length_as_unknown(monkeypatch, capsys):
    # Before: the progress bar's int("12 kB") raised a ValueError, which no caller expects from a download.
    response = FakeResponse(1000, content_length="12 kB")
    monkeypatch.setattr(M.urllib.request, "urlopen", lambda url, timeout=None: response)
    sink = CountingSink()
    REAL_FETCH("https://example.invalid/file.gz", sink)
    assert sink.written == 1000
    assert "0.0 MB" in capsys.readouterr().err  # the progress line without a total


def test_an_oversized_download_leaves_nothing_in_the_cache(tmp_path, monkeypatch, release):
    urls = []

    def urlopen(url, timeout=None):
        urls.append(url)
        return FakeResponse(5000)

    monkeypatch.setattr(M.urllib.request, "urlopen", urlopen)
    monkeypatch.setattr(M, "fetch", functools.partial(REAL_FETCH, max_bytes=1000))  # the keyword override
    with pytest.raises(M.DownloadError, match="more than 1,000 bytes arrived") as e:
        M._download(M.MNIST, verbose=False)
    assert urls == [m + "train-images-idx3-ubyte.gz" for m in M.MNIST_MIRRORS]  # each mirror, then stop
    assert len(e.value.attempts) == len(M.MNIST_MIRRORS)
    assert os.listdir(cache(tmp_path)) == []  # no partial file under any name


def test_the_published_checksums_look_right():
    for table in (M.MNIST_SHA256, M.FASHION_MNIST_SHA256):
        assert sorted(table) == sorted(stem + ".gz" for pair in M.SPLIT_FILES.values() for stem in pair)
        assert all(len(h) == 64 and int(h, 16) >= 0 for h in table.values())
    assert M.MNIST_SHA256["train-images-idx3-ubyte.gz"].startswith("440fcabf")


# --- Fashion-MNIST ---------------------------------------------------------------------------

def test_fashion_mnist_from_root_with_class_names(tmp_path):
    fake_split(tmp_path / "f", n=10)
    ds = fashion_mnist("train", root=tmp_path / "f")
    assert len(ds) == 10 and ds.name == "Fashion-MNIST"
    assert ds.classes[9] == "Ankle boot" and len(ds.classes) == 10


def test_fashion_mnist_uses_its_own_cache_and_env_folders(tmp_path, monkeypatch):
    fake_split(cache(tmp_path, "mnist"), n=3)  # MNIST files must not be taken for Fashion-MNIST
    fake_split(cache(tmp_path, "fashion-mnist"), n=5)
    assert len(fashion_mnist("train")) == 5
    fake_split(tmp_path / "env" / "fashion-mnist", n=6)
    monkeypatch.setenv("MINIGAN_DATA", str(tmp_path / "env"))
    assert fashion_mnist("train").source == "MINIGAN_DATA"


def test_fashion_mnist_looks_in_system_folders(tmp_path, monkeypatch):
    system = tmp_path / "usr-share"
    fake_split(system, "test", n=8)
    monkeypatch.setattr(M, "FASHION_MNIST", replace(M.FASHION_MNIST, system_dirs=(str(system),)))
    ds = fashion_mnist("test")
    assert (ds.source, ds.location, len(ds)) == ("system", str(system), 8)


def test_fashion_mnist_not_found_lists_every_place_and_the_remedies(tmp_path, offline, monkeypatch):
    monkeypatch.setattr(M, "FASHION_MNIST", replace(M.FASHION_MNIST, system_dirs=("/nonexistent/fashion",)))
    root = tmp_path / "root"
    root.mkdir()
    with pytest.raises(DatasetNotFoundError) as e:
        fashion_mnist("test", root=root)
    message = str(e.value)
    for place in (str(root), str(root / "fashion-mnist"), cache(tmp_path, "fashion-mnist"),
                  "/nonexistent/fashion", "MINIGAN_DATA is not set"):
        assert place in message
    assert "t10k-images-idx3-ubyte(.gz)" in message
    assert "apt-get install dataset-fashion-mnist" in message
    for mirror in M.FASHION_MNIST_MIRRORS:
        assert mirror + "train-images-idx3-ubyte.gz" in message  # the download attempts
    assert offline.urls and all(u.startswith(M.FASHION_MNIST_MIRRORS) for u in offline.urls)


def test_fashion_mnist_without_download(tmp_path, offline):
    with pytest.raises(DatasetNotFoundError, match=r"download: skipped \(download=False\)"):
        fashion_mnist("train", download=False)
    assert offline.urls == []


DEBIAN = M.FASHION_MNIST_SYSTEM_DIRS[0]


@pytest.mark.skipif(not os.path.isfile(os.path.join(DEBIAN, "train-images-idx3-ubyte.gz")),
                    reason=f"Debian's dataset-fashion-mnist is not installed (no files in {DEBIAN}); "
                           "apt-get install dataset-fashion-mnist to run this test")
def test_debian_fashion_mnist_files(monkeypatch):
    monkeypatch.setattr(M, "FASHION_MNIST", replace(M.FASHION_MNIST, system_dirs=M.FASHION_MNIST_SYSTEM_DIRS))
    for split, n in (("train", 60_000), ("test", 10_000)):
        ds = fashion_mnist(split, download=False, verbose=False)
        assert (ds.source, ds.location) == ("system", DEBIAN)
        assert ds.images.shape == (n, 28, 28) and ds.images.dtype == np.uint8
        assert ds.labels.shape == (n,) and sorted(np.unique(ds.labels)) == list(range(10))
        assert np.bincount(ds.labels).tolist() == [n // 10] * 10  # Fashion-MNIST is balanced
