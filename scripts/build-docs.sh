#!/usr/bin/env bash
# Assembles the API documentation site that nginx serves:
#   /docs           Swagger UI (from npm swagger-ui-dist, pinned in package.json)
#   /openapi.json   api/openapi.yaml converted to JSON
#   /openapi.yaml   the source, as it is
#   /examples/      the example pages (examples/: the passkey page)
#
#   scripts/build-docs.sh OUT_DIR
#
# Needs node_modules/ (scripts/npm-deps.sh, run by scripts/install-deps.sh)
# and Debian's python3-yaml. Nothing is fetched from a CDN: the page works
# offline. OUT_DIR is replaced whole (built beside it, then renamed), so an
# nginx serving it never sees half a site.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${1:?usage: build-docs.sh OUT_DIR}
dist="$root/node_modules/swagger-ui-dist"
die() { echo "build-docs: $*" >&2; exit 1; }

for f in swagger-ui-bundle.js swagger-ui.css favicon-32x32.png; do
  [[ -f $dist/$f ]] || die "$dist/$f is missing; run scripts/npm-deps.sh (npm ci) first"
done

mkdir -p "$(dirname "$out")"
parent=$(cd "$(dirname "$out")" && pwd)
out=${parent%/}/$(basename "$out")
stage=$(mktemp -d "$out.tmp.XXXXXX")
trap 'rm -rf "$stage"' EXIT

cp "$dist/swagger-ui-bundle.js" "$dist/swagger-ui.css" "$dist/favicon-32x32.png" "$stage/"
cp "$root/api/docs/index.html" "$root/api/docs/init.js" "$root/api/docs/docs.css" "$stage/"
cp "$root/api/openapi.yaml" "$stage/openapi.yaml"
mkdir "$stage/examples"
cp "$root"/examples/*.html "$root"/examples/*.js "$root"/examples/*.css "$stage/examples/"
# YAML → JSON. A key given twice is refused (PyYAML would keep the last one
# silently), and so is any value JSON cannot carry (an unquoted date).
/usr/bin/python3 - "$root/api/openapi.yaml" "$stage/openapi.json" <<'PY'
import json
import sys

import yaml


class StrictLoader(yaml.SafeLoader):
    pass


def mapping(loader, node, deep=False):
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise SystemExit(f"build-docs: {sys.argv[1]}:{key_node.start_mark.line + 1}: "
                             f"key {key!r} given twice")
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, mapping)
with open(sys.argv[1], encoding="utf-8") as f:
    doc = yaml.load(f, Loader=StrictLoader)
with open(sys.argv[2], "w", encoding="utf-8") as f:
    json.dump(doc, f, ensure_ascii=False, indent=1)
    f.write("\n")
PY
chmod 755 "$stage" "$stage/examples"
find "$stage" -type f -exec chmod 644 {} +
rm -rf "$out"
mv "$stage" "$out"
trap - EXIT
echo "build-docs: $out ($(du -sh "$out" | cut -f1))"
