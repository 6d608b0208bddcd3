"""Numbers for judging generated images without Inception weights: a classifier trained on the
real data stands in for the Inception network (as in the "MNIST score" of GAN papers).

* ``classifier_score``: exp(E_x KL(p(y|x) || p(y))), the Inception Score formula. High when each
  sample is confidently one class (sharp p(y|x)) and the classes are varied (flat p(y)); at most
  the number of classes. Split size changes it, so always score real data the same way.
* ``frechet_distance``: the distance between Gaussians fitted to two sets of features,
  ||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a^1/2 S_b S_a^1/2)^1/2). Lower is closer.
"""
import numpy as np


def classifier_score(probs, splits=10):
    """Mean and std over ``splits`` of exp(mean KL(p(y|x) || p(y))) for class probabilities (N, C)."""
    probs = np.asarray(probs, dtype=np.float64)
    scores = []
    for part in np.array_split(probs, splits):
        marginal = part.mean(axis=0, keepdims=True)
        kl = (part * (np.log(part + 1e-12) - np.log(marginal + 1e-12))).sum(axis=1)
        scores.append(np.exp(kl.mean()))
    return float(np.mean(scores)), float(np.std(scores))


def _sqrt_psd(m):
    """Square root of a symmetric positive semi-definite matrix, via its eigendecomposition."""
    w, v = np.linalg.eigh((m + m.T) / 2)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def frechet_distance(features_a, features_b):
    """Fréchet distance between Gaussians fitted to two feature sets (rows are samples)."""
    a, b = np.asarray(features_a, np.float64), np.asarray(features_b, np.float64)
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root_a = _sqrt_psd(cov_a)
    cross = _sqrt_psd(root_a @ cov_b @ root_a)  # (S_a^1/2 S_b S_a^1/2)^1/2: same trace as (S_a S_b)^1/2
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2 * np.trace(cross))
