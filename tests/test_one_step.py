"""One GAN training step, in one place (issue 9): ``examples/mnist_gan.py`` (its step 6) and
``Trainer.fit`` run the same code, ``minigan/gan/step.py``'s ``train_step``, and the objective
decides everything about itself.

The main check runs the example in this process (``main(argv)`` with ``--smoke``: 256 bundled
digits, 8 steps) and a ``Trainer.fit`` set up here from minigan alone with the same seed and
settings, and asks for the same weights, bit for bit, for every objective: plain (``--codes 0``),
``--conditional``, and the default's InfoGAN code (``Trainer(codes=...)``, whose step is
``info_step``). Any difference between the two loops (a random draw in another order, a penalty or
a clip applied by one only, another optimiser) shows up in the last bits.
"""
import os
import re

import numpy as np
import pytest

import minigan
from minigan import data, gan
from minigan.gan import LOSSES, GradientPenalty, Trainer, get_loss
from minigan.gan.models import build

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEED = 3  # not the default 0, so that the example is seen to use --seed


def networks(mode):
    """The example's MLP networks (width 0.5, D's dropout 0.3) for mode "plain", "conditional" or
    "codes" (InfoGAN's 20-value code, the default), and the Codes (None but for "codes")."""
    if mode == "codes":
        codes = gan.Codes(noise_dim=62, categories=20, continuous=2)
        return (*gan.build_info("mlp", codes, width=0.5, dropout=0.3), codes)
    return (*build("mlp", z_dim=100, num_classes=10 if mode == "conditional" else None, width=0.5, dropout=0.3), None)


def fit_as_the_example_does(loss, mode):
    """What ``mnist_gan.py --smoke --seed 3 --loss <loss> (--codes 0 | --conditional | default)``
    trains, built here from minigan's own pieces and trained with Trainer.fit: the first 256
    training digits in [-1, 1], batches of 64 shuffled by the seed, the MLP networks, the
    objective's recipe, an EMA of G with decay 0.999, and 2 epochs (8 steps)."""
    minigan.manual_seed(SEED)
    dataset = data.mnist("train", verbose=False)
    images = data.to_unit_range(dataset.images)[:256, None]
    labels = dataset.labels.astype(np.int64)[:256]
    loader = data.DataLoader((images, labels), batch_size=64, shuffle=True, drop_last=True, seed=SEED, device="cpu")
    num_classes = 10 if mode == "conditional" else None
    G, D, codes = networks(mode)
    trainer = Trainer(G, D, loss, z_dim=100, num_classes=num_classes, codes=codes, ema_decay=0.999, seed=SEED,
                      progress=False, device="cpu")
    trainer.fit(loader, epochs=2)
    return trainer


def assert_same(a, b, where="state"):
    """Two nested states (dicts, lists, arrays, numbers) are equal bit for bit; NaN equals NaN."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), where
        for key in a:
            assert_same(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, (list, tuple)):
        assert isinstance(b, (list, tuple)) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.tobytes() == b.tobytes(), where
    else:
        assert a == b, where


CASES = [(loss, mode) for mode in ("plain", "conditional", "codes") for loss in LOSSES]
FLAGS = {"plain": ["--codes", "0"], "conditional": ["--conditional"], "codes": []}


@pytest.mark.parametrize("loss, mode", CASES, ids=[f"{loss}-{mode}" for loss, mode in CASES])
def test_the_example_and_trainer_fit_end_with_bit_identical_weights(example, tmp_path, loss, mode):
    """Same seed, same settings: the example's loop and Trainer.fit end with the same G and D
    (weights and buffers), the same optimiser moments, the same EMA of G, the same history and
    the same RNG state, bit for bit."""
    argv = ["--smoke", "--quiet", "--device", "cpu", "--seed", str(SEED), "--loss", loss, "--out", str(tmp_path)]
    ran = example.main(argv + FLAGS[mode])
    fitted = fit_as_the_example_does(loss, mode)

    assert ran.step == fitted.step == 8
    assert_same(ran.state_dict(), fitted.state_dict())
    # and the runs did train: G was updated (once in 8 steps for the Wasserstein losses' n_critic = 5)
    assert sum(np.isfinite(ran.history["g_grad_norm"])) == 8 // get_loss(loss).n_critic
    minigan.manual_seed(SEED)
    G0 = networks(mode)[0]
    assert any(not np.array_equal(a.numpy(), b.numpy()) for a, b in zip(G0.parameters(), ran.G.parameters()))


def test_an_option_given_to_the_trainer_is_what_its_objective_reports_and_applies():
    """Trainer(loss="wgan-gp", gp_lambda=5) penalises with 5 and its objective says 5 (it used to
    say 10); passing that objective instead of the option trains exactly the same run."""
    def run(loss, **options):
        minigan.manual_seed(0)
        G, D = build("mlp", z_dim=8, width=0.125)
        trainer = Trainer(G, D, loss, z_dim=8, progress=False, n_samples=8, **options)
        for batch in np.random.default_rng(1).uniform(-1, 1, (5, 4, 1, 28, 28)).astype(np.float32):
            trainer.train_step(minigan.tensor(batch))
        return trainer

    by_option = run("wgan-gp", gp_lambda=5)
    assert by_option.objective.penalty == GradientPenalty(5.0)
    assert "GradientPenalty(lambda_=5.0, center=1.0)" in repr(by_option.objective)
    by_objective = run(get_loss("wgan-gp", gp_lambda=5.0))
    assert_same(by_option.state_dict(), by_objective.state_dict())
    default = run("wgan-gp")
    assert default.objective.penalty == GradientPenalty(10.0)
    assert any(not np.array_equal(a.numpy(), b.numpy()) for a, b in zip(default.D.parameters(), by_option.D.parameters()))

    assert run("wgan", n_critic=2, clip_value=0.02).objective.n_critic == 2
    assert get_loss("wgan", clip_value=0.02).clip_value == 0.02
    assert Trainer(*build("mlp", z_dim=8, width=0.125), "hinge", z_dim=8, gp_lambda=1.0,
                   progress=False).objective.penalty == GradientPenalty(1.0)
    with pytest.raises(TypeError, match="pass options only with a name"):
        Trainer(*build("mlp", z_dim=8, width=0.125), get_loss("wgan"), z_dim=8, n_critic=2, progress=False)


def test_each_objective_has_one_name_and_every_spelling_of_it_works_everywhere(example, capsys):
    """'wgan_gp', 'WGAN-GP' and 'wgan-gp' are one objective in get_loss, the Trainer, and the
    example's --loss; an unknown name fails with the list of valid names in all three."""
    G, D = build("mlp", z_dim=8, width=0.125)
    for spelling in ("wgan_gp", "WGAN-GP", "wgan-gp"):
        assert get_loss(spelling).name == "wgan-gp"
        assert Trainer(G, D, spelling, z_dim=8, progress=False).loss_name == "wgan-gp"
        assert example.parse_args(["--loss", spelling]).loss == "wgan-gp"
    assert example.parse_args(["--loss", "Non_Saturating"]).loss == "nonsaturating"

    valid = ", ".join(repr(name) for name in LOSSES)
    for make in (lambda: get_loss("wasserstein"), lambda: Trainer(G, D, "wasserstein", z_dim=8)):
        with pytest.raises(ValueError, match=re.escape(f"unknown GAN loss 'wasserstein'; valid names are {valid}")):
            make()
    with pytest.raises(SystemExit):
        example.parse_args(["--loss", "wasserstein"])
    assert f"unknown GAN loss 'wasserstein'; valid names are {valid}" in capsys.readouterr().err


def test_only_the_objective_knows_which_objective_it_is():
    """No `if loss == "wgan-gp"` outside losses.py, and no optimiser built anywhere but in its
    make_optimizer: in minigan/gan/ and in the two GAN examples."""
    files = [os.path.join(ROOT, "minigan", "gan", name) for name in sorted(os.listdir(os.path.join(ROOT, "minigan", "gan")))
             if name.endswith(".py") and name != "losses.py"]
    files += [os.path.join(ROOT, "examples", name) for name in ("mnist_gan.py", "toy_2d.py")]
    names = "|".join(re.escape(name) for name in LOSSES)
    asks = re.compile(rf"""(==|!=|\bin)\s*[(\[{{]?\s*["']({names})["']|["']({names})["']\s*(==|!=)""")
    builds = re.compile(r"\b(Adam|RMSprop|SGD)\(")
    for path in files:
        for number, line in enumerate(open(path, encoding="utf-8"), 1):
            where = f"{os.path.relpath(path, ROOT)}:{number}: {line.strip()}"
            assert not asks.search(line), f"asks which objective it has (the objective should say): {where}"
            assert not builds.search(line), f"builds an optimiser (objective.make_optimizer should): {where}"

