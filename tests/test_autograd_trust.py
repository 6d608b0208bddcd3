"""Autograd under misuse: the guarantees PyTorch gives, checked one by one.

Each test here failed on minigan before issue 8 (see that commit): gradients that came out right
only by luck of memory layout, silently wrong after an in-place change, a grad mode shared by all
threads, a graph that could be walked twice, a Function instance that could be one node only,
and Python numbers that turned float32 work into float64.
"""
import threading

import numpy as np
import pytest

import minigan
import minigan.functional as F
from minigan import nn, optim


# --- 2. a deterministic backward order -----------------------------------------------------------

def test_gradient_sums_in_the_same_order_whatever_the_memory_layout():
    """x reaches the loss through three products of the same generation, contributing 1e8, -1e8
    and 1: exactly 1 in all, but in float32 the sum is 0 or 1 depending on the order of addition.
    That order must be fixed by the graph, not by where the three Mul nodes sit in memory (the
    walk used to break ties by address). Freeing a random one of 64 placeholder objects just
    before each Mul is made puts each node at a random one of those 64 addresses."""

    class Placeholder(minigan.Function):  # the same size as a Function node, never called
        pass

    rng = np.random.default_rng(0)
    results = set()
    for _ in range(100):
        pool = [Placeholder() for _ in range(64)]
        x = minigan.tensor([1.0], requires_grad=True)
        i, j, k = rng.choice(64, 3, replace=False)
        pool[i] = None
        a = x * 1e8
        pool[j] = None
        b = x * -1e8
        pool[k] = None
        c = x * 1.0
        (a + b + c).sum().backward()
        results.add(float(x.grad.data[0]))
    assert len(results) == 1, results


def test_equal_generations_run_latest_created_first():
    """Two ops of the same generation: the one created last runs first (as a tape would)."""
    order = []

    class Spy(minigan.Function):
        def __init__(self, name):
            self.name = name

        def forward(self, x):
            return x * 1

        def backward(self, gy):
            order.append(self.name)
            return gy

    x = minigan.tensor([1.0], requires_grad=True)
    (Spy("first")(x) + Spy("second")(x)).sum().backward()
    assert order == ["second", "first"]


# --- 3. in-place changes after recording are detected -----------------------------------------

def test_optimizer_step_between_forward_and_backward_is_refused():
    """The classic GAN bug: D's optimiser steps after G's loss went through D and before
    g_loss.backward(). The gradient would use D's new weights with the old activations."""
    D = nn.Linear(4, 1)
    opt_d = optim.Adam(D.parameters(), lr=0.1)
    fake = minigan.randn(8, 4, requires_grad=True)
    g_loss = D(fake).mean()
    D(minigan.randn(8, 4)).mean().backward()
    v = D.weight._version
    opt_d.step()
    with pytest.raises(RuntimeError, match=rf"modified by an inplace operation: input 1 of LinearOp, "
                                           rf"a float32 tensor of shape \(1, 4\), is at version {v + 1}; "
                                           rf"expected version {v}"):
        g_loss.backward()


@pytest.mark.parametrize("change", ["data_assignment", "augmented", "write", "clip_weights"])
def test_every_in_place_write_counts(change):
    """Each way minigan changes a tensor's values in place bumps its version."""
    w = minigan.randn(3, requires_grad=True)
    x = minigan.randn(3)
    y = (w * x).sum()
    before = w._version
    if change == "data_assignment":
        w.data = w.data * 2
    elif change == "augmented":
        w.data *= 2                       # reads .data, then assigns the result back
    elif change == "write":
        w._write(0.0)
    else:
        minigan.gan.losses.clip_weights_([w], 0.01)
    assert w._version == before + 1
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_initialisers_count_as_in_place_writes():
    w = minigan.zeros(3, 3, requires_grad=True)
    y = (w * 2).sum()  # Mul saves w
    nn.init.normal_(w)
    with pytest.raises(RuntimeError, match="input 0 of MulOp"):
        y.backward()


def test_changing_an_input_whose_values_backward_does_not_need_is_fine():
    """As in PyTorch: a + b needs no values of a or b for its gradient, so changing a afterwards
    is no error (and the gradient is still right)."""
    a = minigan.randn(3, requires_grad=True)
    y = (a + 1.0).sum()
    a.data = a.data + 5
    y.backward()
    np.testing.assert_array_equal(a.grad.numpy(), np.ones(3, np.float32))


def test_changing_a_saved_output_is_refused():
    """exp's backward uses its output y = e^x; changing y in place would change the gradient."""
    x = minigan.randn(3, requires_grad=True)
    y = F.exp(x)
    loss = y.sum()  # sum needs no values, so only Exp's own check can fire
    y.data = y.data * 0
    with pytest.raises(RuntimeError, match="the output of ExpOp"):
        loss.backward()


# --- 4. grad mode belongs to a thread ----------------------------------------------------------

def test_no_grad_in_one_thread_does_not_switch_off_another():
    inside, release = threading.Event(), threading.Event()
    seen = {}

    def evaluator():
        with minigan.no_grad():
            seen["evaluator"] = minigan.is_grad_enabled()
            inside.set()
            release.wait(5)

    def trainer():
        inside.wait(5)
        seen["trainer"] = minigan.is_grad_enabled()
        w = minigan.randn(2, requires_grad=True)
        seen["trainer_records"] = (w * 2).sum().requires_grad
        release.set()

    threads = [threading.Thread(target=evaluator), threading.Thread(target=trainer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert seen == {"evaluator": False, "trainer": True, "trainer_records": True}
    assert minigan.is_grad_enabled()


def test_one_no_grad_object_shared_by_threads_restores_each_threads_mode():
    """Interleaved entries and exits of one shared context object: with the previous mode kept
    on the object (as before), the second exit restored the first thread's mode."""
    shared = minigan.no_grad()
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
    after = {}

    def a():
        with minigan.enable_grad():
            with shared:
                a_in.set()
                b_in.wait(5)
            after["a"] = minigan.is_grad_enabled()
            a_out.set()

    def b():
        a_in.wait(5)
        with minigan.set_grad_enabled(False):  # b's own mode is off before it enters
            with shared:
                b_in.set()
                a_out.wait(5)
            after["b"] = minigan.is_grad_enabled()

    threads = [threading.Thread(target=a), threading.Thread(target=b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert after == {"a": True, "b": False}
    assert minigan.is_grad_enabled()


def test_grad_mode_is_restored_after_an_exception_in_a_thread():
    result = {}

    def work():
        try:
            with minigan.no_grad():
                raise KeyError("boom")
        except KeyError:
            result["mode"] = minigan.is_grad_enabled()

    t = threading.Thread(target=work)
    t.start()
    t.join(10)
    assert result == {"mode": True}


# --- 5. a graph is walked once unless retained -------------------------------------------------

def test_second_backward_raises_unless_the_graph_was_retained():
    x = minigan.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()                            # allowed: the first pass kept the graph
    np.testing.assert_array_equal(x.grad.numpy(), [4.0, 8.0])   # 2x, twice
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [4.0, 8.0])   # and nothing was added


def test_grad_frees_the_graph_unless_retained_and_create_graph_retains():
    x = minigan.tensor([3.0], requires_grad=True)
    y = (x * x * x).sum()
    gx, = minigan.grad(y, x, create_graph=True)          # keeps the graph: gx refers to it
    ggx, = minigan.grad(gx.sum(), x)                     # 6x
    np.testing.assert_allclose(ggx.numpy(), [18.0])
    with pytest.raises(RuntimeError, match="second time"):
        minigan.grad(gx.sum(), x)


def test_backward_releases_what_the_graph_saved():
    """After backward (without retain_graph) the activations a graph saved are freed, even while
    the loss tensor itself is still alive, as in PyTorch."""
    import weakref
    w = minigan.randn(64, 64, requires_grad=True)
    h = F.tanh(minigan.randn(32, 64) @ w)
    saved = weakref.ref(h.data)
    loss = (h * h).mean()
    del h
    assert saved() is not None
    loss.backward()
    assert saved() is None
    assert loss.creator is not None  # the node is still there, marked as used


# --- 6. one call, one graph node -----------------------------------------------------------------

def test_reusing_a_function_instance_makes_separate_nodes():
    from minigan.ops.elementwise import ExpOp as Exp
    f = Exp()
    x = minigan.tensor([0.5], requires_grad=True)
    y = minigan.tensor([-1.0], requires_grad=True)
    (f(x) + f(y)).backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp([0.5]), rtol=1e-6)
    np.testing.assert_allclose(y.grad.numpy(), np.exp([-1.0]), rtol=1e-6)
    x.grad = None
    f(x).backward()  # the instance is still usable on its own
    np.testing.assert_allclose(x.grad.numpy(), np.exp([0.5]), rtol=1e-6)


def test_a_reused_instance_keeps_its_constructor_arguments_only():
    """The fresh node is a copy of the instance as it was built, not as a forward left it."""
    from minigan.ops.nonlinear import LeakyReLUOp as LeakyReLU
    f = LeakyReLU(0.1)
    a = minigan.tensor([-1.0, 2.0], requires_grad=True)
    b = minigan.tensor([3.0, -4.0], requires_grad=True)
    (f(a) * f(b)).sum().backward()
    # d/da = slope(a) * f(b) with f(b) = [3, -0.4];  d/db = slope(b) * f(a) with f(a) = [-0.1, 2]
    np.testing.assert_allclose(a.grad.numpy(), [0.1 * 3.0, 1.0 * -0.4], rtol=1e-6)
    np.testing.assert_allclose(b.grad.numpy(), [1.0 * -0.1, 0.1 * 2.0], rtol=1e-6)


# --- 7. Python numbers follow the tensors' float dtype ----------------------------------------

class Scale(minigan.Function):
    """y = x * s;  backward: gx = gy * s, gs = sum(gy * x)"""

    def forward(self, x, s):
        return x * s

    def backward(self, gy):
        x, s = self.inputs
        return gy * s, None


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_number_passed_to_a_custom_op_takes_the_tensors_dtype(dtype):
    x = minigan.randn(3, dtype=dtype, requires_grad=True)
    for number in (0.5, 2, np.float64(0.5), np.int64(3)):
        y = Scale()(x, number)
        assert y.dtype == np.dtype(dtype), (number, y.dtype)
    Scale()(x, 0.5).sum().backward()
    assert x.grad.dtype == np.dtype(dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_lists_of_python_floats_take_the_tensors_dtype(dtype):
    x = minigan.rand(2, 3, dtype=dtype)
    assert (x / [1.0, 2.0, 4.0]).dtype == np.dtype(dtype)
    assert ([0.5, 1.5, 2.5] - x).dtype == np.dtype(dtype)


def test_python_floats_make_float32_tensors_everywhere():
    assert minigan.Tensor(0.5).dtype == np.float32
    assert minigan.Tensor([0.5, 1.5]).dtype == np.float32
    assert minigan.tensor(0.5).dtype == np.float32
    assert minigan.Tensor(np.float64(0.5)).dtype == np.float64  # a NumPy float64 says what it is
    assert minigan.Tensor(3).dtype.kind == "i"
    assert Scale()(0.5, 2.0).dtype == np.float32                # numbers alone


# --- the same mechanisms on the GPU (CuPy, or the stand-in that tests use for it) ------------------

@pytest.mark.gpu
def test_version_counter_on_the_gpu():
    D = nn.Linear(4, 1).to("gpu")
    opt = optim.SGD(D.parameters(), lr=0.1)
    out = D(minigan.randn(2, 4, device="gpu")).sum()
    D(minigan.randn(2, 4, device="gpu")).sum().backward()
    opt.step()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.backward()


@pytest.mark.gpu
def test_a_number_beside_a_gpu_tensor_goes_to_the_gpu():
    x = minigan.randn(3, device="gpu", requires_grad=True)
    y = Scale()(x, 0.5)
    assert y.device == "gpu" and y.dtype == np.float32
    y.sum().backward()
    assert x.grad.device == "gpu"
    z = x * [1.0, 2.0, 3.0]  # a list goes to the device of the tensor it meets
    assert z.device == "gpu" and z.dtype == np.float32


# --- views and detach() share the version counter (as in PyTorch) ----------------------------

def _graph_that_saves(x):
    return (x * x).sum()  # mul saves x for its backward


def test_an_in_place_change_through_detach_is_seen_by_a_graph_that_saved_the_original():
    x = minigan.tensor(np.arange(1.0, 5.0), requires_grad=True)
    loss = _graph_that_saves(x)
    d = x.detach()
    with minigan.no_grad():
        d += 1  # writes into x's memory
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


@pytest.mark.parametrize("view", [lambda t: t.reshape(2, 2), lambda t: t[1:], lambda t: t.T,
                                  lambda t: t.reshape(4, 1).broadcast_to((4, 3))[:, 0]],
                         ids=["reshape", "slice", "transpose", "broadcast_then_slice"])
def test_an_in_place_change_through_a_view_is_seen_by_a_graph_that_saved_the_original(view):
    x = minigan.tensor(np.arange(1.0, 5.0), requires_grad=True)
    loss = _graph_that_saves(x)
    with minigan.no_grad():
        v = view(x)
        if np.shares_memory(v.data, x.data) and v.data.flags.writeable:
            v *= 2
        else:  # broadcast_to gives a read-only view: change the base instead, which the view sees
            x.data[...] *= 2
            x._version += 1
    assert v._version == x._version == 1
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


def test_a_copy_made_by_reshape_keeps_its_own_counter():
    x = minigan.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    loss = _graph_that_saves(x)
    with minigan.no_grad():
        c = x.T.reshape(6)  # not contiguous: NumPy copies, so c owns its memory
        assert not np.shares_memory(c.data, x.data)
        c += 1
    assert x._version == 0
    loss.backward()  # x is untouched: backward runs
    np.testing.assert_array_equal(x.grad.data, 2 * x.data)
