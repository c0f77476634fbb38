#!/usr/bin/env bash
# Builds the polyglot example components with the toolchains that setup.sh installed.
#
#   examples/polyglot/build.sh                 # all four
#   examples/polyglot/build.sh python js       # some: python, js, c, zig
#   examples/polyglot/build.sh --force c       # rebuild even when the sources did not change
#
# Output: examples/polyglot/components/{stats_py,format_js,checksum_c,wc_zig}.wasm
# Intermediate files go to examples/polyglot/build/. A component is rebuilt only when the hash
# of its sources, the WIT and the pinned tool versions changed (componentize-py takes ~10 s).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
TC=${WASMPIPE_TOOLCHAINS:-$HOME/.cache/wasmpipe/toolchains}
# Built against wasmpipe:pipeline@0.1.0, which the host keeps running: these components are
# also what shows that components built before 0.2.0 still work.
WIT=$root/wit/v0.1.0
OUT=$here/components
BUILD=$here/build
mkdir -p "$OUT" "$BUILD"

force=0
langs=()
for a in "$@"; do
  case $a in
    --force) force=1 ;;
    python|js|c|zig) langs+=("$a") ;;
    all) langs+=(python js c zig) ;;
    *) echo "usage: $0 [--force] [python|js|c|zig|all]..." >&2; exit 2 ;;
  esac
done
[[ ${#langs[@]} -gt 0 ]] || langs=(python js c zig)

need() {  # need PATH WHAT: a toolchain file must exist
  [[ -e $1 ]] || { echo "build.sh: $2 is missing ($1); run examples/polyglot/setup.sh first" >&2; exit 2; }
}
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# up_to_date NAME FILES...: true when components/NAME.wasm was built from these exact inputs.
up_to_date() {
  local name=$1; shift
  hash=$( { cat "$@" "$WIT"/*.wit "$here/build.sh"; cat "$TC"/.stamp-* 2>/dev/null; echo "$TC"; } | sha256sum | cut -c1-32)
  [[ $force == 0 && -f $OUT/$name.wasm && -f $BUILD/$name.hash && $(cat "$BUILD/$name.hash") == "$hash" ]]
}
done_msg() {  # done_msg NAME START
  echo "$hash" >"$BUILD/$1.hash"
  printf 'build: %-10s %9s bytes  %6s s  %s\n' "$1" "$(stat -c %s "$OUT/$1.wasm")" "$(secs "$2")" "components/$1.wasm"
}

build_python() {
  local py=$here/python
  need "$TC/venv/bin/componentize-py" componentize-py
  if up_to_date stats_py "$py/app.py" "$py/stats_core.py"; then echo "build: stats_py   up to date"; return; fi
  local t; t=$(now)
  # Only the component's own modules go in (no tests, no __pycache__ from native runs).
  rm -rf "$BUILD/python-src"; mkdir -p "$BUILD/python-src"
  cp "$py/app.py" "$py/stats_core.py" "$BUILD/python-src/"
  # componentize-py also adds the site-packages of $VIRTUAL_ENV, or else those of the host's
  # python3 (found through `site`), which makes the build depend on whatever is installed there.
  # Point it at an empty one (third-party pure-Python packages would go there: pip --target).
  mkdir -p "$BUILD/python-deps/lib/python3/site-packages"
  (cd "$BUILD" && VIRTUAL_ENV="$BUILD/python-deps" "$TC/venv/bin/componentize-py" -d "$WIT" -w task \
     componentize -p "$BUILD/python-src" app -o "$OUT/stats_py.wasm" >/dev/null)
  done_msg stats_py "$t"
}

build_js() {
  local js=$here/js nm=$TC/node/node_modules
  need "$nm/.bin/componentize-js" componentize-js
  if up_to_date format_js "$js/app.js" "$js/format_core.js" "$js/wit/world.wit"; then echo "build: format_js  up to date"; return; fi
  local t; t=$(now)
  # The world: js/wit/world.wit (task + wasi:filesystem/preopens), its deps: wasmpipe's WIT
  # and the WASI 0.2.12 WIT that jco ships (the version StarlingMonkey imports).
  local w=$BUILD/js-wit
  rm -rf "$w"; mkdir -p "$w/deps/pipeline"
  cp "$js/wit/world.wit" "$w/"
  cp "$WIT"/*.wit "$w/deps/pipeline/"
  for p in filesystem io clocks; do
    mkdir -p "$w/deps/wasi-$p"
    cp "$nm/@bytecodealliance/jco/lib/wit/builtin/0.2.12/wasi-$p/package.wit" "$w/deps/wasi-$p/"
  done
  # -d http -d fetch-event: leave out the HTTP support (no wasi:http imports).
  "$nm/.bin/componentize-js" "$js/app.js" -w "$w" -n format -d http -d fetch-event \
    -o "$OUT/format_js.wasm" >/dev/null
  done_msg format_js "$t"
}

build_c() {
  local c=$here/c b=$BUILD/c llvm=$TC/llvm
  local adapter=$TC/adapter/48.0.8/wasi_snapshot_preview1.reactor.wasm
  need "$llvm/usr/lib/llvm-14/bin/clang" clang-14
  need "$TC/cargo/bin/wit-bindgen" wit-bindgen
  need "$TC/venv/bin/wasm-tools" wasm-tools
  need "$adapter" "the WASI preview-1 reactor adapter"
  if up_to_date checksum_c "$c/checksum.c" "$c/checksum_core.c" "$c/checksum_core.h"; then echo "build: checksum_c up to date"; return; fi
  local t; t=$(now)
  rm -rf "$b"; mkdir -p "$b"
  # task.h, task.c and task_component_type.o (the WIT world, embedded as a custom section).
  "$TC/cargo/bin/wit-bindgen" c "$WIT" --world task --out-dir "$b" >/dev/null 2>&1
  # Debian's clang-14 runs wasm-ld-14 from PATH and libLLVM from the unpacked tree; wasi-libc
  # is <sysroot>/{include,lib}/wasm32-wasi. -mexec-model=reactor: a library with exports, no
  # _start. --strip-all drops the DWARF that Debian's wasi-libc carries (214 KB -> 40 KB).
  PATH=$llvm/usr/bin:$PATH LD_LIBRARY_PATH=$llvm/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} \
    "$llvm/usr/bin/clang-14" --target=wasm32-wasi --sysroot="$llvm/usr" -O2 -Wall -Wextra -Werror \
      -mexec-model=reactor -Wl,--strip-all -I"$b" -I"$c" \
      "$b/task.c" "$c/checksum_core.c" "$c/checksum.c" "$b/task_component_type.o" \
      -o "$b/checksum_c.core.wasm"
  # The core module imports wasi_snapshot_preview1; the adapter turns that into WASI 0.2.
  "$TC/venv/bin/wasm-tools" component new "$b/checksum_c.core.wasm" \
    --adapt "wasi_snapshot_preview1=$adapter" -o "$OUT/checksum_c.wasm"
  done_msg checksum_c "$t"
}

build_zig() {
  local z=$here/zig
  need "$TC/venv/bin/python" "the Python venv (ziglang)"
  if up_to_date wc_zig "$z/wc.zig" "$z/wc_core.zig"; then echo "build: wc_zig     up to date"; return; fi
  local t; t=$(now)
  (cd "$z" && "$TC/venv/bin/python" -m ziglang build-exe wc.zig -target wasm32-wasi -O ReleaseSmall \
     --cache-dir "$BUILD/zig-cache" --global-cache-dir "$TC/zig-cache" -femit-bin="$OUT/wc_zig.wasm")
  rm -f "$OUT/wc_zig.wasm.o"
  done_msg wc_zig "$t"
}

for l in "${langs[@]}"; do "build_$l"; done
