"""wasmpipe.http: a component fetches from a server on 127.0.0.1 through wasi:http, with the
task's network grant set by `set_network`; without the grant the request is denied, and the
task fails with a message naming the host and the grant to add."""
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from wasmpipe import compiler, dsl
from wasmpipe import http as wp_http
from wasmpipe._component import DSLError


@dsl.component
def fetch_text(url: str) -> str:
    from wasmpipe import http
    return http.fetch(url).decode()


@dsl.component
def fetch_status(url: str) -> str:
    import wasmpipe
    r = wasmpipe.http.get(url)
    return f"{r.status} {r.headers.get('x-served-by')} {r.text()}"


@dsl.component
def no_network(x: int) -> int:
    return x + 1


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        found = self.path == "/data.txt"
        body = b"hello from the host" if found else b"no such thing"
        self.send_response(200 if found else 404)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Served-By", "test")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    s = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    t = threading.Thread(target=s.serve_forever, daemon=True)
    t.start()
    yield f"127.0.0.1:{s.server_address[1]}"
    s.shutdown()
    s.server_close()


def test_only_components_using_wasmpipe_http_get_the_wasi_http_world():
    assert fetch_text.uses_http and fetch_status.uses_http and not no_network.uses_http
    assert fetch_text.app_py().startswith("# wasmpipe-world: task-http\n")
    plain = no_network.app_py()
    assert "outgoing_handler" not in plain and "_wp_http_module" not in plain
    assert not plain.startswith("# wasmpipe-world")


def test_set_network_compiles_to_the_network_grant():
    @dsl.pipeline(name="net")
    def p(url: str):
        fetch_text(url=url).set_network(allow=["127.0.0.1:8080", "*.example.org:443"])

    step = p.to_dict()["steps"][0]
    assert step["network"] == {"allow": ["127.0.0.1:8080", "*.example.org:443"]}

    @dsl.pipeline(name="no-port")
    def no_port(url: str):
        fetch_text(url=url).set_network(allow=["example.org"])

    with pytest.raises(DSLError, match="is not a \"host:port\""):
        no_port.to_dict()

    @dsl.pipeline(name="a-string")
    def a_string(url: str):
        fetch_text(url=url).set_network(allow="example.org:443")

    with pytest.raises(DSLError, match="a list of"):
        a_string.to_dict()


def test_the_helper_outside_a_component(server):
    assert wp_http.fetch(f"http://{server}/data.txt") == b"hello from the host"
    assert wp_http.get(f"http://{server}/nothing").status == 404
    with pytest.raises(wp_http.HTTPError, match="HTTP status 404"):
        wp_http.fetch(f"http://{server}/nothing")
    with pytest.raises(wp_http.HTTPError, match="not an http"):
        wp_http.fetch("ftp://example.org/x")


def _pipeline(grant):
    @dsl.pipeline(name="fetching")
    def fetching(found: str, missing: str):
        a = fetch_text(url=found)
        b = fetch_status(url=missing)
        if grant:
            a.set_network(allow=grant)
            b.set_network(allow=grant)
    return fetching


def _params(server):
    return ["-p", f"found=http://{server}/data.txt", "-p", f"missing=http://{server}/nothing"]


def test_a_granted_component_fetches_and_a_denied_one_fails_clearly(server, run, tmp_path):
    granted = compiler.Compiler().compile(_pipeline([server]), tmp_path / "ok/p.yaml")
    rc, record, err = run(granted, *_params(server))
    assert record is not None, err
    assert rc == 0 and record["state"] == "succeeded", record
    outs = {t["task"]: t["outputs"] for t in record["tasks"]}
    assert outs["fetch-text"]["output"] == "hello from the host"
    assert outs["fetch-status"]["output"] == "404 test no such thing"

    denied = compiler.Compiler().compile(_pipeline(None), tmp_path / "denied/p.yaml")
    rc, record, err = run(denied, *_params(server))
    assert record is not None, err
    assert rc == 1 and record["state"] == "failed"
    for t in record["tasks"]:
        assert t["state"] == "failed" and t["failure"]["kind"] == "error", t
        message = t["failure"]["message"]
        assert message.startswith(f"RequestDenied: request to http://{server}/"), message
        assert f"the task may not reach {server}" in message
        assert f'`task.set_network(allow=["{server}"])`' in message
