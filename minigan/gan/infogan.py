"""InfoGAN (Chen et al. 2016): codes that G must keep readable, so that they come to mean something.

A plain GAN's noise z has no meaning of its own: a digit's class, slant and width are tangled
over all of z. InfoGAN hands G, besides the noise, a few *codes* c, and asks a third network Q to
read c back from G's image. G and Q together maximise a lower bound on the mutual information
between the codes and the image, so G learns to put c somewhere visible. Nobody says what c should
mean; on MNIST a categorical code with 10 values ends up choosing the digit and two continuous
codes end up as slant and stroke width, without a single label.

    codes = Codes(noise_dim=62, categories=10, continuous=2)
    G = Generator(mlp_body(codes.dim, ...), z_dim=codes.dim)       # G sees [noise, one-hot(cat), cont]
    D = InfoDiscriminator(features_body, features=1024, categories=10, continuous=2)
    objective = get_loss("nonsaturating")
    d_opt = objective.make_optimizer(D.parameters())   # D's body, D's head and Q
    g_opt = objective.make_optimizer(G.parameters())
    record = info_step(G, D, objective, codes, g_opt, d_opt, real, step=step)

The mutual-information term. For codes c drawn from a known prior p(c) and images x = G(z, c),

    I(c; x) = H(c) - H(c | x) >= H(c) + E[log Q(c | x)]

for any distribution Q(c | x) (the gap is a KL divergence, which is never negative). H(c) is a
constant, so maximising the bound is minimising

    L_I = -E[log Q(c | x)] = CE(Q's logits, c_cat) + w * E[ 1/2 ||c_cont - mu(x)||^2 ] + const

with Q's categorical part a softmax over the code's values and its continuous part a Gaussian
of mean mu(x) and unit standard deviation (the InfoGAN authors' MNIST setting; the constant is
log sqrt(2 pi) per code). ``w`` scales the continuous codes' term (0.1 here, as is usual), so
that it does not swamp the categorical one. Both updates add L_I on a batch of fakes: D's update
trains Q and the body Q shares with D, G's update trains G to make its codes readable.

Q shares D's body (all but D's last layer), as in the paper: Q costs one small head, not a
third network.

After training, ``code_prior`` turns Q round: read on real images, Q says how much of the data
each code value's kind of image covers, and sampling the values that often (``Codes.prior``)
gives each kind its real share instead of 1/N per value.
"""
import numpy as np

from .. import backend
from .. import functional as F
from .. import nn
from ..autograd import no_grad
from ..tensor import Tensor, randn
from .guards import check_finite
from .losses import clip_weights_
from .models import build
from .step import frozen, update


class Codes:
    """What InfoGAN's G is fed: noise (``noise_dim`` values from N(0, 1)), one categorical code
    with ``categories`` values (given to G one-hot) and ``continuous`` codes uniform in [-1, 1],
    in that order: G's input has ``dim = noise_dim + categories + continuous`` values.

    ``prior``: the probabilities of the categorical code's values, ``categories`` numbers >= 0
    summing to 1; None (the default, and what training uses) draws every value equally often.
    After training, ``code_prior(D, real_images)`` estimates how common each value's kind of image
    is in the data, and setting ``codes.prior`` to it makes ``sample`` draw values that often.
    """

    def __init__(self, noise_dim=62, categories=10, continuous=2, prior=None):
        for name, value, low in (("noise_dim", noise_dim, 0), ("categories", categories, 2),
                                 ("continuous", continuous, 0)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < low:
                raise ValueError(f"Codes: {name} must be an int >= {low}, got {value!r}")
        self.noise_dim, self.categories, self.continuous = int(noise_dim), int(categories), int(continuous)
        self.dim = self.noise_dim + self.categories + self.continuous
        self.prior = prior

    @property
    def prior(self):
        """The categorical values' probabilities as a float64 NumPy array, or None for uniform."""
        return self._prior

    @prior.setter
    def prior(self, prior):
        if prior is not None:
            prior = np.asarray(backend.as_numpy(prior), dtype=np.float64)
            if prior.shape != (self.categories,) or not np.all(prior >= 0) or abs(prior.sum() - 1) > 1e-6:
                raise ValueError(f"Codes.prior: expected {self.categories} probabilities (>= 0, summing to 1) "
                                 f"or None, got shape {prior.shape} summing to {prior.sum():.6g}")
            prior = prior / prior.sum()
        self._prior = prior

    def __repr__(self):
        prior = "" if self.prior is None else ", prior=[" + ", ".join(f"{p:.3f}" for p in self.prior) + "]"
        return (f"Codes(noise_dim={self.noise_dim}, categories={self.categories}, "
                f"continuous={self.continuous}{prior})")

    def sample(self, n, device="cpu"):
        """n draws from the prior, from minigan's seeded generators: ``(latent, cat, cont)``, with
        ``latent`` the (n, dim) Tensor for G, ``cat`` the categorical code's values (n,) as an int
        array on ``device`` and ``cont`` the continuous codes, an (n, continuous) Tensor."""
        noise = randn(n, self.noise_dim, device=device)
        gen = backend.generator(device)
        if self.prior is None:
            cat = gen.integers(0, self.categories, n)
        else:  # inverse CDF: value k where the cumulative probabilities first pass u ~ U(0, 1)
            xp = backend.get_array_module(noise.data)
            edges = xp.asarray(np.cumsum(self.prior)[:-1])
            cat = xp.searchsorted(edges, gen.random(n), side="right")
        cont = Tensor(gen.random((n, self.continuous), dtype=np.float32) * 2 - 1)
        return self.join(noise, cat, cont), cat, cont

    def join(self, noise, cat, cont):
        """G's input for chosen codes: [noise, one-hot(cat), cont] as an (n, dim) Tensor. Use it to
        draw one digit class per row, or to sweep a continuous code with the noise held still."""
        xp = backend.get_array_module(noise.data)
        cat = xp.asarray(cat)
        cont = xp.asarray(cont.data if isinstance(cont, Tensor) else cont, dtype=noise.dtype)
        n = noise.shape[0]
        if noise.shape != (n, self.noise_dim) or cat.shape != (n,) or tuple(cont.shape) != (n, self.continuous):
            raise ValueError(f"Codes.join: expected noise ({n}, {self.noise_dim}), cat ({n},) and cont "
                             f"({n}, {self.continuous}); got {tuple(noise.shape)}, {tuple(cat.shape)} and "
                             f"{tuple(cont.shape)}")
        if cat.size and (int(cat.min()) < 0 or int(cat.max()) >= self.categories):
            raise ValueError(f"Codes.join: categorical values must lie in [0, {self.categories}), got "
                             f"{int(cat.min())} .. {int(cat.max())}")
        one_hot = xp.eye(self.categories, dtype=noise.dtype)[cat]
        return F.concatenate([noise, Tensor(one_hot), Tensor(cont)], axis=1)  # codes are constants: no gradient


class QHead(nn.Module):
    """Q(c | x), read from D's features: logits over the categorical code's values, and the mean
    of a unit-variance Gaussian for each continuous code.

    features (N, in_features) -> Linear -> batch norm -> leaky ReLU 0.1 -> Linear ->
    (cat_logits (N, categories), cont_mean (N, continuous))
    """

    def __init__(self, in_features, categories, continuous, hidden=128):
        super().__init__()
        self.categories, self.continuous = categories, continuous
        self.body = nn.Sequential(nn.Linear(in_features, hidden), nn.BatchNorm1d(hidden), nn.LeakyReLU(0.1),
                                  nn.Linear(hidden, categories + continuous))

    def forward(self, features):
        out = self.body(features)
        return out[:, :self.categories], out[:, self.categories:]


class InfoDiscriminator(nn.Module):
    """D and Q on one shared body: images -> ``body`` -> features (N, ``features``), then D's head
    (one logit) and Q's head (``QHead``).

    ``D(x)`` is the logit alone, so that every GAN objective, penalty and metric treats it as any
    discriminator; ``D.with_codes(x)`` runs the body once for both heads.
    """

    def __init__(self, body, features, categories, continuous, q_hidden=128):
        super().__init__()
        self.body = body
        self.head = nn.Linear(features, 1)
        self.q = QHead(features, categories, continuous, q_hidden)

    def forward(self, x):
        return self.head(self.body(x))

    def with_codes(self, x):
        """``(logits, (cat_logits, cont_mean))`` from one pass through the shared body."""
        h = self.body(x)
        return self.head(h), self.q(h)


def mutual_information_loss(cat_logits, cat, cont_mean, cont, continuous_weight=0.1):
    """L_I, the loss whose minimum maximises InfoGAN's lower bound on I(c; G(z, c)) (module docstring):

    L_I = mean_n [ -log softmax(cat_logits_n)[cat_n] + w * 1/2 sum_k (cont_nk - cont_mean_nk)^2 ]

    backward: through cross_entropy, sub, mul and sum (a composition of checked ops), so it is
    exact to any order. Without continuous codes (shape (N, 0)) only the categorical term is left.
    """
    if tuple(cont_mean.shape) != tuple(cont.shape):
        raise ValueError(f"mutual_information_loss: cont_mean {tuple(cont_mean.shape)} and cont "
                         f"{tuple(cont.shape)} must have one shape")
    loss = F.cross_entropy(cat_logits, cat)
    if cont.shape[1]:
        loss = loss + continuous_weight * 0.5 * ((cont - cont_mean) ** 2).sum(axis=1).mean()
    return loss


def info_step(G, D, objective, codes, g_opt, d_opt, real, *, step, info_weight=1.0, continuous_weight=0.1,
              ema=None, clip_grad_norm=None):
    """One InfoGAN step: ``train_step``'s D update and G update (read step.py first), each with
    ``info_weight`` * L_I added on its batch of fakes. ``D`` is an ``InfoDiscriminator``; ``d_opt``
    holds D's parameters, Q's included (D's update trains Q to read the codes); ``g_opt`` holds
    G's. Penalties, weight clipping and n_critic come from ``objective``, and ``ema`` and
    ``clip_grad_norm`` do what they do in ``train_step``.

    Returns train_step's figures plus ``info_loss`` (L_I on the G update's fakes, or on D's when
    G was not updated) and ``q_accuracy``, the share of those fakes whose categorical code Q
    read right (chance: 1 / categories).
    """
    n = real.shape[0]

    # 1. D update: the GAN loss on real and fake images, plus L_I on the fakes, which trains Q.
    latent, cat, cont = codes.sample(n, real.device)
    with no_grad():  # G is not trained here: its fakes need no graph, only their codes
        fake = G(latent)
    d_opt.zero_grad()
    real_logits = D(real)
    fake_logits, (cat_logits, cont_mean) = D.with_codes(fake)
    info = mutual_information_loss(cat_logits, cat, cont_mean, cont, continuous_weight)
    d_loss = objective.d_loss(real_logits, fake_logits) + info_weight * info
    if objective.penalty is not None:
        d_loss = d_loss + objective.penalty(D, real, fake)
    d_loss_value = check_finite("d_loss", d_loss, step)
    d_loss.backward()
    d_grad_norm = update("D", d_opt, D, step, clip_grad_norm)
    if objective.clip_value is not None:
        clip_weights_(D, objective.clip_value)
    record = dict(d_loss=d_loss_value, d_real=objective.mean_d_output(real_logits),
                  d_fake=objective.mean_d_output(fake_logits), d_grad_norm=d_grad_norm,
                  g_loss=None, g_grad_norm=None)

    # 2. G update: fool D, and make the codes readable by Q (L_I again, now through G).
    if (step + 1) % objective.n_critic == 0:
        latent, cat, cont = codes.sample(n, real.device)
        g_opt.zero_grad()
        fake = G(latent)
        with frozen(D):  # D's and Q's weights take no gradient here (step.py's ``frozen`` says why)
            fake_logits, (cat_logits, cont_mean) = D.with_codes(fake)
        info = mutual_information_loss(cat_logits, cat, cont_mean, cont, continuous_weight)
        g_loss = objective.g_loss(fake_logits) + info_weight * info
        record["g_loss"] = check_finite("g_loss", g_loss, step)
        g_loss.backward()
        record["g_grad_norm"] = update("G", g_opt, G, step, clip_grad_norm)
        if ema is not None:
            ema.update()
    record["info_loss"] = info.item()
    record["q_accuracy"] = q_accuracy(cat_logits, cat)
    return record


def q_accuracy(cat_logits, cat):
    """The share of rows whose categorical code Q's logits put first (one number copied to the host)."""
    xp = backend.get_array_module(cat_logits.data)
    return float((cat_logits.data.argmax(axis=1) == xp.asarray(cat)).mean())


def code_prior(D, images, batch_size=500):
    """How common each value of the categorical code is in real data, as Q reads it:

        p(c) = mean over real images x of Q(c | x)      (Q's softmax over the code's values)

    Training draws the values uniformly, so each carries 1/N of G's samples whatever kind of image
    it came to draw. When the kinds are not equally common in the data, or one kind took several
    values (on MNIST, ones often take 3 of 20), uniform draws make too many of some. Q was trained
    to tell the values apart; on real images its probabilities say which value's kind each image
    is, and their mean is the share of the data each value covers (as EM re-estimates a
    mixture's weights from its responsibilities). Set ``codes.prior`` to it to sample that often.

    ``D`` is an ``InfoDiscriminator``; ``images`` real images as a NumPy/CuPy array or Tensor,
    fed in batches of ``batch_size``. D runs in eval mode (no dropout; Q's batch norm uses its
    running statistics) without a graph, and gets its mode back. Returns a float64 NumPy array of
    the values' probabilities, summing to 1.
    """
    data = images.data if isinstance(images, Tensor) else images
    if len(data) == 0:
        raise ValueError("code_prior: got no images; it needs real images to estimate the prior from")
    was_training = D.training
    D.eval()
    total = None
    try:
        with no_grad():
            for i in range(0, len(data), batch_size):
                cat_logits = D.with_codes(Tensor(data[i:i + batch_size]))[1][0]
                probs = backend.as_numpy(F.softmax(cat_logits, axis=1).data).astype(np.float64)
                total = probs.sum(axis=0) if total is None else total + probs.sum(axis=0)
    finally:
        D.train(was_training)
    return total / total.sum()


def build_info(arch="mlp", codes=None, width=1.0, dropout=0.3, activation="leaky_relu"):
    """(G, D) for InfoGAN with ``models.build``'s shapes: G takes ``codes.dim`` numbers (noise and
    codes) in place of z; D is an ``InfoDiscriminator`` whose shared body is ``build``'s D without
    its last Linear (D's head and Q's head both read what that layer read). ``codes``: a ``Codes``
    (default: the paper's MNIST codes, 62 noise values, one 10-valued code, 2 continuous)."""
    codes = codes or Codes()
    G, plain = build(arch, z_dim=codes.dim, width=width, dropout=dropout, activation=activation)
    layers = list(plain.body)
    D = InfoDiscriminator(nn.Sequential(*layers[:-1]), layers[-1].in_features, codes.categories, codes.continuous)
    return G, D
