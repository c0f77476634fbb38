//! A task's outbound network: `wasi:http` requests checked against the hosts its pipeline
//! grants (`network: {allow: [host:port, ...]}`). A request to any other host, or with no
//! grant at all, fails in the guest with `HTTP-request-denied` (an error the guest handles,
//! not a trap); allowed requests go out through wasmtime-wasi-http's client, with timeouts.

use std::time::Duration;

use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};

use crate::model::policy::HostPort;

/// How long a request may take to connect, and to get its first byte, when the guest sets no
/// shorter time: the task's own timeout bounds the whole attempt anyway.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
const FIRST_BYTE_TIMEOUT: Duration = Duration::from_secs(60);

/// The hosts an attempt may send requests to.
pub(crate) struct NetworkPolicy {
    allow: Vec<HostPort>,
}

impl NetworkPolicy {
    /// The policy of a grant's `host:port` entries (validation has refused malformed ones).
    pub(crate) fn new(allow: &[String]) -> NetworkPolicy {
        NetworkPolicy { allow: allow.iter().filter_map(|e| HostPort::parse(e).ok()).collect() }
    }

    /// Whether a request to `uri` is allowed: its host and port (the scheme's default when the
    /// URL gives none) match an entry.
    fn allows(&self, uri: &http::Uri) -> bool {
        let Some(host) = uri.host() else { return false };
        let port = uri.port_u16().or_else(|| match uri.scheme_str() {
            Some("http") => Some(80),
            Some("https") => Some(443),
            _ => None,
        });
        port.is_some_and(|port| self.allow.iter().any(|entry| entry.allows(host, port)))
    }
}

/// What sending a request gives: the response, and the future that drives its body.
type Sent = wasmtime_wasi_http::Result<(http::Response<WasiBody>, Box<dyn Future<Output = Result<(), Error>> + Send>)>;

impl WasiHttpHooks for NetworkPolicy {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: Box<dyn Future<Output = Result<(), Error>> + Send>,
    ) -> Box<dyn Future<Output = Sent> + Send> {
        drop(fut);
        if !self.allows(request.uri()) {
            return Box::new(async { Err(Error::HttpRequestDenied) });
        }
        let mut options = options.unwrap_or_default();
        options.connect_timeout = Some(options.connect_timeout.map_or(CONNECT_TIMEOUT, |t| t.min(CONNECT_TIMEOUT)));
        options.first_byte_timeout =
            Some(options.first_byte_timeout.map_or(FIRST_BYTE_TIMEOUT, |t| t.min(FIRST_BYTE_TIMEOUT)));
        Box::new(async move {
            use http_body_util::BodyExt;
            let (response, io) = wasmtime_wasi_http::default_send_request(request, Some(options)).await?;
            Ok((response.map(BodyExt::boxed_unsync), Box::new(io) as Box<dyn Future<Output = _> + Send>))
        })
    }
}
