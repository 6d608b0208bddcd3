"""Every score of a set of generated digits at once, each with the sentence that says what it measures.

    report = metrics.digit_report(fake_images, real_images)   # images in [-1, 1], (N, 1, 28, 28)
    print("\\n".join(metrics.report_lines(report)))

``examples/mnist_gan.py`` prints this at the end of a run (and writes it to ``metrics.json``);
``examples/judge_digits.py`` prints the same numbers for a saved run, beside real digits'.
``real_images`` are the yardstick: real held-out digits the classifier never trained on (the
last 1,000 of the bundled digits, ``data.mnist_bundled("test")``, on which its accuracy was
measured). A score means little alone; "0.9 of real digits' score" does. Most of these numbers
depend on the sample count: compare reports made with the same number of samples.
"""
import numpy as np

from .classifier import classifier_outputs, load_classifier
from .scores import class_histogram, classifier_score, frechet_distance, kernel_distance, kl_to_uniform, precision_recall

# One sentence per number, in the order they are printed.
EXPLAIN = {
    "score": "classifier score (Inception Score formula, 10 splits, at most 10): high when each digit is "
             "confidently one class and all classes appear",
    "confidence": "mean top probability: how sure the judge is, on average, of what each digit is",
    "kl_uniform": "KL of the class shares to uniform (nats; 0 = every digit equally often, 2.30 = one digit only)",
    "frechet": "Fréchet distance to the real held-out digits in the judge's 64 features (lower is closer; "
               "biased up for small sets)",
    "kid": "kernel distance (KID) to the real held-out digits, +- its standard error (0 = same distribution)",
    "precision": "precision: share of these digits that lie among real ones in feature space (quality)",
    "recall": "recall: share of real digits that these digits come near (diversity)",
}


def describe(probs, feats, real_feats):
    """Every score of one set of digits (the classifier's probabilities and features) against the
    features of real held-out digits: a dict of floats, and ``classes``, the share of each digit."""
    score = classifier_score(probs, splits=min(10, len(probs)))
    shares = class_histogram(probs)
    subsets = max(2, min(10, len(feats) // 100, len(real_feats) // 100))
    kid = kernel_distance(feats, real_feats, subsets=subsets)
    pr = precision_recall(real_feats, feats)
    return dict(score=score.mean, score_std=score.std, confidence=float(probs.max(1).mean()),
                kl_uniform=kl_to_uniform(shares), frechet=frechet_distance(feats, real_feats),
                kid=kid.mean, kid_std_error=kid.std_error, precision=pr.precision, recall=pr.recall,
                classes=shares.tolist())


def digit_report(fake_images, real_images):
    """The scores of ``fake_images`` against ``real_images`` (both in [-1, 1], (N, 1, 28, 28)):
    ``describe``'s dict, plus ``samples``, ``real_score`` (the real digits' classifier score),
    ``score_ratio`` (the fakes' score over it), and the smallest and largest class shares."""
    net = load_classifier()  # on the CPU, where the NumPy images are
    real_probs, real_feats = classifier_outputs(real_images, net)
    probs, feats = classifier_outputs(fake_images, net)
    scores = describe(probs, feats, real_feats)
    real_score = classifier_score(real_probs, splits=min(10, len(real_probs))).mean
    report = dict(samples=len(probs), real_samples=len(real_probs), score_ratio=scores["score"] / real_score,
                  real_score=real_score, class_share_min=min(scores["classes"]),
                  class_share_max=max(scores["classes"]))
    report.update(scores)
    return report


def report_lines(report):
    """``digit_report``'s numbers as lines of text, each followed by its sentence in brackets."""
    r = report
    lines = [f"score ratio  {r['score_ratio']:.3f}\n    (the samples' classifier score over real held-out digits' "
             f"{r['real_score']:.3f}; 1 = as good as real digits by this measure)"]
    for key, sentence in EXPLAIN.items():
        value = f"{r[key]:.3f}" + (f" +- {r['kid_std_error']:.3f}" if key == "kid" else "")
        lines.append(f"{key:12s} {value}\n    ({sentence})")
    lines.append(f"classes      {r['class_share_min']:.3f} .. {r['class_share_max']:.3f}\n    (the smallest and "
                 f"largest share of a digit among the samples; 0.100 each if G drew all ten equally often)")
    lines.append("class shares 0..9: " + " ".join(f"{c:.3f}" for c in r["classes"]))
    return lines


def as_json(report):
    """``report`` with NumPy numbers turned into Python ones (json.dump refuses NumPy floats)."""
    return {k: ([float(x) for x in v] if isinstance(v, list) else float(v) if isinstance(v, (float, np.floating))
                else int(v) if isinstance(v, (int, np.integer)) else v) for k, v in report.items()}
