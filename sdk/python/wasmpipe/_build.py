"""Builds generated components with componentize-py, cached by source hash."""
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Dict, Optional, Sequence, Tuple

_HERE = Path(__file__).resolve().parent
_versions: Dict[str, str] = {}
_lock = threading.Lock()


class BuildError(RuntimeError):
    """A component could not be built (a missing toolchain, or componentize-py failed)."""


def cache_root() -> Optional[Path]:
    """wasmpipe's cache directory (as the CLI resolves it); None when WASMPIPE_CACHE_DIR=off."""
    d = os.environ.get("WASMPIPE_CACHE_DIR")
    if d == "off":
        return None
    if d:
        return Path(d)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return Path(xdg) / "wasmpipe" if xdg else Path.home() / ".cache" / "wasmpipe"


def toolchains() -> Path:
    return Path(os.environ.get("WASMPIPE_TOOLCHAINS") or Path.home() / ".cache/wasmpipe/toolchains")


def componentize_py() -> str:
    """The componentize-py executable: $WASMPIPE_COMPONENTIZE_PY, else the one that
    examples/polyglot/setup.sh installs, else the first on PATH."""
    env = os.environ.get("WASMPIPE_COMPONENTIZE_PY")
    if env:
        if not (os.path.isfile(env) and os.access(env, os.X_OK)):
            raise BuildError(f"WASMPIPE_COMPONENTIZE_PY={env} is not an executable file")
        return env
    tc = toolchains() / "venv/bin/componentize-py"
    if tc.is_file():
        return str(tc)
    found = shutil.which("componentize-py")
    if found:
        return found
    raise BuildError(
        "componentize-py was not found (it builds Python components). Install it with "
        "`examples/polyglot/setup.sh --only py` (into ~/.cache/wasmpipe/toolchains), or "
        "`pip install componentize-py==0.25.1`, or set WASMPIPE_COMPONENTIZE_PY to its path")


def place(src: Path, dest: Path):
    """Puts the file src at dest (a hard link when possible), replacing dest atomically."""
    if dest.exists() and os.path.samefile(src, dest):
        return
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", dir=dest.parent)
    os.close(fd)
    os.unlink(tmp)
    try:
        os.link(src, tmp)
    except OSError:
        shutil.copyfile(src, tmp)
    os.replace(tmp, dest)


def wit_dir() -> Path:
    """The WIT package of the `task` world: $WASMPIPE_WIT, else the repository's wit/ beside
    this package's source (sdk/python/../../wit), else the WIT the native module was built with."""
    env = os.environ.get("WASMPIPE_WIT")
    candidates = [Path(env)] if env else [_HERE.parent.parent.parent / "wit"]
    for c in candidates:
        if (c / "pipeline.wit").is_file():
            return c
    if not env:
        bundled = _bundled_wit()
        if bundled is not None:
            return bundled
    where = ", ".join(str(c) for c in candidates)
    raise BuildError(f"the wasmpipe WIT (pipeline.wit) was not found in {where}; set WASMPIPE_WIT "
                     "to the wit/ directory of the wasmpipe repository")


def _bundled_wit() -> Optional[Path]:
    """The WIT the native module was built with, written once to a directory of its own (in
    the cache directory, else a temporary one); None without the native module."""
    try:
        from . import _native
    except ImportError:
        return None
    text = _native.WIT
    root = cache_root() or Path(tempfile.gettempdir())
    d = root / f"wit-{hashlib.sha256(text.encode()).hexdigest()[:16]}"
    if not (d / "pipeline.wit").is_file():
        d.mkdir(parents=True, exist_ok=True)
        tmp = d / f".pipeline.wit.{os.getpid()}"
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, d / "pipeline.wit")
    return d


# A component whose function uses `wasmpipe.http` has this line in its app.py: it is built
# against the world `task-http`, the `task` world plus wasi:http/outgoing-handler.
HTTP_WORLD_MARKER = "# wasmpipe-world: task-http"
_WASI_HTTP = "wasi:http/outgoing-handler@0.2.12"


def _uses_http(app_py: str) -> bool:
    return HTTP_WORLD_MARKER in app_py


def http_wit_dir(pipeline_wit: Path, root: Path) -> Tuple[Path, str, str]:
    """(directory, package, version): a WIT directory (in `root`) whose package has the world `task-http`: the `task` world of
    `pipeline_wit` plus an import of wasi:http/outgoing-handler. Its deps are the pipeline WIT
    and WASI 0.2.12's (wasmpipe/wit_http/deps, as the Rust guest SDK's wasip2 has them)."""
    text = pipeline_wit.read_text(encoding="utf-8")
    m = re.search(r"^package\s+([\w:-]+)@([\w.+-]+)\s*;", text, re.M)
    if m is None:
        raise BuildError(f"{pipeline_wit}: no `package name@version;` line")
    world = ("package wasmpipe:python-http;\n\n"
             "/// A Python component that sends HTTP(S) requests (wasmpipe.http).\n"
             "world task-http {\n"
             f"    include {m.group(1)}/task@{m.group(2)};\n"
             f"    import {_WASI_HTTP};\n"
             "}\n")
    deps = sorted((_HERE / "wit_http/deps").glob("*.wit"))
    h = hashlib.sha256(world.encode() + text.encode())
    for f in deps:
        h.update(f.name.encode() + b"\0" + f.read_bytes())
    d = root / f"wit-http-{h.hexdigest()[:16]}"
    if not (d / "world.wit").is_file():
        tmp = Path(tempfile.mkdtemp(prefix=".wit-http-", dir=root))
        (tmp / "deps").mkdir()
        shutil.copyfile(pipeline_wit, tmp / "deps/pipeline.wit")
        for f in deps:
            shutil.copyfile(f, tmp / "deps" / f.name)
        (tmp / "world.wit").write_text(world, encoding="utf-8")
        try:
            os.rename(tmp, d)
        except OSError:  # another build made it first
            shutil.rmtree(tmp, ignore_errors=True)
    return d, m.group(1), m.group(2)


def tool_version(exe: str) -> str:
    with _lock:
        if exe not in _versions:
            try:
                out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=60)
            except OSError as e:
                raise BuildError(f"{exe} could not be run: {e}") from None
            _versions[exe] = (out.stdout or out.stderr).strip()
        return _versions[exe]


def source_hash(app_py: str, exe: Optional[str] = None, packages: Sequence[str] = ()) -> str:
    """The cache key of a component: its app.py, its packages, the componentize-py version and
    the WIT."""
    h = hashlib.sha256()
    h.update(b"wasmpipe-python-dsl-1\0")
    h.update(app_py.encode())
    if packages:
        h.update(b"\0packages-2\0" + "\0".join(packages).encode())
    h.update(b"\0" + tool_version(exe or componentize_py()).encode() + b"\0")
    wit = wit_dir()
    for f in sorted(wit.glob("*.wit")):
        h.update(f.name.encode() + b"\0" + f.read_bytes() + b"\0")
    if _uses_http(app_py):
        for f in sorted((_HERE / "wit_http/deps").glob("*.wit")):
            h.update(b"http\0" + f.name.encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()[:32]


def site_packages(packages: Sequence[str], target: Path, name: str):
    """Installs `packages` (and what they need) into `target` from pure-Python wheels only: a
    component runs in WASI, which cannot load native extensions. A package with no pure-Python
    wheel is refused, by name."""
    import sys
    cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
           "--target", str(target), "--only-binary=:all:", "--implementation", "py",
           "--abi", "none", "--platform", "any", *packages]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        text = (p.stdout + p.stderr).strip()
        missing = [line for line in text.splitlines() if "No matching distribution" in line]
        why = missing[0] if missing else "\n".join(text.splitlines()[-10:])
        raise BuildError(
            f"component `{name}`: packages_to_install {', '.join(packages)}: {why}; only pure-Python "
            "packages can run in a component (WASI cannot load native extensions such as numpy's)")


def build_app(app_py: str, name: str = "component", force: bool = False,
              packages: Sequence[str] = ()) -> Path:
    """Builds app.py (with `packages`, pure-Python, bundled) into a component and returns the
    cached .wasm (CACHE/python-components/<hash>.wasm); builds only when that file is missing."""
    exe = componentize_py()
    key = source_hash(app_py, exe, packages)
    root = cache_root()
    if root is None:
        out_dir = Path(tempfile.mkdtemp(prefix="wasmpipe-python-components-"))
    else:
        out_dir = root / "python-components"
    out = out_dir / f"{key}.wasm"
    if out.is_file() and not force:
        return out
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f"build-{name}-", dir=out_dir) as tmp:
        tmp = Path(tmp)
        src = tmp / "src"
        src.mkdir()
        (src / "app.py").write_text(app_py, encoding="utf-8")
        # componentize-py also bundles the site-packages of $VIRTUAL_ENV (else the host
        # python3's): point it at an empty one so the build depends only on app.py.
        deps = tmp / "deps"
        (deps / "lib/python3/site-packages").mkdir(parents=True)
        if packages:
            site_packages(packages, deps / "lib/python3/site-packages", name)
        env = dict(os.environ, VIRTUAL_ENV=str(deps))
        env.pop("PYTHONPATH", None)
        env.pop("PYTHONHOME", None)
        site = ["-p", str(deps / "lib/python3/site-packages")] if packages else []
        if _uses_http(app_py):
            wit, package, version = http_wit_dir(wit_dir() / "pipeline.wit", out_dir)
            # Both packages have a `types` interface: keep the pipeline's bindings' name.
            world = ["-d", str(wit), "-w", "task-http",
                     "--import-interface-name", f"{package}/types@{version}=types",
                     "--import-interface-name", "wasi:http/types@0.2.12=http_types"]
        else:
            world = ["-d", str(wit_dir()), "-w", "task"]
        cmd = [exe, *world, "componentize", "-p", str(src), *site, "app",
               "-o", str(tmp / "out.wasm")]
        p = subprocess.run(cmd, cwd=tmp, env=env, capture_output=True, text=True)
        if p.returncode != 0 or not (tmp / "out.wasm").is_file():
            # The Python traceback, not the Rust backtrace that follows it.
            lines = [line for line in (p.stdout + p.stderr).strip().splitlines()
                     if not re.match(r"\s+(\d+: |at )", line)]
            tail = "\n".join(lines[-25:])
            raise BuildError(f"componentize-py failed to build component `{name}` "
                             f"(exit status {p.returncode}):\n{tail}")
        os.replace(tmp / "out.wasm", out)  # atomic: concurrent builds may share the cache
    return out


def build_many(components: Dict[str, object], jobs: Optional[int] = None) -> Dict[str, Path]:
    """Builds components (key -> object with `.name` and `.app_py()`), in parallel; the same
    source is built once. Returns key -> cached .wasm."""
    if not components:
        return {}
    jobs = jobs or max(1, min(len(components), os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=jobs) as ex:
        by_source = {}
        for c in components.values():
            src = (c.app_py(), tuple(getattr(c, "packages", ())))
            if src not in by_source:
                by_source[src] = ex.submit(build_app, src[0], c.name, False, src[1])
        return {k: by_source[(c.app_py(), tuple(getattr(c, "packages", ())))].result()
                for k, c in components.items()}
