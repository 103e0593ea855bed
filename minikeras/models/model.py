"""``Model``: a network of layers that can predict, and train once compiled."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import backend as K
from .. import losses as losses_module
from .. import metrics as metrics_module
from .. import optimizers, saving
from ..callbacks import Callback, History, Progbar
from ..engine import Network
from .arrays import check_target, standardize, unpack
from .compat import (
    check_targets_given,
    check_trainable_consistency,
    losses_per_output,
    renamed_epochs,
    trained_params,
)
from .generators import GeneratorMethods
from .loop import fit_loop, run_batches
from .masking import masked_scores
from .state import state_updates


class Model(GeneratorMethods, Network):
    """``Model(inputs, outputs)``: the layers are found from the tensors, not listed.

    ``predict``, ``evaluate`` and ``fit`` each run one compiled ``K.function`` over the
    data in batches. ``fit``'s is fed learning phase 1 (Dropout drops, BatchNormalization
    uses and updates batch statistics); the others are fed 0.
    """

    def __init__(self, inputs: Any = None, outputs: Any = None, name: str | None = None,
                 **kwargs: Any) -> None:
        self._predict_function: K.Function | None = None
        self._functions: dict[tuple[str, bool], K.Function] = {}  # ("train"/"test", weighted)
        self.optimizer: optimizers.Optimizer | None = None
        self.stop_training = False
        super().__init__(inputs=inputs, outputs=outputs, name=name, **kwargs)

    def _init_graph_network(self, inputs: Any, outputs: Any) -> None:
        super()._init_graph_network(inputs, outputs)
        self._predict_function = None  # compiled for the old graph

    # --- compiling: the loss graph ----------------------------------------------------

    def compile(self, optimizer: Any, loss: Any = None, metrics: Any = None,
                loss_weights: Any = None, sample_weight_mode: Any = None, **kwargs: Any) -> None:
        """Build the loss, the metrics and their targets; choose the optimizer.

        Nothing is trained or even differentiated yet: the gradient graph is built by the
        first ``fit``/``train_on_batch``, from the weights trainable at compile time.
        """
        if kwargs:
            raise TypeError(f"Invalid keyword argument(s) in `compile`: {sorted(kwargs)}")
        self._ensure_built_for_compile()
        self.optimizer = optimizers.get(optimizer)
        self.loss = loss
        self.loss_functions = [None if f is None else losses_module.get(f)
                               for f in losses_per_output(self, loss)]
        self._trained = [i for i, f in enumerate(self.loss_functions) if f is not None]
        weights = self._per_output(loss_weights if loss_weights is not None else 1.0, "loss_weights")
        self.loss_weights = [float(w) for w in weights]
        self.targets, self.sample_weights, self._scores = [], [], []
        self.metrics = metrics or []
        self.metrics_names = ["loss"]
        multiple = len(self.outputs) > 1
        with K.name_scope("loss"):
            for y, name, fn in self._trained_outputs():
                target = K.placeholder(ndim=K.ndim(y), dtype=K.dtype(y), name=name + "_target")
                self.targets.append(target)
                self.sample_weights.append(K.placeholder(shape=(None,), name=name + "_sample_weights"))
                self._scores.append(masked_scores(fn(target, y), y))
                if multiple:
                    self.metrics_names.append(name + "_loss")
        metric_tensors = []
        with K.name_scope("metrics"):
            for (y, name, fn), target in zip(self._trained_outputs(), self.targets):
                for metric in self._per_output_metrics(self.metrics, name):
                    if metric in ("accuracy", "acc"):
                        metric_fn = metrics_module.accuracy_for(fn, K.int_shape(y))
                        metric_name = metric
                    else:
                        metric_fn = metrics_module.get(metric)
                        metric_name = getattr(metric_fn, "__name__", str(metric))
                    self.metrics_names.append(f"{name}_{metric_name}" if multiple else metric_name)
                    metric_tensors.append(K.mean(metric_fn(target, y)))
        self._metric_tensors = metric_tensors
        self._losses_by_weighting: dict[bool, tuple[Any, list[Any]]] = {}
        self.total_loss, self.metrics_tensors = self._loss_outputs(weighted=False)
        self._functions = {}
        self._collected_trainable_weights = self.trainable_weights
        self._training_shapes = (self._input_shapes(), self._target_shapes())
        # Per target, once: its name, and its loss and output shape for check_target.
        self._targets = [(name, fn, K.int_shape(y)) for y, name, fn in self._trained_outputs()]
        self._target_names = [name for name, _, _ in self._targets]

    def _loss_outputs(self, weighted: bool) -> tuple[Any, list[Any]]:
        """``(total_loss, metric tensors)``, with or without the per-sample weights.

        Unweighted, each output's loss is the mean of its scores. Weighted, as Keras's
        weighted objective: the mean of ``scores * weights``, divided by the fraction of
        non-zero weights. The weighted graph is built the first time weights are given, so
        the usual step runs none of its ops.
        """
        if weighted not in self._losses_by_weighting:
            total = None
            output_losses = []
            with K.name_scope("loss"):
                for scores, sample_weight, weight in zip(self._scores, self.sample_weights,
                                                         [self.loss_weights[i] for i in self._trained]):
                    if weighted:
                        nonzero = K.mean(K.cast(K.not_equal(sample_weight, 0), K.floatx()))
                        output_loss = K.mean(scores * sample_weight) / K.maximum(nonzero, K.epsilon())
                    else:
                        output_loss = K.mean(scores)
                    output_losses.append(output_loss)
                    term = output_loss * weight if weight != 1.0 else output_loss
                    total = term if total is None else total + term
                for extra in self.losses:
                    total = extra if total is None else total + extra
                if total is None:  # nothing to train on; evaluate reports 0, fit refuses
                    total = K.constant(0.0, name="no_loss")
            per_output = output_losses if len(self.outputs) > 1 else []
            self._losses_by_weighting[weighted] = (total, per_output + self._metric_tensors)
        return self._losses_by_weighting[weighted]

    def _trained_outputs(self) -> list[tuple[Any, str, Any]]:
        """``(output, name, loss function)`` of each output that has a loss (and so a target)."""
        return [(self.outputs[i], self.output_names[i], self.loss_functions[i]) for i in self._trained]

    def _ensure_built_for_compile(self) -> None:
        if not self.outputs:
            raise RuntimeError(
                "This model has no outputs yet: give the first layer an input_shape, or build "
                "it, before compiling."
            )

    def _per_output(self, value: Any, what: str) -> list[Any]:
        if isinstance(value, dict):
            missing = [n for n in self.output_names if n not in value]
            if missing:
                raise ValueError(f"Output(s) {missing} missing from the `{what}` dictionary. "
                                 f"Expected a key for each of: {self.output_names}")
            return [value[n] for n in self.output_names]
        if isinstance(value, (list, tuple)):
            if len(value) != len(self.outputs):
                raise ValueError(f"When passing a list as `{what}`, it should have one entry per "
                                 f"model output. The model has {len(self.outputs)} outputs, but "
                                 f"you passed {what}={value}")
            return list(value)
        if value is None:
            raise ValueError("The model needs a loss to be compiled: compile(optimizer, loss=...)")
        return [value] * len(self.outputs)

    def _per_output_metrics(self, metrics: Any, name: str) -> list[Any]:
        if isinstance(metrics, dict):
            return list(metrics.get(name, []) if isinstance(metrics.get(name, []), list)
                        else [metrics[name]])
        return list(metrics)

    # --- compiled functions ---------------------------------------------------------

    def _check_compiled(self) -> None:
        if self.optimizer is None:
            raise RuntimeError("You must compile your model before using it: call "
                               "`model.compile(optimizer, loss)` first, e.g. "
                               "model.compile('adam', 'categorical_crossentropy').")

    def _feeds(self, weighted: bool) -> list[Any]:
        phase = [K.learning_phase()] if self.uses_learning_phase else []
        weights = self.sample_weights if weighted else []
        return list(self._feed_inputs) + self.targets + weights + phase

    def _make_train_function(self, weighted: bool = False) -> K.Function:
        """The compiled step: inputs, targets (and sample weights if ``weighted``) → loss, metrics."""
        self._check_compiled()
        check_trainable_consistency(self)
        key = ("train", weighted)
        if key not in self._functions:
            total, metrics = self._loss_outputs(weighted)
            assert self.optimizer is not None  # _check_compiled
            with K.name_scope("training"):
                updates = self.optimizer.get_updates(params=trained_params(self, total), loss=total)
                self._functions[key] = K.function(self._feeds(weighted), [total] + metrics,
                                                  updates=self.updates + updates, name="train_function")
        return self._functions[key]

    def _make_test_function(self, weighted: bool = False) -> K.Function:
        self._check_compiled()
        key = ("test", weighted)
        if key not in self._functions:
            total, metrics = self._loss_outputs(weighted)
            self._functions[key] = K.function(self._feeds(weighted), [total] + metrics,
                                              updates=state_updates(self), name="test_function")
        return self._functions[key]

    def _training_arrays(self, x: Any, y: Any, sample_weight: Any = None,
                         class_weight: Any = None) -> tuple[list[np.ndarray], bool]:
        """Inputs, targets and (if any are given) sample weights as arrays, every shape checked.

        Returns the arrays and whether they include weights: without them, the compiled
        functions that take no weights are used.
        """
        self._check_compiled()
        input_shapes, target_shapes = self._training_shapes
        xs = self._standardize(x, input_shapes, self.input_names, "input")
        targets = self._targets
        raw = [y[n] for n in self._target_names] if isinstance(y, dict) else (
            list(y) if isinstance(y, (list, tuple)) and len(targets) > 1 else [y])
        if y is None:
            check_targets_given(self, y)
        for target, (_, fn, shape) in zip(raw, targets):
            check_target(target, fn, shape)
        ys = self._standardize(y, target_shapes, self._target_names, "target") if targets else []
        if ys and len(xs[0]) != len(ys[0]):
            raise ValueError(
                "Input arrays should have the same number of samples as target arrays. Found "
                f"{len(xs[0])} input samples and {len(ys[0])} target samples."
            )
        if sample_weight is None and class_weight is None:
            return xs + ys, False
        weights = []
        for i, target in enumerate(ys):
            w = np.ones(len(target), dtype=K.floatx())
            if sample_weight is not None:
                given = (self._per_output(sample_weight, "sample_weight")[self._trained[i]]
                         if len(self.outputs) > 1 else sample_weight)
                w = w if given is None else np.asarray(given, dtype=K.floatx()).reshape(-1)
                if len(w) != len(target):
                    raise ValueError(f"Found a sample_weight array with shape {np.shape(given)} for "
                                     f"an input with shape {target.shape}.")
            if class_weight is not None:
                one_hot = target.ndim > 1 and target.shape[-1] > 1
                classes = target.argmax(-1) if one_hot else target.reshape(-1)
                w = w * np.array([class_weight.get(int(c), 1.0) for c in classes], dtype=K.floatx())
            weights.append(w)
        return xs + ys + weights, True

    def _phase_value(self, phase: int) -> list[Any]:
        return [phase] if self.uses_learning_phase else []

    # --- training and evaluating ----------------------------------------------------

    def train_on_batch(self, x: Any, y: Any, sample_weight: Any = None, class_weight: Any = None) -> Any:
        """One gradient step on one batch; returns the loss (and metrics) *before* the step."""
        ins, weighted = self._training_arrays(x, y, sample_weight, class_weight)
        outs = self._make_train_function(weighted)(ins + self._phase_value(1))
        return unpack(outs)

    def test_on_batch(self, x: Any, y: Any, sample_weight: Any = None) -> Any:
        ins, weighted = self._training_arrays(x, y, sample_weight)
        return unpack(self._make_test_function(weighted)(ins + self._phase_value(0)))

    def evaluate(self, x: Any = None, y: Any = None, batch_size: int | None = 32, verbose: int = 1,
                 sample_weight: Any = None) -> Any:
        """Loss (and metrics) averaged over all samples, weighted by batch size."""
        ins, weighted = self._training_arrays(x, y, sample_weight)
        f = self._make_test_function(weighted)
        totals = run_batches(f, ins, batch_size or 32, self._phase_value(0))
        if verbose:
            Progbar(len(ins[0])).update(len(ins[0]), dict(zip(self.metrics_names, map(float, totals))))
        return unpack(list(totals))

    def fit(self, x: Any = None, y: Any = None, batch_size: int | None = 32, epochs: int = 1,
            verbose: int = 1, callbacks: list[Callback] | None = None, validation_split: float = 0.0,
            validation_data: Any = None, shuffle: bool = True, class_weight: Any = None,
            sample_weight: Any = None, initial_epoch: int = 0, **kwargs: Any) -> History:
        """Train for ``epochs`` passes over the data, ``batch_size`` samples per step."""
        epochs = renamed_epochs(epochs, kwargs)
        if kwargs:
            raise TypeError(f"Unrecognized keyword arguments: {sorted(kwargs)}")
        ins, weighted = self._training_arrays(x, y, sample_weight, class_weight)
        val_ins, val_weighted = None, weighted
        if validation_data is not None:
            vx, vy = validation_data[0], validation_data[1]
            vw = validation_data[2] if len(validation_data) > 2 else None
            val_ins, val_weighted = self._training_arrays(vx, vy, vw)
        elif validation_split and 0.0 < validation_split < 1.0:
            split = int(len(ins[0]) * (1.0 - validation_split))
            ins, val_ins = [a[:split] for a in ins], [a[split:] for a in ins]
        train = self._make_train_function(weighted)
        test = self._make_test_function(val_weighted) if val_ins is not None else None
        history = fit_loop(self, train, ins, batch_size=batch_size or 32, epochs=epochs, verbose=verbose,
                           callbacks=callbacks, val_function=test, val_ins=val_ins, shuffle=shuffle,
                           initial_epoch=initial_epoch)
        self.history = history
        return history

    # --- saving: the work is done in minikeras.saving ---------------------------------

    def save(self, filepath: Any, overwrite: bool = True, include_optimizer: bool = True,
             save_format: str | None = None) -> None:
        """Architecture, weights and training state in one file: ``.keras`` (Keras 3's archive)
        or ``.h5`` (Keras 2's layout), by extension unless ``save_format`` says."""
        saving.save_model(self, filepath, overwrite=overwrite, include_optimizer=include_optimizer,
                          save_format=save_format)

    def save_weights(self, filepath: Any, overwrite: bool = True) -> None:
        """Only the weights, layer by layer, in Keras's .h5 layout."""
        saving.save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath: Any, by_name: bool = False, skip_mismatch: bool = False) -> None:
        """Weights from a save_weights or save file: by position, or by layer name."""
        saving.load_weights(self, filepath, by_name=by_name, skip_mismatch=skip_mismatch)

    def _repr_html_(self) -> str:
        """In a notebook, a model on its own shows its summary as a table."""
        from ..engine.summary import summary_html

        return summary_html(self)

    def to_json(self, **kwargs: Any) -> str:
        """The architecture as JSON, without weights (``kwargs`` go to ``json.dumps``)."""
        return saving.model_to_json(self, **kwargs)

    # --- feeding arrays -------------------------------------------------------------

    def _standardize(self, x: Any, shapes: Sequence[tuple[Any, ...]], names: Sequence[str],
                     what: str) -> list[np.ndarray]:
        return standardize(x, shapes, names, what)

    def _input_shapes(self) -> list[tuple[Any, ...]]:
        return [K.int_shape(x) for x in self._feed_inputs]

    def _target_shapes(self) -> list[tuple[Any, ...]]:
        """The output shapes; integer class ids (sparse cross-entropy) are one number each."""
        shapes = []
        for y, _, fn in self._trained_outputs():
            shape = K.int_shape(y)
            if getattr(fn, "__name__", "") == "sparse_categorical_crossentropy":
                shape = shape[:-1] + (1,)
            shapes.append(shape)
        return shapes

    def _make_predict_function(self) -> K.Function:
        if self._predict_function is None:
            inputs = list(self._feed_inputs)
            if self.uses_learning_phase:
                inputs.append(K.learning_phase())
            self._predict_function = K.function(inputs, self.outputs, updates=state_updates(self),
                                                name="predict_function")
        return self._predict_function

    def _phase(self) -> list[Any]:
        return [0] if self.uses_learning_phase else []

    def predict(self, x: Any, batch_size: int | None = 32, verbose: int = 0,
                steps: int | None = None) -> Any:
        """Outputs for every sample of ``x``, computed ``batch_size`` samples at a time."""
        arrays = self._standardize(x, self._input_shapes(), self.input_names, "input")
        f = self._make_predict_function()
        n = len(arrays[0])
        batch_size = batch_size or 32
        chunks: list[list[np.ndarray]] = [[] for _ in self.outputs]
        for start in range(0, n, batch_size):
            batch = [a[start : start + batch_size] for a in arrays]
            for chunk, out in zip(chunks, f(batch + self._phase())):
                chunk.append(out)
        results = [np.concatenate(c) if c else np.zeros((0, *(d or 0 for d in K.int_shape(y)[1:])), y.dtype)
                   for c, y in zip(chunks, self.outputs)]
        return results[0] if len(results) == 1 else results

    def predict_on_batch(self, x: Any) -> Any:
        arrays = self._standardize(x, self._input_shapes(), self.input_names, "input")
        results = self._make_predict_function()(arrays + self._phase())
        return results[0] if len(results) == 1 else results
