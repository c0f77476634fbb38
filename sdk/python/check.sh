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
source "$(cd "$(dirname "$0")" && pwd)/venv.sh" test
cd "$here"
# The pytest script (not `python -m pytest`, which would put the source tree first on sys.path)
# tests the installed package, with its bundled WIT.
exec "$venv/bin/pytest" -q -p no:cacheprovider tests "$@"
