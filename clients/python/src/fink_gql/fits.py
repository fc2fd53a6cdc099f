"""A minimal FITS image reader: the first HDU holding an image, as a numpy array (no astropy needed).

Enough for the broker's cutouts (ZTF: one primary image; Rubin: an image in the primary HDU or an extension),
not a general FITS library: no tables, no tile compression. astropy.io.fits reads the same bytes when installed.
"""

from __future__ import annotations

import gzip
import math
import re

import numpy as np
import numpy.typing as npt

BLOCK = 2880
CARD = 80

_STRING = re.compile(r"'((?:[^']|'')*)'")
_DTYPES = {8: ">u1", 16: ">i2", 32: ">i4", 64: ">i8", -32: ">f4", -64: ">f8"}


def _header(data: bytes, offset: int) -> tuple[dict[str, str], int]:
    """The cards of the header starting at `offset` (keyword -> value: a string's text, else the value's text
    without its comment), and where its data starts."""
    cards: dict[str, str] = {}
    position = offset
    while True:
        if position + BLOCK > len(data):
            raise ValueError("truncated FITS header (no END card)")
        block = data[position : position + BLOCK].decode("ascii", errors="replace")
        position += BLOCK
        for i in range(0, BLOCK, CARD):
            card = block[i : i + CARD]
            keyword = card[:8].strip()
            if keyword == "END":
                return cards, position
            if card[8:10] == "= " and keyword not in cards:
                value = card[10:].strip()
                string = _STRING.match(value)
                if string is not None:
                    cards[keyword] = string.group(1).replace("''", "'").rstrip()
                else:
                    cards[keyword] = value.split("/", 1)[0].strip()


def _int(cards: dict[str, str], key: str, default: int | None = None) -> int:
    if key not in cards:
        if default is None:
            raise ValueError(f"FITS header has no {key}")
        return default
    return int(cards[key])


def read_fits_image(data: bytes) -> npt.NDArray[np.floating] | npt.NDArray[np.integer]:
    """The first image (NAXIS >= 1 with data) of a FITS file (gzipped or not), rows first as astropy gives it.

    Scaled by BSCALE/BZERO; BLANK pixels of integer images become NaN (the array is then float64).
    """
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    offset = 0
    while offset < len(data):
        cards, start = _header(data, offset)
        bitpix = _int(cards, "BITPIX")
        naxis = _int(cards, "NAXIS")
        shape = [_int(cards, f"NAXIS{i}") for i in range(naxis, 0, -1)]
        count = math.prod(shape) if naxis > 0 else 0
        size = abs(bitpix) // 8 * _int(cards, "GCOUNT", 1) * (count + _int(cards, "PCOUNT", 0))
        is_image = cards.get("XTENSION", "IMAGE") == "IMAGE"
        if is_image and count > 0:
            if bitpix not in _DTYPES:
                raise ValueError(f"unsupported BITPIX {bitpix}")
            raw = np.frombuffer(data, dtype=_DTYPES[bitpix], count=count, offset=start).reshape(shape)
            image: npt.NDArray[np.floating] | npt.NDArray[np.integer] = raw.astype(raw.dtype.newbyteorder("="))
            scale = float(cards.get("BSCALE", "1").replace("D", "E"))
            zero = float(cards.get("BZERO", "0").replace("D", "E"))
            blank = cards.get("BLANK")
            if bitpix > 0 and (blank is not None or scale != 1 or zero != 0):
                scaled = image.astype(np.float64) * scale + zero
                if blank is not None:
                    scaled[image == int(blank)] = np.nan
                return scaled
            if bitpix < 0 and (scale != 1 or zero != 0):
                return image * scale + zero
            return image
        offset = start + -(-size // BLOCK) * BLOCK
    raise ValueError("the FITS file holds no image")
