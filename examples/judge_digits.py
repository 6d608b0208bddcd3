"""How good are a run's digits? Score them with the classifier minigan ships (trained on real MNIST).

    python examples/judge_digits.py runs/mnist-mlp-nonsaturating

1. Load the shipped judge (``minigan.metrics.load_classifier``, trained by
   ``tools/train_classifier.py``) and report its accuracy on the held-out real digits: the judge
   must itself be good.
2. Draw digits from the run's generator (its EMA weights, 10,000 by default) and score them next
   to real held-out digits and real training digits (``minigan.metrics``; each score's formula is
   in its docstring), with one sentence per number saying what it measures.

The real rows are the yardstick: a score means little alone, but "0.9 of real" does. Compare runs
with the same --samples: most of these numbers depend on the sample count.
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import minigan  # noqa: E402
from minigan import data, gan, metrics  # noqa: E402
from minigan.gan.models import build  # noqa: E402


def load_generator(run, images=None):
    """The run's G with its EMA weights, built from its run.json as mnist_gan.py built it, and the
    InfoGAN codes it draws from (None for a plain or conditional run). For InfoGAN, with real
    ``images`` given, the codes' prior is read from them by the run's Q (``gan.code_prior``), as
    mnist_gan.py does before it scores; without, the code values are drawn uniformly."""
    with open(os.path.join(run, "run.json")) as f:
        config = json.load(f)
    activation = config.get("activation", "leaky_relu")  # runs made before --activation existed
    # InfoGAN's code values: run.json's "codes" (runs made before --codes said "infogan": 10 values)
    categories = config.get("codes", 10 if config.get("infogan") else 0)
    codes = gan.Codes(noise_dim=62, categories=categories, continuous=2) if categories else None
    if codes:
        G, D = gan.build_info(config["arch"], codes, width=config["width"], activation=activation)
    else:
        G, _ = build(config["arch"], num_classes=10 if config["conditional"] else None, width=config["width"],
                     dropout=config.get("d_dropout", 0.3), activation=activation)
    state = minigan.load(os.path.join(run, "checkpoint.npz"))
    G.load_state_dict(state["G"])
    if codes and images is not None:  # D was built on minigan's default device, as G was: the images go there
        D.load_state_dict(state["D"])
        codes.prior = gan.code_prior(D, minigan.Tensor(images).to(minigan.backend.normalize_device(None)))
    if state["ema"] is not None:  # sample with the averaged weights (and statistics), as the run's grids do
        ema = gan.EMA(G, state["ema"]["decay"])
        ema.load_state_dict(state["ema"])
        ema.copy_to()
    return G.eval(), config, codes


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("run", help="a run folder made by examples/mnist_gan.py (holds run.json and checkpoint.npz)")
    p.add_argument("--samples", type=int, default=10000, help="generated digits to score")
    p.add_argument("--seed", type=int, default=0, help="seed for the generator's noise")
    args = p.parse_args(argv)

    info = metrics.classifier_info()
    train, test = data.mnist("train", verbose=False), data.mnist("test", verbose=False)
    test_probs, test_feats = metrics.classifier_outputs(data.to_unit_range(test.images)[:, None])
    accuracy = float((test_probs.argmax(1) == test.labels).mean())
    print(f"judge: the shipped classifier ({info['parameters']:,} weights), trained on {info['trained_on']}; "
          f"accuracy {accuracy:.3f} on {len(test):,} real held-out digits (recorded: {info['held_out_accuracy']:.3f})")

    G, config, codes = load_generator(args.run, data.to_unit_range(train.images)[:, None])
    device = minigan.backend.normalize_device(None)  # where G was built (MINIGAN_DEVICE), as randn draws
    minigan.manual_seed(args.seed)
    fakes = []
    with minigan.no_grad():
        for i in range(0, args.samples, 1000):
            n = min(1000, args.samples - i)
            labels = (np.arange(n) % 10,) if config["conditional"] else ()
            z = codes.sample(n, device)[0] if codes else minigan.randn(n, 100)  # InfoGAN: noise, codes from the prior
            fakes.append(G(z, *labels).numpy())
    fake_probs, fake_feats = metrics.classifier_outputs(np.concatenate(fakes))
    n_ref = min(len(test), len(train))
    train_probs, train_feats = metrics.classifier_outputs(data.to_unit_range(train.images[:n_ref])[:, None])

    rows = {"real held-out digits": metrics.describe(test_probs, test_feats, test_feats),
            f"real train digits ({n_ref:,})": metrics.describe(train_probs, train_feats, test_feats),
            f"{config['arch']}/{config['loss']} samples ({args.samples:,})": metrics.describe(fake_probs, fake_feats, test_feats)}
    names = list(rows)
    width = max(len(name) for name in names) + 2  # every column as wide as the longest title
    print(f"\n{'':12s}" + "".join(f"{name:>{width}s}" for name in names))
    for key, sentence in metrics.EXPLAIN.items():
        cells = [f"{r[key]:.3f}" + (f" +- {r['kid_std_error']:.3f}" if key == "kid" else "") for r in rows.values()]
        print(f"{key:12s}" + "".join(f"{c:>{width}s}" for c in cells) + f"\n    ({sentence})")
    for name, r in rows.items():
        print(f"class shares 0..9, {name}: " + " ".join(f"{c:.2f}" for c in r["classes"]))
    real_score = rows[names[0]]["score"]
    print(f"\nthe samples score {rows[names[2]]['score'] / real_score:.2f} of the real held-out digits' classifier score. "
          f"The held-out column compares that set with itself (distances 0); the train column shows what a "
          f"second real set of {n_ref:,} digits scores, the best a generator can hope for here.")
    out = os.path.join(args.run, "scores.json")
    with open(out, "w") as f:
        json.dump(dict(classifier_accuracy=accuracy, classifier=info, real_test=rows[names[0]],
                       real_train=rows[names[1]], generated=rows[names[2]]), f, indent=1)
    print(f"saved {out}")


if __name__ == "__main__":
    main()
