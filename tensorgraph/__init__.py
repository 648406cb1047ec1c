"""tensorgraph: a tensor-level automatic-differentiation engine over numpy.

>>> import tensorgraph as tg
>>> x, y = tg.tensor(3.0, requires_grad=True), tg.tensor(-4.0, requires_grad=True)
>>> z, w = tg.tensor(2.0, requires_grad=True), tg.tensor(-1.0, requires_grad=True)
>>> f = 2 * (x * y + tg.maximum(z, w))
>>> f.backward()
>>> f.item(), [t.grad.item() for t in (x, y, z, w)]
(-20.0, [-8.0, 6.0, 2.0, 0.0])
"""

from . import data, optim, tune
from .anomaly import AnomalyError, ModifiedInPlaceError, detect_anomaly, is_anomaly_enabled
from .gradcheck import GradcheckKinkWarning, GradcheckResult, gradcheck, numerical_grad
from .linear import LinearClassifier, LinearSVM, SoftmaxClassifier
from .losses import l1, l2, softmax_loss, svm_loss
from .ops import (
    OPS,
    abs,
    add,
    derivative_table,
    div,
    exp,
    index,
    log,
    matmul,
    max,
    maximum,
    mean,
    min,
    minimum,
    mul,
    neg,
    pow,
    relu,
    reshape,
    sigmoid,
    sqrt,
    sub,
    sum,
    swapaxes,
    tanh,
    transpose,
)
from .tensor import (
    Tensor,
    graph_nodes,
    is_grad_enabled,
    local_backward,
    no_grad,
    tensor,
    topological_order,
    unbroadcast,
)

__version__ = "0.1.0"

__all__ = [
    "AnomalyError",
    "ModifiedInPlaceError",
    "detect_anomaly",
    "is_anomaly_enabled",
    "GradcheckKinkWarning",
    "GradcheckResult",
    "LinearClassifier",
    "LinearSVM",
    "SoftmaxClassifier",
    "gradcheck",
    "l1",
    "l2",
    "numerical_grad",
    "optim",
    "softmax_loss",
    "svm_loss",
    "tune",
    "OPS",
    "Tensor",
    "abs",
    "add",
    "data",
    "derivative_table",
    "div",
    "exp",
    "graph_nodes",
    "index",
    "is_grad_enabled",
    "local_backward",
    "log",
    "matmul",
    "max",
    "maximum",
    "mean",
    "min",
    "minimum",
    "mul",
    "neg",
    "no_grad",
    "pow",
    "relu",
    "reshape",
    "sigmoid",
    "sqrt",
    "sub",
    "sum",
    "swapaxes",
    "tanh",
    "tensor",
    "topological_order",
    "transpose",
    "unbroadcast",
]
