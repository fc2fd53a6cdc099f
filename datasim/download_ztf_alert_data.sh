#!/usr/bin/env bash
# Downloads one night of public ZTF alerts from the ZTF alert archive (University of Washington) and extracts it.
#
# Usage: datasim/download_ztf_alert_data.sh YYYYMMDD OUTPUT_DIR
#
#   YYYYMMDD     the UT date of the night, e.g. 20231019
#   OUTPUT_DIR   where to put the alerts; they land in OUTPUT_DIR/ztf_public_YYYYMMDD/<candid>.avro,
#                one Avro container file per alert (the same format as ../shared/datasim/ztf).
#
# Environment:
#   ZTF_ALERT_ARCHIVE_URL  archive base URL (default https://ztf.uw.edu/alerts/public)
#   KEEP_TARBALL=1         keep the downloaded ztf_public_YYYYMMDD.tar.gz next to the extracted directory
#
# A night is tens of thousands of alerts and several GB; nights without public observations are an almost
# empty tarball. Not run in CI (it needs the network); the tests use ../shared/datasim/ztf and datasim/synthetic.ts.
set -euo pipefail

usage() {
  sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
}

[[ $# -eq 2 ]] || usage
night="$1"
out_dir="$2"
[[ "$night" =~ ^20[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])$ ]] || {
  echo "error: '$night' is not a date YYYYMMDD" >&2
  exit 2
}
command -v curl >/dev/null || { echo "error: curl is required" >&2; exit 1; }

base_url="${ZTF_ALERT_ARCHIVE_URL:-https://ztf.uw.edu/alerts/public}"
name="ztf_public_${night}"
tarball="${out_dir}/${name}.tar.gz"
target="${out_dir}/${name}"

mkdir -p "$out_dir"
# Download to a .part file first so that an interrupted transfer never looks like a complete tarball.
echo "downloading ${base_url}/${name}.tar.gz" >&2
curl --fail --location --retry 3 --retry-delay 5 --continue-at - --output "${tarball}.part" "${base_url}/${name}.tar.gz"
mv "${tarball}.part" "$tarball"

mkdir -p "$target"
tar -xzf "$tarball" -C "$target"
count=$(find "$target" -name '*.avro' | wc -l)
echo "extracted ${count} alerts into ${target}" >&2

if [[ "${KEEP_TARBALL:-0}" != "1" ]]; then
  rm -f "$tarball"
fi
