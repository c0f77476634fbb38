#!/usr/bin/env bash
# The Python DSL's test suite: makes a venv (once) with the package and pytest, builds the
# wasmpipe CLI, and runs sdk/python/tests. componentize-py comes from the polyglot toolchains
# (examples/polyglot/setup.sh --only py installs them when missing).
#
#   sdk/python/check.sh                 # all tests
#   sdk/python/check.sh -k authoring    # pytest options
#
# Environment: WASMPIPE_TOOLCHAINS (default ~/.cache/wasmpipe/toolchains); WASMPIPE_CACHE_DIR
# (built components are cached in $WASMPIPE_CACHE_DIR/python-components, default
# ~/.cache/wasmpipe); WASMPIPE_BIN (a wasmpipe CLI to test against instead of building
# target/release/wasmpipe); PYTHON (the interpreter for the venv, default python3).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
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
# Reinstall the package each time (it is small): the tests must see the current sources.
"$venv/bin/pip" install --quiet --disable-pip-version-check "$here[test]"
# The CLI: built here, unless WASMPIPE_BIN names one to test against.
if [[ -z ${WASMPIPE_BIN:-} ]]; then
  (cd "$root" && cargo build --quiet --release -p wasmpipe)
fi
cd "$here"
# The pytest script (not `python -m pytest`, which would put the source tree first on sys.path)
# tests the installed package, with its bundled WIT.
exec "$venv/bin/pytest" -q -p no:cacheprovider tests "$@"
