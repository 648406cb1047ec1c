"""tensorgraph: a tensor-level automatic-differentiation engine over numpy.

>>> import tensorgraph as tg
>>> x, y = tg.tensor(3.0, requires_grad=True), tg.tensor(-4.0, requires_grad=True)
>>> z, w = tg.tensor(2.0, requires_grad=True), tg.tensor(-1.0, requires_grad=True)
>>> f = 2 * (x * y + tg.maximum(z, w))
>>> f.backward()
>>> f.item(), [t.grad.item() for t in (x, y, z, w)]
(-20.0, [-8.0, 6.0, 2.0, 0.0])
"""

from . import creation, data, nn, ops, optim, tune
from .anomaly import AnomalyError, ModifiedInPlaceError, detect_anomaly, is_anomaly_enabled
from .creation import *  # noqa: F403 - zeros, ones, randn, ... (creation.__all__)
from .flatcode import Compiled, compile, flat_code
from .gradcheck import GradcheckKinkWarning, GradcheckResult, gradcheck, numerical_grad
from .linear import LinearClassifier, LinearSVM, SoftmaxClassifier
from .losses import l1, l2, softmax_loss, svm_loss
from .mlp import MLPClassifier
from .modes import enable_grad, is_grad_enabled, no_grad
from .nn.init import manual_seed
from .ops import *  # noqa: F403 - every op, as ops.__all__ lists them
from .registry import OpInfo
from .tensor import (
    BackwardStep,
    Tensor,
    backward_steps,
    gradients,
    graph_nodes,
    local_backward,
    tensor,
    topological_order,
    unbroadcast,
)

__version__ = "0.1.0"

__all__ = [
    "AnomalyError",
    "BackwardStep",
    "Compiled",
    "GradcheckKinkWarning",
    "GradcheckResult",
    "LinearClassifier",
    "LinearSVM",
    "MLPClassifier",
    "ModifiedInPlaceError",
    "OpInfo",
    "SoftmaxClassifier",
    "Tensor",
    "backward_steps",
    "creation",
    "compile",
    "data",
    "detect_anomaly",
    "enable_grad",
    "flat_code",
    "gradcheck",
    "gradients",
    "graph_nodes",
    "is_anomaly_enabled",
    "is_grad_enabled",
    "l1",
    "l2",
    "local_backward",
    "manual_seed",
    "nn",
    "no_grad",
    "numerical_grad",
    "ops",
    "optim",
    "softmax_loss",
    "svm_loss",
    "tensor",
    "topological_order",
    "tune",
    "unbroadcast",
]
__all__ += ops.__all__ + creation.__all__
