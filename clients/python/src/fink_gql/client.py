"""The Fink GraphQL client: queries over HTTP (requests), tables as pandas DataFrames, cutouts as numpy arrays."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Literal

import time

import numpy as np
import numpy.typing as npt
import pandas as pd
import requests

from .errors import FinkError
from .fits import read_fits_image
from .live import Subscription

CutoutKind = Literal["science", "template", "difference"]
CUTOUT_KINDS: tuple[CutoutKind, ...] = ("science", "template", "difference")

#: The object fields the tables hold (one row per object). Any AstroObject field may be asked instead.
OBJECT_FIELDS = """objectId survey ra dec band label mag peakMag rate rising colorGr
  firstJd lastJd ndet nlim roid ssName lastAlertId"""

#: The alert fields the tables hold (one row per alert); `candidate` and `features` (JSON) on request.
ALERT_FIELDS = """alertId objectId survey band jd night ra dec mag magErr label peakMag rate rising colorGr
  firstJd lastJd ndet nlim roid ssName"""

#: The fields of one light-curve point.
LIGHT_CURVE_FIELDS = "jd band kind mag magErr limitMag dcMag dcMagErr flux fluxErr negative sourceId"

#: The fields each live alert carries.
LIVE_FIELDS = f"publishedAt receivedAt alert {{ {ALERT_FIELDS} }}"

ANNOTATION_FIELDS = """id objectId author version text tags classification retracted createdAt updatedAt
  citations { kind value url }"""
VOTE_FIELDS = "objectId user label confidence comment createdAt"
WATCHLIST_FIELDS = "id name owner public targetCount createdAt updatedAt"
#: A single watchlist also has its targets (a list of the watchlists leaves them out: up to 10,000 each).
WATCHLIST_WITH_TARGETS = f"{WATCHLIST_FIELDS} targets {{ ra dec radiusArcsec label }}"
HIT_FIELDS = "alertId objectId survey ra dec jd distanceArcsec targetLabel"
SAVED_FILTER_FIELDS = "id name owner definition distribute topics createdAt updatedAt"

#: Longest wait, seconds, for one Retry-After of a 429 answer before trying again.
MAX_RETRY_WAIT = 30.0

#: One page of a paginated list: its rows, the cursor of the next page and whether there is one.
Page = tuple[list[dict[str, Any]], "str | None", bool]


def frame(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Rows of GraphQL results as a DataFrame; nested objects become dotted columns (``object.label``)."""
    if not rows:
        return pd.DataFrame(columns=list(columns) if columns is not None else None)
    return pd.json_normalize([dict(row) for row in rows])


def to_table(df: pd.DataFrame) -> Any:
    """A DataFrame of this client as an astropy Table (astropy is optional: ``fink-graphql-client[astropy]``)."""
    try:
        from astropy.table import Table  # type: ignore[import-not-found, unused-ignore]
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError("to_table needs astropy: pip install astropy") from err
    return Table.from_pandas(df)


def _names(fields: str) -> list[str]:
    """The top-level field names of a selection (for the columns of an empty table)."""
    names: list[str] = []
    depth = 0
    for token in fields.replace("{", " { ").replace("}", " } ").split():
        if token == "{":
            depth += 1
        elif token == "}":
            depth -= 1
        elif depth == 0:
            names.append(token)
    return names


class FinkClient:
    """A client of one Fink GraphQL server.

    ``url`` is the server's base URL (``http://localhost:4000``; the API is at ``<url>/graphql``, cutouts at
    ``<url>/cutouts/...``). ``token`` (``fink token create``) is sent as ``Authorization: Bearer <token>``; reads
    work without one when the server allows anonymous reads, annotations/votes/watchlists/saved filters need one.
    Every error the server answers is raised as :class:`FinkError` carrying its GraphQL code. A request the server
    refuses for its rate (429, ``RATE_LIMITED``) is sent again after the ``Retry-After`` it names, up to
    ``retries`` times (0: raise at once).
    """

    def __init__(self, url: str, token: str | None = None, *, timeout: float = 60.0, retries: int = 3) -> None:
        self.url = url.rstrip("/")
        if self.url.endswith("/graphql"):
            self.url = self.url[: -len("/graphql")]
        self.token = token
        self.timeout = timeout
        self.retries = retries
        self._session = requests.Session()
        if token:
            self._session.headers["Authorization"] = f"Bearer {token}"

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> FinkClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- transport -------------------------------------------------------------------------------------------

    def _send(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """One HTTP request, sent again after the server's Retry-After while it answers 429 (``retries`` times)."""
        for attempt in range(self.retries + 1):
            try:
                response = self._session.request(method, url, timeout=self.timeout, **kwargs)
            except requests.RequestException as err:
                raise FinkError("CONNECTION_FAILED", str(err)) from err
            if response.status_code != 429 or attempt == self.retries:
                return response
            try:
                wait = float(response.headers.get("retry-after", "1"))
            except ValueError:
                wait = 1.0
            time.sleep(min(max(wait, 0.0), MAX_RETRY_WAIT))
        raise AssertionError("unreachable")

    def execute(self, query: str, variables: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Runs a query or mutation and returns its ``data``; raises :class:`FinkError` on any error."""
        response = self._send(
            "POST", f"{self.url}/graphql", json={"query": query, "variables": dict(variables or {})}
        )
        try:
            body = response.json()
        except ValueError:
            raise FinkError(
                _http_code(response.status_code),
                f"HTTP {response.status_code}: {response.text[:200]}",
                status=response.status_code,
            ) from None
        if not isinstance(body, dict):
            body = {}
        errors = body.get("errors")
        if isinstance(errors, list) and errors:
            raise FinkError.from_graphql(errors, status=response.status_code, data=body.get("data"))
        if not response.ok or not isinstance(body.get("data"), dict):
            raise FinkError(
                _http_code(response.status_code), f"HTTP {response.status_code}", status=response.status_code
            )
        data: dict[str, Any] = body["data"]
        return data

    def subscribe(
        self, query: str, variables: Mapping[str, Any] | None = None, *, open_timeout: float = 30.0
    ) -> Subscription:
        """Any GraphQL subscription, as an async iterator of its field's values (see :class:`Subscription`)."""
        ws_url = "ws" + self.url[len("http") :] + "/graphql" if self.url.startswith("http") else self.url
        return Subscription(ws_url, query, dict(variables or {}), token=self.token, open_timeout=open_timeout)

    def _paginate(
        self, fetch: Callable[[str | None, int], Page], limit: int | None, page_size: int
    ) -> Iterator[list[dict[str, Any]]]:
        """Pages of rows, following cursors until there is none or `limit` rows were read."""
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        cursor: str | None = None
        remaining = limit
        while remaining is None or remaining > 0:
            size = page_size if remaining is None else min(page_size, remaining)
            rows, cursor, has_next = fetch(cursor, size)
            if remaining is not None:
                rows = rows[:remaining]
                remaining -= len(rows)
            if rows:
                yield rows
            if not has_next or cursor is None or not rows:
                return

    # --- objects and light curves ----------------------------------------------------------------------------

    def object(self, object_id: str) -> dict[str, Any] | None:
        """One object with its classification scores, crossmatches and community consensus; None when unknown."""
        query = f"""query($id: String!) {{ object(objectId: $id) {{ {OBJECT_FIELDS}
          classification {{ label version processedAt scores {{ classifier label score version }} }}
          crossmatches {{ catalog sourceId type distanceArcsec alertId }}
          consensus {{ label share voters totalConfidence }} }} }}"""
        result: dict[str, Any] | None = self.execute(query, {"id": object_id})["object"]
        return result

    def objects(self, object_ids: Iterable[str], *, fields: str = OBJECT_FIELDS) -> pd.DataFrame:
        """Objects by id, one row each, in the order asked; unknown ids are left out."""
        query = f"query($ids: [String!]!) {{ objects(objectIds: $ids) {{ {fields} }} }}"
        return frame(self.execute(query, {"ids": list(object_ids)})["objects"], _names(fields))

    def light_curve(self, object_id: str, *, fields: str = LIGHT_CURVE_FIELDS) -> pd.DataFrame:
        """Every point of an object's light curve (detections, upper limits, forced photometry), by time.

        Raises FinkError NOT_FOUND when the object is unknown.
        """
        query = f"query($id: String!) {{ object(objectId: $id) {{ lightCurve {{ {fields} }} }} }}"
        found = self.execute(query, {"id": object_id})["object"]
        if found is None:
            raise FinkError("NOT_FOUND", f"object {object_id} not found")
        return frame(found["lightCurve"], _names(fields))

    def object_alerts(self, object_id: str, *, fields: str = ALERT_FIELDS) -> pd.DataFrame:
        """Every alert of an object, oldest first. Raises FinkError NOT_FOUND when the object is unknown."""
        query = f"query($id: String!) {{ object(objectId: $id) {{ alerts {{ {fields} }} }} }}"
        found = self.execute(query, {"id": object_id})["object"]
        if found is None:
            raise FinkError("NOT_FOUND", f"object {object_id} not found")
        return frame(found["alerts"], _names(fields))

    # --- searches --------------------------------------------------------------------------------------------

    def cone_search(
        self,
        ra: float,
        dec: float,
        radius_arcsec: float,
        *,
        limit: int | None = None,
        first_detected_after_jd: float | None = None,
        first_detected_before_jd: float | None = None,
        page_size: int = 100,
        fields: str = OBJECT_FIELDS,
    ) -> pd.DataFrame:
        """Objects with an alert within the radius, nearest first: ``distanceArcsec`` and the object's fields.

        ``limit``: at most this many objects; None: all of them, page after page (``page_size`` each, capped by
        the server's maxPageSize).
        """
        query = f"""query($ra: Float!, $dec: Float!, $r: Float!, $first: Int, $cursor: String, $after: Float,
                          $before: Float) {{
          coneSearchPage(ra: $ra, dec: $dec, radiusArcsec: $r, first: $first, after: $cursor,
                         firstDetectedAfterJd: $after, firstDetectedBeforeJd: $before) {{
            items {{ distanceArcsec object {{ {fields} }} }} endCursor hasNextPage }} }}"""
        variables = {
            "ra": ra,
            "dec": dec,
            "r": radius_arcsec,
            "after": first_detected_after_jd,
            "before": first_detected_before_jd,
        }

        def fetch(cursor: str | None, size: int) -> Page:
            page = self.execute(query, {**variables, "first": size, "cursor": cursor})["coneSearchPage"]
            rows = [{"distanceArcsec": r["distanceArcsec"], **r["object"]} for r in page["items"]]
            return rows, page["endCursor"], page["hasNextPage"]

        rows = [row for page in self._paginate(fetch, limit, page_size) for row in page]
        return frame(rows, ["distanceArcsec", *_names(fields)])

    def latest_objects(
        self,
        label: str,
        *,
        limit: int | None = None,
        last_days: float | None = None,
        since_jd: float | None = None,
        until_jd: float | None = None,
        trend: Literal["RISING", "FADING"] | None = None,
        fields: str = OBJECT_FIELDS,
    ) -> pd.DataFrame:
        """Objects of a class with an alert in the window (``since_jd``..``until_jd``, or the last ``last_days``
        days, 7 by default), most recent first."""
        query = f"""query($label: String!, $first: Int, $lastDays: Float, $since: Float, $until: Float,
                          $trend: String) {{
          latestObjects(label: $label, first: $first, lastDays: $lastDays, sinceJd: $since, untilJd: $until,
                        trend: $trend) {{ {fields} }} }}"""
        variables = {
            "label": label,
            "first": limit,
            "lastDays": last_days,
            "since": since_jd,
            "until": until_jd,
            "trend": trend,
        }
        return frame(self.execute(query, variables)["latestObjects"], _names(fields))

    def search_pages(
        self,
        filter: Mapping[str, Any],
        *,
        limit: int | None = None,
        page_size: int = 100,
        fields: str = ALERT_FIELDS,
    ) -> Iterator[pd.DataFrame]:
        """Alerts matching an ``AlertFilter`` (a dict, as in GraphQL), newest first, one DataFrame per page."""
        query = f"""query($filter: AlertFilter!, $first: Int, $after: String) {{
          search(filter: $filter, first: $first, after: $after) {{ items {{ {fields} }} endCursor hasNextPage }} }}"""

        def fetch(cursor: str | None, size: int) -> Page:
            page = self.execute(query, {"filter": dict(filter), "first": size, "after": cursor})["search"]
            return page["items"], page["endCursor"], page["hasNextPage"]

        for rows in self._paginate(fetch, limit, page_size):
            yield frame(rows, _names(fields))

    def search(
        self,
        filter: Mapping[str, Any],
        *,
        limit: int | None = None,
        page_size: int = 100,
        fields: str = ALERT_FIELDS,
    ) -> pd.DataFrame:
        """Alerts matching an ``AlertFilter``, newest first, every page read (or ``limit`` alerts) in one table.

        Example filter: ``{"band": ["g"], "mag": {"max": 19}, "label": ["SN candidate"]}``.
        """
        pages = list(self.search_pages(filter, limit=limit, page_size=page_size, fields=fields))
        if not pages:
            return frame([], _names(fields))
        return pd.concat(pages, ignore_index=True)

    # --- live alerts -----------------------------------------------------------------------------------------

    def live_alerts(self, filter: Mapping[str, Any] | None = None, *, fields: str = LIVE_FIELDS) -> Subscription:
        """Alerts as the broker processes them, matching the filter (every alert without one).

        An async iterator of dicts ``{"publishedAt", "receivedAt", "alert": {...}}``::

            async with client.live_alerts({"band": ["r"]}) as alerts:
                async for live in alerts:
                    print(live["alert"]["objectId"])
        """
        query = f"subscription($filter: AlertFilter) {{ liveAlerts(filter: $filter) {{ {fields} }} }}"
        return self.subscribe(query, {"filter": dict(filter) if filter is not None else None})

    # --- cutouts ---------------------------------------------------------------------------------------------

    def _cutout_bytes(self, alert_id: str | int, kind: CutoutKind, extension: str) -> bytes:
        if kind not in CUTOUT_KINDS:
            raise ValueError(f"kind must be one of {', '.join(CUTOUT_KINDS)}")
        response = self._send("GET", f"{self.url}/cutouts/{alert_id}/{kind}.{extension}")
        if not response.ok:
            # The cutout endpoints answer errors as {"error": {"code", "message"}}, with the API's codes.
            try:
                error = response.json()["error"]
                raise FinkError(str(error["code"]), str(error["message"]), status=response.status_code)
            except (ValueError, KeyError, TypeError):
                raise FinkError(
                    _http_code(response.status_code),
                    f"HTTP {response.status_code}",
                    status=response.status_code,
                ) from None
        return response.content

    def cutout(self, alert_id: str | int, kind: CutoutKind = "science") -> npt.NDArray[Any]:
        """One cutout of an alert as a 2-D numpy array (rows first, from its FITS)."""
        return read_fits_image(self._cutout_bytes(alert_id, kind, "fits"))

    def cutouts(self, alert_id: str | int) -> dict[CutoutKind, npt.NDArray[Any]]:
        """The science, template and difference cutouts of an alert."""
        return {kind: self.cutout(alert_id, kind) for kind in CUTOUT_KINDS}

    def cutout_png(self, alert_id: str | int, kind: CutoutKind = "science") -> bytes:
        """A cutout rendered by the server as PNG (8-bit grey, zscale, north up): ``IPython.display.Image(data)``."""
        return self._cutout_bytes(alert_id, kind, "png")

    def cutout_fits(self, alert_id: str | int, kind: CutoutKind = "science") -> bytes:
        """A cutout's FITS file as stored (gunzipped): for astropy.io.fits or ds9."""
        return self._cutout_bytes(alert_id, kind, "fits")

    # --- annotations and votes (token with the annotator role) -----------------------------------------------

    def annotations(self, object_id: str, *, include_retracted: bool = False) -> pd.DataFrame:
        """Annotations on an object, oldest first."""
        query = f"""query($id: String!, $all: Boolean!) {{ object(objectId: $id) {{
          annotations(includeRetracted: $all) {{ {ANNOTATION_FIELDS} }} }} }}"""
        found = self.execute(query, {"id": object_id, "all": include_retracted})["object"]
        rows = [] if found is None else found["annotations"]
        return frame(rows, _names(ANNOTATION_FIELDS))

    def annotation(self, annotation_id: str) -> dict[str, Any] | None:
        """The current version of an annotation; None when unknown."""
        query = f"query($id: String!) {{ annotation(id: $id) {{ {ANNOTATION_FIELDS} }} }}"
        result: dict[str, Any] | None = self.execute(query, {"id": annotation_id})["annotation"]
        return result

    def add_annotation(
        self,
        object_id: str,
        text: str,
        *,
        tags: Sequence[str] = (),
        classification: str | None = None,
        citations: Sequence[tuple[str, str] | Mapping[str, str]] = (),
    ) -> dict[str, Any]:
        """Annotates an object. ``citations``: ``("DOI", "10.1088/...")`` pairs or ``{"kind", "value"}`` dicts
        (kinds ADS, ATEL, DOI, TNS, URL)."""
        query = f"""mutation($id: String!, $input: AnnotationInput!) {{
          addAnnotation(objectId: $id, input: $input) {{ {ANNOTATION_FIELDS} }} }}"""
        input_ = _annotation_input(text, tags, classification, citations)
        result: dict[str, Any] = self.execute(query, {"id": object_id, "input": input_})["addAnnotation"]
        return result

    def edit_annotation(
        self,
        annotation_id: str,
        version: int,
        text: str,
        *,
        tags: Sequence[str] = (),
        classification: str | None = None,
        citations: Sequence[tuple[str, str] | Mapping[str, str]] = (),
    ) -> dict[str, Any]:
        """Replaces an annotation's content; ``version`` is the one read (FinkError CONFLICT if it changed)."""
        query = f"""mutation($id: String!, $version: Int!, $input: AnnotationInput!) {{
          editAnnotation(annotationId: $id, version: $version, input: $input) {{ {ANNOTATION_FIELDS} }} }}"""
        input_ = _annotation_input(text, tags, classification, citations)
        result: dict[str, Any] = self.execute(query, {"id": annotation_id, "version": version, "input": input_})[
            "editAnnotation"
        ]
        return result

    def retract_annotation(self, annotation_id: str, version: int | None = None) -> dict[str, Any]:
        """Withdraws an annotation (it stays readable, marked retracted)."""
        query = f"""mutation($id: String!, $version: Int) {{
          retractAnnotation(annotationId: $id, version: $version) {{ {ANNOTATION_FIELDS} }} }}"""
        result: dict[str, Any] = self.execute(query, {"id": annotation_id, "version": version})["retractAnnotation"]
        return result

    def cast_vote(self, object_id: str, label: str, confidence: float, *, comment: str | None = None) -> dict[str, Any]:
        """Votes on an object's class (replaces your previous vote on it); confidence 0 to 1."""
        query = f"""mutation($id: String!, $label: String!, $confidence: Float!, $comment: String) {{
          castVote(objectId: $id, label: $label, confidence: $confidence, comment: $comment) {{ {VOTE_FIELDS} }} }}"""
        variables = {"id": object_id, "label": label, "confidence": confidence, "comment": comment}
        result: dict[str, Any] = self.execute(query, variables)["castVote"]
        return result

    def votes(self, object_id: str) -> pd.DataFrame:
        """Every user's current vote on an object."""
        query = f"query($id: String!) {{ object(objectId: $id) {{ votes {{ {VOTE_FIELDS} }} }} }}"
        found = self.execute(query, {"id": object_id})["object"]
        return frame([] if found is None else found["votes"], _names(VOTE_FIELDS))

    def consensus(self, object_id: str) -> dict[str, Any] | None:
        """The community classification from the votes (label, share, breakdown); None for an unknown object."""
        query = """query($id: String!) { object(objectId: $id) { consensus {
          objectId label share voters totalConfidence breakdown { label confidence share voters } } } }"""
        found = self.execute(query, {"id": object_id})["object"]
        return None if found is None else dict(found["consensus"])

    # --- watchlists (token) ----------------------------------------------------------------------------------

    def watchlists(self) -> pd.DataFrame:
        """Your watchlists and every public one, by name (without their targets: see :meth:`watchlist`)."""
        query = f"{{ watchlists {{ {WATCHLIST_FIELDS} }} }}"
        return frame(self.execute(query)["watchlists"], _names(WATCHLIST_FIELDS))

    def watchlist(self, watchlist_id: str) -> dict[str, Any]:
        """A watchlist with its targets; FinkError NOT_FOUND when unknown or private."""
        query = f"query($id: String!) {{ watchlist(id: $id) {{ {WATCHLIST_WITH_TARGETS} }} }}"
        result: dict[str, Any] = self.execute(query, {"id": watchlist_id})["watchlist"]
        return result

    def create_watchlist(
        self, name: str, targets: pd.DataFrame | Iterable[Mapping[str, Any]], *, public: bool = False
    ) -> dict[str, Any]:
        """Creates a watchlist. ``targets``: rows with ``ra``, ``dec`` (degrees), ``radiusArcsec`` and an
        optional ``label`` (a DataFrame with those columns, or dicts)."""
        query = f"""mutation($name: String!, $public: Boolean!, $targets: [WatchlistTargetInput!]!) {{
          createWatchlist(name: $name, public: $public, targets: $targets) {{ {WATCHLIST_WITH_TARGETS} }} }}"""
        variables = {"name": name, "public": public, "targets": _targets(targets)}
        result: dict[str, Any] = self.execute(query, variables)["createWatchlist"]
        return result

    def update_watchlist(
        self,
        watchlist_id: str,
        *,
        name: str | None = None,
        public: bool | None = None,
        targets: pd.DataFrame | Iterable[Mapping[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Changes the name, the visibility and/or replaces the targets (None: unchanged)."""
        query = f"""mutation($id: String!, $name: String, $public: Boolean, $targets: [WatchlistTargetInput!]) {{
          updateWatchlist(id: $id, name: $name, public: $public, targets: $targets) {{ {WATCHLIST_WITH_TARGETS} }} }}"""
        variables = {
            "id": watchlist_id,
            "name": name,
            "public": public,
            "targets": None if targets is None else _targets(targets),
        }
        result: dict[str, Any] = self.execute(query, variables)["updateWatchlist"]
        return result

    def delete_watchlist(self, watchlist_id: str) -> bool:
        """Deletes a watchlist (its recorded hits stay stored)."""
        query = "mutation($id: String!) { deleteWatchlist(id: $id) }"
        return bool(self.execute(query, {"id": watchlist_id})["deleteWatchlist"])

    def watchlist_hits(self, watchlist_id: str, *, limit: int | None = None, page_size: int = 100) -> pd.DataFrame:
        """Alerts that fell in the watchlist's targets, newest first, every page read (or ``limit`` hits)."""
        query = f"""query($id: String!, $first: Int, $after: String) {{ watchlist(id: $id) {{
          hits(first: $first, after: $after) {{ nodes {{ {HIT_FIELDS} }} endCursor hasNextPage }} }} }}"""

        def fetch(cursor: str | None, size: int) -> Page:
            hits = self.execute(query, {"id": watchlist_id, "first": size, "after": cursor})["watchlist"]["hits"]
            return hits["nodes"], hits["endCursor"], hits["hasNextPage"]

        rows = [row for page in self._paginate(fetch, limit, page_size) for row in page]
        return frame(rows, _names(HIT_FIELDS))

    # --- saved filters (token) -------------------------------------------------------------------------------

    def saved_filters(self, *, include_distributed: bool = False) -> pd.DataFrame:
        """Your saved filters (and with include_distributed every distributed one), by name."""
        query = f"query($all: Boolean!) {{ savedFilters(includeDistributed: $all) {{ {SAVED_FILTER_FIELDS} }} }}"
        return frame(self.execute(query, {"all": include_distributed})["savedFilters"], _names(SAVED_FILTER_FIELDS))

    def saved_filter(self, filter_id: str) -> dict[str, Any]:
        """A saved filter; FinkError NOT_FOUND when unknown or someone else's private one."""
        query = f"query($id: String!) {{ savedFilter(id: $id) {{ {SAVED_FILTER_FIELDS} }} }}"
        result: dict[str, Any] = self.execute(query, {"id": filter_id})["savedFilter"]
        return result

    def create_saved_filter(self, name: str, filter: Mapping[str, Any], *, distribute: bool = False) -> dict[str, Any]:
        """Saves an ``AlertFilter`` under a name; ``distribute`` also publishes its matches to Kafka topics."""
        query = f"""mutation($name: String!, $filter: AlertFilter!, $distribute: Boolean!) {{
          createSavedFilter(name: $name, filter: $filter, distribute: $distribute) {{ {SAVED_FILTER_FIELDS} }} }}"""
        variables = {"name": name, "filter": dict(filter), "distribute": distribute}
        result: dict[str, Any] = self.execute(query, variables)["createSavedFilter"]
        return result

    def update_saved_filter(
        self,
        filter_id: str,
        *,
        name: str | None = None,
        filter: Mapping[str, Any] | None = None,
        distribute: bool | None = None,
    ) -> dict[str, Any]:
        """Changes the name, the filter and/or distribution (None: unchanged)."""
        query = f"""mutation($id: String!, $name: String, $filter: AlertFilter, $distribute: Boolean) {{
          updateSavedFilter(id: $id, name: $name, filter: $filter, distribute: $distribute) {{
            {SAVED_FILTER_FIELDS} }} }}"""
        variables = {
            "id": filter_id,
            "name": name,
            "filter": None if filter is None else dict(filter),
            "distribute": distribute,
        }
        result: dict[str, Any] = self.execute(query, variables)["updateSavedFilter"]
        return result

    def delete_saved_filter(self, filter_id: str) -> bool:
        """Deletes a saved filter (and stops its distribution)."""
        query = "mutation($id: String!) { deleteSavedFilter(id: $id) }"
        return bool(self.execute(query, {"id": filter_id})["deleteSavedFilter"])


def _http_code(status: int) -> str:
    return {
        400: "BAD_REQUEST",
        401: "UNAUTHENTICATED",
        403: "FORBIDDEN",
        404: "NOT_FOUND",
        413: "REQUEST_TOO_LARGE",
        429: "RATE_LIMITED",
        503: "SERVICE_UNAVAILABLE",
    }.get(status, "INTERNAL_SERVER_ERROR" if status >= 500 else f"HTTP_{status}")


def _annotation_input(
    text: str,
    tags: Sequence[str],
    classification: str | None,
    citations: Sequence[tuple[str, str] | Mapping[str, str]],
) -> dict[str, Any]:
    return {
        "text": text,
        "tags": list(tags),
        "classification": classification,
        "citations": [
            {"kind": c["kind"], "value": c["value"]} if isinstance(c, Mapping) else {"kind": c[0], "value": c[1]}
            for c in citations
        ],
    }


def _targets(targets: pd.DataFrame | Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    rows: Iterable[Mapping[Any, Any]] = (
        targets.to_dict(orient="records") if isinstance(targets, pd.DataFrame) else targets
    )
    result = []
    for row in rows:
        target: dict[str, Any] = {
            "ra": float(row["ra"]),
            "dec": float(row["dec"]),
            "radiusArcsec": float(row["radiusArcsec"]),
        }
        label = row.get("label")
        if label is not None and not (isinstance(label, float) and np.isnan(label)):
            target["label"] = str(label)
        result.append(target)
    return result
