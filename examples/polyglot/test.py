"""Host-independent check of the polyglot components: a second, tiny wasmpipe host written
with the `wasmtime` Python package (installed by setup.sh into the toolchain venv).

It loads each component built under components/, checks that `describe` returns the expected
signature, then calls `run` the way wasmpipe does for artifacts: the input files under a
read-only preopen `/in`, an empty writable preopen `/out`, artifact inputs passed as
`input-value::artifact` with `path: "/in/<input>"`, artifact outputs read back from `/out/<name>`.
The Zig command module is run with argv, env and the same two preopens.

    $WASMPIPE_TOOLCHAINS/venv/bin/python examples/polyglot/test.py [python js c zig]
"""
import os
import sys
import tempfile
from pathlib import Path

from wasmtime import Config, Engine, Linker as CoreLinker, Module, Store, WasiConfig, ExitTrap
from wasmtime.component import Component, Linker, Record, Variant

HERE = Path(__file__).resolve().parent
COMPONENTS = HERE / "components"
ENGINE = Engine(Config())
IFACE = "wasmpipe:pipeline/component@0.1.0"
DATA = "1\n2\n3\n4\n5\n"  # the example dataset
failures = 0


def check(what, got, want):
    global failures
    if got != want:
        failures += 1
        print(f"  FAIL {what}: got {got!r}, want {want!r}")
    else:
        print(f"  ok   {what}")


def rec(**fields):
    """A WIT record for wasmtime-py: field names with '-' for '_'."""
    r = Record()
    for k, v in fields.items():
        setattr(r, k.replace("_", "-"), v)
    return r


def value_to_py(value):
    """A flattened wasmpipe value back to a Python value."""
    nodes = value.nodes

    def get(i):
        n = nodes[i]
        if n.tag == "null":
            return None
        if n.tag == "list-of":
            return [get(j) for j in n.payload]
        if n.tag == "dict-of":
            return {k: get(j) for k, j in n.payload}
        return n.payload

    return get(0)


def py_to_value(obj):
    """A scalar as a one-node wasmpipe value (enough for these tests)."""
    tag = {bool: "boolean", int: "int", float: "float", str: "str"}[type(obj)]
    return rec(nodes=[Variant(tag, obj)])


def port(t):
    if t.tag == "artifact":
        return ("artifact", t.payload.kind, t.payload.directory)
    return t.tag


def signature(sig):
    ins = [(i.name, port(getattr(i, "type")), i.required) for i in sig.inputs]
    outs = [(o.name, port(getattr(o, "type"))) for o in sig.outputs]
    return sig.name, ins, outs


class Task:
    """One component, instantiated afresh per call, like the wasmpipe host does."""

    def __init__(self, path):
        self.component = Component.from_file(ENGINE, str(path))
        self.logs = []

    def _instance(self, preopens=()):
        linker = Linker(ENGINE)
        linker.add_wasip2()
        with linker.root() as root:
            with root.add_instance("wasmpipe:pipeline/host@0.1.0") as host:
                host.add_func("log", lambda _store, level, msg: self.logs.append((level, msg)))
        store = Store(ENGINE)
        wasi = WasiConfig()
        wasi.inherit_stdout()
        wasi.inherit_stderr()
        for host_dir, guest_dir, writable in preopens:
            wasi.preopen_dir(str(host_dir), guest_dir, writable)
        store.set_wasi(wasi)
        return store, linker.instantiate(store, self.component)

    def _call(self, store, inst, name, *args):
        idx = inst.get_export_index(store, IFACE)
        func = inst.get_func(store, inst.get_export_index(store, name, idx))
        result = func(store, *args)
        func.post_return(store)
        return result

    def describe(self):
        store, inst = self._instance()
        return self._call(store, inst, "describe")

    def run(self, values, files):
        """values: {name: scalar}; files: {name: text} passed as artifact inputs.
        Returns (ok, {name: value or (artifact record, file text)})."""
        with tempfile.TemporaryDirectory() as tmp:
            din, dout = Path(tmp, "in"), Path(tmp, "out")
            din.mkdir()
            dout.mkdir()
            inputs = [(k, Variant("value", py_to_value(v))) for k, v in values.items()]
            for k, text in files.items():
                Path(din, k).write_text(text)
                art = rec(path=f"/in/{k}", name=k, size=len(text.encode()), digest="",
                          metadata=rec(nodes=[Variant("null")]))
                inputs.append((k, Variant("artifact", art)))
            ctx = rec(run_id="run-1", task_id="test", attempt=1)
            store, inst = self._instance([(din, "/in", False), (dout, "/out", True)])
            result = self._call(store, inst, "run", ctx, inputs)
            # result<list<...>, string>: wasmtime-py gives the payload itself (list or str).
            if isinstance(result, str):
                return False, result
            out = {}
            for name, ov in result:
                if ov.tag == "value":
                    out[name] = value_to_py(ov.payload)
                else:
                    a = ov.payload
                    host_path = dout / Path(a.path).relative_to("/out")
                    text = host_path.read_text() if host_path.is_file() else None
                    out[name] = (a.path, a.name, value_to_py(a.metadata), text)
            return True, out


def test_python():
    t = Task(COMPONENTS / "stats_py.wasm")
    dataset = ("artifact", "Dataset", False)
    check("describe", signature(t.describe()),
          ("stats_py", [("data", dataset, True)],
           [("count", "int"), ("mean", "float"), ("scaled", dataset)]))
    ok, out = t.run({}, {"data": DATA})
    check("run ok", ok, True)
    check("count", out.get("count"), 5)
    check("mean", out.get("mean"), 3.0)
    check("scaled", out.get("scaled"), ("/out/scaled", "scaled", {"factor": 2}, "2\n4\n6\n8\n10\n"))
    check("one log line", [lvl for lvl, _ in t.logs], ["info"])
    check("bad data fails", t.run({}, {"data": "1\nx\n"})[0], False)


def test_js():
    t = Task(COMPONENTS / "format_js.wasm")
    dataset = ("artifact", "Dataset", False)
    check("describe", signature(t.describe()),
          ("format_js", [("scaled", dataset, True), ("mean", "float", True), ("count", "int", True)],
           [("summary", "str"), ("max", "int")]))
    ok, out = t.run({"mean": 3.0, "count": 5}, {"scaled": "2\n4\n6\n8\n10\n"})
    check("run ok", ok, True)
    check("summary", out.get("summary"), "5 numbers, mean 3.0, max doubled 10")
    check("max", out.get("max"), 10)
    check("bad data fails", t.run({"mean": 1.0, "count": 1}, {"scaled": "zz\n"})[0], False)


def test_c():
    t = Task(COMPONENTS / "checksum_c.wasm")
    dataset = ("artifact", "Dataset", False)
    check("describe", signature(t.describe()),
          ("checksum_c", [("data", dataset, True)], [("checksum", "int"), ("lines", "int")]))
    ok, out = t.run({}, {"data": DATA})
    check("run ok", ok, True)
    h = 0x811C9DC5
    for b in DATA.encode():
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    check("checksum (FNV-1a 32)", out.get("checksum"), h)
    check("lines", out.get("lines"), 5)


def test_zig():
    module = Module.from_file(ENGINE, str(COMPONENTS / "wc_zig.wasm"))

    def run(args, files):
        with tempfile.TemporaryDirectory() as tmp:
            din, dout = Path(tmp, "in"), Path(tmp, "out")
            din.mkdir()
            dout.mkdir()
            for k, text in files.items():
                Path(din, k).write_text(text)
            wasi = WasiConfig()
            wasi.argv = ["wc_zig"] + args
            wasi.env = [("LABEL", "demo")]
            wasi.preopen_dir(str(din), "/in", False)
            wasi.preopen_dir(str(dout), "/out", True)
            wasi.stdout_file = str(Path(tmp, "stdout"))
            wasi.stderr_file = str(Path(tmp, "stderr"))
            store = Store(ENGINE)
            store.set_wasi(wasi)
            linker = CoreLinker(ENGINE)
            linker.define_wasi()
            code = 0
            try:
                linker.instantiate(store, module).exports(store)["_start"](store)
            except ExitTrap as e:
                code = e.code
            out = Path(dout, "lines")
            return (code, Path(tmp, "stdout").read_text(), Path(tmp, "stderr").read_text(),
                    out.read_text() if out.exists() else None)

    code, stdout, stderr, written = run(["/in/data", "/out/lines"], {"data": DATA})
    check("exit 0", code, 0)
    check("stdout", stdout, f"lines=5 bytes={len(DATA)} label=demo\n")
    check("output file", written, "5")
    code, stdout, stderr, written = run(["/in/missing", "/out/lines"], {})
    check("missing input exits 1", code, 1)
    check("message on stderr", "/in/missing" in stderr, True)
    code, _, stderr, _ = run([], {})
    check("usage exits 2", code, 2)


TESTS = {"python": test_python, "js": test_js, "c": test_c, "zig": test_zig}

if __name__ == "__main__":
    for lang in sys.argv[1:] or list(TESTS):
        print(f"{lang}:")
        TESTS[lang]()
    print("all ok" if not failures else f"{failures} check(s) failed")
    sys.exit(1 if failures else 0)
