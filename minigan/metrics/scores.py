"""Scores for generated samples, each computed from a classifier's outputs or features.

Every function takes NumPy arrays (or Tensors, on any device), works in float64 on the CPU and
returns Python floats. Rows are samples. Which one tells you what:

* ``classifier_score``: are the samples confidently one class each, and are the classes varied?
  (the Inception Score formula). Blind to anything the classifier does not see: copies of a few
  training images score as well as real data.
* ``class_histogram`` and ``kl_to_uniform``: which classes G draws, and how far that is from "each
  class equally often".
* ``frechet_distance``: how far apart two feature clouds are, if each were a Gaussian (FID's
  formula). Lower is closer; biased upwards for small sets, so compare at equal sizes.
* ``kernel_distance``: the same question without the Gaussian assumption (KID, an unbiased
  MMD^2), with its standard error, so small sets can be compared honestly.
* ``precision_recall``: precision = how much of G's output lies where real data lies (quality);
  recall = how much of the real data G's output covers (diversity). Two numbers, because a
  generator can fail in either way alone.
"""
from collections import namedtuple

import numpy as np

from .. import backend
from ..checks import check_int
from ..tensor import Tensor

ClassifierScore = namedtuple("ClassifierScore", ["mean", "std"])
ClassifierScore.__doc__ = "mean and standard deviation of the score over the splits"
KernelDistance = namedtuple("KernelDistance", ["mean", "std_error"])
KernelDistance.__doc__ = "mean MMD^2 over disjoint subsets and its standard error (std / sqrt(subsets))"
PrecisionRecall = namedtuple("PrecisionRecall", ["precision", "recall"])
PrecisionRecall.__doc__ = "precision: share of fake samples on the real manifold; recall: share of real samples on the fake one"


def as_float64(values, where, name, ndim=2):
    """``values`` (array or Tensor, any device) as a float64 NumPy array with ``ndim`` dimensions and no NaN or inf."""
    data = backend.as_numpy(values.data if isinstance(values, Tensor) else values)
    data = np.asarray(data, dtype=np.float64)
    if data.ndim != ndim:
        shape = "(N, D)" if ndim == 2 else "(N,)"
        raise ValueError(f"{where}: expected {name} shaped {shape}, got shape {data.shape}")
    if not np.isfinite(data).all():
        raise ValueError(f"{where}: expected finite {name}, got {int((~np.isfinite(data)).sum())} NaN or inf values")
    return data


# --- class probabilities ---------------------------------------------------------------------------

def _probabilities(probs, where):
    p = as_float64(probs, where, "class probabilities")
    if len(p) == 0:
        raise ValueError(f"{where}: expected at least one row of class probabilities, got shape {p.shape}")
    if p.min() < 0 or not np.allclose(p.sum(axis=1), 1, atol=1e-4):
        raise ValueError(f"{where}: expected rows of class probabilities (>= 0, each summing to 1; apply softmax "
                         f"to logits), got values in [{p.min():.3g}, {p.max():.3g}] with row sums up to "
                         f"{np.abs(p.sum(axis=1) - 1).max():.3g} away from 1")
    return p


def classifier_score(probs, splits=10):
    """The Inception Score formula on class probabilities p(y|x) (N, C), over ``splits`` parts.

        score = exp( E_x KL( p(y|x) || p(y) ) ),   p(y) = E_x p(y|x)  (the mean over the part),
        KL(p || q) = sum_y p_y (log p_y - log q_y)

    computed on each of ``splits`` consecutive parts of the rows; returns
    ``ClassifierScore(mean, std)`` over the parts. It is 1 when every sample gets the same
    distribution and at most C (the number of classes), reached when each sample is certainly
    one class and every class is drawn equally often. The part size changes the value (p(y) is
    estimated from each part), so score real data with the same N and splits when comparing.
    """
    p = _probabilities(probs, "classifier_score")
    splits = check_int("classifier_score", "splits", splits, low=1, expected="an int >= 1")
    if splits > len(p):
        raise ValueError(f"classifier_score: expected at most one split per sample, got {splits} splits "
                         f"for {len(p)} samples")
    scores = []
    for part in np.array_split(p, splits):
        marginal = part.mean(axis=0, keepdims=True)
        # 0 log 0 = 0: a class with p_y = 0 adds nothing (np.where keeps log(0) out of the sum)
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(part > 0, part * (np.log(part) - np.log(marginal)), 0.0)
        scores.append(np.exp(terms.sum(axis=1).mean()))
    return ClassifierScore(float(np.mean(scores)), float(np.std(scores)))


def class_histogram(predictions, num_classes=10):
    """The share of samples given to each class: float64 (num_classes,), summing to 1.

        share_c = #{i : label_i = c} / N,   label_i = argmax_y p(y|x_i) for probabilities (N, C)

    ``predictions`` is either class probabilities (N, C) (each row's argmax is its label) or
    integer labels (N,) in 0 .. num_classes-1.
    """
    num_classes = check_int("class_histogram", "num_classes", num_classes, low=1, expected="an int >= 1")
    data = backend.as_numpy(predictions.data if isinstance(predictions, Tensor) else predictions)
    data = np.asarray(data)
    if data.ndim == 2:
        if data.shape[1] != num_classes:
            raise ValueError(f"class_histogram: expected probabilities (N, {num_classes}), got shape {data.shape}")
        labels = data.argmax(axis=1)
    elif data.ndim == 1 and (data.size == 0 or np.issubdtype(data.dtype, np.integer)):
        labels = data.astype(np.int64)
    else:
        raise ValueError(f"class_histogram: expected probabilities (N, C) or integer labels (N,), got "
                         f"{data.dtype} shaped {data.shape}")
    if len(labels) == 0:
        raise ValueError("class_histogram: expected at least one prediction, got none")
    if labels.min() < 0 or labels.max() >= num_classes:
        raise ValueError(f"class_histogram: expected labels in 0..{num_classes - 1}, got {labels.min()}..{labels.max()}")
    return np.bincount(labels, minlength=num_classes) / len(labels)


def kl_to_uniform(shares):
    """KL(shares || uniform) = sum_c s_c log(C s_c), in nats, with 0 log 0 = 0.

    0 when every class has the share 1/C; log C (2.303 for 10 classes) when one class has all.
    """
    s = as_float64(shares, "kl_to_uniform", "class shares", ndim=1)
    if len(s) == 0 or s.min() < 0 or abs(s.sum() - 1) > 1e-6:
        raise ValueError(f"kl_to_uniform: expected shares >= 0 summing to 1, got {len(s)} values summing to {s.sum():.6g}")
    nonzero = s[s > 0]
    return float((nonzero * np.log(len(s) * nonzero)).sum())


# --- the Fréchet distance -----------------------------------------------------------------------

def sqrtm_psd(matrix):
    """The square root R of a symmetric positive semi-definite matrix M: R symmetric PSD, R @ R = M.

        M = V diag(w) V^T  (eigendecomposition, V orthogonal)   ->   R = V diag(sqrt(w)) V^T

    Eigenvalues that rounding pushed a little below 0 are set to 0 first. M is symmetrised,
    (M + M^T) / 2, so that a covariance off by rounding in its last bits is accepted.
    """
    m = np.asarray(matrix, dtype=np.float64)
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise ValueError(f"sqrtm_psd: expected a square matrix, got shape {m.shape}")
    w, v = np.linalg.eigh((m + m.T) / 2)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def gaussian_fit(features):
    """Mean (D,) and covariance (D, D) of features (N, D), the covariance with 1/(N - 1) (unbiased)."""
    f = as_float64(features, "gaussian_fit", "features")
    if len(f) < 2:
        raise ValueError(f"gaussian_fit: expected at least 2 samples to estimate a covariance, got {len(f)}")
    return f.mean(axis=0), np.cov(f, rowvar=False).reshape(f.shape[1], f.shape[1])


def frechet_distance_gaussians(mu_a, cov_a, mu_b, cov_b):
    """The Fréchet (2-Wasserstein) distance squared between N(mu_a, S_a) and N(mu_b, S_b):

        d^2 = ||mu_a - mu_b||^2 + Tr(S_a) + Tr(S_b) - 2 Tr( (S_a^1/2 S_b S_a^1/2)^1/2 )

    The cross term is usually written Tr((S_a S_b)^1/2); S_a S_b is not symmetric, but it is similar
    to the symmetric PSD matrix S_a^1/2 S_b S_a^1/2 (same eigenvalues), so both square roots have
    the same trace, and the symmetric one can be taken with ``sqrtm_psd``. For 1-D Gaussians this is
    (mu_a - mu_b)^2 + (sigma_a - sigma_b)^2.
    """
    mu_a, mu_b = np.asarray(mu_a, np.float64), np.asarray(mu_b, np.float64)
    cov_a, cov_b = np.asarray(cov_a, np.float64), np.asarray(cov_b, np.float64)
    d = mu_a.shape[0]
    if mu_a.shape != (d,) or mu_b.shape != (d,) or cov_a.shape != (d, d) or cov_b.shape != (d, d):
        raise ValueError(f"frechet_distance_gaussians: expected means (D,) and covariances (D, D) for one D, got "
                         f"{mu_a.shape}, {cov_a.shape}, {mu_b.shape}, {cov_b.shape}")
    root_a = sqrtm_psd(cov_a)
    cross = sqrtm_psd(root_a @ cov_b @ root_a)
    value = ((mu_a - mu_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2 * np.trace(cross)
    return float(max(value, 0.0))  # a true distance squared: rounding can leave -1e-12 for equal sets


def frechet_distance(features_a, features_b):
    """Fréchet distance between Gaussians fitted to two feature sets (N_a, D) and (N_b, D) (FID's formula):

        d^2 = ||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a^1/2 S_b S_a^1/2)^1/2)

    with mu and S each set's mean and covariance (see ``frechet_distance_gaussians``). 0 for two
    sets with the same mean and covariance; a set shifted by a vector t is ||t||^2 away. The sample
    covariances make it biased upwards: two samples of one distribution score above 0, more so
    for small N, so compare scores computed with the same set sizes.
    """
    a = as_float64(features_a, "frechet_distance", "features_a")
    b = as_float64(features_b, "frechet_distance", "features_b")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"frechet_distance: expected features of the same width, got {a.shape} and {b.shape}")
    return frechet_distance_gaussians(*gaussian_fit(a), *gaussian_fit(b))


# --- the kernel distance (KID) ------------------------------------------------------------------

def polynomial_kernel(x, y):
    """k(x, y) = (x . y / D + 1)^3 for all pairs of rows: (N, D), (M, D) -> (N, M)."""
    return (x @ y.T / x.shape[1] + 1) ** 3


def mmd2_unbiased(x, y):
    """The unbiased estimate of MMD^2 between the distributions of rows x (m, D) and y (n, D):

        MMD^2_u = 1/(m(m-1)) sum_{i != j} k(x_i, x_j) + 1/(n(n-1)) sum_{i != j} k(y_i, y_j)
                  - 2/(m n) sum_{i, j} k(x_i, y_j)

    with the polynomial kernel k. Leaving out i = j (a sample compared with itself) is what makes
    it unbiased: its expected value is exactly MMD^2, 0 for equal distributions, so single
    estimates scatter around 0 and can be negative.
    """
    m, n = len(x), len(y)
    kxx, kyy, kxy = polynomial_kernel(x, x), polynomial_kernel(y, y), polynomial_kernel(x, y)
    return ((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
            - 2 * kxy.mean())


def kernel_distance(features_a, features_b, subsets=10, seed=0):
    """Kernel distance (KID, Bińkowski et al. 2018): MMD^2_u with k(x, y) = (x . y / D + 1)^3.

    Both sets are shuffled (with ``seed``) and cut into ``subsets`` disjoint parts of equal size
    (N_a // subsets and N_b // subsets rows; leftovers unused); ``mmd2_unbiased`` is computed for
    each pair of parts. Returns ``KernelDistance(mean, std_error)``:

        mean = (1/S) sum_s MMD^2_u(a_s, b_s),   std_error = std_s(MMD^2_u, ddof=1) / sqrt(S)

    The parts share no samples, so the S estimates are independent and ``std_error`` is an honest
    standard error of ``mean`` (S >= 2 is needed for it; with S = 1 it is nan). Unlike the
    Fréchet distance, the mean is unbiased at any set size: for two samples of one distribution
    it is 0 give or take its standard error.

    Its scale is that of the features: the cubic kernel grows with their size, so the shipped
    classifier's 64 unnormalised ReLU features give values in the thousands (Inception features,
    for which KID was made, give values below 1). Compare KIDs computed on the same features
    only, for instance a generator's against a second real set's, as ``judge_digits.py`` does.
    """
    a = as_float64(features_a, "kernel_distance", "features_a")
    b = as_float64(features_b, "kernel_distance", "features_b")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"kernel_distance: expected features of the same width, got {a.shape} and {b.shape}")
    subsets = check_int("kernel_distance", "subsets", subsets, low=1, expected="an int >= 1")
    m, n = len(a) // subsets, len(b) // subsets
    if m < 2 or n < 2:
        raise ValueError(f"kernel_distance: expected at least 2 samples of each set per subset, got "
                         f"{len(a)} and {len(b)} samples for {subsets} subsets")
    rng = np.random.default_rng(seed)
    a, b = a[rng.permutation(len(a))], b[rng.permutation(len(b))]
    values = np.array([mmd2_unbiased(a[s * m:(s + 1) * m], b[s * n:(s + 1) * n]) for s in range(subsets)])
    std_error = values.std(ddof=1) / np.sqrt(subsets) if subsets > 1 else float("nan")
    return KernelDistance(float(values.mean()), float(std_error))


# --- improved precision and recall ------------------------------------------------------------

def _squared_distances(x, y):
    """||x_i - y_j||^2 for all pairs, (N, M), from ||x||^2 + ||y||^2 - 2 x . y (clipped at 0: rounding)."""
    return np.clip((x ** 2).sum(1)[:, None] + (y ** 2).sum(1)[None, :] - 2 * x @ y.T, 0, None)


def knn_radii(features, k=3, batch=1000):
    """The distance from each row to its k-th nearest other row (itself excluded), (N,)."""
    f = np.asarray(features, np.float64)
    radii = np.empty(len(f))
    for i in range(0, len(f), batch):
        d2 = _squared_distances(f[i:i + batch], f)
        d2[np.arange(len(d2)), np.arange(i, i + len(d2))] = np.inf  # not its own neighbour
        radii[i:i + batch] = np.sqrt(np.partition(d2, k - 1, axis=1)[:, k - 1])
    return radii


def _share_inside(points, centres, radii, batch=1000):
    """The share of ``points`` within distance radii_j of at least one centre_j."""
    inside = 0
    for i in range(0, len(points), batch):
        d2 = _squared_distances(points[i:i + batch], centres)
        inside += (d2 <= radii[None, :] ** 2).any(axis=1).sum()
    return inside / len(points)


def precision_recall(real_features, fake_features, k=3):
    """Improved precision and recall (Kynkäänniemi et al. 2019) of fake samples against real ones.

    Each set's manifold is estimated as the union of balls around its samples, each ball's radius
    the distance to that sample's k-th nearest neighbour in its own set (k = 3 in the paper):

        precision = (1/M) sum_j [ fake_j lies in some real ball: exists i, ||fake_j - real_i|| <= r_k(real_i) ]
        recall    = (1/N) sum_i [ real_i lies in some fake ball: exists j, ||real_i - fake_j|| <= r_k(fake_j) ]

    Returns ``PrecisionRecall(precision, recall)``, each in [0, 1]. Precision is quality (are the
    fakes realistic?), recall is coverage (is every kind of real sample produced?). Use sets of
    equal size: the radii shrink as a set grows. A limit to know: a few real outliers far from
    the rest, and from each other, get huge balls, so fakes anywhere near them count as
    realistic; a collapsed generator can score a high precision that way (Naeem et al. 2020's
    density and coverage were made to resist it).
    """
    real = as_float64(real_features, "precision_recall", "real_features")
    fake = as_float64(fake_features, "precision_recall", "fake_features")
    if real.shape[1] != fake.shape[1]:
        raise ValueError(f"precision_recall: expected features of the same width, got {real.shape} and {fake.shape}")
    k = check_int("precision_recall", "k", k, low=1, expected="an int >= 1")
    if min(len(real), len(fake)) <= k:
        raise ValueError(f"precision_recall: expected more than k = {k} samples in each set, got "
                         f"{len(real)} real and {len(fake)} fake")
    precision = _share_inside(fake, real, knn_radii(real, k))
    recall = _share_inside(real, fake, knn_radii(fake, k))
    return PrecisionRecall(float(precision), float(recall))


CodeMatch = namedtuple("CodeMatch", ["accuracy", "mapping", "counts"])
CodeMatch.__doc__ = ("accuracy: share of samples whose class is the one matched to their code value; mapping: "
                     "mapping[v] is the class matched to code value v; counts: (values, classes) sample counts")


def code_class_match(codes, classes, num_codes=None, num_classes=10):
    """How well the values of a categorical code pick classes (InfoGAN's code against the digit the
    classifier sees): pair each code value with a *different* class so that as many samples as
    possible fall in their value's class, and return that share with the pairing.

        counts[v, c] = number of samples drawn with code value v that were classified as c
        accuracy     = max over one-to-one maps m of  sum_v counts[v, m(v)] / sum counts

    Nobody told the code what the classes are, so its values come in any order: this is the
    accuracy under the best relabelling (chance: about 1 / num_classes; 1.0 = every value is one
    class). Taking each value's most common class instead would let two values claim one class.
    The best map is found exactly by dynamic programming over the sets of classes already taken
    (2^num_classes sets: instant for 10 digits), not greedily: a greedy pick can lose.

    With more code values than classes (InfoGAN with 20 values on 10 digits) a one-to-one pairing
    cannot exist: several values must share a class, and each value is paired with its most
    common class (``mapping[v] = argmax_c counts[v, c]``; clustering's "purity").

    ``codes`` and ``classes``: one int per sample; ``num_codes``: default the largest code + 1.
    """
    codes = np.asarray(backend.as_numpy(codes))
    classes = np.asarray(backend.as_numpy(classes))
    if codes.shape != classes.shape or codes.ndim != 1 or not len(codes):
        raise ValueError(f"code_class_match: expected codes and classes as two equally long 1-d int arrays, "
                         f"got shapes {codes.shape} and {classes.shape}")
    num_classes = check_int("code_class_match", "num_classes", num_classes, low=1, expected="an int >= 1")
    num_codes = int(codes.max()) + 1 if num_codes is None else num_codes
    num_codes = check_int("code_class_match", "num_codes", num_codes, low=1, expected="an int >= 1")
    if codes.min() < 0 or codes.max() >= num_codes or classes.min() < 0 or classes.max() >= num_classes:
        raise ValueError(f"code_class_match: expected code values in [0, {num_codes}) and classes in "
                         f"[0, {num_classes}); got codes {codes.min()}..{codes.max()} and classes "
                         f"{classes.min()}..{classes.max()}")
    counts = np.zeros((num_codes, num_classes), dtype=np.int64)
    np.add.at(counts, (codes, classes), 1)
    if num_codes > num_classes:  # values share classes: each takes its most common one
        return CodeMatch(int(counts.max(axis=1).sum()) / len(codes), [int(c) for c in counts.argmax(axis=1)], counts)
    # best[taken] = (most samples matched, the classes chosen) when the first popcount(taken) code
    # values have been given the classes in the bit set ``taken``, one each
    best = {0: (0, [])}
    for taken in range(1 << num_classes):  # ascending: every set comes after its subsets
        if taken not in best or bin(taken).count("1") == num_codes:
            continue
        matched, chosen = best[taken]
        value = len(chosen)
        for c in range(num_classes):
            if not taken >> c & 1:
                grown = taken | 1 << c
                if grown not in best or best[grown][0] < matched + counts[value, c]:
                    best[grown] = (matched + int(counts[value, c]), chosen + [c])
    matched, mapping = max((best[t] for t in best if bin(t).count("1") == num_codes), key=lambda b: b[0])
    return CodeMatch(matched / len(codes), mapping, counts)
