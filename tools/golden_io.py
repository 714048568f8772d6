"""The one safetensors writer behind every tools/make_*_goldens.py script.

torch 1.13 (Debian's python3-torch) has no safetensors module, so the format is written by hand:
an 8-byte little-endian header length, a compact JSON header (tensor names sorted, 8-byte padded
with spaces) and the raw little-endian data in the same order.
"""
import json
import struct

import numpy as np

_DTYPES = {np.dtype(np.float32): "F32", np.dtype(np.float64): "F64", np.dtype(np.int64): "I64"}


def _as_array(t):
    if hasattr(t, "detach"):  # a torch tensor
        t = t.detach().contiguous().numpy()
    return np.asarray(t, order="C")  # keeps 0-d arrays 0-d (ascontiguousarray would not)


def write_safetensors(path, tensors, metadata, metadata_first=False):
    """Writes {name: tensor or array} (F32, F64 or I64) and a string->string metadata dict.

    metadata_first puts "__metadata__" before the tensor entries in the header; either order is
    valid safetensors, the flag only keeps each script's committed file byte-identical.
    """
    header, blobs, offset = ({"__metadata__": metadata} if metadata_first else {}), [], 0
    for name in sorted(tensors):
        a = _as_array(tensors[name])
        data = a.astype(a.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": _DTYPES[a.dtype], "shape": list(a.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    if not metadata_first:
        header["__metadata__"] = metadata
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
