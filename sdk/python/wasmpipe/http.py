"""Outbound HTTP(S) from a component, to the hosts its task is granted.

    @dsl.component
    def download(url: str) -> str:
        from wasmpipe import http
        return http.fetch(url).decode()

    task = download(url="http://127.0.0.1:8080/data.csv")
    task.set_network(allow=["127.0.0.1:8080"])        # the pipeline's `network: {allow: [...]}`

Inside a component the requests go through `wasi:http` (the component is built against a
world that imports `wasi:http/outgoing-handler`, only when its function uses this module), and
the host lets out only those to hosts the task is granted. A request to any other host raises
`RequestDenied`, naming the host and the grant to add; nothing leaves the host. Outside a
component (calling the function directly, in a test) the same calls go through urllib.
"""
from typing import Dict, Optional, Tuple

__all__ = ["fetch", "get", "Response", "HTTPError", "RequestDenied"]


class HTTPError(Exception):
    """A request failed: a URL that is not http:// or https://, a denied host, a connection or
    protocol error, or (from `fetch`) an HTTP error status. `url` is the URL; `status` the HTTP
    status when there was a response."""

    def __init__(self, message: str, url: str, status: Optional[int] = None):
        super().__init__(message)
        self.url, self.status = url, status


class RequestDenied(HTTPError):
    """The task may not reach the URL's host: `host` is the `host:port` its grant must list."""

    def __init__(self, url: str, host: str):
        super().__init__(
            f"request to {url} denied: the task may not reach {host}; grant it in the pipeline "
            f"with `network: {{allow: [\"{host}\"]}}` (in the DSL, "
            f"`task.set_network(allow=[\"{host}\"])`)", url)
        self.host = host


class Response:
    """A response read to its end: `status`, `headers` (lowercase names; repeated headers
    joined with ", ") and `body` (bytes)."""

    def __init__(self, url: str, status: int, headers: Dict[str, str], body: bytes):
        self.url, self.status, self.headers, self.body = url, status, headers, body

    def text(self, encoding: str = "utf-8") -> str:
        """The body as text (invalid bytes replaced)."""
        return self.body.decode(encoding, errors="replace")

    def __repr__(self):
        return f"<Response {self.status} from {self.url}, {len(self.body)} bytes>"


def _split(url: str) -> Tuple[str, str, str, str]:
    """(scheme, authority, path with query, host:port as a grant names it) of an http(s) URL."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() not in ("http", "https"):
        raise HTTPError(f"`{url}` is not an http:// or https:// URL", url)
    scheme = scheme.lower()
    cut = min([i for i in (rest.find("/"), rest.find("?"), rest.find("#")) if i >= 0] or [len(rest)])
    authority, path = rest[:cut], rest[cut:].split("#", 1)[0]
    hostport = authority.rpartition("@")[2]
    if not hostport:
        raise HTTPError(f"`{url}` names no host", url)
    path = "/" + path if not path.startswith("/") else path
    if hostport.startswith("["):  # IPv6: [::1]:8080
        host, _, port = hostport[1:].partition("]")
        port = port[1:]
    else:
        host, _, port = hostport.partition(":")
    port = port or ("443" if scheme == "https" else "80")
    host = f"[{host}]" if ":" in host else host.lower()
    return scheme, authority, path, f"{host}:{port}"


def get(url: str, headers: Optional[Dict[str, str]] = None) -> Response:
    """Sends `GET url` (with `headers`) and reads the whole response, whatever its status.
    Raises `RequestDenied` for a host the task is not granted, `HTTPError` for anything else
    that keeps a response from arriving."""
    scheme, authority, path, hostport = _split(url)
    return _send(url, scheme, authority, path, hostport, dict(headers or {}))


def fetch(url: str, headers: Optional[Dict[str, str]] = None) -> bytes:
    """The body of `GET url`. Raises `HTTPError` for an error status (400 and above) too."""
    response = get(url, headers)
    if response.status >= 400:
        raise HTTPError(f"GET {url}: HTTP status {response.status}", url, response.status)
    return response.body


def _send(url, scheme, authority, path, hostport, headers) -> Response:
    """Outside a component: urllib (a component's own `_send` uses wasi:http)."""
    import urllib.error
    import urllib.request
    request = urllib.request.Request(f"{scheme}://{authority}{path}", headers=headers)
    try:
        with urllib.request.urlopen(request) as r:
            return Response(url, r.status, _joined(r.headers.items()), r.read())
    except urllib.error.HTTPError as e:
        return Response(url, e.code, _joined(e.headers.items()), e.read())
    except (urllib.error.URLError, OSError) as e:
        raise HTTPError(f"request to {url} failed: {getattr(e, 'reason', e)}", url) from None


def _joined(items) -> Dict[str, str]:
    out: Dict[str, str] = {}
    for name, value in items:
        name = name.lower()
        out[name] = f"{out[name]}, {value}" if name in out else value
    return out
