#!/usr/bin/env python3
"""Writes the weights fuzz target's seeds (tests/fuzz/corpus/weights): a small safetensors file
and a small torch.save checkpoint, each behind the target's format byte. The checkpoint is
pickled as PyTorch pickles a state dict (torch._utils._rebuild_tensor_v2 over a persistent
storage record), with stand-ins for the torch names so that no PyTorch is needed."""
import collections
import io
import json
import pickle
import struct
import sys
import types
import zipfile

out = sys.argv[1] if len(sys.argv) > 1 else "tests/fuzz/corpus/weights"

# safetensors: header length, JSON header, data.
header = {"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]},
          "b": {"dtype": "BF16", "shape": [3], "data_offsets": [16, 22]},
          "__metadata__": {"format": "pt"}}
text = json.dumps(header, separators=(",", ":")).encode()
data = struct.pack("<4f", 1.0, -2.0, 0.5, 3.0) + bytes([0x80, 0x3f, 0x00, 0x40, 0x40, 0xc0])
with open(f"{out}/safetensors", "wb") as f:
    f.write(b"\x00" + struct.pack("<Q", len(text)) + text + data)

# torch.save: stand-in torch modules so pickle can name torch._utils._rebuild_tensor_v2 and
# torch.FloatStorage.
torch = types.ModuleType("torch")
utils = types.ModuleType("torch._utils")
def _rebuild_tensor_v2(*args):
    raise AssertionError("only pickled here")
_rebuild_tensor_v2.__module__ = "torch._utils"
utils._rebuild_tensor_v2 = _rebuild_tensor_v2
class FloatStorage:
    pass
FloatStorage.__module__ = "torch"
torch.FloatStorage = FloatStorage
torch._utils = utils
sys.modules["torch"] = torch
sys.modules["torch._utils"] = utils

class Storage:
    def __init__(self, key, numel):
        self.key, self.numel = key, numel

class Tensor:
    def __init__(self, storage, shape, stride):
        self.storage, self.shape, self.stride = storage, shape, stride
    def __reduce__(self):
        return (_rebuild_tensor_v2, (self.storage, 0, self.shape, self.stride, False, collections.OrderedDict()))

class Pickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, Storage):
            return ("storage", FloatStorage, obj.key, "cpu", obj.numel)
        return None

state = collections.OrderedDict()
state["model.w"] = Tensor(Storage("0", 6), (2, 3), (3, 1))
state["model.b"] = Tensor(Storage("1", 2), (2,), (1,))
pkl = io.BytesIO()
Pickler(pkl, protocol=2).dump(state)
zipped = io.BytesIO()
with zipfile.ZipFile(zipped, "w", zipfile.ZIP_STORED) as z:
    z.writestr("archive/data.pkl", pkl.getvalue())
    z.writestr("archive/byteorder", "little")
    z.writestr("archive/data/0", struct.pack("<6f", 0, 1, 2, 3, 4, 5))
    z.writestr("archive/data/1", struct.pack("<2f", -1, 1))
    z.writestr("archive/version", "3\n")
with open(f"{out}/pth", "wb") as f:
    f.write(b"\x01" + zipped.getvalue())
