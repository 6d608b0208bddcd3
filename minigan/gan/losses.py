"""GAN objectives: what the discriminator (D, or "critic") and the generator (G) each minimise.

    loss = minigan.gan.get_loss("nonsaturating")   # or "minimax", "lsgan", "wgan", "wgan-gp", "hinge"
    d_loss = loss.d_loss(D(x_real), D(x_fake.detach()))   # minimise with respect to D
    g_loss = loss.g_loss(D(x_fake))                       # minimise with respect to G
    if loss.penalty is not None:                          # wgan-gp (or one you passed in)
        d_loss = d_loss + loss.penalty(D, x_real, x_fake)
    if loss.needs_weight_clipping:                        # wgan, after each D step
        clip_weights_(D, loss.clip_value)

Conventions, the same for every objective:

* Inputs are **logits**: D's raw output before any sigmoid, of shape (N,) or (N, 1) (any shape
  works). Below, r = D(x) on real samples and f = D(G(z)) on fakes, and D(.) in the log
  formulas means sigmoid(logit), the probability "real".
* Every expectation is a ``mean`` over the batch (over all elements of the logits), so the
  size of the loss does not depend on the batch size.
* Logs of sigmoids are written with softplus, never as log(sigmoid(x)):
  log sigmoid(x) = -softplus(-x) and log(1 - sigmoid(x)) = -softplus(x), where softplus is
  computed stably (ops/activation.py). sigmoid(-1000) rounds to 0 and log(0) is -inf; softplus
  just gives 1000. No probability is ever clipped.
"""
import numbers

from .. import backend
from .. import functional as F
from ..tensor import Tensor, as_tensor
from .penalties import GradientPenalty


class GANLoss:
    """Base class: ``d_loss(real_logits, fake_logits)`` and ``g_loss(fake_logits)``, each a scalar
    Tensor to minimise. Subclasses write the two formulas in ``_d_loss`` and ``_g_loss``.

    Attributes the training loop reads: ``penalty`` (None, or a callable ``penalty(D, real,
    fake)`` to add to D's loss), ``needs_weight_clipping`` and ``clip_value`` (WGAN only).
    """
    name = None
    needs_weight_clipping = False
    clip_value = None

    def __init__(self, penalty=None):
        if penalty is not None and not callable(penalty):
            raise TypeError(f"penalty must be None or a callable penalty(D, real, fake), such as "
                            f"GradientPenalty() or R1Penalty(), got {type(penalty).__name__}")
        self.penalty = penalty

    def d_loss(self, real_logits, fake_logits):
        """D's loss (scalar Tensor) from its logits on a real batch and on a fake batch."""
        r = _logits(real_logits, "real_logits", self.name)
        f = _logits(fake_logits, "fake_logits", self.name)
        if r.dtype != f.dtype:
            raise TypeError(f"{self.name} d_loss: real_logits are {r.dtype} but fake_logits are {f.dtype}; "
                            "use one dtype (convert with .float() or .double())")
        return self._d_loss(r, f)

    def g_loss(self, fake_logits):
        """G's loss (scalar Tensor) from D's logits on a fake batch (not detached: G learns through D)."""
        return self._g_loss(_logits(fake_logits, "fake_logits", self.name))

    def _d_loss(self, r, f):
        raise NotImplementedError(f"{type(self).__name__} must define _d_loss(self, r, f)")

    def _g_loss(self, f):
        raise NotImplementedError(f"{type(self).__name__} must define _g_loss(self, f)")

    def __repr__(self):
        extras = [f"clip_value={self.clip_value}"] if self.needs_weight_clipping else []
        if self.penalty is not None:
            extras.append(f"penalty={self.penalty!r}")
        return f"{type(self).__name__}({', '.join(extras)})"


class MinimaxLoss(GANLoss):
    """The original GAN objective (Goodfellow et al. 2014), in its "saturating" minimax form.

    D minimises  mean softplus(-r) + mean softplus(f)   = -log D(x) - log(1 - D(G(z)))
    G minimises  -mean softplus(f)                      =  log(1 - D(G(z)))

    G's gradient is d/df [-softplus(f)] = -sigmoid(f): when D confidently rejects fakes (f << 0,
    as early in training) it is about -e^f, which vanishes, and G stops learning. Kept to show
    that failure; train with "nonsaturating" instead.
    """
    name = "minimax"

    def _d_loss(self, r, f):
        return F.softplus(-r).mean() + F.softplus(f).mean()

    def _g_loss(self, f):
        return -F.softplus(f).mean()


class NonSaturatingLoss(MinimaxLoss):
    """The non-saturating GAN (Goodfellow et al. 2014, section 3): the default.

    D minimises  mean softplus(-r) + mean softplus(f)   = -log D(x) - log(1 - D(G(z)))   (as minimax)
    G minimises  mean softplus(-f)                      = -log D(G(z))

    Same fixed point as minimax, but G's gradient -sigmoid(-f) = -(1 - D(G(z))) is about -1 when
    D rejects fakes: the gradient is strongest exactly where G is worst. Both are binary
    cross-entropy, with G labelling its fakes "real".
    """
    name = "nonsaturating"

    def _g_loss(self, f):
        return F.softplus(-f).mean()


class LSGANLoss(GANLoss):
    """Least-squares GAN (Mao et al. 2017), on D's raw outputs, with targets a (fake), b (real), c (G).

    D minimises  0.5 mean (r - b)^2 + 0.5 mean (f - a)^2      (defaults a = 0, b = 1)
    G minimises  0.5 mean (f - c)^2                           (default  c = 1)

    A squared error keeps pushing: its gradient (f - a) grows with the distance from the target,
    while a sigmoid cross-entropy flattens out once D is confident. Fakes that are far from the
    real data but on the "right" side of D's boundary are still pulled towards it.
    """
    name = "lsgan"

    def __init__(self, a=0.0, b=1.0, c=1.0, penalty=None):
        super().__init__(penalty)
        self.a, self.b, self.c = (_number(v, k, "LSGANLoss") for v, k in ((a, "a"), (b, "b"), (c, "c")))

    def _d_loss(self, r, f):
        return 0.5 * ((r - self.b) ** 2).mean() + 0.5 * ((f - self.a) ** 2).mean()

    def _g_loss(self, f):
        return 0.5 * ((f - self.c) ** 2).mean()

    def __repr__(self):
        return f"LSGANLoss(a={self.a}, b={self.b}, c={self.c})"


class WGANLoss(GANLoss):
    """Wasserstein GAN (Arjovsky et al. 2017): D is a "critic" giving scores, not probabilities.

    D minimises  mean f - mean r        (i.e. maximises the score gap mean r - mean f)
    G minimises  -mean f

    If the critic is 1-Lipschitz, the best score gap is the Wasserstein-1 (earth mover's) distance
    between the real and fake distributions, which gives G a useful gradient even where the two
    do not overlap. The original paper enforces the Lipschitz bound crudely, by clamping every
    critic weight into [-clip_value, clip_value] after each critic step (``clip_weights_``).
    """
    name = "wgan"
    needs_weight_clipping = True

    def __init__(self, clip_value=0.01, penalty=None):
        super().__init__(penalty)
        self.clip_value = _positive(clip_value, "clip_value", "WGANLoss")

    def _d_loss(self, r, f):
        return f.mean() - r.mean()

    def _g_loss(self, f):
        return -f.mean()


class WGANGPLoss(WGANLoss):
    """WGAN with gradient penalty (Gulrajani et al. 2017): WGAN's objectives, no weight clipping.

    D minimises  mean f - mean r + lambda * mean (||grad D(x_hat)|| - 1)^2     (x_hat: real/fake mixes)
    G minimises  -mean f

    ``d_loss`` gives the first two terms; the penalty needs D itself, so it is ``self.penalty``
    (a ``GradientPenalty(lambda_)``), called as ``loss.penalty(D, real, fake)``. The soft
    constraint trains far more reliably than clipping, which wastes the critic's capacity.
    """
    name = "wgan-gp"
    needs_weight_clipping = False

    def __init__(self, lambda_=10.0):
        GANLoss.__init__(self, GradientPenalty(lambda_))


class HingeLoss(GANLoss):
    """Hinge loss (Lim & Ye 2017; Miyato et al. 2018, used with spectral norm and in BigGAN).

    D minimises  mean relu(1 - r) + mean relu(1 + f)
    G minimises  -mean f

    D stops caring about a sample once it is classified with a margin (r > 1, f < -1): those
    samples give exactly zero loss and zero gradient, so D spends its effort on the hard ones.
    """
    name = "hinge"

    def _d_loss(self, r, f):
        return F.relu(1 - r).mean() + F.relu(1 + f).mean()

    def _g_loss(self, f):
        return -f.mean()


#: The objectives by name, as ``get_loss`` knows them.
LOSSES = {cls.name: cls for cls in (MinimaxLoss, NonSaturatingLoss, LSGANLoss, WGANLoss, WGANGPLoss,
                                    HingeLoss)}


def get_loss(name="nonsaturating", **options):
    """The objective called ``name`` (one of ``LOSSES``; case, '-' and '_' are ignored, so
    "wgan_gp" and "non-saturating" work), built with ``options`` (e.g. ``lambda_=5.0`` for
    "wgan-gp", ``clip_value=0.02`` for "wgan", ``penalty=R1Penalty(10.0)`` for most).
    A GANLoss passed in is returned as it is."""
    if isinstance(name, GANLoss):
        if options:
            raise TypeError(f"get_loss: got a {type(name).__name__} object and options {sorted(options)}; "
                            "pass options only with a name")
        return name
    if not isinstance(name, str):
        raise TypeError(f"get_loss: name must be a string such as 'nonsaturating', got {type(name).__name__}")
    key = name.strip().lower().replace("_", "").replace("-", "")
    by_key = {known.replace("-", ""): cls for known, cls in LOSSES.items()}
    if key not in by_key:
        valid = ", ".join(repr(n) for n in LOSSES)
        raise ValueError(f"unknown GAN loss {name!r}; valid names are {valid}")
    return by_key[key](**options)


def clip_weights_(parameters, c=0.01):
    """WGAN's weight clipping: clamp every parameter into [-c, c], in place (no graph is recorded).

    ``parameters``: a Module (anything with ``.parameters()``), one Tensor, or an iterable of
    Tensors. Call it after each critic step. The arrays are written into, so their dtype, device
    and identity (an optimiser's reference to them) stay the same.
    """
    c = _positive(c, "c", "clip_weights_")
    if hasattr(parameters, "parameters") and callable(parameters.parameters):
        parameters = parameters.parameters()
    parameters = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    for i, p in enumerate(parameters):
        if not isinstance(p, Tensor) or p.dtype.kind != "f":
            what = f"a Tensor of dtype {p.dtype}" if isinstance(p, Tensor) else type(p).__name__
            raise TypeError(f"clip_weights_ expected float Tensors, got {what} at position {i}")
        if not getattr(p.data.flags, "writeable", True):
            raise ValueError(f"clip_weights_: parameter {i} (shape {p.shape}) is a read-only array and "
                             "cannot be clipped in place")
    for p in parameters:
        backend.get_array_module(p.data).clip(p.data, -c, c, out=p.data)
        p._version += 1  # an in-place change, like an optimiser step


# --- argument checks -----------------------------------------------------------------------------

def _logits(x, name, loss):
    x = as_tensor(x)
    if x.dtype.kind != "f":
        raise TypeError(f"{loss} loss: {name} must be float logits, got dtype {x.dtype}")
    if x.ndim == 0 or x.size == 0:
        raise ValueError(f"{loss} loss: {name} must be a non-empty batch of logits, shape (N,) or (N, 1), "
                         f"got shape {x.shape}")
    return x


def _number(value, name, who):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{who}: {name} must be a number, got {value!r}")
    return float(value)


def _positive(value, name, who):
    value = _number(value, name, who)
    if not value > 0:
        raise ValueError(f"{who}: {name} must be > 0, got {value!r}")
    return value
