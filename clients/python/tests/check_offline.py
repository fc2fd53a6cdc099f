"""Checks of fink_gql that need no server: the FITS reader against astropy's writer, pagination, table helpers.

Run by test/integration/python-client.test.ts (with the interop venv); prints `OK <n checks>`.
"""

from __future__ import annotations

import gzip
import io
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np
from astropy.io import fits

from fink_gql import FinkClient, FinkError, frame, read_fits_image
from fink_gql.client import _names

checks = 0


def fits_bytes(hdus: fits.HDUList) -> bytes:
    out = io.BytesIO()
    hdus.writeto(out)
    return out.getvalue()


def same(data: bytes) -> None:
    """The reader gives what astropy reads, values and shape."""
    global checks
    with fits.open(io.BytesIO(data)) as hdus:
        expected = next(hdu.data for hdu in hdus if hdu.data is not None)
        ours = read_fits_image(data)
        assert ours.shape == expected.shape, (ours.shape, expected.shape)
        assert np.allclose(ours, expected, equal_nan=True), "values differ"
    checks += 1


rng = np.random.default_rng(7)
floats = rng.normal(100, 5, (63, 61)).astype(np.float32)
floats[3, 4] = np.nan
same(fits_bytes(fits.HDUList([fits.PrimaryHDU(floats)])))
same(fits_bytes(fits.HDUList([fits.PrimaryHDU(floats.astype(np.float64))])))
# Gzipped, as ZTF stores its cutouts.
plain = fits_bytes(fits.HDUList([fits.PrimaryHDU(floats)]))
assert np.array_equal(read_fits_image(gzip.compress(plain)), read_fits_image(plain), equal_nan=True)
checks += 1
# Scaled integers with a BLANK value: NaN where blank.
scaled = fits.PrimaryHDU(rng.integers(-1000, 1000, (20, 30)).astype(np.int16))
scaled.header["BSCALE"] = 0.5
scaled.header["BZERO"] = 10.0
scaled.header["BLANK"] = -1000
scaled.data[0, 0] = -1000
data = fits_bytes(fits.HDUList([scaled]))
ours = read_fits_image(data)
assert np.isnan(ours[0, 0]) and ours.dtype == np.float64
same(data)
# Unsigned 16-bit (BZERO 32768) and bytes.
same(fits_bytes(fits.HDUList([fits.PrimaryHDU(rng.integers(0, 65535, (8, 9)).astype(np.uint16))])))
same(fits_bytes(fits.HDUList([fits.PrimaryHDU(rng.integers(0, 255, (8, 9)).astype(np.uint8))])))
# The image in an extension after an empty primary HDU (a header longer than one block before it).
primary = fits.PrimaryHDU()
for i in range(40):
    primary.header[f"KEY{i}"] = i
same(fits_bytes(fits.HDUList([primary, fits.ImageHDU(floats)])))
try:
    read_fits_image(fits_bytes(fits.HDUList([fits.PrimaryHDU()])))
    raise AssertionError("an empty file was read")
except ValueError:
    checks += 1

# Pagination: cursors followed until hasNextPage is false, `limit` stops mid-page and asks for no more than it needs.
asked: list[tuple[str | None, int]] = []


def fetch(cursor: str | None, size: int) -> tuple[list[dict[str, Any]], str | None, bool]:
    asked.append((cursor, size))
    start = int(cursor or 0)
    rows = [{"n": n} for n in range(start, min(start + size, 23))]
    return rows, str(start + len(rows)), start + len(rows) < 23


client = FinkClient("http://127.0.0.1:1/graphql")
assert client.url == "http://127.0.0.1:1"
pages = list(client._paginate(fetch, None, 10))
assert [len(p) for p in pages] == [10, 10, 3] and asked == [(None, 10), ("10", 10), ("20", 10)]
asked.clear()
pages = list(client._paginate(fetch, 12, 10))
assert [len(p) for p in pages] == [10, 2] and asked == [(None, 10), ("10", 2)]
checks += 2

# Tables: nested fields become dotted columns; an empty result keeps the columns asked.
assert list(frame([{"a": 1, "b": {"c": 2}}]).columns) == ["a", "b.c"]
assert _names("alertId object { label scores { score } } jd") == ["alertId", "object", "jd"]
assert list(frame([], _names("alertId jd")).columns) == ["alertId", "jd"]
checks += 3

# A server that cannot be reached is a FinkError too.
try:
    client.execute("{ classes { label } }")
    raise AssertionError("no error")
except FinkError as err:
    assert err.code == "CONNECTION_FAILED"
    checks += 1


# 429: sent again after the server's Retry-After, `retries` times; then RATE_LIMITED is raised.
class Limited(BaseHTTPRequestHandler):
    refusals = 2
    seen = 0

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        self.rfile.read(int(self.headers["content-length"]))
        Limited.seen += 1
        refused = Limited.seen <= Limited.refusals
        body = (
            {"errors": [{"message": "too many", "extensions": {"code": "RATE_LIMITED", "retryAfter": 0}}]}
            if refused
            else {"data": {"ok": True}}
        )
        payload = json.dumps(body).encode()
        self.send_response(429 if refused else 200)
        if refused:
            self.send_header("retry-after", "0")
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        pass


limited = ThreadingHTTPServer(("127.0.0.1", 0), Limited)
threading.Thread(target=limited.serve_forever, daemon=True).start()
base = f"http://127.0.0.1:{limited.server_address[1]}"
assert FinkClient(base).execute("{ ok }") == {"ok": True} and Limited.seen == 3
Limited.seen = 0
try:
    FinkClient(base, retries=1).execute("{ ok }")
    raise AssertionError("no error")
except FinkError as err:
    assert err.code == "RATE_LIMITED" and err.status == 429 and Limited.seen == 2, (err.code, Limited.seen)
limited.shutdown()
checks += 2

print(f"OK {checks}")
