"""Fink's reference scores for the parity tests: fink-science 7.4.0's own functions on real ZTF alerts.

Runs the modules the way fink-broker's apply_science_modules calls them (fink_broker/ztf/science.py): the
concatenated history columns (prv_candidates then candidate), cdsxmatch = 'Unknown' (SIMBAD is not reachable
here), roid from fink-science's roid_catcher, then rf_snia_vs_nonia, snn_snia_vs_nonia, snn_sn_vs_all, mulens,
nalerthist, rf_kn_vs_nonkn, the anomaly features and anomaly_score, and fink-filters 7.45's
extract_fink_classification_ on them. Also the DC magnitudes of every point (fink-utils vect_dc_mag).

Spark is not needed: pyspark is replaced by a stub whose pandas_udf/udf return the function they decorate, so the
function bodies run on pandas Series exactly as Spark's Arrow batches hand them over (arrays of float64 with NaN
for nulls). Modules whose library is not installed (actsnfink, kndetect, LIA are not on PyPI) are reported as
unavailable and their scores left null.

Usage: python reference.py ALERT_DIR OUT_JSON
"""

import glob
import json
import os
import sys
import types
import warnings

warnings.filterwarnings("ignore")


def _stub_pyspark():
    def passthrough_decorator(*args, **kwargs):
        if len(args) == 1 and callable(args[0]) and not kwargs:
            return args[0]
        return lambda f: f

    def udf(f=None, returnType=None):
        return f if f is not None else (lambda g: g)

    class _Type:
        def __init__(self, *a, **k):
            pass

    pyspark = types.ModuleType("pyspark")
    sql = types.ModuleType("pyspark.sql")
    functions = types.ModuleType("pyspark.sql.functions")
    types_mod = types.ModuleType("pyspark.sql.types")
    functions.pandas_udf = passthrough_decorator
    functions.udf = udf
    functions.PandasUDFType = types.SimpleNamespace(SCALAR="scalar", GROUPED_MAP="grouped_map")
    for name in ["col", "lit", "when", "array", "concat", "expr", "struct", "explode"]:
        setattr(functions, name, lambda *a, **k: None)
    def type_named(name):
        if name.startswith("_"):
            raise AttributeError(name)
        return _Type

    types_mod.__getattr__ = type_named
    sql.functions = functions
    sql.types = types_mod
    sql.DataFrame = object
    sql.SparkSession = object
    pyspark.sql = sql
    sys.modules.update({
        "pyspark": pyspark,
        "pyspark.sql": sql,
        "pyspark.sql.functions": functions,
        "pyspark.sql.types": types_mod,
    })


_stub_pyspark()


def _shim_light_curve():
    """actsnfink's package __init__ imports its rainbow module, which imports RainbowRisingFit, a class that
    light-curve removed in 0.9 (Feb. 2024). The early SN Ia features never use it; a placeholder lets the import
    succeed with the light-curve version the anomaly features need."""
    try:
        import light_curve.light_curve_py as lcpy
    except ImportError:
        return
    if not hasattr(lcpy, "RainbowRisingFit"):
        lcpy.RainbowRisingFit = type("RainbowRisingFit", (), {})


_shim_light_curve()


def _shim_numpy_aliases():
    """LIA (Fink's fork, pinned by fink-science) still writes np.float, an alias of the builtin float that numpy
    1.24 removed; numpy 1.26 is needed here for the other libraries. The alias restored is the same object
    numpy 1.23 had, so nothing computes differently."""
    import numpy

    for name, value in {"float": float, "int": int, "bool": bool, "object": object}.items():
        if name not in numpy.__dict__:
            setattr(numpy, name, value)


_shim_numpy_aliases()

import fastavro  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

EXPANDED = ["jd", "fid", "magpsf", "sigmapsf", "magnr", "sigmagnr", "isdiffpos", "distnr", "diffmaglim"]


def read_alerts(alert_dir):
    files = sorted(glob.glob(os.path.join(alert_dir, "**", "*.avro"), recursive=True))
    alerts = []
    for path in files:
        with open(path, "rb") as f:
            for record in fastavro.reader(f):
                alerts.append(record)
    return alerts


def concat(alert, field):
    history = alert.get("prv_candidates") or []
    values = [p.get(field) for p in history] + [alert["candidate"].get(field)]
    if field == "isdiffpos":
        return np.array(values, dtype=object)
    if field == "fid":
        return np.array(values, dtype=np.int64)
    # Arrow hands float arrays with nulls to pandas as float64 with NaN.
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def series(alerts, field):
    return pd.Series([concat(a, field) for a in alerts])


def scalar(alerts, field):
    return pd.Series([a["candidate"].get(field) for a in alerts])


def run_module(name, fn, unavailable, errors):
    try:
        return fn()
    except ImportError as err:
        unavailable[name] = f"{type(err).__name__}: {err}"
    except Exception as err:  # a module failing is a finding: record it, keep the others
        errors[name] = f"{type(err).__name__}: {err}"
    return None


def synthetic_rf_snia():
    """None of the real alerts has a rising light curve in both bands, so actsnfink's sigmoid fit never runs on
    them. These seeded light curves (rising, falling, noisy, 3 to 12 nights per band) exercise it: the test
    compares the TypeScript features and score with actsnfink's and the forest's on each."""
    from fink_science.ztf.random_forest_snia.processor import extract_features_rf_snia, rfscore_sigmoid_full

    rng = np.random.default_rng(20250322)
    cases = []
    for k in range(80):
        jd, fid, mag, err = [], [], [], []
        t_peak = 2460000.0 + rng.uniform(5, 25)
        amp = rng.uniform(2e3, 3e4)
        a_true = rng.uniform(0.15, 0.8)
        for band in (1, 2):
            nights = int(rng.integers(3, 13))
            start = 2460000.0 + rng.uniform(0, 4)
            times = start + np.sort(rng.choice(np.arange(0, 20), size=nights, replace=False)) + rng.uniform(0.6, 0.95)
            for t in times:
                flux = amp * (1.0 if band == 1 else 0.8) / (1 + np.exp(-a_true * (t - t_peak)))
                if k % 5 == 4:  # a falling tail: the whole light curve must rise to be fitted
                    flux = amp * np.exp(-(t - start) / 8.0)
                flux_err = 0.04 * flux + rng.uniform(20, 60)
                flux_obs = max(flux + rng.normal(0, flux_err * (0.3 if k % 3 else 1.0)), 30.0)
                m = 27.5 - 2.5 * np.log10(flux_obs)
                jd.append(float(t))
                fid.append(band)
                mag.append(float(m))
                err.append(float(1.0857 * flux_err / flux_obs))
                if rng.uniform() < 0.2:  # a second visit the same night
                    jd.append(float(t + 0.04))
                    fid.append(band)
                    mag.append(float(m + rng.normal(0, 0.05)))
                    err.append(float(1.0857 * flux_err / flux_obs))
        order = np.argsort(jd, kind="stable")
        cases.append({key: [v[i] for i in order] for key, v in (("jd", jd), ("fid", fid), ("magpsf", mag), ("sigmapsf", err))})
    col = lambda key, dtype: pd.Series([np.array(case[key], dtype=dtype) for case in cases])
    args = [col("jd", np.float64), col("fid", np.int64), col("magpsf", np.float64), col("sigmapsf", np.float64),
            pd.Series(["Unknown"] * len(cases)), pd.Series([min(20, len(case["jd"])) for case in cases])]
    scores = rfscore_sigmoid_full(*args)
    features = extract_features_rf_snia(*args)
    for case, score, feats in zip(cases, scores, features):
        case["score"] = float(score)
        case["features"] = [float(v) for v in str(feats).split(",")]
    return cases


def main():
    alert_dir, out_path = sys.argv[1], sys.argv[2]
    # One row per distinct alert. The shared data holds a few alerts twice; in one batch Fink's SuperNNova would
    # take the two copies for one light curve (it keys light curves by candid) and double every point, a batch
    # artefact of Fink's, not a property of the alert.
    alerts, seen, duplicates = [], set(), []
    for alert in read_alerts(alert_dir):
        if alert["candid"] in seen:
            duplicates.append(str(alert["candid"]))
            continue
        seen.add(alert["candid"])
        alerts.append(alert)
    n = len(alerts)
    c = {f: series(alerts, f) for f in EXPANDED}
    cdsxmatch = pd.Series(["Unknown"] * n)
    candid = pd.Series([a["candid"] for a in alerts])
    ndethist = scalar(alerts, "ndethist")
    jdstarthist = scalar(alerts, "jdstarthist")
    unavailable, errors, scores = {}, {}, {}

    from fink_science.ztf.asteroids.processor import roid_catcher

    roid = roid_catcher(
        c["jd"], c["magpsf"], ndethist, scalar(alerts, "sgscore1"), scalar(alerts, "ssdistnr"),
        scalar(alerts, "distpsnr1"),
    )
    roid = pd.Series(roid).astype(int)

    def rf_snia():
        from fink_science.ztf.random_forest_snia.processor import rfscore_sigmoid_full

        return rfscore_sigmoid_full(c["jd"], c["fid"], c["magpsf"], c["sigmapsf"], cdsxmatch, ndethist)

    def snn(model):
        from fink_science.ztf.snn.processor import snn_ia

        return snn_ia(candid, c["jd"], c["fid"], c["magpsf"], c["sigmapsf"], roid, cdsxmatch, jdstarthist,
                      pd.Series([model] * n))

    def mulens():
        from fink_science.ztf.microlensing.processor import mulens as mulens_udf

        return mulens_udf(c["fid"], c["magpsf"], c["sigmapsf"], c["magnr"], c["sigmagnr"], c["isdiffpos"], ndethist)

    def nalerthist():
        from fink_science.ztf.nalerthist.processor import nalerthist as nalerthist_udf

        return nalerthist_udf(c["magpsf"])

    def kilonova():
        from fink_science.ztf.kilonova.processor import knscore

        return knscore(c["jd"], c["fid"], c["magpsf"], c["sigmapsf"], jdstarthist, cdsxmatch, ndethist)

    lc_features = None

    def anomaly():
        nonlocal lc_features
        from fink_science.ztf.ad_features.processor import extract_features_ad_raw
        from fink_science.ztf.anomaly_detection.processor import anomaly_score

        lc_features = pd.Series([
            extract_features_ad_raw(
                c["magpsf"][i], c["jd"][i], c["sigmapsf"][i], c["fid"][i], alerts[i]["objectId"],
                c["distnr"][i], c["magnr"][i], c["sigmagnr"][i], c["isdiffpos"][i],
            )
            for i in range(n)
        ])
        return anomaly_score(lc_features)

    # Intermediate values, so that the tests can tell a feature from a model difference.
    def rf_snia_features():
        from fink_science.ztf.random_forest_snia.processor import extract_features_rf_snia

        out = extract_features_rf_snia(c["jd"], c["fid"], c["magpsf"], c["sigmapsf"], cdsxmatch, ndethist)
        return [[float(v) for v in str(row).split(",")] if "," in str(row) else None for row in out]

    def kn_features():
        from fink_science.ztf.kilonova.processor import extract_features_knscore

        out = extract_features_knscore(c["jd"], c["fid"], c["magpsf"], c["sigmapsf"])
        return [[float(f"{float(v):.12g}") for v in str(row).split(",")] for row in out]

    def mulens_features():
        # The loop of fink-science's mulens(), keeping what it computes per band: LIA's 47 statistics on the DC
        # magnitudes, the forest's class and its probabilities.
        from fink_science.ztf.microlensing.classifier import load_external_model
        from fink_utils.photometry.conversion import dc_mag
        from LIA import extract_features, microlensing_classifier
        import fink_science.ztf.microlensing.processor as mp

        rf, pca = load_external_model(os.path.dirname(os.path.abspath(fink_science.__file__)) + "/data/models/")
        rows = []
        for i in range(n):
            magpsf = c["magpsf"][i]
            if not (int(ndethist[i]) < 100 and np.sum(magpsf == magpsf) >= 20):
                rows.append(None)
                continue
            bands = {}
            for filt in [1, 2]:
                m = (magpsf == magpsf) & (c["fid"][i] == filt)
                if np.sum(m) < 10:
                    continue
                mag, err = np.array([
                    dc_mag(*args)
                    for args in zip(c["magpsf"][i][m], c["sigmapsf"][i][m], c["magnr"][i][m], c["sigmagnr"][i][m],
                                    c["isdiffpos"][i][m])
                ]).T
                stats = extract_features.extract_all(mag, err, convert=True)
                out = microlensing_classifier.predict(mag, err, rf, pca)
                bands[str(filt)] = {
                    "stats": [float(v) for v in stats],
                    "class": str(out[0]),
                    "proba": [float(out[k][0]) for k in (1, 2, 3, 4)],
                }
            rows.append(bands)
        return rows

    import fink_science

    features = {}
    for name, fn in [("rf_snia", rf_snia_features), ("kilonova", kn_features), ("mulens", mulens_features)]:
        features[name] = run_module(name + "_features", fn, unavailable, errors)

    for name, fn in [
        ("rf_snia_vs_nonia", rf_snia),
        ("snn_snia_vs_nonia", lambda: snn("snn_snia_vs_nonia")),
        ("snn_sn_vs_all", lambda: snn("snn_sn_vs_all")),
        ("mulens", mulens),
        ("nalerthist", nalerthist),
        ("rf_kn_vs_nonkn", kilonova),
        ("anomaly_score", anomaly),
    ]:
        result = run_module(name, fn, unavailable, errors)
        scores[name] = None if result is None else pd.Series(result).to_numpy()
        print(f"reference: {name}: {'ok' if result is not None else 'unavailable'}", file=sys.stderr, flush=True)

    from fink_filters.ztf.classification import extract_fink_classification_

    def score_or_zero(name):
        # A module that could not run is taken as 0 for the label (the test recomputes the label from the
        # TypeScript scores of those modules anyway).
        return pd.Series(scores[name] if scores[name] is not None else np.zeros(n))

    tracklet = pd.Series([""] * n)
    finkclass = extract_fink_classification_(
        cdsxmatch, roid, score_or_zero("mulens"), score_or_zero("snn_snia_vs_nonia"),
        score_or_zero("snn_sn_vs_all"), score_or_zero("rf_snia_vs_nonia"), ndethist, scalar(alerts, "drb"),
        scalar(alerts, "classtar"), scalar(alerts, "jd"), jdstarthist, score_or_zero("rf_kn_vs_nonkn"), tracklet,
    )

    from fink_utils.photometry.vect_conversion import vect_dc_mag

    def num(x):
        x = float(x)
        return None if np.isnan(x) else x

    def num12(x):
        # Intermediate values to 12 significant digits: the tests compare them to 1e-9, and the fixture stays small.
        x = num(x)
        return None if x is None else float(f"{x:.12g}")

    rows = []
    for i, alert in enumerate(alerts):
        dc, dc_err = vect_dc_mag(c["magpsf"][i], c["sigmapsf"][i], c["magnr"][i], c["sigmagnr"][i],
                                 c["isdiffpos"][i])
        row = {
            "candid": str(alert["candid"]),
            "objectId": alert["objectId"],
            "roid": int(roid[i]),
            "finkclass": str(finkclass[i]),
            "dcmag": [num12(v) for v in dc],
            "dcmagErr": [num12(v) for v in dc_err],
        }
        for name, values in scores.items():
            row[name] = None if values is None else num(values[i])
        for name, values in features.items():
            if values is not None:
                row[name + "_features"] = values[i]
        if lc_features is not None:
            from fink_science.ztf.anomaly_detection.processor import MODEL_COLUMNS

            row["lc_features"] = {
                str(k): {f: num12(feats[f]) for f in MODEL_COLUMNS} for k, feats in lc_features[i].items()
            }
        rows.append(row)

    meta = {
        "generatedBy": "scripts/parity/reference.py",
        "finkScienceVersion": fink_science.__version__,
        "alerts": n,
        "duplicatesSkipped": duplicates,
        "cdsxmatch": "Unknown",
        "unavailable": unavailable,
        "errors": errors,
        "versions": {},
    }
    for pkg in ["fink_utils", "fink_filters", "supernnova", "numpy", "pandas", "sklearn", "torch", "onnxruntime",
                "light_curve", "actsnfink", "kndetect", "LIA"]:
        try:
            meta["versions"][pkg] = getattr(__import__(pkg), "__version__", "installed")
        except Exception:
            meta["versions"][pkg] = None
    synthetic = run_module("rf_snia_synthetic", synthetic_rf_snia, unavailable, errors)

    # One alert per line: a small, diffable fixture.
    with open(out_path, "w") as f:
        f.write('{"meta": ' + json.dumps(meta, allow_nan=False) + ',\n"alerts": [\n')
        f.write(",\n".join(json.dumps(row, allow_nan=False) for row in rows))
        f.write('\n],\n"synthetic_rf_snia": [\n')
        f.write(",\n".join(json.dumps(row, allow_nan=False) for row in (synthetic or [])))
        f.write("\n]}\n")
    print(f"reference: wrote {n} alerts to {out_path}", file=sys.stderr)


if __name__ == "__main__":
    main()
