"""The engine under threads and asyncio tasks (issue 12, item 5).

Grad mode belongs to the thread (and to the asyncio task), as in PyTorch: a ``no_grad``
in one never stops another from recording. Classifiers fit in parallel threads give
exactly what sequential fits with the same seed give, and a ``predict()`` in one thread
never breaks a ``fit()`` in another. Backward passes in parallel threads add into a
shared leaf's ``.grad`` without losing one. Anomaly mode is process-wide, as PyTorch's, and on
while a block is open in any thread. The in-place log is shared: a write in one thread
to an array another thread's graph saved makes that backward refuse, and writes logged
at the same moment never lose the newest tick.

Every wait has a timeout and the data are tiny, so the file runs in a few seconds and
cannot hang.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest

import tensorgraph as tg
import tensorgraph.inplace

torch = pytest.importorskip("torch")

WAIT = 10  # seconds: every barrier and join gives up after this


@pytest.fixture(autouse=True)
def _switch_often() -> Any:
    """Let threads take turns every few microseconds (Python's default is 5 ms, longer
    than some of these fits), so their work really interleaves."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    yield
    sys.setswitchinterval(old)


def _run_threads(*targets: Callable[[], Any]) -> list[Any]:
    """Run each target in its own thread; return their results, re-raising any error."""
    with ThreadPoolExecutor(len(targets)) as pool:
        futures = [pool.submit(t) for t in targets]
        return [f.result(timeout=WAIT) for f in futures]


def _data(seed: int, n: int = 60, d: int = 5, k: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, size=n)
    X = rng.standard_normal((n, d)) + 2.0 * np.eye(k, d)[y]
    return X, y


MODELS = [tg.LinearSVM, tg.SoftmaxClassifier]


def _fit(model: type, seed: int) -> tg.LinearClassifier:
    X, y = _data(seed)
    return model(epochs=8, batch_size=16, learning_rate=0.05, seed=seed, verbose=False).fit(X, y)


def _same(a: tg.LinearClassifier, b: tg.LinearClassifier) -> None:
    np.testing.assert_array_equal(a.W.data, b.W.data)
    np.testing.assert_array_equal(a.b.data, b.b.data)
    assert a.history_ == b.history_


# ----- classifiers in threads -----


def test_parallel_fits_equal_sequential_fits() -> None:
    jobs = [(model, seed) for model in MODELS for seed in (0, 1, 2)]  # six fits at once
    sequential = [_fit(model, seed) for model, seed in jobs]
    barrier = threading.Barrier(len(jobs))

    def job(model: type, seed: int) -> Callable[[], tg.LinearClassifier]:
        def run() -> tg.LinearClassifier:
            barrier.wait(WAIT)  # start together, so the fits overlap
            return _fit(model, seed)

        return run

    parallel = _run_threads(*(job(model, seed) for model, seed in jobs))
    for a, b in zip(parallel, sequential, strict=True):
        _same(a, b)


def _fit_while_predicting(model: type, served: tg.LinearClassifier, X: np.ndarray) -> Any:
    """Fit a new model in one thread while another calls served.predict (under no_grad)
    over and over until the fit is done; return the fitted model and the predictions."""
    predicting, done = threading.Event(), threading.Event()

    def fit() -> tg.LinearClassifier:
        predicting.wait(WAIT)  # the other thread is inside its loop of predict calls
        try:
            return _fit(model, 3)
        finally:
            done.set()

    def predict() -> list[np.ndarray]:
        seen = [served.predict(X)]
        predicting.set()
        while not done.is_set():
            seen.append(served.predict(X))
            if model is tg.SoftmaxClassifier:
                served.predict_proba(X)
        return seen

    return _run_threads(fit, predict)


@pytest.mark.parametrize("model", MODELS)
def test_predict_in_one_thread_while_fit_runs_in_another(model: type) -> None:
    X, _ = _data(3)
    served = _fit(model, 4)  # a trained model, asked for predictions all the while
    expected_fit, expected_predictions = _fit(model, 3), served.predict(X)
    for _trial in range(10):
        fitted, seen = _fit_while_predicting(model, served, X)
        _same(fitted, expected_fit)
        for predictions in seen:
            np.testing.assert_array_equal(predictions, expected_predictions)
        assert tg.is_grad_enabled()


def test_predict_on_the_model_being_refit() -> None:
    # Serving and retraining one object: predict reads W while fit updates it in place.
    X, y = _data(5)
    clf = _fit(tg.SoftmaxClassifier, 5)
    done = threading.Event()

    def refit() -> tg.LinearClassifier:
        try:
            return clf.fit(X, y)
        finally:
            done.set()

    def predict() -> int:
        count = 0
        while not done.is_set():
            assert clf.predict(X).shape == (len(X),)
            count += 1
        return count

    _run_threads(refit, predict)
    _same(clf, _fit(tg.SoftmaxClassifier, 5))


# ----- grad mode is per thread -----


def test_nested_no_grad_across_threads() -> None:
    """Two threads nest no_grad and enable_grad in different orders, in lock step: after
    every step each records a graph exactly when its own nesting says so."""
    barrier = threading.Barrier(2)
    switches = {"+no": tg.no_grad, "+en": tg.enable_grad}

    def follow(script: list[str]) -> list[bool]:
        seen, blocks = [], []
        try:
            for step in script:  # "+no"/"+en" opens a block, "-" closes the innermost
                barrier.wait(WAIT)
                if step in switches:
                    blocks.append(switches[step]())
                    blocks[-1].__enter__()
                elif step == "-":
                    blocks.pop().__exit__(None, None, None)
                w = tg.tensor([1.0, 2.0], requires_grad=True)
                seen.append((w * w).sum().requires_grad)
        finally:
            for block in reversed(blocks):
                block.__exit__(None, None, None)
        return seen

    left = ["+no", "+en", "+no", "-", "-", "-"]
    right = [".", "+no", ".", "+en", "-", "-"]
    a, b = _run_threads(lambda: follow(left), lambda: follow(right))
    assert a == [False, True, False, True, False, True]
    assert b == [True, False, False, True, False, True]
    assert tg.is_grad_enabled()


def test_one_no_grad_object_open_in_two_threads_at_once() -> None:
    # A module-level `quiet = tg.no_grad()` used by a server's threads: the blocks overlap
    # and close in the other order. Each must restore its own thread's mode (the tokens
    # lived on the object: the first thread out reset the other's token and crashed).
    quiet = tg.no_grad()
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()

    def first() -> tuple[bool, bool]:
        with quiet:
            first_in.set()
            second_in.wait(WAIT)
            inside = tg.is_grad_enabled()
        first_out.set()
        return inside, tg.is_grad_enabled()

    def second() -> tuple[bool, bool]:
        first_in.wait(WAIT)
        with quiet:
            second_in.set()
            first_out.wait(WAIT)
            inside = tg.is_grad_enabled()
        return inside, tg.is_grad_enabled()

    assert _run_threads(first, second) == [(False, True), (False, True)]
    with quiet:  # and it still works in this thread afterwards
        assert not tg.is_grad_enabled()
    assert tg.is_grad_enabled()


def test_leaving_a_block_entered_in_another_thread_is_a_clear_error() -> None:
    block = tg.no_grad()
    _run_threads(block.__enter__)  # entered there, never left there
    with pytest.raises(RuntimeError, match="no_grad: leaving a block that this thread"):
        block.__exit__(None, None, None)
    assert tg.is_grad_enabled()


def test_no_grad_in_one_asyncio_task_does_not_leak_into_another() -> None:
    async def quiet(inside: asyncio.Event, done: asyncio.Event) -> bool:
        with tg.no_grad():
            inside.set()
            await done.wait()  # the other task runs while this block is open
            return tg.is_grad_enabled()

    async def busy(inside: asyncio.Event, done: asyncio.Event) -> tuple[bool, list[float]]:
        await inside.wait()
        w = tg.tensor([1.0, 2.0], requires_grad=True)
        loss = (w * w).sum()
        loss.backward()
        done.set()
        return tg.is_grad_enabled(), w.grad.tolist()

    async def main() -> list[Any]:
        inside, done = asyncio.Event(), asyncio.Event()
        return await asyncio.wait_for(asyncio.gather(quiet(inside, done), busy(inside, done)), WAIT)

    assert asyncio.run(main()) == [False, (True, [2.0, 4.0])]
    assert tg.is_grad_enabled()


def test_asyncio_tasks_interleaving_no_grad_blocks() -> None:
    # Two tasks open and close no_grad in overlapping, non-nested order on one thread.
    async def task(first: bool, log: list[tuple[str, bool]]) -> None:
        if not first:
            await asyncio.sleep(0)
        with tg.no_grad():
            log.append(("in", tg.is_grad_enabled()))
            await asyncio.sleep(0)
            await asyncio.sleep(0)
        log.append(("out", tg.is_grad_enabled()))

    async def main() -> list[tuple[str, bool]]:
        log: list[tuple[str, bool]] = []
        await asyncio.wait_for(asyncio.gather(task(True, log), task(False, log)), WAIT)
        return log

    assert asyncio.run(main()) == [("in", False), ("in", False), ("out", True), ("out", True)]


def test_no_grad_decorates_a_generator_step_by_step_as_in_torch() -> None:
    # The body of a generator runs at each next(), after the decorated call returned:
    # switching around the call alone recorded the graph after all.
    @tg.no_grad()
    def batches(w: tg.Tensor) -> Any:
        received = yield (w * 2).requires_grad
        yield received, tg.is_grad_enabled()
        with tg.enable_grad():
            yield (w * 2).requires_grad
        return "done"

    @torch.no_grad()
    def torch_batches(w: Any) -> Any:
        received = yield (w * 2).requires_grad
        yield received, torch.is_grad_enabled()
        with torch.enable_grad():
            yield (w * 2).requires_grad
        return "done"

    ours = batches(tg.tensor(1.0, requires_grad=True))
    theirs = torch_batches(torch.tensor(1.0, requires_grad=True))
    for gen in (ours, theirs):
        assert next(gen) is False
        assert tg.is_grad_enabled() and torch.is_grad_enabled()  # not leaked between steps
        assert gen.send("sent") == ("sent", False)
        assert next(gen) is True
        with pytest.raises(StopIteration, match="done"):
            next(gen)
    assert batches.__name__ == "batches"


def test_a_generator_closed_or_thrown_into_early_restores_grad_mode() -> None:
    @tg.no_grad()
    def endless() -> Any:
        try:
            while True:
                yield tg.is_grad_enabled()
        except ValueError:
            yield "caught"

    gen = endless()
    assert next(gen) is False
    assert gen.throw(ValueError("stop")) == "caught"
    gen.close()
    assert tg.is_grad_enabled()


# ----- backward in parallel -----


def test_backward_in_parallel_threads_matches_torch() -> None:
    rng = np.random.default_rng(6)
    cases = [(rng.standard_normal((5, 4)), rng.standard_normal(4)) for _ in range(4)]
    barrier = threading.Barrier(len(cases))

    def job(x0: np.ndarray, w0: np.ndarray) -> Callable[[], np.ndarray]:
        def run() -> np.ndarray:
            barrier.wait(WAIT)
            W = tg.tensor(w0, requires_grad=True)
            for _ in range(20):  # many small graphs, interleaved with the other threads
                W.zero_grad()
                tg.sum(tg.tanh(tg.tensor(x0) @ W) ** 2).backward()
            return W.grad

        return run

    grads = _run_threads(*(job(x0, w0) for x0, w0 in cases))
    for (x0, w0), g in zip(cases, grads, strict=True):
        Wt = torch.tensor(w0, requires_grad=True)
        (torch.tanh(torch.tensor(x0) @ Wt) ** 2).sum().backward()
        np.testing.assert_allclose(g, Wt.grad.numpy(), rtol=1e-12)


def test_backward_passes_in_parallel_add_into_a_shared_leaf() -> None:
    # Hogwild: threads backpropagate their own graphs into one parameter. numpy lets go
    # of the GIL while it adds large arrays, so an unlocked read-add-write of W.grad lost
    # about a fifth of the passes; every one must count, as in PyTorch.
    W = tg.tensor(np.ones(200_000), requires_grad=True)
    x = np.arange(200_000.0)
    barrier = threading.Barrier(4)

    def passes() -> None:
        barrier.wait(WAIT)
        for _ in range(20):
            (W * x).sum().backward()

    _run_threads(passes, passes, passes, passes)
    np.testing.assert_array_equal(W.grad, 80 * x)


def test_writes_in_one_thread_do_not_disturb_another_threads_graphs() -> None:
    # Every thread updates its own parameter in place between steps (the SGD idiom):
    # the shared log must never blame one thread's write on another's graph.
    def train(seed: int, barrier: threading.Barrier | None = None) -> np.ndarray:
        rng = np.random.default_rng(seed)
        X, W = tg.tensor(rng.standard_normal((8, 3))), tg.tensor(np.ones(3), requires_grad=True)
        if barrier is not None:
            barrier.wait(WAIT)
        for _ in range(30):
            loss = ((X @ W) ** 2).mean()
            loss.backward()
            W.data -= 0.01 * W.grad
            W.zero_grad()
        return W.data.copy()

    barrier = threading.Barrier(4)
    parallel = _run_threads(*(lambda s=s: train(s, barrier) for s in range(4)))
    for seed, W in enumerate(parallel):
        np.testing.assert_array_equal(W, train(seed))


def test_a_write_from_another_thread_to_a_saved_array_is_caught() -> None:
    W = tg.tensor([1.0, 2.0], requires_grad=True)
    loss = (W * W).sum()
    _run_threads(lambda: W.data.__setitem__(0, 5.0))
    with pytest.raises(tg.ModifiedInPlaceError, match="input 0 of mul"):
        loss.backward()


def test_writes_logged_at_the_same_moment_keep_the_newest_tick(monkeypatch) -> None:
    # Thread A is held while it logs; thread B logs a write and builds an op meanwhile.
    # The log's newest tick must not go back in time when A finishes (it did: A took its
    # tick first and stored it last, and a backward then skipped B's write).
    inplace = tensorgraph.inplace
    held, released = threading.Event(), threading.Event()
    real_caller = inplace.caller

    def slow_caller(skip: tuple[str, ...]) -> Any:
        if threading.current_thread().name == "held":
            held.set()
            released.wait(WAIT)
        return real_caller(skip)

    monkeypatch.setattr(inplace, "caller", slow_caller)
    a, b = np.zeros(2), np.zeros(2)

    def writer_a() -> None:
        inplace.note_write(a)

    thread = threading.Thread(target=writer_a, name="held")
    thread.start()
    assert held.wait(WAIT)
    inplace.note_write(b)
    newest = inplace._Writes.last
    released.set()
    thread.join(WAIT)
    assert inplace._Writes.last >= newest
    assert inplace._Writes.by_root[id(a)][0] > inplace._Writes.by_root[id(b)][0]


# ----- anomaly mode: process-wide, as in PyTorch -----


def test_anomaly_mode_is_on_while_any_thread_is_inside_a_block() -> None:
    # Overlapping blocks closing in the other order: saving and restoring the flag
    # switched it off under the second thread, then left it on for good.
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()

    def first() -> bool:
        with tg.detect_anomaly():
            first_in.set()
            second_in.wait(WAIT)
        first_out.set()
        return tg.is_anomaly_enabled()  # the second thread is still inside

    def second() -> bool:
        first_in.wait(WAIT)
        with tg.detect_anomaly():
            second_in.set()
            first_out.wait(WAIT)
            x = tg.tensor([1.0, -1.0], requires_grad=True)
            with pytest.raises(tg.AnomalyError):
                tg.log(x)  # still watched after the first thread left
            return tg.is_anomaly_enabled()

    assert _run_threads(first, second) == [True, True]
    assert not tg.is_anomaly_enabled()


def test_anomaly_mode_watches_other_threads_ops() -> None:
    inside, checked = threading.Event(), threading.Event()

    def block() -> None:
        with tg.detect_anomaly():
            inside.set()
            checked.wait(WAIT)

    def other() -> str:
        inside.wait(WAIT)
        try:
            tg.log(tg.tensor([-1.0]))
            return "not caught"
        except tg.AnomalyError as err:
            return str(err).split("\n")[0]
        finally:
            checked.set()

    assert _run_threads(block, other)[1].startswith("detect_anomaly: log produced nan")
    assert not tg.is_anomaly_enabled()
