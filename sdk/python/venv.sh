# Sourced by check.sh and conformance.sh: the Python DSL's venv (made once, the package
# reinstalled from the sources each time with the pip extras in $1, if any), componentize-py
# from the polyglot toolchains (installed when missing), and the wasmpipe CLI: WASMPIPE_BIN,
# else target/release/wasmpipe, built here. Sets `venv` and `WASMPIPE_BIN`.
#
# Environment: WASMPIPE_TOOLCHAINS (default ~/.cache/wasmpipe/toolchains), PYTHON (the
# interpreter for the venv, default python3), WASMPIPE_COMPONENTIZE_PY, WASMPIPE_BIN.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
TC=${WASMPIPE_TOOLCHAINS:-$HOME/.cache/wasmpipe/toolchains}
venv=$TC/dsl-venv
if [[ ! -x $TC/venv/bin/componentize-py && -z ${WASMPIPE_COMPONENTIZE_PY:-} ]]; then
  "$root/examples/polyglot/setup.sh" --only py
fi
if [[ ! -x $venv/bin/python ]]; then
  "${PYTHON:-python3}" -m venv "$venv"
  "$venv/bin/pip" install --quiet --upgrade pip
fi
# Reinstalled each time: the suites must see the current sources. The native module is built
# by maturin (release) in the repository's target/ directory, so only the first install
# compiles wasmtime; later ones take seconds.
CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target} \
  "$venv/bin/pip" install --quiet --disable-pip-version-check "$here${1:+[$1]}"
if [[ -z ${WASMPIPE_BIN:-} ]]; then
  (cd "$root" && cargo build --quiet --release -p wasmpipe)
  WASMPIPE_BIN=$root/target/release/wasmpipe
fi
export WASMPIPE_BIN
