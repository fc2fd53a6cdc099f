#!/bin/sh
# Regenerates test/fixtures/fink-parity/{ztf,rubin}-reference.json: Fink's own modules (fink-science 7.4.0, fink-filters
# 7.45, fink-utils, supernnova, light-curve, onnxruntime from PyPI) on the real ZTF alerts of
# $FINK_SHARED_DIR/datasim/ztf (default ../shared), and Fink's Rubin SuperNNova on datasim/lsst. See scripts/parity/README.md.
#
#   sh scripts/parity/run-reference.sh
#
# Environment:
#   FINK_PARITY_VENV     the virtual environment (default ~/.cache/fink/parity-venv; ~3 GB: torch from PyPI is
#                        the CUDA build, the only one PyPI has; nothing here uses a GPU)
#   FINK_PARITY_SOURCES  a directory with checkouts of the three libraries fink-science pins from GitHub, which
#                        are not on PyPI (default ~/.cache/fink/sources):
#                          actsnfink-4f46b3a/   emilleishida/fink_sn_activelearning @ 4f46b3a1e29d  (early SN Ia)
#                          LIA-4513654/         JulienPeloton/LIA @ 4513654b15a0                    (microlensing)
#                          kndetect-v1.0.0/     b-biswas/kndetect @ v1.0.0                          (kilonova)
#                        A missing one leaves its module out of the fixture (reported in meta.unavailable).
set -e
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SHARED=${FINK_SHARED_DIR:-$ROOT/../shared}
VENV=${FINK_PARITY_VENV:-$HOME/.cache/fink/parity-venv}
SOURCES=${FINK_PARITY_SOURCES:-$HOME/.cache/fink/sources}
OUT=$ROOT/test/fixtures/fink-parity/ztf-reference.json

if [ ! -x "$VENV/bin/python" ]; then
  echo "parity: creating $VENV"
  python3 -m venv "$VENV"
fi
echo "parity: installing the reference's packages (first time: a few minutes, torch is large)"
"$VENV/bin/pip" install -q --disable-pip-version-check -r "$ROOT/scripts/parity/requirements.txt"
# supernnova and actsnclass without their dependencies: supernnova pins pandas >= 2 and scikit-learn >= 1.3 (which
# cannot load the 7.4.0 forests) for its training code; actsnclass is only imported by actsnfink's package.
"$VENV/bin/pip" install -q --disable-pip-version-check --no-deps supernnova==3.0.51 actsnclass==1.2

SITE=$("$VENV/bin/python" -c 'import site; print(site.getsitepackages()[0])')
: > "$SITE/fink-parity-sources.pth"
for dir in actsnfink-4f46b3a LIA-4513654 kndetect-v1.0.0; do
  if [ -d "$SOURCES/$dir" ]; then
    echo "$SOURCES/$dir" >> "$SITE/fink-parity-sources.pth"
  else
    echo "parity: $SOURCES/$dir not found: its module will be reported unavailable"
  fi
done

mkdir -p "$(dirname "$OUT")"
"$VENV/bin/python" "$ROOT/scripts/parity/reference.py" "$SHARED/datasim/ztf" "$OUT" 2>&1 |
  grep -v 'VerifyOutputSizes\|Unordered jd' || true
echo "parity: wrote $OUT"
(cd "$ROOT/scripts/parity" && "$VENV/bin/python" reference_rubin.py "$SHARED/datasim/lsst" \
  "$ROOT/test/fixtures/fink-parity/rubin-reference.json")
