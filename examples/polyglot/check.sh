#!/usr/bin/env bash
# The polyglot suite (slow: installs toolchains on first use, ~6 minutes, then ~30 s): sets up
# the toolchains, runs each language's native unit test of its core logic, checks the built
# components with a second, independent host (the `wasmtime` Python package), and runs the
# pipeline, asserting what each language produced and what the exit handler received.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
TC=${WASMPIPE_TOOLCHAINS:-$HOME/.cache/wasmpipe/toolchains}
"$here/setup.sh"
"$TC/venv/bin/python" "$here/python/test_stats_core.py"
node "$here/js/test_format_core.js"
record=$(mktemp)
"$here/run.sh" -p n=7 --output json --export "$here/.wasmpipe/exported" >"$record"
"$TC/venv/bin/python" "$here/test.py"
"$TC/venv/bin/python" - "$record" "$here/.wasmpipe/exported" <<'PY'
import json, pathlib, sys
record = json.load(open(sys.argv[1]))
exported = pathlib.Path(sys.argv[2])
out = record["outputs"]
assert record["state"] == "succeeded", record["state"]
assert out["summary"] == "7 numbers, mean 4.0, max doubled 14", out["summary"]
assert out["max"] == 14 and out["lines"] == 7 and out["wc_lines"] == 7, out
scaled = "\n".join(str(2 * n) for n in range(1, 8))
h = 0x811C9DC5
for b in (exported / "scaled").read_bytes():
    h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
assert (exported / "scaled").read_text().strip() == scaled
assert out["checksum"] == h, (out["checksum"], h)
assert out["scaled"]["metadata"] == {"factor": 2}, out["scaled"]
assert (exported / "last").read_text() == "10\n12\n14", (exported / "last").read_text()
size = len((exported / "scaled").read_bytes())
assert out["wc_said"] == "lines=7 bytes=%d label=polyglot" % size, out["wc_said"]
report = next(t for t in record["tasks"] if t["id"] == "polyglot/report")
assert report["final_status"]["state"] == "succeeded" and report["final_status"]["failures"] == []
print("polyglot: ok (%d tasks)" % len(record["tasks"]))
PY
