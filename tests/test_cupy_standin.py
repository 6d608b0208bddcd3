"""The CuPy stand-in (tests/cupy_standin) is as strict as it claims, and no richer than CuPy.

The ``gpu`` suite runs against it wherever no GPU answers, so a green run means something only if
the stand-in refuses what CuPy refuses (implicit conversion to NumPy, NumPy-only names) and
counts what crosses to the host. These tests check the stand-in itself; they run everywhere (it
is imported directly, whatever device minigan uses).
"""
import importlib
import json
import pathlib
import types

import numpy as np
import pytest

import minigan
import cupy_standin as cp
from cupy_standin import _core
from cupy_standin._names import NAMES
from minigan import Tensor, backend
from minigan.autograd import Function

LISTING = pathlib.Path(__file__).with_name("cupy_standin") / "cupy_names.json"


def real_cupy_names():
    """The names of the CuPy installed here, if one imports (no GPU needed), else None."""
    try:
        import cupy  # noqa: F401
    except Exception:
        return None
    import importlib.util
    spec = importlib.util.spec_from_file_location("list_cupy_names", pathlib.Path(__file__).parent.parent /
                                                  "tools" / "list_cupy_names.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return {where: set(tool.names_of(where)) for where in tool.MODULES + tool.CLASSES}


# --- the stand-in offers only CuPy's names -------------------------------------------------------

#: What Python gives every class defined in a .py file (CuPy's compiled classes lack some), the
#: stand-in's private helpers, and ``__getattr__``, the hook that serves every other name only
#: after checking it against the list (test_numpy_only_names_are_refused).
_PYTHON_BOOKKEEPING = {"__module__", "__qualname__", "__doc__", "__dict__", "__weakref__",
                       "__slots__", "__firstlineno__", "__static_attributes__", "__getattr__",
                       "_a", "_of", "_host_value", "_scalar", "_index", "_ufunc", "_rng"}


def standin_names():
    """Where (e.g. "cupy.random") -> the names the stand-in defines there itself."""
    def public(module):
        return {n for n in vars(module) if not n.startswith("_")}

    def members(cls):
        return set(vars(cls)) - _PYTHON_BOOKKEEPING

    return {"cupy": public(cp), "cupy.random": public(cp.random), "cupy.linalg": public(cp.linalg),
            "cupy.lib": public(cp.lib), "cupy.lib.stride_tricks": public(cp.lib.stride_tricks),
            "cupy.cuda": public(cp.cuda), "cupy.cuda.runtime": public(cp.cuda.runtime),
            "cupy.ndarray": members(cp.ndarray), "cupy.ufunc": members(cp.ufunc),
            "cupy.random.Generator": members(cp.random.Generator),
            "cupy.cuda.Device": members(cp.cuda.Device)}


@pytest.mark.parametrize("source", ["installed CuPy", "committed list"])
def test_the_standin_defines_only_names_real_cupy_has(source):
    """Every name the stand-in defines (module functions, array methods and operators, Generator
    methods, cuda bits) exists in real CuPy: in the installed package when one imports here, and
    in tests/cupy_standin/cupy_names.json (tools/list_cupy_names.py) either way."""
    if source == "installed CuPy":
        real = real_cupy_names()
        if real is None:
            pytest.skip("CuPy is not installed here; the committed list stands in for it "
                        "(pip install cupy-cuda12x in another venv: tools/list_cupy_names.py)")
    else:
        real = NAMES
    for where, names in standin_names().items():
        extra = names - set(real[where])
        assert not extra, f"the stand-in's {where} has names real CuPy lacks: {sorted(extra)}"


def test_the_committed_list_is_cupys():
    """The list says which CuPy it came from and holds that CuPy's everyday names."""
    listing = json.loads(LISTING.read_text())
    assert listing["cupy_version"].split(".")[0].isdigit()
    assert {"asarray", "asnumpy", "exp", "zeros", "random", "cuda", "float32"} <= set(listing["names"]["cupy"])
    assert {"get", "item", "__float__", "__cuda_array_interface__"} <= set(listing["names"]["cupy.ndarray"])


def test_numpy_only_names_are_refused():
    """A NumPy function CuPy does not have is an AttributeError that points at the list, on the
    module, on arrays and on the random Generator alike."""
    numpy_only = sorted(n for n in dir(np) if not n.startswith("_") and callable(getattr(np, n))
                        and n not in NAMES["cupy"])
    assert "asmatrix" in numpy_only  # one that exists in NumPy and not in CuPy
    for name in numpy_only:
        with pytest.raises(AttributeError, match="cupy_names.json"):
            getattr(cp, name)
    x = cp.zeros(3)
    for name in ("resize", "ctypes", "tofile_nope", "__array_interface__"):
        assert not hasattr(x, name), name
    with pytest.raises(AttributeError, match=r"cupy.random.Generator has no attribute 'permutation'"):
        cp.random.default_rng(0).permutation(3)
    with pytest.raises(AttributeError, match=r"cupy has no attribute 'some_numpy_only_function'"):
        cp.some_numpy_only_function


# --- implicit conversion is refused, explicit transfer counted ----------------------------------

def test_numpy_refuses_standin_arrays():
    """np.asarray, NumPy ufuncs and functions, and mixing with NumPy arrays all raise TypeError."""
    x = cp.arange(3.0)
    with pytest.raises(TypeError, match="Implicit conversion to a NumPy array is not allowed"):
        np.asarray(x)
    with pytest.raises(TypeError):
        np.exp(x)
    with pytest.raises(TypeError):
        np.sum(x)
    with pytest.raises(TypeError, match="Unsupported type"):
        x + np.ones(3)
    with pytest.raises(TypeError):
        np.ones(3) + x
    with pytest.raises(TypeError, match="Unsupported type"):
        cp.maximum(x, np.ones(3))
    with pytest.raises(TypeError, match="only length-1 arrays"):
        float(x)
    with pytest.raises(ValueError, match="ambiguous"):
        bool(x > 0)


def test_results_stay_on_the_device():
    """Reductions and single elements are 0-d device arrays, never NumPy scalars."""
    x = cp.arange(6.0).reshape(2, 3)
    for result in (x.sum(), x.max(), x[1, 2], cp.sum(x), x.mean(axis=None)):
        assert type(result) is cp.ndarray and result.shape == ()
    assert cp.get_array_module(x) is cp and cp.get_array_module(np.zeros(2)) is np


class _PlantedHostOp(Function):
    """An op with the bug the stand-in exists to catch: NumPy where ``xp`` belongs."""
    saves_inputs = False

    def forward(self, x):
        return np.exp(x)


def test_a_planted_numpy_call_inside_an_op_fails_on_the_standin():
    """np.exp inside an op works on the CPU and raises on the stand-in's device arrays."""
    assert _PlantedHostOp()(minigan.tensor([0.0])).item() == 1.0
    device_tensor = Tensor(cp.zeros(2, dtype=np.float32))
    with pytest.raises(TypeError):
        _PlantedHostOp()(device_tensor)


def test_explicit_transfers_are_counted():
    """get, asnumpy, item, float/bool of a size-1 array and repr count one device-to-host copy
    each; asarray/array of host data and host values written in count one host-to-device copy."""
    t = _core.TRANSFERS
    t.reset()
    x = cp.asarray(np.arange(4.0))
    y = cp.asarray(x)  # already on the device: no copy
    assert y is x and (t.host_to_device, t.device_to_host) == (1, 0)
    assert type(x.get()) is np.ndarray and type(cp.asnumpy(x)) is np.ndarray
    assert x[1].item() == 1.0 and float(x[2]) == 2.0 and bool(x[3] > 0) and int(x.sum()) == 6
    assert "array" in repr(x)
    assert t.device_to_host == 7
    x[:2] = np.array([5.0, 6.0])
    assert t.host_to_device == 2
    np.testing.assert_array_equal(x.get(), [5.0, 6.0, 2.0, 3.0])


def test_views_and_in_place_writes_share_memory():
    """Slices are views, in-place operators and out= write into the array, as in CuPy."""
    x = cp.zeros(4)
    view = x[1:3]
    view += 1.0
    cp.multiply(x, 2.0, out=x)
    cp.add.at(x, cp.asarray(np.array([0, 0])), 1.0)
    np.testing.assert_array_equal(x.get(), [2.0, 2.0, 2.0, 0.0])


def test_the_standin_random_stream_is_not_numpys():
    """The same seed gives other numbers than NumPy's default_rng, as real CuPy's does."""
    a = cp.random.default_rng(0).standard_normal(5, dtype=np.float32)
    assert a.dtype == np.float32
    assert not np.allclose(a.get(), np.random.default_rng(0).standard_normal(5))


@pytest.mark.gpu
def test_the_gpu_is_the_standin_or_real_cupy():
    """Where the gpu tests run, the backend's GPU module is real CuPy or the stand-in: nothing else."""
    gpu = backend.xp_for("gpu")
    assert gpu.__name__ in ("cupy", "cupy_standin")
