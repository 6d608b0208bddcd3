"""A guided tour of minigan's autodiff core, in six short steps that run in a few seconds on a CPU.

  1. tensors and a tiny graph: y = x*x + 3x, and x.grad next to the formula 2x + 3
  2. what the graph looks like: walking y.creator back to the leaves
  3. a dense layer by hand: F.linear, leaky_relu and a binary cross-entropy loss on a batch
  4. writing your own op (a minigan.Function) and checking it with minigan.gradcheck
  5. second derivatives: minigan.grad(..., create_graph=True) and a WGAN-GP gradient penalty
  6. minigan.no_grad(): why parameter updates run without a graph

Read the source next to its printout: each step starts with a comment saying what to look for.

    python examples/autodiff_basics.py [--seed N]
"""
import argparse
import os
import sys

import numpy as np

# Let the script run from a fresh clone too (without `pip install -e .`): put the repository
# root, the folder above this one, on the import path.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import minigan  # noqa: E402
import minigan.functional as F  # noqa: E402


# --- printing helpers (nothing to learn here) --------------------------------------------------

def heading(text):
    print()
    print(text)
    print("-" * len(text))


def fmt(values, decimals=3):
    """A Tensor or array as '[ 1.000, -2.500]'."""
    values = values.numpy() if isinstance(values, minigan.Tensor) else np.asarray(values)
    return np.array2string(values, precision=decimals, floatmode="fixed", separator=", ",
                           suppress_small=True)


def table(**columns):
    """Print 1-D columns side by side, one row per element, under their names."""
    names = list(columns)
    rows = [[f"{v:.3f}" for v in np.asarray(
        col.numpy() if isinstance(col, minigan.Tensor) else col, dtype=float).ravel()]
        for col in columns.values()]
    width = max(10, *(len(n) + 2 for n in names))
    print("  " + "".join(n.rjust(width) for n in names))
    for row in zip(*rows):
        print("  " + "".join(v.rjust(width) for v in row))


def parameter(*shape, scale):
    """A leaf parameter: randn(shape) * scale, then marked as wanting a gradient.

    ``randn(...) * scale`` is recorded by nobody (no input requires grad), so it is still a
    leaf, and a leaf may be switched to requires_grad=True afterwards.
    """
    p = minigan.randn(*shape) * scale
    p.requires_grad = True
    return p


# --- step 1 ------------------------------------------------------------------------------------

def step1_tiny_graph():
    # A Tensor is an array plus bookkeeping. With requires_grad=True, every op applied to it is
    # recorded, so that backward() can later apply the chain rule in reverse. y = x*x + 3x is
    # computed for five values of x at once; y is a vector, and backward() needs a scalar to
    # start from, so we sum: d(sum y)/dx_i = dy_i/dx_i, because y_i depends on x_i only.
    # Look at the last two columns: the gradient backward() found and the formula 2x + 3
    # worked out by hand must agree to every printed digit.
    heading("1. A tiny graph: y = x*x + 3x")
    x = minigan.tensor([-2.0, -1.0, 0.0, 0.5, 3.0], requires_grad=True)
    y = x * x + 3 * x
    y.sum().backward()
    print(f"  x is {x.dtype} (Python floats become float32, as in PyTorch); "
          f"x.grad has shape {x.grad.shape}")
    table(x=x, y=y, **{"x.grad": x.grad, "2x + 3": 2 * x.numpy() + 3})


# --- step 2 ------------------------------------------------------------------------------------

def describe(t, names):
    """One line about tensor ``t``: who made it, or what kind of leaf it is."""
    if t.creator is not None:
        return f"{type(t.creator).__name__}  (generation {t.creator.generation})"
    label = names.get(id(t), "constant " + fmt(t, 1))
    return f"{label}  (leaf, requires_grad={t.requires_grad})"


def print_graph(t, names, prefix=""):
    """Draw the graph behind ``t`` as a tree, walking creator -> inputs -> their creators.

    Recursion is fine for a drawing this small; minigan's own backward walk is iterative
    (see autograd.py), so that graphs thousands of ops deep do not hit Python's recursion limit.
    """
    if t.creator is None:
        return
    inputs = t.creator.inputs
    for k, x in enumerate(inputs):
        last = k == len(inputs) - 1
        print(f"  {prefix}{'`-- ' if last else '|-- '}{describe(x, names)}")
        print_graph(x, names, prefix + ("    " if last else "|   "))


def step2_graph():
    # Every op's output remembers the Function call that made it, in `.creator`; the Function
    # remembers its `.inputs`. Following creator -> inputs -> creator ... from the loss leads back
    # to the leaves, and that chain is the whole graph: nothing else is stored. Look for:
    # - x appears three times: x*x uses it twice and 3*x once. backward() adds the three
    #   contributions up, which is where the "2x" and the "+3" of step 1 come from;
    # - the constant 3 became a float32 leaf that does not require grad (it gets no gradient);
    # - the generation numbers: an op's generation is one more than the largest generation
    #   among its inputs' creators (leaves count as 0). backward() processes ops from the highest
    #   generation down, so an op's output gradient is complete (every consumer has contributed)
    #   before the op itself is processed.
    heading("2. The graph behind loss = sum(x*x + 3x)")
    x = minigan.tensor([1.0, 2.0], requires_grad=True)
    loss = (x * x + 3 * x).sum()
    print(f"  {describe(loss, {})}    <- loss, the tensor we call backward() on")
    print_graph(loss, {id(x): "x"})
    ops = []
    f = loss.creator
    while f is not None:  # from the loss, follow each op's first input down to a leaf
        ops.append(type(f).__name__)
        f = f.inputs[0].creator
    print("  op names along the first-input path: " + " <- ".join(ops) + " <- x")


# --- step 3 ------------------------------------------------------------------------------------

def mlp(x, W1, b1, W2, b2):
    """A 2-layer network, one output per row: linear(leaky_relu(linear(x, W1, b1), 0.2), W2, b2).

    Step 3 writes it out line by line; steps 5 and 6 call it.
    """
    return F.linear(F.leaky_relu(F.linear(x, W1, b1), 0.2), W2, b2)


def step3_dense_layer():
    # A discriminator-style network written with the functional ops. F.linear(x, W, b) computes
    # x @ W^T + b with W shaped (out_features, in_features), as PyTorch stores it. The loss,
    # binary cross-entropy from logits, is computed as softplus(z) - t*z, which never overflows.
    # Look for:
    # - every parameter's .grad has exactly the parameter's shape (W1.grad is (16, 4) like W1):
    #   the gradient of a scalar with respect to a tensor is a tensor of the same shape;
    # - the last line: for this loss, d loss / d z = (sigmoid(z) - t) / N (the mean divides by N),
    #   so b2.grad, which sums that over the batch, equals mean(sigmoid(z) - t). The textbook
    #   formula and backward() agree.
    heading("3. Dense layers by hand: logits = linear(leaky_relu(linear(X, W1, b1)), W2, b2)")
    X = minigan.randn(8, 4)                              # a batch of 8 samples, 4 features each
    t = minigan.tensor([[1.0], [0.0]] * 4)              # targets 1, 0, 1, 0, ... shaped (8, 1)
    W1, b1 = parameter(16, 4, scale=0.5), parameter(16, scale=0.1)
    W2, b2 = parameter(1, 16, scale=0.25), parameter(1, scale=0.1)
    h = F.leaky_relu(F.linear(X, W1, b1), 0.2)           # (8, 16)
    z = F.linear(h, W2, b2)                              # (8, 1): one logit per sample
    loss = F.binary_cross_entropy_with_logits(z, t)      # a scalar: the mean over the batch
    loss.backward()
    print(f"  X {X.shape} -> hidden {h.shape} -> logits {z.shape};  loss = {loss.item():.4f}")
    print(f"  {'parameter':<10}{'shape':>10}{'.grad shape':>14}")
    for name, p in [("W1", W1), ("b1", b1), ("W2", W2), ("b2", b2)]:
        print(f"  {name:<10}{str(p.shape):>10}{str(p.grad.shape):>14}")
    by_hand = (F.sigmoid(z) - t).mean()
    print(f"  b2.grad = {b2.grad.item():.5f};  mean(sigmoid(z) - t) = {by_hand.item():.5f}")
    return [W1, b1, W2, b2], X, t


# --- step 4 ------------------------------------------------------------------------------------

class Cube(minigan.Function):
    """y = x**3;  backward: gx = gy * 3x**2"""

    def forward(self, x):               # x is a raw NumPy (or CuPy) array
        return x ** 3

    def backward(self, gy):             # gy is a Tensor: d loss / d y, shaped like y
        x, = self.inputs                # the input Tensors, saved by Function.__call__
        return gy * 3 * x ** 2          # written with minigan ops, so it can be differentiated again


class BrokenCube(minigan.Function):
    """The same op with a planted bug: backward forgets to multiply by the upstream gradient gy."""

    def forward(self, x):
        return x ** 3

    def backward(self, gy):
        x, = self.inputs
        return 3 * x ** 2               # BUG: should be gy * 3 * x ** 2


def step4_custom_op():
    # A new op is a Function subclass: forward works on raw arrays and returns the output;
    # backward receives gy = d loss / d y and returns gx = d loss / d x, the vector-Jacobian
    # product. Call a fresh instance per use (Cube()(x)): the instance stores its inputs.
    # gradcheck compares backward() with central finite differences, in float64 (float32
    # rounding would swamp the differences). Look for:
    # - "passed" for Cube;
    # - for BrokenCube, the error names the input ("input 0"), the worst element and both
    #   numbers, so you know where to look;
    # - the last table: with an all-ones upstream gradient the broken op returns exactly the
    #   right numbers (3x^2 times 1 is 3x^2), so a checker that always used ones would pass it.
    #   gradcheck draws the upstream gradient at random, and then "forgot to multiply by gy"
    #   gives 3x^2 where v * 3x^2 was due.
    heading("4. Writing your own op, and checking it")
    x = minigan.tensor([-1.5, -0.5, 0.25, 1.0, 2.0], requires_grad=True, dtype="float64")
    print(f"  Cube docstring: {Cube.__doc__}")
    print(f"  Cube()(x) = {fmt(Cube()(x))}   (x**3 = {fmt(x.numpy() ** 3)})")
    minigan.gradcheck(lambda x: Cube()(x), [x])
    print("  gradcheck(Cube): passed")
    try:
        minigan.gradcheck(lambda x: BrokenCube()(x), [x])
        print("  gradcheck(BrokenCube): passed (this should not happen!)")
    except minigan.GradcheckError as error:
        print("  gradcheck(BrokenCube) raised GradcheckError:")
        print(f"    {error}")
    (g_ones,) = minigan.grad(BrokenCube()(x), x, grad_outputs=minigan.ones_like(x))
    v = minigan.tensor([0.7, -0.2, 0.9, -0.6, 0.3], dtype="float64")
    (g_v,) = minigan.grad(BrokenCube()(x), x, grad_outputs=v)
    print("  BrokenCube's gradient with upstream gy = ones, and with a random gy = v:")
    table(x=x, **{"ones: broken": g_ones, "ones: true": 3 * x.numpy() ** 2,
                  "v: broken": g_v, "v: true": v.numpy() * 3 * x.numpy() ** 2})
    print("  With gy = ones the broken gradient equals the true one, so a check that always used ones\n"
          "  would pass it; with a random v the columns differ. That is why gradcheck draws v at random.")


# --- step 5 ------------------------------------------------------------------------------------

def gradient_penalty(x_hat, *params):
    """mean over the batch of (||dD/dx at x_hat|| - 1)^2 for the critic D = mlp with ``params``;
    differentiable in the critic's weights."""
    scores = mlp(x_hat, *params)
    # Row i's score depends on row i of x_hat only, so the gradient of the *sum* of the scores
    # holds every sample's own gradient dD(x_i)/dx_i, row by row, in one backward pass.
    (gx,) = minigan.grad(scores.sum(), x_hat, create_graph=True)
    norms = ((gx * gx).sum(axis=1) + 1e-12).sqrt()  # the tiny constant keeps sqrt' finite at 0
    return ((norms - 1) ** 2).mean()


def step5_second_derivatives():
    # backward() is written with minigan ops. With create_graph=True those ops are recorded,
    # so the gradient is itself a Tensor with a graph behind it, and can be differentiated again.
    # First the simplest case: d/dx x^3 = 3x^2, and again, 6x: compare the last two columns.
    heading("5. Second derivatives")
    x = minigan.tensor([-1.0, 0.5, 2.0], requires_grad=True)
    (g,) = minigan.grad((x ** 3).sum(), x, create_graph=True)   # 3x^2, with a graph
    (g2,) = minigan.grad(g.sum(), x)                              # d/dx of 3x^2
    print(f"  g = d(x^3)/dx was recorded by {type(g.creator).__name__}; differentiating it again:")
    table(x=x, g=g, **{"3x^2": 3 * x.numpy() ** 2, "d2/dx2": g2, "6x": 6 * x.numpy()})

    # WGAN-GP asks the critic D to have gradient norm 1 with respect to its input, at points
    # x_hat between real and fake samples: penalty = mean_i (||dD/dx(x_hat_i)|| - 1)^2. The
    # penalty contains a gradient, so training the critic on it needs the gradient of a
    # gradient: d penalty / d W1 differentiates dD/dx, which was built with create_graph=True.
    # The critic is step 3's network. Leaky ReLU's second derivative is 0 (almost everywhere),
    # yet the weights still get a gradient: for one sample dD/dx = W2 diag(slopes) W1, where the
    # slopes (1 or 0.2 per hidden unit) are constants, so the weights appear in it directly.
    # Look for:
    # - gradient norms for W1 and W2, and None for the biases: that formula holds no bias (a
    #   bias only decides which slope applies, and a small nudge does not change that), so the
    #   penalty does not depend on b1 or b2 and backward() never reaches them;
    # - "passed" from gradgradcheck, which checks the critic's second derivatives against finite
    #   differences in float64, and from gradcheck of the penalty itself as a function of the
    #   weights (there the missing bias gradients count as zeros, and the differences agree).
    print()
    print("  WGAN-GP gradient penalty, critic mlp 2 -> 8 -> 1 (leaky ReLU 0.2), batch of 6:")
    params = [parameter(8, 2, scale=0.7), parameter(8, scale=0.1),
              parameter(1, 8, scale=0.35), parameter(1, scale=0.1)]
    real = minigan.randn(6, 2) + 2.0
    fake = minigan.randn(6, 2)
    alpha = minigan.rand(6, 1)                       # one mixing weight per sample
    x_hat = alpha * real + (1 - alpha) * fake        # a leaf: nothing here requires grad...
    x_hat.requires_grad = True                       # ...until we ask, so dD/dx can be taken
    penalty = gradient_penalty(x_hat, *params)
    penalty.backward()                               # second-order: through dD/dx into W1, b1, W2, b2
    print(f"    penalty = {penalty.item():.4f}")
    for name, p in zip(["W1", "b1", "W2", "b2"], params):
        if p.grad is None:
            print(f"    d penalty / d {name}: None, backward() never reached {name}")
        else:
            print(f"    ||d penalty / d {name}|| = {np.linalg.norm(p.grad.numpy()):.4f}")

    x64 = x_hat.double()
    params64 = [p.double() for p in params]            # float64 copies, still requires_grad=True
    minigan.gradgradcheck(mlp, [x64] + params64)
    print("    gradgradcheck(critic) in float64: passed")
    minigan.gradcheck(lambda *ps: gradient_penalty(x64, *ps), params64)
    print("    gradcheck(penalty as a function of W1, b1, W2, b2) in float64: passed")


# --- step 6 ------------------------------------------------------------------------------------

def step6_no_grad(params, X, t):
    # The graph exists only to compute gradients. Evaluating a model for display, or updating
    # its parameters, must not record one: an update W <- W - lr * grad is not part of the
    # function being differentiated (the next loss depends on W's new values, not on how they
    # were computed). Recorded, it would give W a creator, so W would stop being a leaf (and
    # the next backward() would leave W.grad as None), and every step's graph would hang on to
    # the previous one. Look for:
    # - "creator Sub" for the recorded update and "creator None" for the same line under no_grad;
    # - the loss falling over the SGD steps, the parameters still being leaves at the end, and
    #   the trained network's probabilities (computed under no_grad) lining up with the targets.
    heading("6. no_grad(): evaluating and updating without a graph")
    W1 = params[0]
    recorded = W1 - 0.1 * W1.grad
    with minigan.no_grad():
        print(f"  inside no_grad: is_grad_enabled() = {minigan.is_grad_enabled()}")
        unrecorded = W1 - 0.1 * W1.grad
    print(f"  W1 - 0.1*W1.grad in grad mode: creator {type(recorded.creator).__name__}, "
          f"is_leaf {recorded.is_leaf}")
    print(f"  the same under no_grad      : creator {unrecorded.creator}, "
          f"is_leaf {unrecorded.is_leaf}")

    # Twenty steps of plain SGD on step 3's network. minigan's Tensor has no in-place operators,
    # so the update writes into each parameter's array (p.data) and the parameter stays the same
    # leaf object. Array maths is never recorded; the no_grad block also keeps out of the graph
    # any Tensor maths you add to an update (weight clipping as in the original WGAN, or a moving
    # average of a generator's weights). Evaluating the trained network under no_grad likewise
    # builds no graph: its output has no creator and holds no memory of the forward pass.
    lr = 0.5
    losses = []
    for _ in range(20):
        for p in params:
            p.zero_grad()                        # gradients accumulate: clear them each step
        loss = F.binary_cross_entropy_with_logits(mlp(X, *params), t)
        loss.backward()
        losses.append(loss.item())
        with minigan.no_grad():
            for p in params:
                p.data -= lr * p.grad.data
    print("  SGD on step 3's network, loss every 5 steps: "
          + ", ".join(f"{v:.4f}" for v in losses[::5]) + f", ..., {losses[-1]:.4f}")
    print(f"  after training, all parameters are still leaves: {all(p.is_leaf for p in params)}")
    with minigan.no_grad():
        probs = F.sigmoid(mlp(X, *params))
    print(f"  evaluated under no_grad (creator {probs.creator}):")
    print(f"    P(target = 1) = {fmt(probs.reshape(-1), 2)}")
    print(f"    targets       = {fmt(t.reshape(-1), 2)}")


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=0,
                        help="seed for minigan.manual_seed, which every random tensor here uses "
                             "(default 0)")
    args = parser.parse_args()
    minigan.manual_seed(args.seed)

    step1_tiny_graph()
    step2_graph()
    params, X, t = step3_dense_layer()
    step4_custom_op()
    step5_second_derivatives()
    step6_no_grad(params, X, t)
    print()
    print("Next: docs/notebooks/01_autodiff.ipynb works through the same ideas at a teacher's pace, with exercises.")


if __name__ == "__main__":
    main()
