"""Learning-rate schedulers (``minigan.optim.lr_scheduler``): StepLR, ExponentialLR, LambdaLR and
CosineAnnealingLR.

* Each trajectory, two parameter groups over many epochs (the cosine past T_max, twice round),
  is checked against the closed form written here, to 1e-12 relative, and against PyTorch's
  step-by-step (recursive) form written here too, exactly: those are the floats PyTorch returns.
  (By hand, not here since tests never import torch: torch 2.13's ``get_last_lr()`` gave the
  same floats, bit for bit, over 300 epochs with two groups, for every scheduler below.)
* The mechanics: ``initial_lr`` and ``base_lrs``, epoch 0, the optimiser really using the rates,
  two schedulers on one optimiser, state dicts through ``minigan.save``, and the errors.
"""
import math

import numpy as np
import pytest

import minigan
from minigan.optim import SGD, Adam, lr_scheduler
from minigan.optim.lr_scheduler import CosineAnnealingLR, ExponentialLR, LambdaLR, LRScheduler, StepLR

BASES = (0.1, 0.03)  # the learning rates of the two parameter groups


def optimiser(lrs=BASES):
    """SGD with one parameter group per learning rate."""
    return SGD([{"params": [minigan.zeros(2, requires_grad=True)], "lr": lr} for lr in lrs], lr=1.0)


def rates(make, epochs, lrs=BASES):
    """The rates after 0, 1, ..., ``epochs`` calls of ``step()``: get_last_lr() each time, also
    checked against what the optimiser's groups hold."""
    opt = optimiser(lrs)
    scheduler = make(opt)
    out = []
    for epoch in range(epochs + 1):
        if epoch:
            opt.step()
            scheduler.step()
        assert scheduler.last_epoch == epoch
        assert scheduler.get_last_lr() == [group["lr"] for group in opt.param_groups]
        out.append(scheduler.get_last_lr())
    return out


# --- the formulas, written out ------------------------------------------------------------------

def step_closed(base, e, step_size, gamma):
    return base * gamma ** (e // step_size)                          # base · γ^⌊e / step_size⌋


def exponential_closed(base, e, gamma):
    return base * gamma ** e                                         # base · γ^e


def cosine_closed(base, e, T_max, eta_min):
    return eta_min + (base - eta_min) * (1 + math.cos(math.pi * e / T_max)) / 2


def recursive(base, epochs, next_lr):
    """lr_0 = base, lr_e = next_lr(lr_{e−1}, e): PyTorch's step-by-step form."""
    lrs = [base]
    for e in range(1, epochs + 1):
        lrs.append(next_lr(lrs[-1], e))
    return lrs


def step_next(step_size, gamma):
    # PyTorch's StepLR: "decays the learning rate of each parameter group by gamma every step_size epochs"
    return lambda lr, e: lr * gamma if e % step_size == 0 else lr


def exponential_next(gamma):
    # PyTorch's ExponentialLR: "decays the learning rate of each parameter group by gamma every epoch"
    return lambda lr, e: lr * gamma


def cosine_next(base, T_max, eta_min):
    """PyTorch's CosineAnnealingLR documentation:
    η_{t+1} = η_min + (η_t − η_min) (1 + cos((T_cur + 1) π / T_max)) / (1 + cos(T_cur π / T_max)),
    and η_{t+1} = η_t + (η_max − η_min) (1 − cos(π / T_max)) / 2 when T_cur = (2k + 1) T_max."""
    def next_lr(lr, e):
        if (e - 1 - T_max) % (2 * T_max) == 0:
            return lr + (base - eta_min) * (1 - math.cos(math.pi / T_max)) / 2
        return ((1 + math.cos(math.pi * e / T_max)) / (1 + math.cos(math.pi * (e - 1) / T_max))
                * (lr - eta_min) + eta_min)
    return next_lr


class Warmup:
    """A callable object (its state, ``epochs``, is saved by LambdaLR.state_dict): a linear warm-up
    over ``epochs`` epochs, then 0.9 per epoch."""

    def __init__(self, epochs):
        self.epochs = epochs

    def __call__(self, e):
        return min(1.0, (e + 1) / self.epochs) * 0.9 ** max(0, e - self.epochs)


def halving(e):
    return 0.5 ** (e // 3)


# (scheduler maker, epochs, closed form of (base, e), PyTorch's recursive step of (base) or None)
CASES = {
    "StepLR(step_size=7, gamma=0.1)": (
        lambda opt: StepLR(opt, step_size=7, gamma=0.1), 100,
        lambda base, e: step_closed(base, e, 7, 0.1), lambda base: step_next(7, 0.1)),
    "StepLR(step_size=3, gamma=0.7)": (
        lambda opt: StepLR(opt, step_size=3, gamma=0.7), 100,
        lambda base, e: step_closed(base, e, 3, 0.7), lambda base: step_next(3, 0.7)),
    "ExponentialLR(gamma=0.97)": (
        lambda opt: ExponentialLR(opt, gamma=0.97), 300,
        lambda base, e: exponential_closed(base, e, 0.97), lambda base: exponential_next(0.97)),
    "ExponentialLR(gamma=1.01)": (
        lambda opt: ExponentialLR(opt, gamma=1.01), 100,
        lambda base, e: exponential_closed(base, e, 1.01), lambda base: exponential_next(1.01)),
    "LambdaLR(one function)": (
        lambda opt: LambdaLR(opt, lambda e: 1 / (1 + e)), 100,
        lambda base, e: base * (1 / (1 + e)), None),
    "LambdaLR(a list, one per group)": (
        lambda opt: LambdaLR(opt, [Warmup(5), halving]), 60,
        None, None),  # two formulas: checked in test_lambda_lr_gives_each_group_its_own_function
    "CosineAnnealingLR(T_max=10)": (
        lambda opt: CosineAnnealingLR(opt, T_max=10), 65,
        lambda base, e: cosine_closed(base, e, 10, 0.0), lambda base: cosine_next(base, 10, 0.0)),
    "CosineAnnealingLR(T_max=7, eta_min=0.01)": (
        lambda opt: CosineAnnealingLR(opt, T_max=7, eta_min=0.01), 300,
        lambda base, e: cosine_closed(base, e, 7, 0.01), lambda base: cosine_next(base, 7, 0.01)),
}


@pytest.mark.parametrize("name", [name for name, case in CASES.items() if case[2] is not None])
def test_trajectory_matches_the_closed_form(name):
    make, epochs, closed, _ = CASES[name]
    got = rates(make, epochs)
    for e, lrs in enumerate(got):
        np.testing.assert_allclose(lrs, [closed(base, e) for base in BASES], rtol=1e-12, atol=1e-15,
                                   err_msg=f"epoch {e}")


@pytest.mark.parametrize("name", [name for name, case in CASES.items() if case[3] is not None])
def test_trajectory_is_pytorchs_recursive_form_to_the_last_bit(name):
    make, epochs, _, next_lr_for = CASES[name]
    got = rates(make, epochs)
    for i, base in enumerate(BASES):
        assert [lrs[i] for lrs in got] == recursive(base, epochs, next_lr_for(base)), f"group {i}"


def test_the_recursive_and_closed_forms_differ_so_the_exact_test_means_something():
    """After 300 epochs of ExponentialLR the two forms differ in the last digits (so matching the
    recursive form exactly is a real constraint), by far less than the 1e-12 tolerance above."""
    base, gamma = BASES[0], 0.97
    by_steps = recursive(base, 300, exponential_next(gamma))
    closed = [exponential_closed(base, e, gamma) for e in range(301)]
    assert sum(a != b for a, b in zip(by_steps, closed)) > 100
    np.testing.assert_allclose(by_steps, closed, rtol=1e-13)


def test_cosine_goes_on_past_t_max_with_a_period_of_2_t_max():
    """At T_max the rate is eta_min, at 2 T_max the base rate again, as in PyTorch."""
    lrs = [lr for lr, _ in rates(lambda opt: CosineAnnealingLR(opt, T_max=10, eta_min=0.001), 40)]
    assert lrs[10] == pytest.approx(0.001, abs=1e-15) and lrs[30] == pytest.approx(0.001, abs=1e-15)
    assert lrs[20] == pytest.approx(0.1, rel=1e-12) and lrs[40] == pytest.approx(0.1, rel=1e-12)
    assert all(a > b for a, b in zip(lrs[:10], lrs[1:11])) and all(a < b for a, b in zip(lrs[10:20], lrs[11:21]))


def test_lambda_lr_gives_each_group_its_own_function():
    got = rates(lambda opt: LambdaLR(opt, [Warmup(5), halving]), 60)
    warmup = Warmup(5)
    for e, (first, second) in enumerate(got):
        assert first == pytest.approx(BASES[0] * warmup(e), rel=1e-12)
        assert second == pytest.approx(BASES[1] * halving(e), rel=1e-12)
    assert got[0][0] == pytest.approx(0.02)  # base · λ(0) = 0.1 · 1/5, set when the scheduler is made


# --- mechanics -----------------------------------------------------------------------------------

def test_initial_lr_base_lrs_and_epoch_0_as_pytorch():
    """Making a scheduler stores each group's lr as "initial_lr" (base_lrs), sets last_epoch = 0
    and leaves lr as it is, except LambdaLR, which sets base · λ(0). A group that already has an
    "initial_lr" (from a first scheduler, or an optimiser's state dict) keeps it."""
    opt = optimiser()
    scheduler = ExponentialLR(opt, gamma=0.5)
    assert [g["initial_lr"] for g in opt.param_groups] == list(BASES) == scheduler.base_lrs
    assert scheduler.last_epoch == 0 and scheduler.get_last_lr() == list(BASES)
    scheduler.step()
    second = LambdaLR(opt, lambda e: 2.0)  # base rates: the initial_lr, not the current lr
    assert second.base_lrs == list(BASES)
    assert [g["lr"] for g in opt.param_groups] == [2 * b for b in BASES]


def test_the_optimiser_steps_with_the_scheduled_rate():
    """SGD with a gradient of 1: in epoch e the parameter moves by exactly lr_e."""
    w = minigan.zeros(1, dtype="float64", requires_grad=True)
    opt = SGD([w], lr=0.5)
    scheduler = StepLR(opt, step_size=2, gamma=0.5)
    moved = []
    for epoch in range(6):
        before = w.item()
        w.grad = minigan.ones(1, dtype="float64")
        opt.step()
        moved.append(before - w.item())
        scheduler.step()
    assert moved == [0.5, 0.5, 0.25, 0.25, 0.125, 0.125]


def test_two_schedulers_on_one_optimiser_multiply():
    """PyTorch's recursive forms chain: ExponentialLR and StepLR together give base · γ1^e · γ2^⌊e/3⌋."""
    opt = optimiser()
    first, second = ExponentialLR(opt, gamma=0.9), StepLR(opt, step_size=3, gamma=0.5)
    for e in range(1, 20):
        opt.step()
        first.step()
        second.step()
        expected = [base * 0.9 ** e * 0.5 ** (e // 3) for base in BASES]
        np.testing.assert_allclose([g["lr"] for g in opt.param_groups], expected, rtol=1e-12)


def test_numpy_hyperparameters_give_python_floats():
    """np.float64(0.5) as gamma (from a config file, say) still writes Python floats into the
    groups, so a float32 update never turns float64 under NumPy 2's rules."""
    opt = optimiser()
    for scheduler in (StepLR(opt, np.int64(2), np.float64(0.5)), ExponentialLR(opt, np.float64(0.5)),
                      CosineAnnealingLR(opt, np.int64(4), np.float64(0.001)),
                      LambdaLR(opt, lambda e: np.float64(0.5) ** e)):
        for _ in range(3):
            scheduler.step()
        assert all(type(g["lr"]) is float for g in opt.param_groups), type(scheduler).__name__
        assert all(type(value) in (int, float, list) for value in scheduler.state_dict().values())


def test_get_last_lr_is_a_copy():
    opt = optimiser()
    scheduler = StepLR(opt, 2)
    scheduler.get_last_lr()[0] = 123.0
    assert scheduler.get_last_lr() == list(BASES)


def test_names_as_in_pytorch():
    assert lr_scheduler._LRScheduler is LRScheduler
    assert all(issubclass(cls, LRScheduler) for cls in (StepLR, ExponentialLR, LambdaLR, CosineAnnealingLR))
    assert minigan.optim.StepLR is StepLR and minigan.optim.lr_scheduler is lr_scheduler


# --- state dicts ---------------------------------------------------------------------------------

RESUME_CASES = {
    "StepLR": lambda opt: StepLR(opt, step_size=4, gamma=0.5),
    "ExponentialLR": lambda opt: ExponentialLR(opt, gamma=0.9),
    "LambdaLR": lambda opt: LambdaLR(opt, [Warmup(3), halving]),
    "CosineAnnealingLR": lambda opt: CosineAnnealingLR(opt, T_max=6, eta_min=0.001),
}


@pytest.mark.parametrize("name", RESUME_CASES)
def test_state_dict_round_trip_through_minigan_save_resumes_the_same_rates(tmp_path, name):
    """7 epochs, save the optimiser's and the scheduler's state dicts to a file; a fresh optimiser
    and scheduler load them, and the next 15 epochs give the rates of the uninterrupted run,
    bit for bit."""
    make = RESUME_CASES[name]
    reference = rates(make, 22)

    opt = optimiser()
    scheduler = make(opt)
    for _ in range(7):
        opt.step()
        scheduler.step()
    path = tmp_path / "checkpoint.npz"
    minigan.save({"optimizer": opt.state_dict(), "scheduler": scheduler.state_dict()}, path)

    fresh_opt = optimiser(lrs=(0.5, 0.5))   # other rates: everything must come from the file
    fresh = make(fresh_opt)
    saved = minigan.load(path)
    fresh_opt.load_state_dict(saved["optimizer"])
    fresh.load_state_dict(saved["scheduler"])
    assert fresh.last_epoch == 7 and fresh.get_last_lr() == reference[7] and fresh.base_lrs == list(BASES)
    for epoch in range(8, 23):
        fresh_opt.step()
        fresh.step()
        assert fresh.get_last_lr() == reference[epoch], f"epoch {epoch}"


def test_state_dict_holds_everything_but_the_optimiser_and_the_functions():
    opt = optimiser()
    step = StepLR(opt, step_size=4, gamma=0.5)
    assert step.state_dict() == dict(step_size=4, gamma=0.5, base_lrs=list(BASES), last_epoch=0,
                                     _last_lr=list(BASES))
    warmup = Warmup(3)
    lam = LambdaLR(opt, [warmup, halving])
    state = lam.state_dict()
    assert state["lr_lambdas"] == [{"epochs": 3}, None]  # an object's attributes; nothing for a function
    warmup.epochs = 10
    assert state["lr_lambdas"][0] == {"epochs": 3}   # a snapshot
    cosine = CosineAnnealingLR(opt, T_max=5)
    assert set(cosine.state_dict()) == {"T_max", "eta_min", "base_lrs", "last_epoch", "_last_lr"}


def test_lambda_lr_restores_a_callable_objects_attributes():
    opt = optimiser()
    saved = LambdaLR(opt, [Warmup(3), halving]).state_dict()
    again = Warmup(8)
    fresh = LambdaLR(optimiser(), [again, halving])
    fresh.load_state_dict(saved)
    assert again.epochs == 3 and fresh.lr_lambdas[1] is halving


def test_load_state_dict_refuses_what_does_not_fit_and_changes_nothing():
    opt = optimiser()
    scheduler = StepLR(opt, step_size=4, gamma=0.5)
    for _ in range(5):
        scheduler.step()
    before = scheduler.state_dict()

    cosine = CosineAnnealingLR(optimiser(), T_max=5).state_dict()
    with pytest.raises(ValueError, match=r"StepLR.load_state_dict expected a dict with the keys \['_last_lr', "
                                         r"'base_lrs', 'gamma', 'last_epoch', 'step_size'\].*got \['T_max', "
                                         r"'_last_lr', 'base_lrs', 'eta_min', 'last_epoch'\].*another type"):
        scheduler.load_state_dict(cosine)
    with pytest.raises(ValueError, match=r"expected a dict with the keys .* got list"):
        scheduler.load_state_dict([])

    def altered(**changes):
        return {**before, **changes}

    with pytest.raises(ValueError, match=r"base_lrs should be a list of 2 learning rate\(s\), one per "
                                         r"parameter group, got \[0.1\]"):
        scheduler.load_state_dict(altered(base_lrs=[0.1]))
    with pytest.raises(ValueError, match=r"_last_lr\[1\] must be a number >= 0, got -0.5"):
        scheduler.load_state_dict(altered(_last_lr=[0.1, -0.5]))
    with pytest.raises(ValueError, match=r"last_epoch must be a non-negative int, got -1"):
        scheduler.load_state_dict(altered(last_epoch=-1))
    with pytest.raises(ValueError, match=r"StepLR.load_state_dict: step_size must be a positive int, got 0"):
        scheduler.load_state_dict(altered(step_size=0))
    with pytest.raises(TypeError, match=r"gamma must be a number, got str"):
        scheduler.load_state_dict(altered(gamma="0.5"))
    assert scheduler.state_dict() == before

    lam = LambdaLR(optimiser(), [halving, halving])
    with pytest.raises(ValueError, match=r"lr_lambdas\[0\] holds the attributes of a callable object, but "
                                         r"this LambdaLR's function 0 is a plain function"):
        lam.load_state_dict(LambdaLR(optimiser(), [Warmup(3), halving]).state_dict())


def test_load_state_dict_accepts_numbers_as_a_file_may_give_them_back():
    opt = optimiser()
    scheduler = ExponentialLR(opt, gamma=0.5)
    scheduler.step()
    saved = scheduler.state_dict()
    mangled = {key: np.array(value) for key, value in saved.items()}
    fresh = ExponentialLR(optimiser(), gamma=0.9)
    fresh.load_state_dict(mangled)
    assert fresh.state_dict() == saved
    assert type(fresh.last_epoch) is int and all(type(lr) is float for lr in fresh.base_lrs)


# --- bad input -----------------------------------------------------------------------------------

@pytest.mark.parametrize("make, error, message", [
    (lambda opt: StepLR(opt.param_groups, 3), TypeError,
     r"StepLR expected an optimiser such as minigan.optim.Adam\(...\), got list"),
    (lambda opt: StepLR(opt, 0), ValueError, r"StepLR: step_size must be a positive int, got 0"),
    (lambda opt: StepLR(opt, 2.5), ValueError, r"StepLR: step_size must be a positive int, got 2.5"),
    (lambda opt: StepLR(opt, 3, gamma=-0.1), ValueError, r"StepLR: gamma must be a number >= 0, got -0.1"),
    (lambda opt: ExponentialLR(opt, "0.9"), TypeError, r"ExponentialLR: gamma must be a number, got str"),
    (lambda opt: ExponentialLR(opt, float("nan")), ValueError, r"gamma must be a number >= 0, got nan"),
    (lambda opt: CosineAnnealingLR(opt, 0), ValueError, r"CosineAnnealingLR: T_max must be a positive int, got 0"),
    (lambda opt: CosineAnnealingLR(opt, 10, eta_min=-1e-3), ValueError, r"eta_min must be a number >= 0"),
    (lambda opt: LambdaLR(opt, 0.5), TypeError,
     r"LambdaLR: lr_lambda must be a function of the epoch, or a list of them \(one per parameter group\), got float"),
    (lambda opt: LambdaLR(opt, [halving]), ValueError,
     r"LambdaLR: expected 2 lr_lambdas, one per parameter group, got 1"),
    (lambda opt: LambdaLR(opt, [halving, 2.0]), TypeError, r"lr_lambda\[1\] must be a function of the epoch, got float"),
    (lambda opt: LambdaLR(opt, lambda e: -1.0), ValueError, r"LambdaLR: lr_lambda\(0\) must be a number >= 0, got -1.0"),
    (lambda opt: LambdaLR(opt, lambda e: None), TypeError, r"LambdaLR: lr_lambda\(0\) must be a number, got NoneType"),
])
def test_bad_arguments_are_named(make, error, message):
    with pytest.raises(error, match=message):
        make(optimiser())


def test_a_group_added_after_the_scheduler_is_refused_at_the_next_step():
    opt = Adam([minigan.zeros(2, requires_grad=True)])
    scheduler = ExponentialLR(opt, gamma=0.5)
    opt.add_param_group({"params": [minigan.zeros(3, requires_grad=True)]})
    with pytest.raises(ValueError, match=r"ExponentialLR.step: the optimiser has 2 parameter group\(s\) but the "
                                         r"scheduler has 1 base rate\(s\); make the scheduler after adding every group"):
        scheduler.step()


def test_the_base_class_needs_get_lr():
    with pytest.raises(NotImplementedError, match=r"LRScheduler must define get_lr"):
        LRScheduler(optimiser())
