"""Graphs must not leak: after each training step the whole graph of that step is freed.

minigan's design makes this hold by reference counting alone: a Function holds its inputs
strongly but its outputs only weakly, so tensor -> creator -> inputs -> ... never loops back.
Then dropping the loss frees the graph at once, with no help from the cycle collector. These
tests switch the collector OFF and check that the number of live tensors, and the memory
Python has allocated, stay flat over hundreds of steps.
"""
import gc
import tracemalloc

import numpy as np
import pytest

import minigan
import minigan.functional as F


def live_tensors():
    """How many minigan Tensors exist right now (Tensors are tracked by the gc module)."""
    return sum(1 for o in gc.get_objects() if isinstance(o, minigan.Tensor))


class MLP:
    """A 2-layer MLP built directly from minigan ops, with a manual SGD step."""

    def __init__(self, n_in=16, n_hidden=64, n_out=1, seed=0):
        rng = np.random.default_rng(seed)
        self.params = [
            minigan.tensor(rng.normal(size=(n_hidden, n_in)) * 0.1, dtype="float32", requires_grad=True),
            minigan.tensor(np.zeros(n_hidden), dtype="float32", requires_grad=True),
            minigan.tensor(rng.normal(size=(n_out, n_hidden)) * 0.1, dtype="float32", requires_grad=True),
            minigan.tensor(np.zeros(n_out), dtype="float32", requires_grad=True),
        ]

    def __call__(self, x):
        W1, b1, W2, b2 = self.params
        return F.linear(F.leaky_relu(F.linear(x, W1, b1), 0.2), W2, b2)

    def sgd_step(self, lr=1e-2):
        """p <- p - lr * grad, done under no_grad so the update itself records nothing."""
        with minigan.no_grad():
            for p in self.params:
                p.data = (p - lr * p.grad).data
        for p in self.params:
            p.zero_grad()


def make_batches(n_batches=8, batch=32, n_in=16, seed=1):
    rng = np.random.default_rng(seed)
    return [(minigan.tensor(rng.normal(size=(batch, n_in)), dtype="float32"),
             minigan.tensor(rng.normal(size=(batch, 1)), dtype="float32")) for _ in range(n_batches)]


def plain_step(model, x, target):
    """forward, MSE loss, backward, update."""
    loss = F.mse_loss(model(x), target)
    loss.backward()
    model.sgd_step()
    return loss.item()


def penalty_step(model, x, target):
    """forward, MSE loss + a WGAN-GP style gradient penalty (create_graph=True), backward, update."""
    x = x.detach()
    x.requires_grad = True
    out = model(x)
    gx, = minigan.grad(out.sum(), x, create_graph=True)
    penalty = ((F.sqrt((gx * gx).sum(axis=1) + 1e-12) - 1.0) ** 2).mean()
    loss = F.mse_loss(out, target) + 10.0 * penalty
    loss.backward()
    model.sgd_step()
    return loss.item()


def create_graph_backward_step(model, x, target):
    """backward(create_graph=True) puts graph-carrying gradients in p.grad (and so a cycle
    p -> p.grad -> graph -> p, as in PyTorch); zero_grad() in the update must break it."""
    loss = F.mse_loss(model(x), target)
    loss.backward(create_graph=True)
    grad_norm = sum((p.grad * p.grad).sum() for p in model.params)
    assert grad_norm.creator is not None  # the gradient really carries a graph
    model.sgd_step()
    return loss.item()


@pytest.mark.parametrize("step", [plain_step, penalty_step, create_graph_backward_step],
                         ids=["plain", "gradient_penalty", "backward_create_graph"])
def test_live_tensor_count_is_flat_with_gc_disabled(step):
    """With the cycle collector off, only reference counting frees memory. If a reference cycle
    kept each step's graph alive, the number of live Tensors would grow by the graph size every
    step; it must be exactly the same at step 20 and at step 300."""
    model, batches = MLP(), make_batches()
    gc.collect()
    gc.disable()
    try:
        counts = {}
        losses = []
        for i in range(300):
            x, target = batches[i % len(batches)]
            losses.append(step(model, x, target))
            if i + 1 in (20, 300):
                counts[i + 1] = live_tensors()
    finally:
        gc.enable()
    assert counts[300] == counts[20], counts
    assert np.isfinite(losses).all() and losses[296] < losses[0]  # same batch: it really trained


def test_no_minigan_object_is_ever_garbage():
    """A direct look for cycles: run some steps with the collector off, then ask it to collect
    with DEBUG_SAVEALL (which keeps whatever it finds in gc.garbage). No Tensor or Function may
    be found there -- they were all freed by reference counting before the collector ran."""
    model, batches = MLP(), make_batches()
    gc.collect()
    gc.disable()
    old_debug = gc.get_debug()
    try:
        for i in range(10):
            for step in (plain_step, penalty_step, create_graph_backward_step):
                step(model, *batches[i % len(batches)])
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        found = [o for o in gc.garbage if isinstance(o, (minigan.Tensor, minigan.Function))]
    finally:
        gc.set_debug(old_debug)
        gc.garbage.clear()
        gc.enable()
    assert found == []


def _graph_bytes(model, x, target):
    """Bytes held by ONE step's graph: traced memory with a forward+backward graph kept alive,
    minus before it was built. (retain_graph=True: without it backward frees what the graph saved.)"""
    base = tracemalloc.get_traced_memory()[0]
    loss = F.mse_loss(model(x), target)
    loss.backward(retain_graph=True)
    held = tracemalloc.get_traced_memory()[0] - base
    del loss
    for p in model.params:
        p.zero_grad()
    return held


def _fill_tuple_free_lists():
    """CPython keeps up to 2000 freed tuples of each small length for reuse, and tracemalloc
    counts them as allocated (to wherever they were first made). A tuple built from a generator
    is over-allocated and then shrunk, so during a loop tuples drift from one length's list to
    another's: an empty list slowly fills, which looks like a leak of ~100 KB that stops by
    itself after a few hundred steps. Filling every list first means that drift can only FREE
    memory (a full list drops what it cannot keep), so it can hide at most a couple of hundred
    KB of real growth and can never cause a false alarm. (A full garbage collection empties the
    lists again, so none may run between this and the measurement.)"""
    junk = [tuple(range(n)) for n in range(1, 21) for _ in range(2100)]
    del junk


@pytest.mark.parametrize("step", [plain_step, penalty_step], ids=["plain", "gradient_penalty"])
def test_traced_memory_is_flat(step):
    """tracemalloc counts every byte Python and NumPy allocate. After warm-up, 200 more steps may
    not grow it by more than the size of ONE step's graph, measured in the test (about 35 KB
    for a batch of 32 through 64 hidden units, float32).

    Why that bound: leaking one graph per step would grow memory by ~200 graphs (~7 MB), and
    even leaking a single (32, 64) float32 activation per step (8 KB) would add 1.6 MB, far
    above the bound plus the few hundred KB that free-list drift can hide (see
    ``_fill_tuple_free_lists``). A flat loop stays well under it.
    """
    model, batches = MLP(), make_batches()
    gc.collect()
    gc.disable()
    tracemalloc.start()
    try:
        for i in range(30):
            step(model, *batches[i % len(batches)])
        graph = _graph_bytes(model, *batches[0])
        _fill_tuple_free_lists()
        before = tracemalloc.get_traced_memory()[0]
        for i in range(200):
            step(model, *batches[i % len(batches)])
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
        gc.enable()
    assert graph > 20_000, graph  # the bound below is meaningful only if a graph is sizeable
    assert after - before < graph, (after - before, graph)
