"""Int8 quantisation of the exported embedding graph with one activation scale per token.

ONNX Runtime's dynamic quantisation (``quantize_dynamic``) scales each MatMul's input with one number
for the whole tensor, computed at run time over every row of the batch, padding included: a text's
vector then depends on the texts it is batched with. Measured on 400 BANKING77 queries: cosine 0.978
(mean 0.992) between a text embedded alone and in a batch, and an exact duplicate of a text got another
vector in 94% of reshuffled batches, which the checks that compare texts (duplicates, the poisoned
check's counterfactual) read as a difference.

Here every MatMul with a constant weight becomes

* the input flattened to ``[tokens, K]``; per token ``scale = max|x| / 127`` and
  ``q = QuantizeLinear(x, scale, 128)`` (uint8, symmetric around 128);
* ``MatMulInteger(q, W8, 128, 128)`` with the weight quantised per output column (symmetric around
  128 in uint8: exact integer products on every CPU, see ``ZERO_POINT``);
* the int32 result times the weight's column scale and the token's scale, reshaped back.

Each token's numbers depend on that token alone, so a text gets the same vector (to float rounding,
cosine >= 0.999999) in any batch and on any CPU, and, the scale following each token's own range,
the vectors are closer to the fp32 ones (1,500 BANKING77 texts: mean cosine to torch 0.9977, worst
0.988; per-tensor 0.9939, 0.985) for ~10% more CPU than per-tensor. Inputs shared by several
MatMuls (query, key and value) are quantised once. The attention's own MatMuls (scores, context) stay fp32.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

QMAX = 127.0
# Activations and weights are both uint8, symmetric around this zero point. The weights could be int8
# (ONNX Runtime's faster uint8 x int8 kernel), but on x86 CPUs without VNNI (AVX2 only) that kernel
# adds pairs of products in int16 (vpmaddubsw), which saturates beyond 32,767 (2 x 255 x 127 does):
# the same export then gave other vectors there (an AMD EPYC with AVX2: mean cosine to torch .9963,
# worst .974, against .9977 / .988 on a VNNI CPU). uint8 x uint8 widens to 16 bits before multiplying,
# so the integer products are exact on every CPU, and a vector no longer depends on the machine. It
# costs ~18% of int8's speed on that AVX2 CPU (texts per CPU second: 281 vs 337; torch 222); 7-bit
# int8 weights (ONNX Runtime's ``reduce_range``) also avoid saturation, at the cost of quality (mean
# cosine .9960, worst .978).
ZERO_POINT = 128


def quantize_weight(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric int8 ``[K, N]`` weight and its float32 scale per output column (stored as uint8,
    ``q + ZERO_POINT``, in the graph)."""
    scale = (np.maximum(np.abs(w).max(axis=0), 1e-12) / QMAX).astype(np.float32)
    q = np.clip(np.round(w / scale), -QMAX, QMAX).astype(np.int8)
    return q, scale


class _Rewriter:
    """Builds the replacement nodes and their constants for one graph."""

    def __init__(self, graph: Any) -> None:
        from onnx import numpy_helper

        self.graph = graph
        self.weights = {i.name: i for i in graph.initializer}
        self.to_array = numpy_helper.to_array
        self.from_array = numpy_helper.from_array
        self.quantised: dict[str, tuple[str, str, str]] = {}
        self._const("pq/eps", np.float32(1e-12))
        self._const("pq/qmax", np.float32(QMAX))
        self._const("pq/zp", np.uint8(ZERO_POINT))
        self._const("pq/last", np.array([-1], np.int64))
        self._const("pq/zero", np.array([0], np.int64))

    def _const(self, name: str, value: np.ndarray | np.generic) -> str:
        self.graph.initializer.append(self.from_array(np.asarray(value), name))
        return name

    def quantise_input(self, x: str, k: int) -> tuple[list[Any], tuple[str, str, str]]:
        """Nodes quantising activation ``x`` per token (once per activation) and their outputs."""
        from onnx import TensorProto, helper

        if x in self.quantised:
            return [], self.quantised[x]
        p = f"pq/{len(self.quantised)}/"
        width = self._const(p + "k", np.array([-1, k], np.int64))
        nodes = [
            helper.make_node("Shape", [x], [p + "shape"]),
            # Every axis but the last: the output takes them back.
            helper.make_node("Slice", [p + "shape", "pq/zero", "pq/last"], [p + "lead"]),
            helper.make_node("Reshape", [x, width], [p + "x2"]),
            helper.make_node("Abs", [p + "x2"], [p + "abs"]),
            helper.make_node("ReduceMax", [p + "abs"], [p + "amax"], axes=[1], keepdims=0),
            # A token of zeros gets a tiny scale instead of a division by zero (and quantises to 0).
            helper.make_node("Max", [p + "amax", "pq/eps"], [p + "amax_eps"]),
            helper.make_node("Div", [p + "amax_eps", "pq/qmax"], [p + "scale"]),
            helper.make_node("Shape", [p + "scale"], [p + "tokens"]),
            helper.make_node(
                "ConstantOfShape",
                [p + "tokens"],
                [p + "zps"],
                value=helper.make_tensor("zp", TensorProto.UINT8, [1], [ZERO_POINT]),
            ),
            helper.make_node("QuantizeLinear", [p + "x2", p + "scale", p + "zps"], [p + "q"], axis=0),
            helper.make_node("Unsqueeze", [p + "scale", "pq/last"], [p + "scale_col"]),
        ]
        self.quantised[x] = (p + "q", p + "scale_col", p + "lead")
        return nodes, self.quantised[x]

    def matmul(self, node: Any) -> list[Any]:
        """The per-token int8 replacement of one MatMul whose second input is a constant weight."""
        from onnx import TensorProto, helper

        w = self.to_array(self.weights[node.input[1]]).astype(np.float32)
        k, n = w.shape
        nodes, (q, scale_col, lead) = self.quantise_input(node.input[0], k)
        wq, ws = quantize_weight(w)
        b = node.input[1]
        self._const(b + "/q8", (wq.astype(np.int16) + ZERO_POINT).astype(np.uint8))
        self._const(b + "/scale", ws)
        self._const(b + "/n", np.array([n], np.int64))
        self.graph.initializer.remove(self.weights.pop(b))
        o = node.output[0]
        return nodes + [
            helper.make_node("MatMulInteger", [q, b + "/q8", "pq/zp", "pq/zp"], [o + "/i32"]),
            helper.make_node("Cast", [o + "/i32"], [o + "/f"], to=TensorProto.FLOAT),
            helper.make_node("Mul", [o + "/f", b + "/scale"], [o + "/fw"]),
            helper.make_node("Mul", [o + "/fw", scale_col], [o + "/2d"]),
            helper.make_node("Concat", [lead, b + "/n"], [o + "/shape"], axis=0),
            helper.make_node("Reshape", [o + "/2d", o + "/shape"], [o]),
        ]


def quantize_per_token(source: Path, target: Path) -> int:
    """Write ``target``: ``source`` with every constant-weight MatMul int8, scaled per token.

    Returns the number of MatMuls rewritten. Deterministic: the same fp32 file gives the same bytes.
    """
    import onnx

    model = onnx.load(str(source))
    rw = _Rewriter(model.graph)
    nodes: list[Any] = []
    done = 0
    for node in model.graph.node:
        if node.op_type == "MatMul" and node.input[1] in rw.weights:
            nodes += rw.matmul(node)
            done += 1
        else:
            nodes.append(node)
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    onnx.checker.check_model(model)
    onnx.save(model, str(target))
    return done
