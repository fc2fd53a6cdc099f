"""Fink's Rubin SuperNNova score (fink-science 7.4.0 rubin/snn/processor.py snn_ia_elasticc with the model
fink-broker uses, elasticc_binary_broad/SN_vs_other) on the Rubin alerts of ../shared/datasim/lsst.

The fixture keeps each alert's points (prvDiaSources then diaSource: midpointMjdTai, band, psfFlux, psfFluxErr)
next to Fink's score, so the test needs no Parquet reader.

Usage: python reference_rubin.py LSST_DIR OUT_JSON   (run by run-reference.sh, in the same environment)
"""

import json
import os
import sys

import reference  # noqa: F401  (stubs pyspark, shims numpy/light-curve)
import numpy as np
import pandas as pd


def main():
    lsst_dir, out_path = sys.argv[1], sys.argv[2]
    from fink_science.rubin.snn.processor import snn_ia_elasticc

    rows = []
    for name in ["rubin-2026-01-v10_0.parquet", "or4-simulated-v7_1.parquet"]:
        df = pd.read_parquet(os.path.join(lsst_dir, name))
        for _, alert in df.iterrows():
            sources = list(alert["prvDiaSources"] if alert["prvDiaSources"] is not None else []) + [alert["diaSource"]]
            if any(k not in sources[-1] for k in ("midpointMjdTai", "band", "psfFlux", "psfFluxErr")):
                continue
            points = [[float(s["midpointMjdTai"]), str(s["band"]), float(s["psfFlux"]), float(s["psfFluxErr"])]
                      for s in sources]
            rows.append({"file": name, "diaSourceId": str(alert["diaSource"]["diaSourceId"]), "points": points})
    col = lambda k, dtype: pd.Series([np.array([p[k] for p in r["points"]], dtype=dtype) for r in rows])
    scores = snn_ia_elasticc(
        pd.Series([r["diaSourceId"] for r in rows]), col(0, np.float64), col(1, object), col(2, np.float64),
        col(3, np.float64), pd.Series(["elasticc_binary_broad/SN_vs_other"] * len(rows)),
    )
    for row, score in zip(rows, scores):
        row["snnSnVsOthers_score"] = float(score)
    with open(out_path, "w") as f:
        f.write('{"alerts": [\n' + ",\n".join(json.dumps(r) for r in rows) + "\n]}\n")
    print(f"reference: wrote {len(rows)} Rubin alerts to {out_path}", file=sys.stderr)


if __name__ == "__main__":
    main()
