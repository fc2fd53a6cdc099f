"""Calls our REST API the way Fink's documented notebooks call Fink's (requests + pandas, astropy for VOTable),
and prints what it read as one JSON object on stdout; test/integration/rest-api.test.ts asserts on it.

usage: rest_client.py <base url> <cases json>
"""

import io
import json
import sys

import pandas as pd
import pyarrow.parquet as pq
import requests
from astropy.io import fits, votable
from astropy.table import Table

url = sys.argv[1].rstrip("/")
cases = json.loads(sys.argv[2])
out = {}


def ids(values):
    """Ids as decimal strings (exact), whatever their dtype."""
    return [str(v) for v in values]


def post(route, **payload):
    return requests.post(f"{url}/api/v1/{route}", json=payload, timeout=60)


oid = cases["objectId"]

# objects, json: as Fink's documentation shows it.
r = post("objects", objectId=oid, **{"output-format": "json"})
pdf = pd.read_json(io.BytesIO(r.content))
out["objects_json"] = {
    "status": r.status_code,
    "content_type": r.headers.get("content-type"),
    "columns": list(pdf.columns),
    "candid_dtype": str(pdf["i:candid"].dtype),
    "candids": ids(pdf["i:candid"]),
    "jd_descending": bool(pdf["i:jd"].is_monotonic_decreasing),
    "object_ids": sorted(set(pdf["i:objectId"])),
    "magpsf": [float(x) for x in pdf["i:magpsf"]],
    "classification": list(pdf["v:classification"]),
}
frame = pd.DataFrame(r.json())
out["objects_dataframe"] = {"candid_dtype": str(frame["i:candid"].dtype), "candids": ids(frame["i:candid"])}

# objects, GET with query parameters, csv.
r = requests.get(
    f"{url}/api/v1/objects",
    params={"objectId": oid, "output-format": "csv", "columns": "i:candid,i:jd,i:magpsf"},
    timeout=60,
)
pdf = pd.read_csv(io.StringIO(r.text))
out["objects_csv"] = {
    "status": r.status_code,
    "columns": list(pdf.columns),
    "candid_dtype": str(pdf["i:candid"].dtype),
    "candids": ids(pdf["i:candid"]),
}

# objects, form-encoded POST, parquet.
r = requests.post(
    f"{url}/api/v1/objects", data={"objectId": oid, "output-format": "parquet"}, timeout=60
)
pdf = pd.read_parquet(io.BytesIO(r.content))
schema = pq.read_schema(io.BytesIO(r.content))
out["objects_parquet"] = {
    "status": r.status_code,
    "candid_dtype": str(pdf["i:candid"].dtype),
    "candid_arrow_type": str(schema.field("i:candid").type),
    "jd_arrow_type": str(schema.field("i:jd").type),
    "candids": ids(pdf["i:candid"]),
    "columns": list(pdf.columns),
}

# objects, votable: astropy's parser and Table reader.
r = post("objects", objectId=oid, withcutouts=True, **{"output-format": "votable"})
# verify="exception": any departure from the VOTable standard (an invalid UCD, a bad ID) fails the read.
vot = votable.parse(io.BytesIO(r.content), verify="exception")
table = vot.get_first_table()
fields = {f.name: f for f in table.fields}
t = Table.read(io.BytesIO(r.content), format="votable", use_names_over_ids=True)
out["objects_votable"] = {
    "status": r.status_code,
    "candid_datatype": fields["i:candid"].datatype,
    "ra_unit": str(fields["i:ra"].unit),
    "ra_ucd": fields["i:ra"].ucd,
    "jd_ucd": fields["i:jd"].ucd,
    "magpsf_unit": str(fields["i:magpsf"].unit),
    "magpsf_ucd": fields["i:magpsf"].ucd,
    "candid_dtype": str(t["i:candid"].dtype),
    "candids": ids(t["i:candid"]),
    "nrows": len(t),
}

# withupperlim, with columns.
r = post(
    "objects",
    objectId=cases["upperObjectId"],
    withupperlim=True,
    columns="i:jd,i:candid,i:magpsf,i:diffmaglim",
)
pdf = pd.read_json(io.BytesIO(r.content))
out["upperlim"] = {
    "status": r.status_code,
    "columns": list(pdf.columns),
    "tags": {k: int(v) for k, v in pdf["d:tag"].value_counts().items()},
    "candid_dtype": str(pdf["i:candid"].dtype),
    "valid_candids": ids(pdf[pdf["d:tag"] == "valid"]["i:candid"]),
}

# withcutouts.
r = post("objects", objectId=oid, withcutouts=True, **{"cutout-kind": "Science"})
pdf = pd.DataFrame(r.json())
first = pdf["b:cutoutScience_stampData"].iloc[0]
out["withcutouts"] = {"status": r.status_code, "shape": [len(first), len(first[0])] if first else None}

# conesearch.
c = cases["cone"]
r = post("conesearch", ra=c["ra"], dec=c["dec"], radius=c["radius"])
pdf = pd.read_json(io.BytesIO(r.content))
out["conesearch"] = {
    "status": r.status_code,
    "object_ids": list(pdf["i:objectId"]) if len(pdf) else [],
    "max_separation_deg": float(pdf["v:separation_degree"].max()) if len(pdf) else None,
    "candid_dtype": str(pdf["i:candid"].dtype) if len(pdf) else None,
}
r = post("conesearch", ra=c["ra"], dec=c["dec"], radius=c["radius"], **{"output-format": "votable"})
t = Table.read(io.BytesIO(r.content), format="votable", use_names_over_ids=True)
out["conesearch_votable"] = {"status": r.status_code, "nrows": len(t), "sep_unit": str(t["v:separation_degree"].unit)}
r = post("conesearch", ra=c["ra"], dec=c["dec"], radius=c["radius"], startdate="2100-01-01")
out["conesearch_future"] = {"status": r.status_code, "rows": len(r.json())}

# latests.
r = post("latests", **{"class": cases["class"], "n": 5})
pdf = pd.read_json(io.BytesIO(r.content))
out["latests"] = {
    "status": r.status_code,
    "rows": len(pdf),
    "classes": sorted(set(pdf["v:classification"])) if len(pdf) else [],
    "object_ids": list(pdf["i:objectId"]) if len(pdf) else [],
}
r = post("latests", **{"class": cases["class"], "n": 5, "output-format": "parquet"})
pdf = pd.read_parquet(io.BytesIO(r.content))
out["latests_parquet"] = {"status": r.status_code, "rows": len(pdf), "candid_dtype": str(pdf["i:candid"].dtype)}

# search (our filter language; not a route of Fink), as csv with a GET and the filter as JSON text.
r = requests.get(
    f"{url}/api/v1/search",
    params={"filter": json.dumps({"label": [cases["class"]], "band": ["g"]}), "n": 7, "output-format": "csv"},
    timeout=60,
)
pdf = pd.read_csv(io.StringIO(r.text))
out["search_csv"] = {
    "status": r.status_code,
    "rows": len(pdf),
    "classes": sorted(set(pdf["v:classification"])),
    "fids": sorted(int(x) for x in set(pdf["i:fid"])),
    "candid_dtype": str(pdf["i:candid"].dtype),
    "candids": ids(pdf["i:candid"]),
}

# sso.
r = post("sso", n_or_d=cases["ssnamenr"])
pdf = pd.read_json(io.BytesIO(r.content), dtype={"i:ssnamenr": str})
out["sso"] = {"status": r.status_code, "rows": len(pdf), "ssnamenr": sorted(set(pdf["i:ssnamenr"].astype(str)))}

# resolver (offline).
r = post("resolver", resolver="ssodnet", name=cases["ssnamenr"])
out["resolver_ssodnet"] = {"status": r.status_code, "body": r.json()}
r = post("resolver", resolver="ssodnet", name=cases["ssObjectId"], reverse=True)
out["resolver_ssodnet_reverse"] = {"status": r.status_code, "body": r.json()}
r = post("resolver", resolver="simbad", name=cases["catalogSource"])
out["resolver_simbad"] = {"status": r.status_code, "body": r.json()}
r = post("resolver", resolver="simbad", name=cases["catalogObjectId"], reverse=True)
out["resolver_simbad_reverse"] = {"status": r.status_code, "body": r.json()}

# classes, schema, statistics.
r = requests.get(f"{url}/api/v1/classes", timeout=60)
out["classes"] = {"status": r.status_code, "body": r.json()}
r = requests.get(f"{url}/api/v1/schema", timeout=60)
body = r.json()
out["schema"] = {
    "status": r.status_code,
    "sections": list(body),
    "candid": body["ZTF original fields (i:)"]["i:candid"],
}
r = post("statistics", date="")
pdf = pd.read_json(io.BytesIO(r.content), dtype={"basic:date": str})
out["statistics"] = {
    "status": r.status_code,
    "dates": list(pdf["basic:date"].astype(str)),
    "sci": [int(x) for x in pdf["basic:sci"]],
    "raw": [int(x) for x in pdf["basic:raw"]],
    "columns": list(pdf.columns),
}

# cutouts.
r = post("cutouts", objectId=oid, kind="Science")
out["cutout_png"] = {"status": r.status_code, "content_type": r.headers.get("content-type"), "magic": r.content[:8].hex()}
r = post("cutouts", objectId=oid, kind="Difference", candid=cases["candid"], **{"output-format": "FITS"})
with fits.open(io.BytesIO(r.content)) as hdul:
    out["cutout_fits"] = {"status": r.status_code, "shape": list(hdul[0].data.shape)}
r = post("cutouts", objectId=oid, kind="All", **{"output-format": "array"})
body = r.json()
out["cutout_array"] = {
    "status": r.status_code,
    "keys": sorted(body),
    "shape": [len(body["b:cutoutScience_stampData"]), len(body["b:cutoutScience_stampData"][0])],
}

# bad arguments: 400 naming the argument.
errors = {
    "missing_objectId": post("objects", **{"output-format": "json"}),
    "bad_format": post("objects", objectId=oid, **{"output-format": "xlsx"}),
    "bad_radius": post("conesearch", ra=1, dec=2, radius=20000),
    "bad_ra": post("conesearch", ra="abc", dec=2, radius=5),
    "unknown_argument": post("objects", objectId=oid, colums="i:jd"),
    "unknown_column": post("objects", objectId=oid, columns="i:jd,i:nosuch"),
    "bad_boolean": post("objects", objectId=oid, withupperlim="maybe"),
    "bad_date": post("latests", **{"class": cases["class"], "startdate": "yesterday"}),
    "bad_kind": post("cutouts", objectId=oid, kind="Sky"),
    "bad_resolver": post("resolver", resolver="ned", name="M31"),
    "bad_filter": post("search", filter={"mag": {"min": "bright"}}),
}
out["errors"] = {name: {"status": r.status_code, "text": r.text} for name, r in errors.items()}

print(json.dumps(out))
