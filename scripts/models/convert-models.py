"""Extracts Fink's models and catalogs from the fink-science wheel and converts what TypeScript cannot read.

Run by `fink models install` in a virtual environment that holds numpy only: no scikit-learn, no torch. The
pickles are read with restricted unpicklers that rebuild the plain data inside (arrays, numbers, strings) and
never import the classes they name, so no code from a pickle runs and no library version has to match the one
that wrote it (the random forests were pickled by scikit-learn 0.22 and 1.0.2, which today's scikit-learn cannot
load).

Outputs, under OUT_DIR:
- snn/<model>.json: a SuperNNova state dict (LSTM and linear weights) with its cli_args.json and data_norm.json.
- forest/<model>.json + .bin: a random forest as flat per-node arrays (see writeForest below).
- pca/<model>.json: a scikit-learn PCA (mean, components, explained variance, whiten).
- copies of files used as shipped (ONNX forests out of their zip, CSV, catalogs).
One JSON line per step on stdout: {"step": ..., "file": ...}; the caller hashes the files and writes the manifest.

Optionally, kndetect's kilonova forest and principal components, which fink-science 7.4.0 loads from the kndetect
package (not from its wheel; kndetect is not on PyPI): --kndetect DIR, a checkout of b-biswas/kndetect v1.0.0.

Usage: python convert-models.py WHEEL OUT_DIR [--kndetect DIR]
"""

import collections
import hashlib
import io
import json
import os
import pickle
import struct
import sys
import zipfile

import numpy as np

PKG = "fink_science/data/"

# Files used as they are shipped (copied out of the wheel).
COPY = [
    "models/anomaly_detection/g_means.csv",
    "models/anomaly_detection/r_means.csv",
    "catalogs/vsx.parquet",
    "catalogs/mangrove_filtered.parquet",
    "catalogs/table-4LAC-DR3-h.fits",
    "catalogs/table-4LAC-DR3-l.fits",
    "catalogs/CTAO_blazars_ztf_dr22.parquet",
    "catalogs/gcvs.parquet",
    "catalogs/3hsp.csv",
]
# ONNX forests shipped inside zip files: extracted as is.
ANOMALY_ZIPS = [
    "models/anomaly_detection/anomaly_detection_forest_AAD.zip",
    "models/anomaly_detection/anomaly_detection_forest_AAD_beta.zip",
    "models/anomaly_detection/anomaly_detection_forest_AAD_anais.zip",
    "models/anomaly_detection/anomaly_detection_forest_AAD_emille.zip",
    "models/anomaly_detection/anomaly_detection_forest_AAD_julien.zip",
    "models/anomaly_detection/anomaly_detection_forest_AAD_maria.zip",
]
SNN = [
    "snn_snia_vs_nonia",
    "snn_sn_vs_all",
    "elasticc_ia",
    "elasticc_broad",
    "elasticc_binary_broad/SN_vs_other",
    "elasticc_binary_broad/Fast_vs_other",
    "elasticc_binary_broad/Long_vs_other",
    "elasticc_binary_broad/Periodic_vs_other",
    "elasticc_binary_broad/NonPeriodic_vs_other",
]
FORESTS = {"default-model_sigmoid.obj": "forest/rf_snia_sigmoid", "rf.sav": "forest/mulens_rf"}
PCAS = {"pca.sav": "pca/mulens_pca"}


_SOURCE_SHA256 = {}


def read_source(z, name):
    """A file of the wheel, remembering its SHA-256: every output's provenance names the file it came from."""
    data = z.read(name)
    _SOURCE_SHA256[name] = hashlib.sha256(data).hexdigest()
    return data


def emit(**fields):
    if "source" in fields:
        fields["sourceSha256"] = _SOURCE_SHA256[fields["source"]]
    print(json.dumps(fields), flush=True)


# ---------------------------------------------------------------- torch state dicts without torch


class _Storage:
    def __init__(self, dtype, key, numel):
        self.dtype, self.key, self.numel = dtype, key, numel
        self.data = None


class _Tensor:
    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), tuple(stride)

    def array(self):
        flat = self.storage.data
        if len(self.size) == 0:
            return flat[self.offset : self.offset + 1].reshape(())
        itemsize = flat.itemsize
        return np.lib.stride_tricks.as_strided(
            flat[self.offset :], shape=self.size, strides=[s * itemsize for s in self.stride]
        ).copy()


_TORCH_DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
}


class _StorageType:
    def __init__(self, name):
        if name not in _TORCH_DTYPES:
            raise ValueError(f"unsupported torch storage {name}")
        self.dtype = _TORCH_DTYPES[name]


def _rebuild_tensor(storage, offset, size, stride, *_rest):
    return _Tensor(storage, offset, size, stride)


class _TorchUnpickler(pickle.Unpickler):
    def __init__(self, f, storages):
        super().__init__(f)
        self.storages = storages

    def find_class(self, module, name):
        if module == "torch._utils" and name.startswith("_rebuild_tensor"):
            return _rebuild_tensor
        if module == "torch" and name.endswith("Storage"):
            return _StorageType(name)
        if module == "collections" and name == "OrderedDict":
            return collections.OrderedDict
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a model file")

    def persistent_load(self, pid):
        # legacy: ('storage', type, key, location, numel, view); zip: ('storage', type, key, location, numel)
        _, stype, key, _loc, numel = pid[:5]
        storage = self.storages.get(key)
        if storage is None:
            storage = self.storages[key] = _Storage(stype.dtype, key, numel)
        return storage


def read_torch_state_dict(raw):
    storages = {}
    if raw[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(raw)) as z:
            names = z.namelist()
            pkl = next(n for n in names if n.endswith("/data.pkl"))
            prefix = pkl[: -len("data.pkl")]
            state = _TorchUnpickler(io.BytesIO(z.read(pkl)), storages).load()
            for key, storage in storages.items():
                storage.data = np.frombuffer(z.read(f"{prefix}data/{key}"), dtype=storage.dtype)
    else:
        f = io.BytesIO(raw)
        for _ in range(3):  # magic number, protocol version, system info
            pickle.load(f)
        state = _TorchUnpickler(f, storages).load()
        for key in pickle.load(f):
            (numel,) = struct.unpack("<q", f.read(8))
            storage = storages[key]
            storage.data = np.frombuffer(f.read(numel * np.dtype(storage.dtype).itemsize), dtype=storage.dtype)
    return {name: tensor.array() for name, tensor in state.items()}


# ---------------------------------------------------------------- scikit-learn pickles without scikit-learn


class _Stub:
    """Stands for any scikit-learn class: keeps constructor arguments and state, runs nothing."""

    def __init__(self, *args, **kwargs):
        self.args, self.kwargs, self.state = args, kwargs, {}

    def __setstate__(self, state):
        self.state = state


class _SklearnUnpickler(pickle.Unpickler):
    ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
               ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "scalar"),
               ("numpy._core.multiarray", "scalar"), ("builtins", "slice")}

    def find_class(self, module, name):
        if module.startswith("sklearn."):
            return type(name, (_Stub,), {})
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a model file")


def write_forest(model, out_base):
    """Flat arrays per node, trees concatenated. predict_proba's per-tree leaf normalisation is done here."""
    state = model.state
    trees = state["estimators_"]
    classes = [c.item() if hasattr(c, "item") else c for c in state["classes_"]]
    n_classes = len(classes)
    parts = {"left": [], "right": [], "feature": [], "threshold": [], "proba": []}
    node_counts = []
    for est in trees:
        tree = est.state["tree_"]
        nodes = tree.state["nodes"]
        values = tree.state["values"][:, 0, :].astype(np.float64)
        sums = values.sum(axis=1, keepdims=True)
        sums[sums == 0] = 1.0
        parts["left"].append(nodes["left_child"].astype("<i4"))
        parts["right"].append(nodes["right_child"].astype("<i4"))
        parts["feature"].append(nodes["feature"].astype("<i4"))
        parts["threshold"].append(nodes["threshold"].astype("<f8"))
        parts["proba"].append((values / sums).astype("<f8").reshape(-1))
        node_counts.append(int(len(nodes)))
    with open(out_base + ".bin", "wb") as f:
        for key in ["left", "right", "feature", "threshold", "proba"]:
            f.write(np.concatenate(parts[key]).tobytes())
    header = {
        "format": "fink-forest-1",
        "layout": "int32 left[N], int32 right[N], int32 feature[N], float64 threshold[N], float64 proba[N*nClasses]",
        "nTrees": len(trees),
        "nFeatures": int(state.get("n_features_in_", state.get("n_features_", 0))),
        "nClasses": n_classes,
        "classes": [str(c) if not isinstance(c, (bool, np.bool_)) else bool(c) for c in classes],
        "nodeCounts": node_counts,
        "featureNames": [str(n) for n in state["feature_names_in_"]] if "feature_names_in_" in state else None,
        "sklearnVersion": state.get("_sklearn_version"),
    }
    with open(out_base + ".json", "w") as f:
        json.dump(header, f)


def write_pca(model, out_path):
    s = model.state
    out = {
        "format": "fink-pca-1",
        "mean": s["mean_"].tolist(),
        "components": s["components_"].tolist(),
        "explainedVariance": s["explained_variance_"].tolist(),
        "whiten": bool(s["whiten"]),
        "sklearnVersion": s.get("_sklearn_version"),
    }
    with open(out_path, "w") as f:
        json.dump(out, f)


def convert_kndetect(kndetect_dir, out):
    data = os.path.join(kndetect_dir, "kndetect", "data")
    model_path = os.path.join(data, "models", "partial.pkl")
    pcs_path = os.path.join(data, "interpolated_mixed_pcs.npy")
    for path in (model_path, pcs_path):
        if not os.path.isfile(path):
            raise SystemExit(f"--kndetect {kndetect_dir}: {path} is missing (a checkout of b-biswas/kndetect v1.0.0?)")
    with open(model_path, "rb") as f:
        raw = f.read()
    _SOURCE_SHA256["kndetect/data/models/partial.pkl"] = hashlib.sha256(raw).hexdigest()
    write_forest(_SklearnUnpickler(io.BytesIO(raw)).load(), out("forest/kn_partial"))
    emit(step="converted", file="forest/kn_partial.json", source="kndetect/data/models/partial.pkl")
    emit(step="converted", file="forest/kn_partial.bin", source="kndetect/data/models/partial.pkl")
    with open(pcs_path, "rb") as f:
        raw = f.read()
    _SOURCE_SHA256["kndetect/data/interpolated_mixed_pcs.npy"] = hashlib.sha256(raw).hexdigest()
    pcs = np.load(io.BytesIO(raw), allow_pickle=False)[0:3]
    with open(out("kn/pcs.json"), "w") as f:
        json.dump({"format": "fink-pcs-1", "pcs": pcs.astype(np.float64).tolist()}, f)
    emit(step="converted", file="kn/pcs.json", source="kndetect/data/interpolated_mixed_pcs.npy")


def main():
    args = sys.argv[1:]
    kndetect_dir = None
    if "--kndetect" in args:
        at = args.index("--kndetect")
        kndetect_dir = args[at + 1]
        del args[at : at + 2]
    wheel, out_dir = args[0], args[1]
    os.makedirs(out_dir, exist_ok=True)

    def out(rel):
        path = os.path.join(out_dir, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        return path

    with zipfile.ZipFile(wheel) as z:
        for rel in COPY:
            with open(out(rel), "wb") as f:
                f.write(read_source(z, PKG + rel))
            emit(step="copied", file=rel, source=PKG + rel)
        for rel in ANOMALY_ZIPS:
            with zipfile.ZipFile(io.BytesIO(read_source(z, PKG + rel))) as inner:
                for name in inner.namelist():
                    if name.endswith(".onnx"):
                        target = "models/anomaly_detection/" + os.path.basename(name)
                        with open(out(target), "wb") as f:
                            f.write(inner.read(name))
                        emit(step="extracted", file=target, source=PKG + rel)
        for name in SNN:
            base = f"models/snn_models/{name}/"
            weights = read_torch_state_dict(read_source(z, PKG + base + "model.pt"))
            doc = {
                "format": "fink-snn-1",
                "cliArgs": json.loads(read_source(z, PKG + base + "cli_args.json")),
                "dataNorm": json.loads(read_source(z, PKG + base + "data_norm.json")),
                "weights": {k: {"shape": list(v.shape), "data": v.astype(np.float64).reshape(-1).tolist()}
                            for k, v in weights.items()},
            }
            target = f"snn/{name.replace('/', '__')}.json"
            with open(out(target), "w") as f:
                json.dump(doc, f)
            emit(step="converted", file=target, source=PKG + base + "model.pt")
        for rel, target in FORESTS.items():
            model = _SklearnUnpickler(io.BytesIO(read_source(z, PKG + "models/" + rel))).load()
            write_forest(model, out(target))
            emit(step="converted", file=target + ".json", source=PKG + "models/" + rel)
            emit(step="converted", file=target + ".bin", source=PKG + "models/" + rel)
        for rel, target in PCAS.items():
            model = _SklearnUnpickler(io.BytesIO(read_source(z, PKG + "models/" + rel))).load()
            write_pca(model, out(target + ".json"))
            emit(step="converted", file=target + ".json", source=PKG + "models/" + rel)
    if kndetect_dir is not None:
        convert_kndetect(kndetect_dir, out)


if __name__ == "__main__":
    main()
