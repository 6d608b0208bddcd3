"""How good are a run's digits? Score them with a classifier trained on real MNIST.

    python examples/judge_digits.py runs/mnist-mlp-nonsaturating

1. Train a small classifier on the real training digits (minigan, a few seconds) and report its
   accuracy on the held-out test digits: the judge must itself be good.
2. Draw 10,000 digits from the run's generator (its EMA weights) and report, next to the same
   numbers for real test digits:
   * the classifier score ("MNIST score": the Inception Score formula, 10 splits; at most 10);
   * the mean confidence of the classifier (recognisable digits give confident answers);
   * how often each class appears (varied digits cover all ten);
   * the Fréchet distance to real test digits in the classifier's feature space.
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import minigan  # noqa: E402
import minigan.functional as F  # noqa: E402
import minigan.nn as nn  # noqa: E402
from minigan import data, optim  # noqa: E402
from minigan.gan.metrics import classifier_score, frechet_distance  # noqa: E402
from minigan.gan.models import build  # noqa: E402


class Classifier(nn.Module):
    """784 -> 512 -> 256 -> 10, ReLU and dropout; ``features`` is the 256-d layer."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Dropout(0.3),
                                  nn.Linear(512, 256), nn.ReLU())
        self.head = nn.Linear(256, 10)

    def features(self, x):
        return self.body(x)

    def forward(self, x):
        return self.head(self.features(x))


def train_classifier(train, epochs=30, seed=0):
    minigan.manual_seed(seed)
    net = Classifier()
    opt = optim.Adam(net.parameters(), lr=1e-3)
    x = data.to_unit_range(train.images)[:, None]
    loader = data.DataLoader((x, train.labels.astype(np.int64)), batch_size=128, seed=seed)
    for epoch in range(epochs):
        loader.set_epoch(epoch)
        for xb, yb in loader:
            opt.zero_grad()
            F.cross_entropy(net(xb), yb.numpy()).backward()
            opt.step()
    return net.eval()


def predict(net, images, batch=1000):
    """Class probabilities and features for float images in [-1, 1] shaped (N, 1, 28, 28)."""
    probs, feats = [], []
    with minigan.no_grad():
        for i in range(0, len(images), batch):
            f = net.features(minigan.Tensor(images[i:i + batch]))
            probs.append(F.softmax(net.head(f), axis=1).numpy())
            feats.append(f.numpy())
    return np.concatenate(probs), np.concatenate(feats)


def load_generator(run):
    with open(os.path.join(run, "run.json")) as f:
        config = json.load(f)
    G, _ = build(config["arch"], num_classes=10 if config["conditional"] else None, width=config["width"],
                 dropout=config.get("d_dropout", 0.3))
    state = minigan.load(os.path.join(run, "checkpoint.npz"))
    G.load_state_dict(state["G"])
    if state["ema"] is not None:  # sample with the averaged weights, as the run's grids do
        for p, avg in zip(G.parameters(), state["ema"]["shadow"]):
            p.data = np.asarray(avg)
    return G.eval(), config


def describe(name, probs, feats, real_feats):
    score, spread = classifier_score(probs)
    counts = np.bincount(probs.argmax(1), minlength=10) / len(probs)
    fd = frechet_distance(feats, real_feats)
    print(f"  {name:24s} score {score:5.2f} +- {spread:4.2f}   confidence {probs.max(1).mean():.3f}   "
          f"Frechet {fd:8.2f}   classes " + " ".join(f"{c:.2f}" for c in counts))
    return dict(score=score, confidence=float(probs.max(1).mean()), frechet=fd, classes=counts.tolist())


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("run", help="a run folder made by examples/mnist_gan.py (holds run.json and checkpoint.npz)")
    p.add_argument("--samples", type=int, default=10000, help="generated digits to score")
    p.add_argument("--seed", type=int, default=0, help="seed for the classifier and the samples")
    p.add_argument("--classifier-epochs", type=int, default=30, help="training epochs of the judging classifier")
    args = p.parse_args(argv)

    train, test = data.mnist("train"), data.mnist("test", verbose=False)
    net = train_classifier(train, epochs=args.classifier_epochs, seed=args.seed)
    test_x = data.to_unit_range(test.images)[:, None]
    test_probs, test_feats = predict(net, test_x)
    accuracy = (test_probs.argmax(1) == test.labels).mean()
    print(f"judge: a classifier trained on {len(train):,} real digits; accuracy on {len(test):,} "
          f"held-out test digits {accuracy:.3f}")

    G, config = load_generator(args.run)
    minigan.manual_seed(args.seed)
    fakes = []
    with minigan.no_grad():
        for i in range(0, args.samples, 1000):
            n = min(1000, args.samples - i)
            labels = (np.arange(n) % 10,) if config["conditional"] else ()
            fakes.append(G(minigan.randn(n, 100), *labels).numpy())
    fake_probs, fake_feats = predict(net, np.concatenate(fakes))
    train_probs, train_feats = predict(net, data.to_unit_range(train.images[:len(test)])[:, None])

    print(f"scores (10 splits; class shares 0..9; Frechet distance to the {len(test):,} test digits):")
    real = describe("real test digits", test_probs, test_feats, test_feats)
    ref = describe(f"real train digits ({len(test)})", train_probs, train_feats, test_feats)
    gen = describe(f"{config['arch']}/{config['loss']} samples", fake_probs, fake_feats, test_feats)
    with open(os.path.join(args.run, "scores.json"), "w") as f:
        json.dump(dict(classifier_accuracy=float(accuracy), real_test=real, real_train=ref, generated=gen), f, indent=1)
    print(f"saved {os.path.join(args.run, 'scores.json')}")


if __name__ == "__main__":
    main()
