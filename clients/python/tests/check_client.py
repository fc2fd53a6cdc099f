"""Exercises every call of fink_gql against a running server; run by test/integration/python-client.test.ts.

Environment: FINK_URL (server base URL), FINK_TOKEN (annotator), FINK_READER_TOKEN (reader). Asserts what it can
check by itself and prints, as its last line, `RESULT <json>` with what the TypeScript test compares with the
database. Protocol on stdout while it runs: `LIVE` once it subscribes to live alerts (the caller then replays the
alerts), `REPLAY` when it waits for watchlist hits and wants the alerts replayed again.
"""

from __future__ import annotations

import asyncio
import io
import json
import math
import os
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from astropy.io import fits
from astropy.io.fits.verify import VerifyWarning
from astropy.table import Table

from fink_gql import FinkClient, FinkError, to_table

URL = os.environ["FINK_URL"]
client = FinkClient(URL, os.environ["FINK_TOKEN"])
reader = FinkClient(URL, os.environ["FINK_READER_TOKEN"])
anonymous = FinkClient(URL)
result: dict[str, Any] = {}
# ZTF writes its SIMPLE card in a form astropy warns about (and reads).
warnings.simplefilter("ignore", VerifyWarning)


def say(line: str) -> None:
    print(line, flush=True)


def error_code(call: Callable[[], object]) -> dict[str, Any]:
    """The FinkError a call raises: its code, argument and HTTP status."""
    try:
        call()
    except FinkError as err:
        return {"code": err.code, "argument": err.argument, "status": err.status}
    raise AssertionError("expected a FinkError")


# --- searches, with pages -----------------------------------------------------------------------------------
everything = client.search({}, page_size=100)
assert everything["alertId"].is_unique, "pages overlap"
assert list(everything["jd"]) == sorted(everything["jd"], reverse=True), "not newest first"
pages = list(client.search_pages({}, limit=130, page_size=50))
result["search"] = {
    "count": len(everything),
    "limitedPages": [len(page) for page in pages],
    "limitedIds": [str(x) for page in pages for x in page["alertId"]],
    "firstIds": [str(x) for x in everything["alertId"][:130]],
}
g_bright = client.search({"band": ["g"], "mag": {"max": 19}}, page_size=40)
assert set(g_bright["band"]) == {"g"} and (g_bright["mag"] <= 19).all()
result["search"]["gBright"] = len(g_bright)

# --- objects and light curves ---------------------------------------------------------------------------------
# The object with the most alerts: a light curve worth reading.
object_id = str(everything["objectId"].value_counts().index[0])
obj = client.object(object_id)
assert obj is not None and obj["objectId"] == object_id
assert client.object("ZTF00notthere") is None
light_curve = client.light_curve(object_id)
assert list(light_curve["jd"]) == sorted(light_curve["jd"])
alerts_of = client.object_alerts(object_id)
objects = client.objects([object_id, "ZTF00notthere"])
result["object"] = {
    "objectId": object_id,
    "label": obj["label"],
    "ndet": obj["ndet"],
    "lightCurvePoints": len(light_curve),
    "detections": int((light_curve["kind"] == "detection").sum()),
    "alerts": len(alerts_of),
    "objectsRows": list(objects["objectId"]),
    "scores": len(obj["classification"]["scores"]),
}

# --- cone search and latest objects --------------------------------------------------------------------------
cone = client.cone_search(obj["ra"], obj["dec"], 10.0, page_size=500)
assert list(cone["distanceArcsec"]) == sorted(cone["distanceArcsec"]), "not nearest first"
wide = client.cone_search(obj["ra"], obj["dec"], 3600.0, limit=3)
# A 1-degree cone read whole in one page, and by pages of 2 following the cursors: the same objects, same order.
whole = client.cone_search(obj["ra"], obj["dec"], 3600.0, page_size=500)
paged = client.cone_search(obj["ra"], obj["dec"], 3600.0, page_size=2)
latest = client.latest_objects(obj["label"], since_jd=obj["lastJd"] - 0.5, until_jd=obj["lastJd"] + 0.5, limit=500)
empty = client.cone_search(obj["ra"], -obj["dec"] if obj["dec"] != 0 else 45.0, 1.0)
result["cone"] = {
    "hasObject": object_id in set(cone["objectId"]),
    "nearest": float(cone["distanceArcsec"].min()),
    "objects": int(cone["objectId"].nunique()),
    "rows": len(cone),
    "wideRows": len(wide),
    "wholeRows": len(whole),
    "pagedSame": list(paged["objectId"]) == list(whole["objectId"]),
    "emptyColumns": list(empty.columns)[:2],
    "emptyRows": len(empty),
}
result["latest"] = {"hasObject": object_id in set(latest["objectId"]), "labels": sorted(set(latest["label"]))}

# --- astropy tables on request -------------------------------------------------------------------------------
table = to_table(light_curve)
assert isinstance(table, Table) and len(table) == len(light_curve)
result["table"] = {"rows": len(table), "columns": list(table.colnames)}

# --- cutouts -------------------------------------------------------------------------------------------------
alert_id = str(obj["lastAlertId"])
cutouts = client.cutouts(alert_id)
with fits.open(io.BytesIO(client.cutout_fits(alert_id, "difference"))) as hdus:
    reference = next(hdu.data for hdu in hdus if hdu.data is not None)
assert np.array_equal(cutouts["difference"], reference, equal_nan=True), "FITS reader disagrees with astropy"
png = client.cutout_png(alert_id, "science")
result["cutouts"] = {
    "alertId": alert_id,
    "shapes": {kind: list(image.shape) for kind, image in cutouts.items()},
    "finite": bool(np.isfinite(cutouts["science"]).any()),
    "png": png[:8] == b"\x89PNG\r\n\x1a\n",
}

# --- annotations, votes --------------------------------------------------------------------------------------
note = client.add_annotation(
    object_id, "Rising blue transient", tags=["sn"], classification="SN Ia", citations=[("ATEL", "15000")]
)
edited = client.edit_annotation(note["id"], note["version"], "Rising blue transient, spectrum requested", tags=["sn"])
stale = error_code(lambda: client.edit_annotation(note["id"], note["version"], "lost edit"))
retracted = client.retract_annotation(note["id"])
annotations_now = client.annotations(object_id)
annotations_all = client.annotations(object_id, include_retracted=True)
again = client.annotation(note["id"])
client.cast_vote(object_id, "SN Ia", 0.4)
vote = client.cast_vote(object_id, "SN Ia", 0.8, comment="spectrum")
reader_votes = error_code(lambda: reader.cast_vote(object_id, "AGN", 0.5))
votes = client.votes(object_id)
consensus = client.consensus(object_id)
assert consensus is not None
result["annotations"] = {
    "versions": [note["version"], edited["version"], retracted["version"]],
    "citation": note["citations"][0]["value"],
    "visible": len(annotations_now),
    "all": len(annotations_all),
    "retracted": bool(again is not None and again["retracted"]),
    "staleEdit": stale,
}
result["votes"] = {
    "rows": len(votes),
    "confidence": vote["confidence"],
    "consensus": consensus["label"],
    "share": consensus["share"],
    "readerVote": reader_votes,
}

# --- saved filters -------------------------------------------------------------------------------------------
saved = client.create_saved_filter("bright g", {"band": ["g"], "mag": {"max": 19}})
listed = client.saved_filters()
updated = client.update_saved_filter(saved["id"], name="bright g (renamed)", filter={"band": ["g"]})
fetched = client.saved_filter(saved["id"])
deleted = client.delete_saved_filter(saved["id"])
result["savedFilters"] = {
    "listed": saved["id"] in set(listed["id"]),
    "name": fetched["name"],
    "definition": json.loads(updated["definition"]),
    "deleted": deleted,
    "afterDelete": error_code(lambda: client.saved_filter(saved["id"])),
}

# --- errors as exceptions with the GraphQL code --------------------------------------------------------------
result["errors"] = {
    "badRadius": error_code(lambda: client.cone_search(10.0, 10.0, -1.0)),
    "badFilter": error_code(lambda: client.search({"cone": {"ra": 10, "dec": 10, "radiusArcsec": -5}})),
    "anonymousAnnotation": error_code(lambda: anonymous.add_annotation(object_id, "hello")),
    "readerAnnotation": error_code(lambda: reader.add_annotation(object_id, "hello")),
    "wrongToken": error_code(lambda: FinkClient(URL, "fink_0000000000000000_wrong").object(object_id)),
    "unknownCutout": error_code(lambda: client.cutout("1", "science")),
    "unknownLightCurve": error_code(lambda: client.light_curve("ZTF00notthere")),
    "badQuery": error_code(lambda: client.execute("{ nope }")),
}


# --- live alerts, and watchlist hits recorded while the alerts are replayed ----------------------------------
async def live_errors() -> dict[str, Any]:
    codes: dict[str, Any] = {}
    for name, subscription in [
        ("badFilter", client.live_alerts({"cone": {"ra": 10, "dec": 10, "radiusArcsec": -5}})),
        ("wrongToken", FinkClient(URL, "fink_0000000000000000_wrong").live_alerts()),
    ]:
        try:
            async with subscription:
                async for _ in subscription:
                    raise AssertionError(f"{name}: an alert arrived")
        except FinkError as err:
            codes[name] = {"code": err.code, "argument": err.argument}
    return codes


async def live(count: int) -> list[dict[str, Any]]:
    received: list[dict[str, Any]] = []
    async with client.live_alerts({"band": ["g"]}) as alerts:
        say("LIVE")
        async for item in alerts:
            received.append(item)
            if len(received) == count:
                break
    return received


result["liveErrors"] = asyncio.run(live_errors())
watchlist = client.create_watchlist(
    "pyclient",
    [{"ra": obj["ra"], "dec": obj["dec"], "radiusArcsec": 2.0, "label": "target"}],
)
received = asyncio.run(asyncio.wait_for(live(10), timeout=150))
result["live"] = {
    "count": len(received),
    "bands": sorted({item["alert"]["band"] for item in received}),
    "ids": [item["alert"]["alertId"] for item in received],
    "timestamps": all(item["receivedAt"] >= item["publishedAt"] > 0 for item in received),
}

# The pipeline reloads the watchlists every few seconds: ask for replays until the hits are recorded.
deadline = time.monotonic() + 120
asked = -math.inf
# The hits expected: every alert within the target's radius (many alerts of the simulator share a position).
ra0, dec0 = np.radians(obj["ra"]), np.radians(obj["dec"])
ra1, dec1 = np.radians(everything["ra"].to_numpy()), np.radians(everything["dec"].to_numpy())
haversine = np.sin((dec1 - dec0) / 2) ** 2 + np.cos(dec0) * np.cos(dec1) * np.sin((ra1 - ra0) / 2) ** 2
expected_hits = int((np.degrees(2 * np.arcsin(np.sqrt(haversine))) * 3600 <= 2.0).sum())
hits = client.watchlist_hits(watchlist["id"], page_size=10)
while len(hits) < expected_hits and time.monotonic() < deadline:
    if time.monotonic() - asked > 8:
        say("REPLAY")
        asked = time.monotonic()
    time.sleep(0.5)
    hits = client.watchlist_hits(watchlist["id"], page_size=10)
renamed = client.update_watchlist(watchlist["id"], name="pyclient renamed", public=True)
listed_watchlists = client.watchlists()
one = client.watchlist(watchlist["id"])
result["watchlists"] = {
    "listed": watchlist["id"] in set(listed_watchlists["id"]),
    "name": renamed["name"],
    "public": one["public"],
    "targets": one["targets"],
    "hits": len(hits),
    "expectedHits": expected_hits,
    "uniqueHits": int(hits["alertId"].nunique()),
    "hitsHaveObject": object_id in set(hits["objectId"]),
    "hitsLimited": len(client.watchlist_hits(watchlist["id"], limit=15, page_size=10)),
    "deleted": client.delete_watchlist(watchlist["id"]),
    "afterDelete": error_code(lambda: client.watchlist(watchlist["id"])),
}

say("RESULT " + json.dumps(result))
sys.exit(0)
