//! Outbound HTTP(S) from a task its pipeline grants it, through `wasi:http`:
//!
//! ```yaml
//! - {task: fetch, component: fetch, network: {allow: ["example.org:443"]}}
//! ```
//!
//! ```ignore
//! let page = wasmpipe_guest::http::get("https://example.org/data.csv")?;
//! assert_eq!(page.status, 200);
//! ```
//!
//! A request to a host the task is not granted fails with an `Err` that says so (the host
//! answers `HTTP-request-denied`), never a trap: a component can report it, or retry elsewhere.

use wasip2::http::outgoing_handler;
use wasip2::http::types::{ErrorCode, Fields, Method, OutgoingRequest, Scheme};
use wasip2::io::streams::StreamError;

/// A response: its status and its whole body.
#[derive(Debug)]
pub struct Response {
    /// The HTTP status (`200`).
    pub status: u16,
    /// The body, read to its end.
    pub body: Vec<u8>,
}

impl Response {
    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sends `GET url` and reads the whole response. An `Err` says what failed: a URL that is not
/// `http://` or `https://`, a host the pipeline does not grant the task, a connection or
/// protocol error.
pub fn get(url: &str) -> Result<Response, String> {
    let (scheme, rest) = match url.split_once("://") {
        Some(("http", rest)) => (Scheme::Http, rest),
        Some(("https", rest)) => (Scheme::Https, rest),
        _ => return Err(format!("`{url}` is not an http:// or https:// URL")),
    };
    let (authority, path) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
    let path = if path.is_empty() {
        "/".to_string()
    } else if path.starts_with('?') {
        format!("/{path}")
    } else {
        path.to_string()
    };
    let request = OutgoingRequest::new(Fields::new());
    let set = request
        .set_method(&Method::Get)
        .and(request.set_scheme(Some(&scheme)))
        .and(request.set_authority(Some(authority)))
        .and(request.set_path_with_query(Some(&path)));
    set.map_err(|()| format!("`{url}` is not a URL a request can be made to"))?;
    let failed = |e: ErrorCode| match e {
        ErrorCode::HttpRequestDenied => format!(
            "request to {url} denied: the task may not reach {authority}; grant it in the pipeline with `network: {{allow: [\"HOST:PORT\"]}}`"
        ),
        other => format!("request to {url} failed: {other:?}"),
    };
    let pending = outgoing_handler::handle(request, None).map_err(failed)?;
    let response = loop {
        match pending.get() {
            Some(result) => break result.map_err(|()| format!("request to {url}: its response was taken twice"))?,
            None => pending.subscribe().block(),
        }
    };
    let response = response.map_err(failed)?;
    let status = response.status();
    let body = response.consume().map_err(|()| format!("request to {url}: its body was taken twice"))?;
    let stream = body.stream().map_err(|()| format!("request to {url}: its body stream was taken twice"))?;
    let mut read = Vec::new();
    loop {
        match stream.blocking_read(64 * 1024) {
            Ok(chunk) => read.extend_from_slice(&chunk),
            Err(StreamError::Closed) => break,
            Err(StreamError::LastOperationFailed(e)) => {
                return Err(format!("request to {url}: reading its body failed: {}", e.to_debug_string()));
            }
        }
    }
    drop(stream);
    Ok(Response { status, body: read })
}
