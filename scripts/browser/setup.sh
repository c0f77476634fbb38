#!/usr/bin/env bash
# Prepares the browser checks: Debian's Chromium (installed when missing) and, in a directory
# under the target dir, the npm packages of package.json as package-lock.json pins them.
# Prints that directory (run `node DIR/check.mjs ...` there). Used by scripts/check-report and
# scripts/check-graphs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
if ! command -v chromium >/dev/null; then
  apt-get install -y -q chromium >/dev/null 2>&1 || {
    echo "browser/setup.sh: cannot install Chromium; run: apt-get install chromium" >&2; exit 2; }
fi
dir=${CARGO_TARGET_DIR:-$root/target}/browser-checks
mkdir -p "$dir"
cp "$here/check.mjs" "$dir/"
if ! cmp -s "$here/package-lock.json" "$dir/package-lock.json" || [[ ! -d $dir/node_modules ]]; then
  cp "$here/package.json" "$here/package-lock.json" "$dir/"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || {
    echo "browser/setup.sh: npm ci failed in $dir" >&2; exit 2; }
fi
echo "$dir"
