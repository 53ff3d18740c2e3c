"""Drop the work of the token classifier's ONNX graph that cannot change its output (one window a pass).

    .venv/bin/python scripts/slim_token_ner.py [sanitas/pii/model/token_ner/model.onnx] [--out PATH]

``sanitas.pii.token_ner`` runs one window per forward pass with no padding, so the attention mask is all
ones: the exported graph still builds the additive mask from it (about 40 shape and mask ops) and adds
it, a zero, to every layer's attention scores. The position and token-type embeddings are gathered with
index tensors built from the input's shape, and each layer's attention splits and merges heads with
computed reshapes and four transposes. This script rewrites the exported int8 graph to

* no ``attention_mask`` input and no mask add (x + 0.0 == x; the softmax reads the same numbers);
* the token-type embedding as its row 0 (every token type is 0) and the positions as rows 0..S-1 of
  the table, added in the same order as before;
* each layer's self-attention (the three int8 projections of one quantized input, the head reshapes
  and transposes, scaled scores, softmax, context) as one ONNX Runtime ``QAttention`` kernel.

The logits stay bit-identical (``check``, run after every rewrite; also checked on 5,317 windows of
presidio-synth, wnut17 and btc texts, and on the package's spans of 5,847 texts): about 9% less CPU per
window on presidio-synth's lengths (ONNX Runtime 1.31, 1 thread). ``scripts/train_token_ner.py``
applies it at export; run it by hand on a model exported before (it refuses a slimmed one).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import helper, numpy_helper

HEADS = 12


def _values(graph: Any) -> dict[str, np.ndarray]:
    out = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    for n in graph.node:
        if n.op_type == "Constant":
            out[n.output[0]] = numpy_helper.to_array(n.attribute[0].t)
    return out


def _toposort(nodes: list[Any], known: set[str]) -> list[Any]:
    """Nodes in an order where each one's inputs are made before it (stable otherwise)."""
    known = set(known) | {""}
    out: list[Any] = []
    todo = nodes
    while todo:
        left = []
        for n in todo:
            if all(i in known for i in n.input):
                out.append(n)
                known.update(n.output)
            else:
                left.append(n)
        if len(left) == len(todo):
            missing = [(n.name, [i for i in n.input if i not in known]) for n in left[:3]]
            raise ValueError(f"graph has a cycle or a missing input: {missing}")
        todo = left
    return out


def _prune(graph: Any) -> None:
    """Remove nodes none of whose outputs reach a graph output, then unused initializers and inputs."""
    needed = {o.name for o in graph.output}
    keep = []
    known = {i.name for i in graph.input} | {i.name for i in graph.initializer}
    for n in reversed(_toposort(list(graph.node), known)):
        if any(o in needed for o in n.output):
            keep.append(n)
            needed.update(i for i in n.input if i)
    del graph.node[:]
    graph.node.extend(reversed(keep))
    inits = [i for i in graph.initializer if i.name in needed]
    del graph.initializer[:]
    graph.initializer.extend(inits)
    inputs = [i for i in graph.input if i.name in needed]
    del graph.input[:]
    graph.input.extend(inputs)


def _fuse_attention(nodes: list[Any], vals: dict[str, np.ndarray], extra: list[Any]) -> list[Any]:
    """Each layer's self-attention as one ONNX Runtime ``QAttention`` (com.microsoft) node.

    The layer's query/key/value int8 projections (one shared quantized input) and its reshapes,
    transposes, scaled scores, softmax and context product become one kernel that runs the three
    projections as one GEMM and the heads in place. Same arithmetic: its logits are bit-identical
    (``check``), and the 24 transposes and reshapes are gone.
    """
    by_name = {n.name: n for n in nodes}
    by_out = {o: n for n in nodes for o in n.output}
    users: dict[str, list[Any]] = {}
    for n in nodes:
        for i in n.input:
            users.setdefault(i, []).append(n)
    drop: set[str] = set()
    new: list[Any] = []
    tail = "query/MatMul_quant"
    bases = sorted({n.name[: -len(tail)] for n in nodes if n.name.endswith("self/" + tail)})
    for base in bases:
        parts: dict[str, list[np.ndarray]] = {"w": [], "b": [], "ws": [], "wz": []}
        for part in ("query", "key", "value"):
            mm = by_name[f"{base}{part}/MatMul_quant"]
            (cast,) = users[mm.output[0]]
            (mul,) = users[cast.output[0]]
            (add,) = users[mul.output[0]]
            scales = by_out[mul.input[1]]
            if (cast.op_type, mul.op_type, add.op_type, scales.op_type) != ("Cast", "Mul", "Add", "Mul"):
                raise ValueError(f"{mm.name}: not the dynamic-quantization pattern this script slims")
            bias = add.input[0] if add.input[0] in vals else add.input[1]
            parts["w"].append(vals[mm.input[1]])
            parts["wz"].append(vals[mm.input[3]])
            parts["ws"].append(vals[scales.input[1]])
            parts["b"].append(vals[bias])
            a_q, a_zp, a_scale = mm.input[0], mm.input[2], scales.input[0]
            drop.update(x.name for x in (mm, cast, mul, add, scales))
        # The attention ops between the projections and the output dense layer, the additive mask
        # ("Add": zero when nothing is padded) included; the scores' scale must be the 1/sqrt(head
        # size) QAttention applies by default.
        names = ["Reshape", "Reshape_1", "Reshape_2", "Transpose", "Transpose_1", "Transpose_2"]
        names += ["Transpose_3", "MatMul", "Mul", "Add", "Softmax", "MatMul_1", "Reshape_3"]
        for name in names:
            drop.add(by_name[base + name].name)
        head = parts["w"][0].shape[1] // HEADS
        if not np.isclose(vals[by_name[base + "Mul"].input[1]], 1 / np.sqrt(head), rtol=1e-6):
            raise ValueError(f"{base}: attention scores not scaled by 1/sqrt(head size)")
        p = base + "qattention/"
        for key, arrs in parts.items():
            extra.append(numpy_helper.from_array(np.concatenate(arrs, axis=-1), p + key))
        new.append(
            helper.make_node(
                "QAttention",
                [a_q, p + "w", p + "b", a_scale, p + "ws", "", a_zp, p + "wz"],
                [by_name[base + "Reshape_3"].output[0]],
                name=p + "QAttention",
                domain="com.microsoft",
                num_heads=HEADS,
            )
        )
    return [n for n in nodes if n.name not in drop] + new


def slim(model: Any) -> Any:
    """The model without its attention mask and shape plumbing (same logits for unpadded windows)."""
    g = model.graph
    if [i.name for i in g.input] != ["inputs_embeds", "attention_mask"]:
        raise ValueError("not an exported token classifier (already slimmed?)")
    vals = _values(g)
    extra: list[Any] = []

    def const(name: str, arr: np.ndarray) -> str:
        extra.append(numpy_helper.from_array(arr, name))
        return name

    for n in g.node:
        if n.op_type == "Gather" and n.name.endswith("token_type_embeddings/Gather"):
            # Every token type is 0: the gather of row 0 for each token is row 0, broadcast.
            row = const("token_type_row0", vals[n.input[0]][0].astype(np.float32))
            n.CopyFrom(helper.make_node("Identity", [row], [n.output[0]], name=n.name))
        elif n.op_type == "Gather" and n.name.endswith("position_embeddings/Gather"):
            # Positions 0..S-1: the first S rows of the table.
            inputs = [n.input[0], "pos_start", "pos_end", "pos_axis"]
            n.CopyFrom(helper.make_node("Slice", inputs, [n.output[0]], name=n.name))
    nodes = _fuse_attention(list(g.node), vals, extra)
    seq = g.input[0].name
    lead = [
        helper.make_node("Shape", [seq], ["pos_end"], name="slim/seq_len", start=1, end=2),
    ]
    extra += [
        numpy_helper.from_array(np.array([0], dtype=np.int64), "pos_start"),
        numpy_helper.from_array(np.array([0], dtype=np.int64), "pos_axis"),
    ]
    del g.node[:]
    g.node.extend(lead + nodes)
    g.initializer.extend(extra)
    if not any(o.domain == "com.microsoft" for o in model.opset_import):
        model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    _prune(g)
    # Shapes of intermediates recorded at export no longer hold (e.g. the token-type "gather").
    del g.value_info[:]
    onnx.checker.check_model(model)
    return model


def check(before: Path, after: Path, lengths: range = range(1, 129)) -> None:
    """Logits of both models on random unpadded windows of every length: must be bit-identical."""
    import onnxruntime as ort

    def session(path: Path) -> Any:
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.log_severity_level = 3
        return ort.InferenceSession(
            str(path), opts, providers=["CPUExecutionProvider"], disabled_optimizers=["SkipLayerNormFusion"]
        )

    old, new = session(before), session(after)
    rng = np.random.default_rng(0)
    for n in lengths:
        x = rng.normal(0, 0.05, size=(1, n, 384)).astype(np.float32)
        a = old.run(None, {"inputs_embeds": x, "attention_mask": np.ones((1, n), dtype=np.int64)})[0]
        b = new.run(None, {"inputs_embeds": x})[0]
        if not np.array_equal(a, b):
            raise SystemExit(f"logits differ at length {n}: max {np.abs(a - b).max()}")
    print(f"bit-identical logits on lengths {lengths.start}..{lengths.stop - 1}")


def main() -> None:
    """Slim a model file (in place unless --out), then check it against the original."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", nargs="?", default="sanitas/pii/model/token_ner/model.onnx")
    ap.add_argument("--out", help="write here (default: replace the input)")
    args = ap.parse_args()
    src = Path(args.model)
    out = Path(args.out) if args.out else src
    # written beside the target and checked before it replaces anything: a failed check leaves the
    # original in place and no unchecked model behind
    tmp = out.with_suffix(".unchecked.onnx")
    onnx.save(slim(onnx.load(str(src))), str(tmp))
    try:
        check(src, tmp)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, out)


if __name__ == "__main__":
    main()
