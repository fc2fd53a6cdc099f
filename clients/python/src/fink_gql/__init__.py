"""A small typed Python client for the Fink GraphQL alert broker (see clients/python/README.md)."""

from .client import (
    ALERT_FIELDS,
    CUTOUT_KINDS,
    LIGHT_CURVE_FIELDS,
    LIVE_FIELDS,
    OBJECT_FIELDS,
    CutoutKind,
    FinkClient,
    frame,
    to_table,
)
from .errors import FinkError
from .fits import read_fits_image
from .live import Subscription

__version__ = "0.1.0"

__all__ = [
    "ALERT_FIELDS",
    "CUTOUT_KINDS",
    "LIGHT_CURVE_FIELDS",
    "LIVE_FIELDS",
    "OBJECT_FIELDS",
    "CutoutKind",
    "FinkClient",
    "FinkError",
    "Subscription",
    "frame",
    "read_fits_image",
    "to_table",
    "__version__",
]
