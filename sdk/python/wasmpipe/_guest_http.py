# Inside a component: `wasmpipe.http`'s requests through wasi:http. The generated app.py runs
# wasmpipe/http.py and then this file in the namespace of the component's `wasmpipe.http`
# module, so `_send` here replaces the urllib one. The component is built against the world
# `task-http` (`_build.py`), whose bindings name wasi:http/types `http_types`.
from componentize_py_types import Err as _Err
from wit_world.imports import http_types as _ht
from wit_world.imports import outgoing_handler as _oh
from wit_world.imports import streams as _streams


def _wait(future):
    """The value of a wasi:http future, blocking on its pollable until it is ready: the whole
    poll loop a synchronous request needs."""
    while True:
        value = future.get()
        if value is not None:
            return value
        with future.subscribe() as pollable:
            pollable.block()


def _failed(url, hostport, code):
    if isinstance(code, _ht.ErrorCode_HttpRequestDenied):
        return RequestDenied(url, hostport)
    name = type(code).__name__.replace("ErrorCode_", "")
    detail = getattr(code, "value", None)
    return HTTPError(f"request to {url} failed: {name}" + (f" ({detail})" if detail else ""), url)


def _send(url, scheme, authority, path, hostport, headers):
    fields = _ht.Fields.from_list([(k, str(v).encode()) for k, v in headers.items()])
    request = _ht.OutgoingRequest(fields)
    try:
        request.set_method(_ht.Method_Get())
        request.set_scheme(_ht.Scheme_Https() if scheme == "https" else _ht.Scheme_Http())
        request.set_authority(authority)
        request.set_path_with_query(path)
    except _Err:
        raise HTTPError(f"`{url}` is not a URL a request can be made to", url) from None
    try:
        pending = _oh.handle(request, None)
    except _Err as e:
        raise _failed(url, hostport, e.value) from None
    with pending:
        outcome = _wait(pending)  # Err only if the response was taken before: never here
        if isinstance(outcome, _Err):
            raise HTTPError(f"request to {url}: its response was taken twice", url)
        outcome = outcome.value
        if isinstance(outcome, _Err):
            raise _failed(url, hostport, outcome.value) from None
        with outcome.value as response:
            status = response.status()
            with response.headers() as h:
                got = _joined((k, v.decode("latin-1")) for k, v in h.entries())
            with response.consume() as body:
                chunks = []
                with body.stream() as stream:
                    while True:
                        try:
                            chunks.append(stream.blocking_read(64 * 1024))
                        except _Err as e:
                            if isinstance(e.value, _streams.StreamError_Closed):
                                break
                            raise HTTPError(f"request to {url}: reading its body failed: "
                                            f"{e.value.value.to_debug_string()}", url) from None
    return Response(url, status, got, b"".join(chunks))
