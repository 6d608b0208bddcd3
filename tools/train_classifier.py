"""Train the digit classifier that minigan.metrics ships, and record its held-out accuracy.

    python tools/train_classifier.py              # about a minute on a 2-core CPU
    python tools/train_classifier.py --check      # retrain in a temporary folder; compare with the shipped record

Writes ``minigan/metrics/digit_classifier.npz`` (the weights, float32, with ``minigan.save``) and
``minigan/metrics/digit_classifier.json`` (accuracy on the held-out digits, per class too, and
what was trained and tested on). The data are ``minigan.data.mnist("train")`` and ``("test")``:
offline that is the 5,000 bundled digits, train = the first 4,000 (400 of each digit), held out =
the last 1,000 (100 of each), never seen in training and not used to choose anything here (the
settings below were fixed before the held-out accuracy was first measured). With the full MNIST
files in the cache the same script trains on 60,000 and tests on 10,000; the JSON says which.

The recipe: cross-entropy, Adam (lr 1e-3, divided by 10 for the last quarter of the epochs),
batches of 64, and each training image shifted by up to 2 pixels in x and y every time it is
drawn (a digit moved a little is the same digit; with only 4,000 images this is what keeps the
network from memorising them). Seeded: a rerun on the same machine gives the same weights.
"""
import argparse
import json
import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import minigan  # noqa: E402
import minigan.functional as F  # noqa: E402
from minigan import data, optim  # noqa: E402
from minigan.metrics import classifier as clf  # noqa: E402


def shift(images, rng, most=2):
    """Each image (N, 1, 28, 28) moved by its own whole-pixel offset in [-most, most] on each axis (the gap filled with -1, the background)."""
    n = len(images)
    padded = np.pad(images, ((0, 0), (0, 0), (most, most), (most, most)), constant_values=-1)
    dy, dx = rng.integers(0, 2 * most + 1, size=(2, n))
    return np.stack([padded[i, :, dy[i]:dy[i] + 28, dx[i]:dx[i] + 28] for i in range(n)])


def train(x, y, epochs, seed, batch=64, lr=1e-3, log=print):
    """Train a DigitClassifier on images x (N, 1, 28, 28) in [-1, 1] and labels y (N,); returns it in eval mode."""
    minigan.manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = clf.DigitClassifier()
    opt = optim.Adam(net.parameters(), lr=lr)
    for epoch in range(epochs):
        if epoch == (3 * epochs) // 4:  # the last quarter at a tenth of the rate: settle into the minimum
            for group in opt.param_groups:
                group["lr"] = lr / 10
        order = rng.permutation(len(x))
        total, start = 0.0, time.perf_counter()
        for i in range(0, len(x), batch):
            idx = order[i:i + batch]
            opt.zero_grad()
            loss = F.cross_entropy(net(minigan.Tensor(shift(x[idx], rng))), y[idx])
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        log(f"epoch {epoch + 1:2d}/{epochs}  loss {total / len(x):.4f}  [{time.perf_counter() - start:.1f} s]")
    return net.eval()


def evaluate(net, x, y):
    """Accuracy on (x, y), overall and per class."""
    predicted = clf.classifier_probs(x, net=net).argmax(axis=1)
    right = predicted == y
    return float(right.mean()), [float(right[y == c].mean()) for c in range(10)]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--epochs", type=int, default=40, help="passes over the training digits")
    p.add_argument("--seed", type=int, default=0, help="seeds the initial weights, the order and the shifts")
    p.add_argument("--out", default=os.path.dirname(clf.WEIGHTS), help="folder for digit_classifier.npz/.json")
    p.add_argument("--check", action="store_true", help="train into a temporary folder and compare with the shipped record")
    args = p.parse_args(argv)
    out = tempfile.mkdtemp() if args.check else args.out
    os.makedirs(out, exist_ok=True)

    train_set, test_set = data.mnist("train"), data.mnist("test", verbose=False)
    x_train = data.to_unit_range(train_set.images)[:, None]
    x_test = data.to_unit_range(test_set.images)[:, None]
    y_train, y_test = train_set.labels.astype(np.int64), test_set.labels.astype(np.int64)
    start = time.perf_counter()
    net = train(x_train, y_train, args.epochs, args.seed)
    seconds = time.perf_counter() - start
    train_accuracy, _ = evaluate(net, x_train, y_train)
    accuracy, per_class = evaluate(net, x_test, y_test)

    weights = os.path.join(out, os.path.basename(clf.WEIGHTS))
    minigan.save(net.state_dict(), weights)
    bundled = train_set.source == "bundled"
    info = {
        "held_out_accuracy": round(accuracy, 4),
        "held_out_accuracy_per_class": [round(a, 4) for a in per_class],
        "train_accuracy": round(train_accuracy, 4),
        "trained_on": (f"the first {len(x_train):,} of the 5,000 MNIST digits bundled with minigan "
                       f"(400 of each digit)" if bundled else f"MNIST train ({len(x_train):,} digits, {train_set.source})"),
        "held_out": (f"the last {len(x_test):,} of the bundled digits (100 of each), a held-out split of the "
                     f"bundle, not MNIST's official test set" if bundled else f"MNIST test ({len(x_test):,} digits)"),
        "parameters": int(sum(p.data.size for p in net.parameters())),
        "file_bytes": os.path.getsize(weights),
        "recipe": f"tools/train_classifier.py --epochs {args.epochs} --seed {args.seed}",
        "train_seconds": round(seconds, 1),
    }
    with open(os.path.join(out, os.path.basename(clf.INFO)), "w", encoding="utf-8") as f:
        json.dump(info, f, indent=1)
        f.write("\n")
    print(f"held-out accuracy {accuracy:.4f} on {info['held_out']}; train accuracy {train_accuracy:.4f}")
    print(f"wrote {weights} ({info['file_bytes']:,} bytes, {info['parameters']:,} parameters) and its .json")
    if args.check:
        shipped = clf.classifier_info()["held_out_accuracy"]
        print(f"shipped record: held-out accuracy {shipped:.4f}; this run {accuracy:.4f}")


if __name__ == "__main__":
    main()
