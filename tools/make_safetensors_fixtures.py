#!/usr/bin/python3
"""Writes the safetensors fixtures read by tests/io/test_safetensors.cpp and the fuzz seed corpus.

The format is written by hand (struct + json) in the reference implementation's layout: compact
JSON, "__metadata__" first, tensors sorted by name, header padded with spaces to a multiple of 8.
numpy supplies the F16 bit patterns, torch the BF16 ones (torch 1.13 has no safetensors module).

Run from the repository root with the system Python (it has numpy and torch):

    /usr/bin/python3 tools/make_safetensors_fixtures.py

Outputs tests/data/safetensors/*.safetensors and tests/fuzz/corpus/safetensors/*; both are
committed, so this only needs re-running when the fixtures change. Output is deterministic.
"""
import json
import os
import struct

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "tests", "data", "safetensors")
CORPUS = os.path.join(ROOT, "tests", "fuzz", "corpus", "safetensors")


def serialize(tensors, metadata=None):
    """tensors: list of (name, dtype string, shape, raw little-endian bytes)."""
    header = {}
    if metadata:
        header["__metadata__"] = dict(sorted(metadata.items()))
    buf = b""
    for name, dtype, shape, raw in sorted(tensors, key=lambda t: t[0]):
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [len(buf), len(buf) + len(raw)]}
        buf += raw
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + buf


def np_entry(name, arr, dtype):
    arr = np.asarray(arr, order="C")  # (ascontiguousarray would make 0-d arrays 1-d)
    return (name, dtype, arr.shape, arr.astype(arr.dtype.newbyteorder("<")).tobytes())


def write(directory, name, blob):
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, name), "wb") as f:
        f.write(blob)
    print(f"{os.path.relpath(os.path.join(directory, name), ROOT)}: {len(blob)} bytes")


def main():
    # F32: also the byte-exact reference for crisp's writer (test "writer matches reference layout").
    f32 = serialize(
        [
            np_entry("a", (np.arange(6, dtype=np.float32) * 0.5 - 1).reshape(2, 3), "F32"),
            np_entry("empty", np.zeros((0, 4), dtype=np.float32), "F32"),
            np_entry("scalar", np.array(3.25, dtype=np.float32), "F32"),
        ],
        {"format": "pt", "note": "crisp fixture"},
    )
    write(DATA, "f32.safetensors", f32)

    f64 = serialize([np_entry("x", np.array([1 / 3, -2.5, 1e300, -0.0], dtype=np.float64), "F64")])
    write(DATA, "f64.safetensors", f64)

    half = np.array([1.0, -2.0, 65504.0, 2.0**-24, 2.0**-15, 1 / 3, np.inf, -np.inf, np.nan, -0.0],
                    dtype=np.float16)
    write(DATA, "f16.safetensors", serialize([np_entry("h", half, "F16")]))

    bf = torch.tensor([1.0, -3.14159, 1 / 3, 2.0**-133, 3.0e38, float("inf"), float("nan"), -0.0],
                      dtype=torch.float32).to(torch.bfloat16)
    bf_raw = bf.view(torch.int16).numpy().astype("<i2").tobytes()
    write(DATA, "bf16.safetensors", serialize([("b", "BF16", [2, 4], bf_raw)]))
    print("  bf16 values as float32:", [repr(v) for v in bf.to(torch.float32).tolist()])

    i64 = np.array([[-(2**63), 0], [42, 2**53 + 1]], dtype=np.int64)
    write(DATA, "i64.safetensors", serialize([np_entry("i", i64, "I64")]))

    mixed = serialize(
        [
            np_entry("flags", np.array([True, False, True]), "BOOL"),
            np_entry("i32", np.array([-1, 0, 2147483647], dtype=np.int32), "I32"),
            np_entry("u8", np.array([0, 1, 128, 255], dtype=np.uint8), "U8"),
        ],
        {"source": "make_safetensors_fixtures.py"},
    )
    write(DATA, "mixed.safetensors", mixed)

    # Fuzz seed corpus: the valid files above plus a few tiny broken ones.
    for name, blob in [("f32", f32), ("mixed", mixed),
                       ("f16", serialize([np_entry("h", half[:3], "F16")])),
                       ("bf16", serialize([("b", "BF16", [2], bf_raw[:4])]))]:
        write(CORPUS, "valid_" + name, blob)
    write(CORPUS, "empty_header", serialize([]))
    write(CORPUS, "truncated", f32[: len(f32) - 5])
    write(CORPUS, "bad_json", struct.pack("<Q", 8) + b'{"a":{"d')
    hdr = b'{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}'
    write(CORPUS, "overlap", struct.pack("<Q", len(hdr)) + hdr + bytes(8))
    hdr = b'{"a":{"dtype":"X9","shape":[-1,2],"data_offsets":[4,0]},"__metadata__":{"k":1}}'
    write(CORPUS, "bad_fields", struct.pack("<Q", len(hdr)) + hdr)
    write(CORPUS, "huge_length", struct.pack("<Q", 10**12) + b"{}")


if __name__ == "__main__":
    main()
