"""GAN objectives: what the discriminator (D, or "critic") and the generator (G) each minimise,
and everything else that belongs to an objective: the penalty added to D's loss, the weight
clipping after D's update, and the published recipe its paper trains with (optimiser, learning
rate, Adam's betas, n_critic). The training step (``step.py``) reads all of it from here, so
no other file asks which objective it has.

    loss = minigan.gan.get_loss("wgan-gp")                # or "nonsaturating", "minimax", "lsgan", "wgan", "hinge"
    d_loss = loss.d_loss(D(x_real), D(x_fake.detach()))   # minimise with respect to D
    if loss.penalty is not None:                          # wgan-gp: its gradient penalty
        d_loss = d_loss + loss.penalty(D, x_real, x_fake)
    g_loss = loss.g_loss(D(x_fake))                       # minimise with respect to G
    d_opt = loss.make_optimizer(D.parameters())           # the recipe's optimiser, lr and betas
    print(loss)   # WGANGPLoss(optimizer='adam', lr=0.0001, betas=(0.5, 0.9), n_critic=5, penalty=...)

Conventions, the same for every objective:

* Inputs are **logits**: D's raw output before any sigmoid, of shape (N,) or (N, 1) (any shape
  works). Below, r = D(x) on real samples and f = D(G(z)) on fakes, and D(.) in the log
  formulas means sigmoid(logit), the probability "real".
* Every expectation is a ``mean`` over the batch (over all elements of the logits), so the
  size of the loss does not depend on the batch size.
* Logs of sigmoids are written with softplus, never as log(sigmoid(x)):
  log sigmoid(x) = -softplus(-x) and log(1 - sigmoid(x)) = -softplus(x), where softplus is
  computed stably (ops/nonlinear.py). sigmoid(-1000) rounds to 0 and log(0) is -inf; softplus
  just gives 1000. No probability is ever clipped.
* Each objective has one name (``LOSSES``); ``get_loss`` ignores case, '-' and '_', so
  "wgan_gp" and "WGAN-GP" both name "wgan-gp", in the Trainer and on the examples' command lines.
"""

from ..checks import check_int, check_number
from .. import backend
from .. import functional as F
from ..optim import SGD, Adam, RMSprop
from ..tensor import Tensor, as_tensor
from .penalties import GradientPenalty


class GANLoss:
    """Base class: ``d_loss(real_logits, fake_logits)`` and ``g_loss(fake_logits)``, each a scalar
    Tensor to minimise. Subclasses write the two formulas in ``_d_loss`` and ``_g_loss``, and set
    the recipe below where their paper differs.

    Options, for any objective (each is then what the objective reports, e.g. in ``print(loss)``):
    ``penalty``: a callable ``penalty(D, real, fake)`` added to D's loss, such as ``R1Penalty()``;
    ``gp_lambda``: shorthand for ``penalty=GradientPenalty(gp_lambda)`` (WGAN-GP's, default 10);
    ``clip_value``: clamp D's weights into [-c, c] after each D update (WGAN's, default 0.01);
    ``n_critic``: D updates per G update; ``label_smoothing``: s, D's target for real samples
    becomes 1 - s (the BCE-based objectives only).
    """
    name = None
    # The published recipe: Adam with lr 2e-4 and beta1 = 0.5 (DCGAN, Radford et al. 2016), one D
    # update per G update, no weight clipping. The Wasserstein objectives change it below.
    optimizer = "adam"      # "adam" or "rmsprop": make_optimizer builds it
    lr = 2e-4
    betas = (0.5, 0.999)    # Adam's; beta1 = 0.5 (not 0.9) keeps the adversarial updates from oscillating
    n_critic = 1            # D updates per G update
    clip_value = None       # None: no weight clipping
    outputs_probability = False  # True when sigmoid(D's logit) is a probability (the BCE objectives)
    # D's output (as ``d_outputs`` gives it) on every image once G matches the data exactly, the
    # horizontal line the loss plot draws under D(x) and D(G(z)); None where the objective does not
    # pin it down (a Wasserstein critic is only defined up to a constant; hinge's optimum is any
    # score in [-1, 1]). Each objective with one says why it is what it is.
    equilibrium_d_output = None

    def __init__(self, *, penalty=None, gp_lambda=None, clip_value=None, n_critic=None, label_smoothing=0.0):
        who = type(self).__name__
        if gp_lambda is not None:
            if penalty is not None:
                raise ValueError(f"{who}: pass penalty or gp_lambda (which means penalty=GradientPenalty(gp_lambda)), "
                                 f"not both; got penalty={penalty!r} and gp_lambda={gp_lambda!r}")
            penalty = GradientPenalty(_number(gp_lambda, "gp_lambda", who))
        if penalty is not None and not callable(penalty):
            raise TypeError(f"penalty must be None or a callable penalty(D, real, fake), such as "
                            f"GradientPenalty() or R1Penalty(), got {type(penalty).__name__}")
        self.penalty = penalty
        if clip_value is not None:  # else the class's: None, or WGAN's 0.01
            self.clip_value = _positive(clip_value, "clip_value", who)
        if n_critic is not None:
            self.n_critic = check_int(who, "n_critic", n_critic, low=1)
        label_smoothing = float(check_number(who, "label_smoothing", label_smoothing, 0, 1, high_open=True))
        if label_smoothing and not self.outputs_probability:
            bce = ", ".join(n for n, cls in LOSSES.items() if cls.outputs_probability)
            raise ValueError(f"label_smoothing applies to the BCE-based losses ({bce}), not to {self.name!r}")
        self.label_smoothing = label_smoothing

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

    def make_optimizer(self, params, lr=None, *, optimizer=None, beta1=None):
        """The recipe's optimiser for ``params`` (one network's), at learning rate ``lr`` or the
        recipe's. The one place in minigan where an objective's optimiser is chosen.

        To try another (the examples' ``--optimizer`` and ``--beta1``): ``optimizer`` "adam",
        "rmsprop" or "sgd" (plain SGD, no momentum) replaces the recipe's, keeping its learning
        rate unless ``lr`` is given; ``beta1`` replaces Adam's first beta (the second stays the
        recipe's: 0.999 where the recipe is not Adam)."""
        lr = self.lr if lr is None else lr
        name = self.optimizer if optimizer is None else optimizer
        if name not in ("adam", "rmsprop", "sgd"):
            raise ValueError(f"make_optimizer: optimizer must be 'adam', 'rmsprop' or 'sgd', got {name!r}")
        if beta1 is not None and name != "adam":
            raise ValueError(f"make_optimizer: beta1 is Adam's; the {name!r} optimiser has none (got beta1={beta1!r})")
        if name == "rmsprop":
            return RMSprop(params, lr=lr)
        if name == "sgd":
            return SGD(params, lr=lr)
        return Adam(params, lr=lr, betas=self.betas if beta1 is None else (beta1, self.betas[1]))

    def d_outputs(self, logits):
        """D's output on each image of a batch, as a NumPy array (on the CPU): the probability
        "real" for the BCE-based objectives, the raw score for the others, as ``mean_d_output``."""
        logits = logits.detach()
        outputs = F.sigmoid(logits) if self.outputs_probability else logits
        return outputs.numpy().reshape(-1)

    def mean_d_output(self, logits):
        """D's mean output on a batch, for the logs: the probability "real" (the sigmoid of the logit)
        for the BCE-based objectives, the raw score for the others."""
        logits = logits.detach()
        return float((F.sigmoid(logits) if self.outputs_probability else logits).mean().item())

    def _settings(self):
        """name=value strings for repr: the recipe, then any penalty, clipping or smoothing."""
        settings = [f"optimizer={self.optimizer!r}", f"lr={self.lr}"]
        settings += [f"betas={self.betas}"] if self.optimizer == "adam" else []
        settings += [f"n_critic={self.n_critic}"]
        settings += [f"clip_value={self.clip_value}"] if self.clip_value is not None else []
        settings += [f"penalty={self.penalty!r}"] if self.penalty is not None else []
        settings += [f"label_smoothing={self.label_smoothing}"] if self.label_smoothing else []
        return settings

    def __repr__(self):
        return f"{type(self).__name__}({', '.join(self._settings())})"


class MinimaxLoss(GANLoss):
    """The original GAN objective (Goodfellow et al. 2014), in its "saturating" minimax form.

    D minimises  mean softplus(-r) + mean softplus(f)   = -log D(x) - log(1 - D(G(z)))
    G minimises  -mean softplus(f)                      =  log(1 - D(G(z)))

    G's gradient is d/df [-softplus(f)] = -sigmoid(f): when D confidently rejects fakes (f << 0,
    as early in training) it is about -e^f, which vanishes, and G stops learning. Kept to show
    that failure; train with "nonsaturating" instead.

    With ``label_smoothing=s`` (one-sided, Salimans et al. 2016) D's target for real samples is
    1 - s: its real term becomes (1 - s) mean softplus(-r) + s mean softplus(r), the cross-entropy
    with that target, so D is never rewarded for being certain.
    """
    name = "minimax"
    outputs_probability = True  # D is a classifier: sigmoid(logit) is the probability "real"

    @property
    def equilibrium_d_output(self):
        """The best D for a fixed G is D*(x) = t p_data(x) / (p_data(x) + p_g(x)), with t = 1 - s
        the target for real images (1 without label smoothing); once p_g = p_data it is t / 2
        everywhere: 0.5, D can only guess."""
        return (1 - self.label_smoothing) / 2

    def _d_loss(self, r, f):
        s = self.label_smoothing
        real_term = F.softplus(-r).mean() if not s else (1 - s) * F.softplus(-r).mean() + s * F.softplus(r).mean()
        return real_term + F.softplus(f).mean()

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

    def __init__(self, a=0.0, b=1.0, c=1.0, **options):
        super().__init__(**options)
        self.a, self.b, self.c = (_number(v, k, "LSGANLoss") for v, k in ((a, "a"), (b, "b"), (c, "c")))

    @property
    def equilibrium_d_output(self):
        """The best D for a fixed G is D*(x) = (b p_data(x) + a p_g(x)) / (p_data(x) + p_g(x)) (the
        mean of the targets, weighted by how likely x is under each); once p_g = p_data it is
        (a + b) / 2 everywhere: 0.5 with the default targets."""
        return (self.a + self.b) / 2

    def _d_loss(self, r, f):
        return 0.5 * ((r - self.b) ** 2).mean() + 0.5 * ((f - self.a) ** 2).mean()

    def _g_loss(self, f):
        return 0.5 * ((f - self.c) ** 2).mean()

    def _settings(self):
        return [f"a={self.a}", f"b={self.b}", f"c={self.c}"] + super()._settings()


class WGANLoss(GANLoss):
    """Wasserstein GAN (Arjovsky et al. 2017): D is a "critic" giving scores, not probabilities.

    D minimises  mean f - mean r        (i.e. maximises the score gap mean r - mean f)
    G minimises  -mean f

    If the critic is 1-Lipschitz, the best score gap is the Wasserstein-1 (earth mover's) distance
    between the real and fake distributions, which gives G a useful gradient even where the two
    do not overlap. The original paper enforces the Lipschitz bound crudely, by clamping every
    critic weight into [-clip_value, clip_value] after each critic step (``clip_weights_``).
    Its recipe: RMSprop at lr 5e-5 (momentum made the critic unstable), 5 critic updates per G
    update so that the critic stays near its optimum, and clip_value 0.01.
    """
    name = "wgan"
    optimizer, lr, n_critic, clip_value = "rmsprop", 5e-5, 5, 0.01

    def _d_loss(self, r, f):
        return f.mean() - r.mean()

    def _g_loss(self, f):
        return -f.mean()


class WGANGPLoss(WGANLoss):
    """WGAN with gradient penalty (Gulrajani et al. 2017): WGAN's objectives, no weight clipping.

    D minimises  mean f - mean r + lambda * mean (||grad D(x_hat)|| - 1)^2     (x_hat: real/fake mixes)
    G minimises  -mean f

    ``d_loss`` gives the first two terms; the penalty needs D itself, so it is ``self.penalty``
    (a ``GradientPenalty(gp_lambda)``), called as ``loss.penalty(D, real, fake)``. The soft
    constraint trains far more reliably than clipping, which wastes the critic's capacity.
    Its recipe: lambda = 10, Adam at lr 1e-4 with betas (0.5, 0.9), 5 critic updates per G update.
    """
    name = "wgan-gp"
    optimizer, lr, betas, n_critic, clip_value = "adam", 1e-4, (0.5, 0.9), 5, None

    def __init__(self, gp_lambda=10.0, **options):
        super().__init__(gp_lambda=gp_lambda, **options)


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


def canonical_name(name):
    """The name ``LOSSES`` knows an objective by. Case, '-' and '_' do not matter, so "wgan_gp" and
    "WGAN-GP" give "wgan-gp" and "non-saturating" gives "nonsaturating"; anything else raises a
    ValueError that lists the valid names."""
    if not isinstance(name, str):
        raise TypeError(f"a GAN loss name must be a string such as 'nonsaturating', got {type(name).__name__}")
    key = name.strip().lower().replace("_", "").replace("-", "")
    for known in LOSSES:
        if known.replace("-", "") == key:
            return known
    valid = ", ".join(repr(n) for n in LOSSES)
    raise ValueError(f"unknown GAN loss {name!r}; valid names are {valid} (case, '-' and '_' do not matter)")


def get_loss(name="nonsaturating", **options):
    """The objective called ``name`` (one of ``LOSSES``, spelled as ``canonical_name`` allows),
    built with ``options``: those of every objective (``GANLoss``: penalty, gp_lambda, clip_value,
    n_critic, label_smoothing) and its own (``a``, ``b``, ``c`` for "lsgan"). A GANLoss passed in
    is returned as it is."""
    if isinstance(name, GANLoss):
        if options:
            raise TypeError(f"get_loss: got a {type(name).__name__} object and options {sorted(options)}; "
                            "pass options only with a name")
        return name
    return LOSSES[canonical_name(name)](**options)


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
    return float(check_number(who, name, value))


def _positive(value, name, who):
    return float(check_number(who, name, value, low=0, low_open=True))
