"""InfoGAN (minigan.gan.infogan): the mutual-information loss is gradient-checked to second order,
the codes reach G where they should, and after a short training on the bundled digits Q reads
the categorical code far above chance. (QHead and InfoDiscriminator are in tests/layer_cases.py.)"""
import numpy as np
import pytest

import minigan
import minigan.functional as F
from minigan import Tensor, data, gan, nn
from minigan.gradcheck import gradcheck, gradgradcheck


def test_mutual_information_loss_is_the_formula_and_its_gradients_check_to_second_order():
    """L_I = mean_n [CE(cat_logits_n, cat_n) + w/2 ||cont_n - mean_n||^2], by hand; gradcheck and
    gradgradcheck with respect to Q's outputs (random upstream gradients inside both checks)."""
    rng = np.random.default_rng(0)
    logits = Tensor(rng.standard_normal((5, 4)), requires_grad=True)
    mean = Tensor(rng.standard_normal((5, 2)), requires_grad=True)
    cat, cont = rng.integers(0, 4, 5), Tensor(rng.uniform(-1, 1, (5, 2)))
    got = gan.mutual_information_loss(logits, cat, mean, cont, continuous_weight=0.3).item()
    z = logits.numpy()
    log_softmax = z - z.max(1, keepdims=True) - np.log(np.exp(z - z.max(1, keepdims=True)).sum(1, keepdims=True))
    expected = np.mean(-log_softmax[np.arange(5), cat] + 0.3 * 0.5 * ((cont.numpy() - mean.numpy()) ** 2).sum(1))
    assert got == pytest.approx(expected, rel=1e-12)

    def fn(a, b):
        return gan.mutual_information_loss(a, cat, b, cont, continuous_weight=0.3)
    assert gradcheck(fn, [logits, mean])
    assert gradgradcheck(fn, [logits, mean])
    # no continuous codes: only the categorical term
    empty = Tensor(np.zeros((5, 0)))
    assert gan.mutual_information_loss(logits, cat, empty, empty).item() == pytest.approx(F.cross_entropy(logits, cat).item())


def test_codes_lay_out_g_input_as_noise_one_hot_and_continuous():
    codes = gan.Codes(noise_dim=3, categories=4, continuous=2)
    assert codes.dim == 9 and "categories=4" in repr(codes)
    minigan.manual_seed(1)
    latent, cat, cont = codes.sample(500)
    x = latent.numpy()
    assert x.shape == (500, 9) and x.dtype == np.float32
    np.testing.assert_array_equal(x[:, 3:7], np.eye(4)[cat])             # one-hot of the categorical code
    np.testing.assert_array_equal(x[:, 7:], cont.numpy())                # continuous codes last
    assert cont.numpy().min() >= -1 and cont.numpy().max() < 1 and abs(cont.numpy().mean()) < 0.1
    assert set(np.unique(cat)) == {0, 1, 2, 3}
    assert not latent.requires_grad
    # chosen codes, e.g. one digit class per row with the noise held still
    fixed = codes.join(Tensor(np.zeros((2, 3), np.float32)), [1, 3], np.array([[0.5, -0.5], [0.0, 1.0]]))
    np.testing.assert_array_equal(fixed.numpy(), [[0, 0, 0, 0, 1, 0, 0, 0.5, -0.5], [0, 0, 0, 0, 0, 0, 1, 0, 1]])


def test_codes_draw_categorical_values_from_a_prior_when_given_one():
    codes = gan.Codes(noise_dim=2, categories=4, continuous=1, prior=[0.5, 0.3, 0.0, 0.2])
    assert "prior=[0.500, 0.300, 0.000, 0.200]" in repr(codes)
    minigan.manual_seed(3)
    latent, cat, _ = codes.sample(40_000)
    shares = np.bincount(cat, minlength=4) / 40_000
    # a value of probability 0 never comes; the others within 4 standard errors (sqrt(p(1-p)/n) <= 0.0025)
    assert shares[2] == 0 and np.abs(shares - [0.5, 0.3, 0.0, 0.2]).max() < 0.01, shares
    np.testing.assert_array_equal(latent.numpy()[:, 2:6], np.eye(4)[cat])
    codes.prior = None  # back to uniform: every value about a quarter
    assert np.abs(np.bincount(codes.sample(40_000)[1], minlength=4) / 40_000 - 0.25).max() < 0.01


class ReadsTheFirstPixels:
    """A stand-in InfoDiscriminator whose Q's logits are the image's first 3 numbers: the prior's
    expected value can be worked out by hand."""

    def __init__(self):
        self.training, self.batches = True, []

    def eval(self):
        return self.train(False)

    def train(self, mode=True):
        self.training = mode
        return self

    def with_codes(self, x):
        assert not self.training and not minigan.is_grad_enabled()
        self.batches.append(len(x))
        return None, (x[:, :3], None)


def test_code_prior_is_the_mean_of_q_softmax_over_real_images_in_eval_mode():
    images = np.random.default_rng(0).normal(size=(7, 5)).astype(np.float32) * 3
    probs = np.exp(images[:, :3]) / np.exp(images[:, :3]).sum(axis=1, keepdims=True)
    D = ReadsTheFirstPixels()
    prior = gan.code_prior(D, images, batch_size=3)
    assert D.batches == [3, 3, 1] and D.training  # batched, and D's training mode is given back
    assert prior.dtype == np.float64 and prior.sum() == pytest.approx(1, abs=1e-12)
    np.testing.assert_allclose(prior, probs.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(gan.code_prior(D, Tensor(images)), prior, rtol=1e-12)  # a Tensor, one batch
    with pytest.raises(ValueError, match="got no images"):
        gan.code_prior(D, images[:0])


@pytest.mark.parametrize("call, message", [
    (lambda: gan.Codes(categories=1), r"categories must be an int >= 2, got 1"),
    (lambda: gan.Codes(noise_dim=2.5), r"noise_dim must be an int >= 0, got 2.5"),
    (lambda: gan.Codes(3, 4, 2).join(Tensor(np.zeros((2, 3))), [0, 4], np.zeros((2, 2))),
     r"categorical values must lie in \[0, 4\), got 0 .. 4"),
    (lambda: gan.Codes(3, 4, 2).join(Tensor(np.zeros((2, 3))), [0, 1], np.zeros((2, 3))),
     r"expected noise \(2, 3\), cat \(2,\) and cont \(2, 2\); got \(2, 3\), \(2,\) and \(2, 3\)"),
    (lambda: gan.Codes(3, 4, 2, prior=[0.5, 0.5]), r"expected 4 probabilities .* got shape \(2,\) summing to 1"),
    (lambda: gan.Codes(3, 2, 2, prior=[1.5, -0.5]), r"expected 2 probabilities \(>= 0, summing to 1\)"),
    (lambda: gan.Codes(3, 2, 2, prior=[0.5, 0.4]), r"got shape \(2,\) summing to 0.9"),
    (lambda: gan.mutual_information_loss(Tensor(np.zeros((2, 3))), [0, 1], Tensor(np.zeros((2, 2))),
                                         Tensor(np.zeros((2, 1)))), r"cont_mean \(2, 2\) and cont \(2, 1\)"),
])
def test_infogan_errors_name_what_was_expected_and_what_came(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def networks(codes, hidden=128, features=128):
    G = gan.models.Generator(nn.Sequential(nn.Linear(codes.dim, hidden), nn.ReLU(), nn.Linear(hidden, 784), nn.Tanh()),
                             z_dim=codes.dim)
    body = nn.Sequential(nn.Flatten(), nn.Linear(784, features), nn.LeakyReLU(0.2))
    D = gan.InfoDiscriminator(body, features, codes.categories, codes.continuous, q_hidden=64)
    return G, D


def test_after_a_short_training_on_the_bundled_digits_q_reads_the_categorical_code():
    """G and Q cooperate on L_I, so Q should read G's categorical code back long before the digits
    look like anything: measured on 1,000 fresh fakes after 300 steps, far above chance (0.1).
    The same number with the objective's GAN loss alone (info_weight 0) stays near chance, so the
    information term, not luck, does it."""
    images = data.to_unit_range(data.mnist_bundled("train").images[:2048])[:, None]

    def train(info_weight):
        minigan.manual_seed(0)
        codes = gan.Codes(noise_dim=16, categories=10, continuous=2)
        G, D = networks(codes)
        objective = gan.get_loss("nonsaturating")
        g_opt = minigan.optim.Adam(G.parameters(), lr=1e-3, betas=(0.5, 0.999))
        d_opt = minigan.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
        rng = np.random.default_rng(0)
        for step in range(300):
            real = Tensor(images[rng.integers(0, len(images), 64)])
            record = gan.info_step(G, D, objective, codes, g_opt, d_opt, real, step=step, info_weight=info_weight)
        assert np.isfinite(record["d_loss"]) and np.isfinite(record["g_loss"]) and np.isfinite(record["info_loss"])
        G.eval(), D.eval()
        with minigan.no_grad():
            latent, cat, cont = codes.sample(1000)
            _, (cat_logits, cont_mean) = D.with_codes(G(latent))
        corr = [np.corrcoef(cont.numpy()[:, k], cont_mean.numpy()[:, k])[0, 1] for k in range(2)]
        return gan.infogan.q_accuracy(cat_logits, cat), corr

    accuracy, corr = train(1.0)
    assert accuracy > 0.9, accuracy
    assert min(corr) > 0.5, corr  # the continuous codes are read back too (0.76 and 0.80 measured; chance 0)
    chance_accuracy, _ = train(0.0)
    assert chance_accuracy < 0.3, (accuracy, chance_accuracy)
