#!/usr/bin/env bash
# Validates the Helm chart offline (`npm run deploy:check`): helm lint, then helm template with the default values,
# with values-rubin.yaml and with the operator resources (values-operators.yaml), each rendering checked by
# kubeconform against the Kubernetes JSON schemas in strict mode (unknown fields are errors).
#
# Installed on first use, with progress, into a versioned cache outside the repository ($FINK_TOOLS_DIR, default
# ~/.cache/fink/tools): helm and kubeconform built from the Go module proxy (`go install`, needs Go), the
# Kubernetes schemas from the PyPI wheel of kubernetes-validate (`pip download`, needs Python 3). No cluster and no
# network after that.
#
# The Strimzi (Kafka, KafkaNodePool) and Altinity (ClickHouseInstallation, ClickHouseKeeperInstallation) resources
# have no schema in any registry reachable here (their CRDs are not in the io.strimzi:api jar nor on the Go proxy):
# kubeconform skips them (-ignore-missing-schemas) and says so in its summary ("Skipped"); the integration test
# checks that nothing else is skipped and checks their fields itself.
#
# Usage: scripts/check-deploy.sh [--out DIR]   (DIR keeps the rendered manifests: default.yaml, rubin.yaml, operators.yaml)
set -euo pipefail

HELM_VERSION=v3.21.4
KUBECONFORM_VERSION=v0.7.0
K8S_SCHEMAS_VERSION=1.37.0 # kubernetes-validate on PyPI: schemas of Kubernetes 1.25 to 1.37
KUBE_VERSION=1.33.0        # the Kubernetes version the chart is rendered and validated for

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CHART="$ROOT/deploy/helm/fink"
TOOLS=${FINK_TOOLS_DIR:-$HOME/.cache/fink/tools}
HELM="$TOOLS/helm-$HELM_VERSION/helm"
KUBECONFORM="$TOOLS/kubeconform-$KUBECONFORM_VERSION/kubeconform"
SCHEMAS="$TOOLS/kubernetes-validate-$K8S_SCHEMAS_VERSION"

OUT=''
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT=$2; shift 2 ;;
    *) echo "check-deploy: unknown argument $1 (usage: scripts/check-deploy.sh [--out DIR])" >&2; exit 2 ;;
  esac
done
if [ -z "$OUT" ]; then
  OUT=$(mktemp -d)
  trap 'rm -rf "$OUT"' EXIT
fi
mkdir -p "$OUT" "$TOOLS"

# go install <module>@<version> into <dir>, atomically (a half-built tool is never left where it is looked for).
go_tool() {
  local dir=$1 module=$2 version=$3 name
  name=$(basename "$module")
  [ -x "$dir/$name" ] && return 0
  command -v go >/dev/null || { echo "check-deploy: Go is needed to build $name (apt-get install golang-go)" >&2; exit 1; }
  echo "check-deploy: installing $name $version into $dir (go install, once)..."
  local tmp
  tmp=$(mktemp -d "$TOOLS/.install-XXXXXX")
  # The module cache lives with the tools (-modcacherw: deletable); nothing is written to the repository.
  GOBIN="$tmp" GOMODCACHE="$TOOLS/gomod" GOFLAGS=-modcacherw GOTOOLCHAIN=local \
    go install "$module@$version"
  rm -rf "$dir" && mv "$tmp" "$dir"
}

go_tool "$(dirname "$HELM")" helm.sh/helm/v3/cmd/helm "$HELM_VERSION"
go_tool "$(dirname "$KUBECONFORM")" github.com/yannh/kubeconform/cmd/kubeconform "$KUBECONFORM_VERSION"

if [ ! -f "$SCHEMAS/v$KUBE_VERSION-local-strict/.complete" ]; then
  echo "check-deploy: fetching the Kubernetes $KUBE_VERSION JSON schemas (PyPI kubernetes-validate $K8S_SCHEMAS_VERSION, once)..."
  tmp=$(mktemp -d "$TOOLS/.install-XXXXXX")
  python3 -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
    -d "$tmp" "kubernetes-validate==$K8S_SCHEMAS_VERSION"
  # Only the strict schemas of one Kubernetes version (~700 files) out of the wheel's 17,000. Their references
  # name https://kubernetes.io/api/_definitions.json (the $id of the shared definitions), which a validator would
  # fetch: they are rewritten to the file beside them, so that nothing leaves this machine.
  python3 - "$tmp" "v$KUBE_VERSION-local-strict" <<'EOF'
import glob, json, os, sys, zipfile
tmp, version = sys.argv[1], sys.argv[2]
prefix = f"kubernetes_validate/kubernetes-json-schema/{version}/"
out = os.path.join(tmp, "schemas", version)
with zipfile.ZipFile(glob.glob(os.path.join(tmp, "*.whl"))[0]) as wheel:
    names = [n for n in wheel.namelist() if n.startswith(prefix) and n.endswith(".json")]
    if not names:
        sys.exit(f"check-deploy: the wheel has no {version} schemas")
    os.makedirs(out)
    for name in names:
        schema = json.loads(wheel.read(name))
        schema.pop("$id", None)
        text = json.dumps(schema).replace('"/api/_definitions.json#', '"_definitions.json#')
        with open(os.path.join(out, name[len(prefix):]), "w") as file:
            file.write(text)
open(os.path.join(out, ".complete"), "w").close()
EOF
  rm -rf "$SCHEMAS" && mv "$tmp/schemas" "$SCHEMAS" && rm -rf "$tmp"
fi

echo "check-deploy: helm $HELM_VERSION, kubeconform $KUBECONFORM_VERSION, Kubernetes $KUBE_VERSION schemas"
status=0
for variant in default rubin operators; do
  values=()
  [ "$variant" = default ] || values=(-f "$CHART/values-$variant.yaml")
  echo "== $variant"
  "$HELM" lint --strict --kube-version "$KUBE_VERSION" "$CHART" "${values[@]}" | grep -v '^$' || status=1
  if "$HELM" template fink "$CHART" --namespace fink --kube-version "$KUBE_VERSION" "${values[@]}" \
    >"$OUT/$variant.yaml"; then
    "$KUBECONFORM" -strict -summary -ignore-missing-schemas -kubernetes-version "$KUBE_VERSION" \
      -schema-location "$SCHEMAS/{{ .NormalizedKubernetesVersion }}-local{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json" \
      "$OUT/$variant.yaml" || status=1
  else
    status=1
  fi
done
exit $status
