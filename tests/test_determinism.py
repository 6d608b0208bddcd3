"""Seeded training is bit-for-bit repeatable, whatever the memory layout (issue 8, item 2).

The backward walk used to break ties between ops of equal generation by their memory address,
so the order in which gradients were summed, and so the last bits of every weight, changed with
the heap's layout: two seeded runs in one process could differ. Here each run is interleaved with
a different pattern of freed objects, so that graph nodes land at different addresses.
"""
import numpy as np
import pytest

import minigan
from minigan.gan import Trainer, models


class _Placeholder(minigan.Function):  # the size of a graph node; never called
    pass


class _HeapShuffler:
    """Keeps a pool of node-sized objects and frees a random few of them on each call, so that
    the graph nodes made next reuse those (randomly placed) addresses."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.pool = [_Placeholder() for _ in range(4096)]

    def __call__(self):
        for i in self.rng.choice(len(self.pool), 64, replace=False):
            self.pool[i] = _Placeholder() if self.pool[i] is None else None


def _train(arch, loss, layout_seed, steps=4):
    minigan.manual_seed(0)
    if arch == "mlp":
        G, D = models.mlp_generator(z_dim=8, hidden=(32,)), models.mlp_discriminator(hidden=(32,))
    else:  # batch norm in G, dropout in D
        G, D = models.dcgan_generator(z_dim=8, width=0.0625), models.dcgan_discriminator(width=0.0625)
    trainer = Trainer(G, D, loss=loss, z_dim=8, n_critic=2, progress=False)
    data = np.random.default_rng(1).uniform(-1, 1, (steps, 8, 1, 28, 28)).astype(np.float32)
    shuffle = _HeapShuffler(layout_seed)
    for batch in data:
        shuffle()
        trainer.train_step(minigan.tensor(batch))
    return [p.numpy().copy() for p in list(G.parameters()) + list(D.parameters())]


@pytest.mark.parametrize("arch, loss", [("mlp", "wgan-gp"), ("mlp", "nonsaturating"),
                                        ("dcgan", "wgan-gp"), ("dcgan", "nonsaturating")])
def test_seeded_runs_are_bit_identical_across_memory_layouts(arch, loss):
    first = _train(arch, loss, layout_seed=1)
    for layout_seed in (2, 3):
        again = _train(arch, loss, layout_seed=layout_seed)
        for a, b in zip(first, again):
            assert a.tobytes() == b.tobytes(), f"{arch}/{loss}: weights differ with layout {layout_seed}"
