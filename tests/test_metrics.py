"""minigan.metrics: each score on cases whose answer is known in advance, and the shipped classifier."""
import itertools
import json
import math
import os

import numpy as np
import pytest

import minigan
from minigan import data, metrics
from minigan.metrics import classifier as clf


def one_hot(labels, classes=10):
    return np.eye(classes)[labels]


# --- classifier_score -----------------------------------------------------------------------------

def test_classifier_score_is_the_number_of_classes_for_confident_balanced_predictions():
    probs = one_hot(np.arange(1000) % 10)
    score = metrics.classifier_score(probs, splits=10)
    assert score.mean == pytest.approx(10.0) and score.std == pytest.approx(0.0, abs=1e-12)


def test_classifier_score_is_1_when_every_sample_gets_the_same_distribution():
    probs = np.tile(np.linspace(1, 2, 10) / np.linspace(1, 2, 10).sum(), (500, 1))
    assert metrics.classifier_score(probs, splits=5).mean == pytest.approx(1.0)


def test_classifier_score_by_hand():
    # 2 classes, p(y|x) = (1, 0) for one sample and (0.5, 0.5) for the other: p(y) = (0.75, 0.25),
    # KL_1 = log(1/0.75), KL_2 = 0.5 log(0.5/0.75) + 0.5 log(0.5/0.25); score = exp((KL_1 + KL_2) / 2)
    probs = np.array([[1.0, 0.0], [0.5, 0.5]])
    kl1 = math.log(1 / 0.75)
    kl2 = 0.5 * math.log(0.5 / 0.75) + 0.5 * math.log(0.5 / 0.25)
    assert metrics.classifier_score(probs, splits=1).mean == pytest.approx(math.exp((kl1 + kl2) / 2), rel=1e-12)


def test_classifier_score_half_the_classes_scores_half():
    probs = one_hot(np.arange(1000) % 5)
    assert metrics.classifier_score(probs).mean == pytest.approx(5.0)


# --- class histogram and its KL to uniform ------------------------------------------------------------

def test_class_histogram_and_kl_to_uniform():
    uniform = metrics.class_histogram(one_hot(np.arange(100) % 10))
    np.testing.assert_allclose(uniform, 0.1)
    assert metrics.kl_to_uniform(uniform) == pytest.approx(0.0, abs=1e-12)
    all_sevens = metrics.class_histogram(np.full(50, 7))
    assert all_sevens[7] == 1.0 and all_sevens.sum() == 1.0
    assert metrics.kl_to_uniform(all_sevens) == pytest.approx(math.log(10))
    # half the classes, equally: KL = sum 0.2 log(10 * 0.2) = log 2
    assert metrics.kl_to_uniform(metrics.class_histogram(np.arange(100) % 5)) == pytest.approx(math.log(2))


# --- the Fréchet distance ----------------------------------------------------------------------------

def test_sqrtm_psd_squares_back_and_clips_rounding_below_zero():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((6, 4))
    m = a @ a.T  # rank 4: two eigenvalues are 0, rounding makes them +-1e-15
    root = metrics.sqrtm_psd(m)
    np.testing.assert_allclose(root @ root, m, atol=1e-10)
    np.testing.assert_allclose(root, root.T)
    assert np.linalg.eigvalsh(root).min() > -1e-7
    np.testing.assert_allclose(metrics.sqrtm_psd(np.diag([4.0, 9.0, 0.0])), np.diag([2.0, 3.0, 0.0]))


def test_frechet_distance_of_identical_sets_is_0():
    feats = np.random.default_rng(1).standard_normal((500, 8))
    assert metrics.frechet_distance(feats, feats) == pytest.approx(0.0, abs=1e-9)


def test_frechet_distance_of_a_shifted_copy_is_the_squared_shift():
    feats = np.random.default_rng(2).standard_normal((400, 5)) @ np.diag([1, 2, 3, 0.5, 1])
    shift = np.array([1.0, -2.0, 0.5, 0.0, 3.0])
    assert metrics.frechet_distance(feats, feats + shift) == pytest.approx((shift ** 2).sum(), rel=1e-9)


def test_frechet_distance_of_diagonal_gaussians_closed_form():
    # S_a = diag(a), S_b = diag(b): (S_a^1/2 S_b S_a^1/2)^1/2 = diag(sqrt(a b)), so
    # d^2 = ||mu_a - mu_b||^2 + sum (a + b - 2 sqrt(a b)) = ||mu_a - mu_b||^2 + sum (sqrt a - sqrt b)^2
    a, b = np.array([1.0, 4.0, 0.25]), np.array([9.0, 1.0, 0.25])
    mu_a, mu_b = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    expected = 5.0 + ((np.sqrt(a) - np.sqrt(b)) ** 2).sum()  # 5 + 4 + 1 + 0 = 10
    assert metrics.frechet_distance_gaussians(mu_a, np.diag(a), mu_b, np.diag(b)) == pytest.approx(expected)
    assert expected == 10.0


def test_frechet_distance_is_rotation_invariant_for_full_covariances():
    # Rotating both Gaussians by the same orthogonal Q changes no distance; a full covariance
    # exercises the non-commuting case (S_a S_b != S_b S_a), where the symmetric form matters.
    q, _ = np.linalg.qr(np.random.default_rng(3).standard_normal((3, 3)))
    a, b = np.diag([1.0, 4.0, 0.25]), np.diag([9.0, 1.0, 0.25])
    mu_a, mu_b = np.zeros(3), np.ones(3)
    rotated = metrics.frechet_distance_gaussians(q @ mu_a, q @ a @ q.T, q @ mu_b, q @ b @ q.T)
    assert rotated == pytest.approx(3.0 + 4.0 + 1.0, rel=1e-9)
    full = q @ a @ q.T
    # against itself plus a shift only
    assert metrics.frechet_distance_gaussians(mu_a, full, mu_b, full) == pytest.approx(3.0, rel=1e-9)


# --- KID --------------------------------------------------------------------------------------------

def test_mmd2_unbiased_by_hand():
    # 1-D, x = y = {0, 1}: k(0,0) = k(0,1) = 1, k(1,1) = (1 + 1)^3 = 8.
    # within each set (i != j): k(0,1) = 1 twice over 2 pairs -> 1; across: (1 + 1 + 1 + 8) / 4 = 2.75
    # MMD^2_u = 1 + 1 - 2 * 2.75 = -3.5: the unbiased estimate can be negative
    x = np.array([[0.0], [1.0]])
    assert metrics.mmd2_unbiased(x, x) == pytest.approx(-3.5)
    assert metrics.kernel_distance(x, x, subsets=1).mean == pytest.approx(-3.5)


def test_mmd2_unbiased_has_expected_value_exactly_0_for_equal_distributions():
    # Both distributions: 1-D, the values 0 and 1 with probability 1/2 each. Every pair of draws of
    # size 2 (x1, x2, y1, y2) is equally likely: the average of MMD^2_u over all 16 is its expectation.
    values = [np.array([[u], [v]]) for u, v in itertools.product([0.0, 1.0], repeat=2)]
    estimates = [metrics.mmd2_unbiased(x, y) for x in values for y in values]
    assert np.mean(estimates) == pytest.approx(0.0, abs=1e-12)
    assert min(estimates) < 0 < max(estimates)  # yet single estimates scatter both ways
    # the biased (V-statistic) version, keeping i = j, averages above 0 on the same draws
    k = metrics.scores.polynomial_kernel
    biased = [k(x, x).mean() + k(y, y).mean() - 2 * k(x, y).mean() for x in values for y in values]
    assert np.mean(biased) > 0.1


def test_kernel_distance_is_0_within_its_standard_error_for_one_distribution():
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal((2000, 16)), rng.standard_normal((2000, 16))
    kid = metrics.kernel_distance(a, b, subsets=10)
    assert kid.std_error > 0 and abs(kid.mean) < 3 * kid.std_error


def test_kernel_distance_sees_a_shifted_distribution():
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal((2000, 16)), rng.standard_normal((2000, 16)) + 0.5
    kid = metrics.kernel_distance(a, b, subsets=10)
    assert kid.mean > 10 * kid.std_error


def test_kernel_distance_subsets_are_disjoint_and_seeded():
    rng = np.random.default_rng(6)
    a, b = rng.standard_normal((100, 4)), rng.standard_normal((60, 4))
    assert metrics.kernel_distance(a, b, seed=1) == metrics.kernel_distance(a, b, seed=1)
    # one subset uses every row: no shuffling can change MMD^2_u of the whole sets
    assert metrics.kernel_distance(a, b, subsets=1, seed=1).mean == pytest.approx(metrics.mmd2_unbiased(a, b))
    assert math.isnan(metrics.kernel_distance(a, b, subsets=1).std_error)


# --- precision and recall ---------------------------------------------------------------------

def clusters(n, centres, rng, spread=0.1):
    return centres[rng.integers(0, len(centres), n)] + spread * rng.standard_normal((n, centres.shape[1]))


def test_precision_recall_of_identical_sets_is_1_1():
    feats = np.random.default_rng(7).standard_normal((300, 8))
    assert metrics.precision_recall(feats, feats) == (1.0, 1.0)


def test_precision_recall_of_far_apart_clusters_is_0_0():
    rng = np.random.default_rng(8)
    real = rng.standard_normal((300, 8))
    fake = rng.standard_normal((300, 8)) + 100
    assert metrics.precision_recall(real, fake) == (0.0, 0.0)


def test_a_generator_covering_half_the_modes_has_precision_near_1_and_recall_near_one_half():
    # 2-D, where 2,000 samples fill each cluster densely enough for the k-NN balls to cover it
    # (in many dimensions they cover less: two samples of one distribution then score below 1, 1)
    rng = np.random.default_rng(9)
    centres = np.stack([20.0 * np.arange(10), np.zeros(10)], axis=1)  # 10 modes on a line, 20 apart
    real = clusters(2000, centres, rng)
    fake = clusters(2000, centres[:5], rng)  # only modes 0..4
    pr = metrics.precision_recall(real, fake)
    assert pr.precision > 0.95
    half = (real[:, 0] < 90).mean()  # the share of real samples in modes 0..4: about 0.5
    assert 0.9 * half < pr.recall <= half and 0.42 < pr.recall < 0.55


def test_precision_recall_k_and_errors():
    feats = np.random.default_rng(10).standard_normal((10, 3))
    with pytest.raises(ValueError, match=r"more than k = 3 samples in each set, got 10 real and 3 fake"):
        metrics.precision_recall(feats, feats[:3])
    with pytest.raises(ValueError, match=r"same width, got \(10, 3\) and \(10, 2\)"):
        metrics.precision_recall(feats, feats[:, :2])
    radii = metrics.scores.knn_radii(np.array([[0.0], [1.0], [3.0], [7.0]]), k=1)
    np.testing.assert_allclose(radii, [1.0, 1.0, 2.0, 4.0])  # distance to the nearest other point


def test_errors_name_what_came():
    with pytest.raises(ValueError, match=r"classifier_score: expected rows of class probabilities"):
        metrics.classifier_score(np.ones((4, 10)))
    with pytest.raises(ValueError, match=r"classifier_score: expected at most one split per sample, got 10 splits for 4"):
        metrics.classifier_score(one_hot(np.arange(4)))
    with pytest.raises(ValueError, match=r"frechet_distance: expected features_a shaped \(N, D\), got shape \(5,\)"):
        metrics.frechet_distance(np.zeros(5), np.zeros((5, 1)))
    with pytest.raises(ValueError, match=r"expected finite features_b, got 1 NaN or inf"):
        metrics.kernel_distance(np.zeros((20, 2)), np.array([[np.nan, 0]] + [[0, 0]] * 19))
    with pytest.raises(ValueError, match=r"at least 2 samples of each set per subset, got 20 and 10 samples for 10"):
        metrics.kernel_distance(np.zeros((20, 2)), np.zeros((10, 2)))
    with pytest.raises(ValueError, match=r"class_histogram: expected labels in 0..9, got 0..10"):
        metrics.class_histogram(np.arange(11))
    with pytest.raises(ValueError, match=r"kl_to_uniform: expected shares >= 0 summing to 1"):
        metrics.kl_to_uniform(np.array([0.5, 0.6]))


def test_tensors_are_accepted():
    feats = np.random.default_rng(11).standard_normal((50, 4)).astype(np.float32)
    assert metrics.frechet_distance(minigan.tensor(feats), feats) == pytest.approx(0.0, abs=1e-6)
    assert metrics.classifier_score(minigan.tensor(one_hot(np.arange(20) % 10).astype(np.float32)), splits=2).mean \
        == pytest.approx(10.0)


# --- the shipped classifier ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def held_out():
    test = data.mnist("test", verbose=False)
    return data.to_unit_range(test.images)[:, None], test.labels


def test_shipped_weights_are_small_float32_and_load_with_minigan_load():
    assert os.path.getsize(clf.WEIGHTS) < 300_000
    state = minigan.load(clf.WEIGHTS)
    assert all(np.asarray(v).dtype == np.float32 for v in state.values())
    net = metrics.load_classifier()
    assert not net.training
    assert sum(p.data.size for p in net.parameters()) == metrics.classifier_info()["parameters"]


def test_shipped_classifier_reaches_its_recorded_held_out_accuracy(held_out):
    x, labels = held_out
    info = metrics.classifier_info()
    if len(x) != 1000:
        pytest.skip("the record is for the bundled held-out split; full MNIST files are installed here")
    accuracy = (metrics.classifier_probs(x).argmax(axis=1) == labels).mean()
    assert accuracy == pytest.approx(info["held_out_accuracy"], abs=1e-3) and accuracy > 0.95
    with open(clf.INFO, encoding="utf-8") as f:
        assert "held-out split of the bundle" in json.load(f)["held_out"]


def test_probs_and_features_shapes_and_batching(held_out):
    x, _ = held_out
    probs, feats = metrics.classifier_outputs(x[:70], batch=32)
    assert probs.shape == (70, 10) and feats.shape == (70, 64) and probs.dtype == np.float64
    np.testing.assert_allclose(probs.sum(axis=1), 1, atol=1e-5)
    np.testing.assert_allclose(metrics.classifier_probs(x[:70]), probs, atol=1e-6)  # batch size changes nothing
    np.testing.assert_allclose(metrics.classifier_features(x[:70].reshape(70, 784)), feats, atol=1e-5)
    assert metrics.classifier_probs(minigan.tensor(x[:3])).shape == (3, 10)


def test_classifier_input_errors(held_out):
    x, _ = held_out
    with pytest.raises(TypeError, match="expected float images in \\[-1, 1\\], got uint8"):
        metrics.classifier_probs(np.zeros((2, 28, 28), np.uint8))
    with pytest.raises(ValueError, match=r"expected values in \[-1, 1\].*got \[0, 255\]"):
        metrics.classifier_probs(np.full((2, 1, 28, 28), 255.0) * np.eye(28))
    with pytest.raises(ValueError, match=r"expected images shaped \(N, 1, 28, 28\).*got \(2, 3, 28, 28\)"):
        metrics.classifier_features(np.zeros((2, 3, 28, 28)))
    with pytest.raises(FileNotFoundError, match="expected the classifier's weights at /no/such.npz"):
        metrics.load_classifier("/no/such.npz")


def test_a_limit_copying_ten_digits_scores_like_real_data_but_recall_collapses(held_out):
    """The classifier score sees only "confident, and every class": 10 memorised training digits,
    one per class, repeated 1,000 times over, score about as well as 1,000 real held-out digits. The
    features show what it misses: every copy sits on 10 points, so it covers almost none of the real
    digits (recall near 0)."""
    train = data.mnist("train", verbose=False)
    firsts = [int(np.flatnonzero(train.labels == c)[0]) for c in range(10)]
    copies = data.to_unit_range(train.images[firsts])[:, None]
    x, _ = held_out
    x = x[:1000]
    fake = np.tile(copies, (len(x) // 10, 1, 1, 1))  # 0, 1, ..., 9, 0, 1, ...: each split holds every class
    fake_probs, fake_feats = metrics.classifier_outputs(fake)
    real_probs, real_feats = metrics.classifier_outputs(x)
    real_score = metrics.classifier_score(real_probs).mean
    copy_score = metrics.classifier_score(fake_probs).mean
    assert copy_score > 0.9 * real_score and copy_score > 8.5
    precision, recall = metrics.precision_recall(real_feats, fake_feats)
    assert recall < 0.05


def test_precision_is_fooled_by_real_outliers_with_huge_balls():
    """A limit of k-NN precision: four real outliers, far from the real cluster and from each
    other, get balls wide enough to hold fakes that look like no real sample at all."""
    rng = np.random.default_rng(0)
    cluster = rng.normal(0, 0.1, (200, 2))
    outliers = np.array([[10.0, 10.0], [-10.0, 10.0], [10.0, -10.0], [-10.0, -10.0]])
    real = np.concatenate([cluster, outliers])
    fakes = rng.normal([5.0, 5.0], 0.1, (204, 2))  # all in one spot, 70 cluster widths from it
    assert np.linalg.norm(fakes - cluster.mean(0), axis=1).min() > 50 * 0.1
    result = metrics.precision_recall(real, fakes, k=3)
    assert result.precision > 0.9   # "realistic", by this measure
    assert result.recall < 0.05     # but it covers none of the real cluster


def test_digit_report_scores_real_digits_as_real_and_explains_each_number():
    """metrics.digit_report (what mnist_gan.py prints and saves as metrics.json): real held-out digits
    against themselves score a ratio of 1 and Fréchet 0; ones only score a low ratio and one class."""
    real = data.to_unit_range(data.mnist_bundled("test").images)[:, None]
    same = metrics.digit_report(real, real)
    assert same["score_ratio"] == pytest.approx(1.0) and same["frechet"] == pytest.approx(0.0, abs=1e-3)
    assert same["samples"] == same["real_samples"] == 1000 and 0.09 <= same["class_share_min"] <= 0.1
    ones = real[data.mnist_bundled("test").labels == 1]
    worse = metrics.digit_report(ones, real)
    assert worse["score_ratio"] < 0.2 and worse["class_share_max"] > 0.9 and worse["recall"] < same["recall"]
    text = "\n".join(metrics.report_lines(worse))
    for sentence in metrics.EXPLAIN.values():
        assert f"({sentence})" in text
    saved = metrics.report.as_json(worse)
    assert json.loads(json.dumps(saved)) == saved  # plain numbers: json writes and reads them back exactly


# --- code_class_match (InfoGAN's categorical code against the classes) ----------------------------

def test_code_class_match_finds_a_relabelling_and_scores_it_1():
    rng = np.random.default_rng(0)
    perm = rng.permutation(10)
    codes = rng.integers(0, 10, 2000)
    match = metrics.code_class_match(codes, perm[codes])
    assert match.accuracy == 1.0 and match.mapping == perm.tolist()
    assert match.counts.sum() == 2000 and (match.counts > 0).sum() == 10


def test_code_class_match_is_the_best_one_to_one_pairing_where_greedy_loses():
    """counts [[5, 4], [4, 0]]: greedy pairs value 0 with class 0 (5) and is left with 0 for value 1,
    5 of 13; pairing 0 -> 1 and 1 -> 0 matches 8 of 13. Every pairing of 3 values checked by brute force."""
    codes = np.array([0] * 5 + [0] * 4 + [1] * 4)
    classes = np.array([0] * 5 + [1] * 4 + [0] * 4)
    match = metrics.code_class_match(codes, classes, num_classes=2)
    assert match.accuracy == pytest.approx(8 / 13) and match.mapping == [1, 0]
    rng = np.random.default_rng(1)
    codes, classes = rng.integers(0, 3, 300), rng.integers(0, 4, 300)
    counts = np.zeros((3, 4), int)
    np.add.at(counts, (codes, classes), 1)
    best = max(sum(counts[v, m[v]] for v in range(3)) for m in itertools.permutations(range(4), 3))
    assert metrics.code_class_match(codes, classes, num_classes=4).accuracy == pytest.approx(best / 300)


def test_code_class_match_errors_name_what_came():
    with pytest.raises(ValueError, match=r"two equally long 1-d int arrays, got shapes \(3,\) and \(2,\)"):
        metrics.code_class_match([0, 1, 2], [0, 1])
    with pytest.raises(ValueError, match=r"code values in \[0, 3\) and classes in \[0, 2\).*got codes 0..2 and classes 0..2"):
        metrics.code_class_match([0, 1, 2], [0, 1, 2], num_classes=2)
    with pytest.raises(ValueError, match=r"code values in \[0, 2\).*got codes 0..2"):
        metrics.code_class_match([0, 1, 2], [0, 1, 1], num_codes=2, num_classes=2)


def test_code_class_match_with_more_values_than_classes_pairs_each_value_with_its_most_common_class():
    """InfoGAN with 20 values on 10 digits: values share classes. counts [[3, 1], [0, 2], [2, 2], [1, 0]]:
    values 0 and 3 take class 0, value 1 class 1, and value 2 its first most common class (0);
    matched 3 + 2 + 2 + 1 = 8 of 11."""
    pairs = [(0, 0)] * 3 + [(0, 1)] + [(1, 1)] * 2 + [(2, 0)] * 2 + [(2, 1)] * 2 + [(3, 0)]
    codes, classes = np.array(pairs).T
    match = metrics.code_class_match(codes, classes, num_classes=2)
    assert match.accuracy == pytest.approx(8 / 11) and match.mapping == [0, 1, 0, 0]
    assert match.counts.tolist() == [[3, 1], [0, 2], [2, 2], [1, 0]]
