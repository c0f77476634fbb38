//! What a task may use: [`Limits`] on one attempt, the limits a task sets for itself
//! ([`TaskLimits`]), and what of the host it is granted ([`Grants`]). Pure policy: the sandbox
//! (`wasm::sandbox`) enforces them.

use std::path::PathBuf;
use std::time::Duration;

/// How often the host checks on running guests (the epoch tick): a shorter timeout cannot be
/// enforced, so none is accepted.
pub const CHECK_INTERVAL: Duration = Duration::from_millis(10);

/// One WebAssembly page: a memory limit below it admits no component at all.
pub const MIN_MEMORY: u64 = 64 << 10;

/// What is wrong with limits as given (a task's own, or a run's defaults): a timeout shorter
/// than [`CHECK_INTERVAL`], a memory limit below one page, no fuel at all. Each problem is the
/// name of the limit and the message, which says what to give instead.
pub fn limit_problems(
    timeout: Option<Duration>,
    memory: Option<u64>,
    fuel: Option<u64>,
) -> Vec<(&'static str, String)> {
    let mut problems = Vec::new();
    if let Some(t) = timeout.filter(|t| *t < CHECK_INTERVAL) {
        problems.push((
            "timeout",
            format!("a timeout of {t:?} is shorter than the host can enforce (it checks running guests every 10 ms); give at least 10ms"),
        ));
    }
    if let Some(m) = memory.filter(|m| *m < MIN_MEMORY) {
        problems.push((
            "memory",
            format!("a memory limit of {m} bytes is below one WebAssembly page (64 KiB), so no component can run; give at least 64KiB"),
        ));
    }
    if fuel == Some(0) {
        problems.push((
            "fuel",
            "0 fuel lets a task run no instruction at all; give at least 1, or no fuel limit for unlimited".to_string(),
        ));
    }
    problems
}

/// Whether `name` can name an environment variable: not empty, with no `=` and no NUL.
pub fn valid_env_name(name: &str) -> bool {
    !name.is_empty() && !name.contains(['=', '\0'])
}

/// Limits on one task attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Wall-clock time for one attempt.
    pub timeout: Duration,
    /// Linear memory, in bytes, summed over the instance's memories.
    pub memory: usize,
    /// Bytes of stdout and of stderr kept; more is cut off.
    pub output: usize,
    /// Fuel for one attempt (None: unlimited). Needs an engine that consumes fuel.
    pub fuel: Option<u64>,
    /// Bytes of output artifacts, summed over the attempt's outputs.
    pub artifacts: u64,
    /// Bytes of value outputs (as JSON text) and artifact metadata, summed over the attempt's
    /// outputs; also the most a fan-in read by the task may hold.
    pub values: u64,
    /// Items an output may give a loop that iterates over it.
    pub loop_items: u64,
}

/// The default of [`Limits::values`]: 64 MiB.
pub const DEFAULT_VALUE_LIMIT: u64 = 64 << 20;

/// The default of [`Limits::loop_items`].
pub const DEFAULT_LOOP_ITEM_LIMIT: u64 = 1_000_000;

impl Default for Limits {
    /// 5 minutes, 512 MiB of memory, 1 MiB each of stdout and stderr, 1 GiB of artifacts, 64 MiB
    /// of values, 1,000,000 loop items.
    fn default() -> Self {
        Limits {
            timeout: Duration::from_secs(300),
            memory: 512 << 20,
            output: 1 << 20,
            fuel: None,
            artifacts: 1 << 30,
            values: DEFAULT_VALUE_LIMIT,
            loop_items: DEFAULT_LOOP_ITEM_LIMIT,
        }
    }
}

/// What a task may see of the host: nothing unless the pipeline grants it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Grants {
    /// Environment variables with literal values.
    pub env: Vec<(String, String)>,
    /// Host environment variables to pass through, by name (read when the run starts).
    pub host_env: Vec<String>,
    /// Read-only directories: (guest path, host path).
    pub dirs: Vec<(String, PathBuf)>,
    /// `host:port` entries the task may send HTTP(S) requests to ([`HostPort`]).
    pub network: Vec<String>,
    /// The embedder's host interfaces the task may call (`acme:host/kv`).
    pub host: Vec<String>,
}

/// One entry of a task's network grant: a host (or `*.` and a domain, for its subdomains) and
/// a port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostPort {
    /// The host, lowercase, without brackets for IPv6; a leading `*.` matches any subdomain.
    pub host: String,
    /// The port.
    pub port: u16,
}

impl HostPort {
    /// Parses `host:port` (`example.org:443`, `[::1]:8080`, `*.example.org:443`).
    pub fn parse(text: &str) -> Result<HostPort, String> {
        let form = "write it as `host:port`, like `example.org:443` or `127.0.0.1:8080`";
        let (host, port) = match text.strip_prefix('[') {
            Some(rest) => {
                let (ip, port) = rest.split_once("]:").ok_or_else(|| format!("`{text}` has no port; {form}"))?;
                ip.parse::<std::net::Ipv6Addr>().map_err(|_| format!("`{ip}` in `{text}` is not an IPv6 address"))?;
                (ip, port)
            }
            None => text.rsplit_once(':').ok_or_else(|| format!("`{text}` has no port; {form}"))?,
        };
        let port: u16 = match port.parse() {
            Ok(p) if p > 0 => p,
            _ => return Err(format!("`{port}` in `{text}` is not a port (1 to 65535); {form}")),
        };
        let name = host.strip_prefix("*.").unwrap_or(host);
        let label_ok = |l: &str| {
            !l.is_empty() && l.len() <= 63 && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        let is_ip = name.parse::<std::net::IpAddr>().is_ok();
        if !is_ip && (name.is_empty() || name.len() > 253 || !name.split('.').all(label_ok)) {
            return Err(format!("`{host}` in `{text}` is not a host name or an IP address; {form}"));
        }
        Ok(HostPort { host: host.to_ascii_lowercase(), port })
    }

    /// Whether a request to `host` (as the URL gives it; IPv6 with or without brackets) on
    /// `port` is allowed by this entry.
    pub fn allows(&self, host: &str, port: u16) -> bool {
        let host = host.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
        let host = host.trim_end_matches('.');
        port == self.port
            && match self.host.strip_prefix("*.") {
                Some(domain) => host.len() > domain.len() + 1 && host.ends_with(&format!(".{domain}")),
                None => host == self.host,
            }
    }
}

/// Per-run budgets of an embedding application (`RunOptions::quotas`); none by default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Quotas {
    /// Bytes of linear memory the run's running tasks may hold at once, by their memory limits:
    /// a task waits until its limit fits beside those of the tasks running.
    pub memory: Option<u64>,
    /// Bytes of output artifacts the run may keep: a task with output artifacts waits until its
    /// `artifact_limit` fits in what is left (the bytes kept by finished tasks and the limits
    /// of running ones deducted); when nothing else runs, it runs with what is left as its
    /// limit, so it fails with kind `output_limit` only if it writes more.
    pub artifacts: Option<u64>,
    /// Bytes of log text (guest output and `log` calls) the run's record keeps; lines past it
    /// are dropped, and each attempt that lost some says how many.
    pub logs: Option<u64>,
}

/// Limits a task sets for itself.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TaskLimits {
    /// Timeout of one attempt.
    pub timeout: Option<Duration>,
    /// Memory limit in bytes.
    pub memory: Option<u64>,
    /// Fuel of one attempt.
    pub fuel: Option<u64>,
    /// Bytes of output artifacts of one attempt.
    pub artifacts: Option<u64>,
    /// Bytes of value outputs of one attempt, and of a fan-in it reads.
    pub values: Option<u64>,
    /// Items an output may give a loop.
    pub loop_items: Option<u64>,
}

impl TaskLimits {
    /// The limits of one attempt: this task's, else the run's `defaults`.
    pub fn over(&self, defaults: &Limits) -> Limits {
        Limits {
            timeout: self.timeout.unwrap_or(defaults.timeout),
            memory: self.memory.map(|m| m as usize).unwrap_or(defaults.memory),
            fuel: self.fuel.or(defaults.fuel),
            artifacts: self.artifacts.unwrap_or(defaults.artifacts),
            values: self.values.unwrap_or(defaults.values),
            loop_items: self.loop_items.unwrap_or(defaults.loop_items),
            ..*defaults
        }
    }
}

#[cfg(test)]
mod network_tests {
    use super::HostPort;

    /// Ensures that a grant matches its host and port only: any case, a trailing dot, IPv6 with
    /// or without brackets, and `*.` for subdomains but not the domain itself or look-alikes.
    #[test]
    fn host_port_entries_match_their_host_and_port_only() {
        let exact = HostPort::parse("Example.org:443").unwrap();
        assert!(exact.allows("example.org", 443) && exact.allows("EXAMPLE.ORG.", 443));
        assert!(!exact.allows("example.org", 80) && !exact.allows("www.example.org", 443));
        let any = HostPort::parse("*.example.org:443").unwrap();
        assert!(any.allows("a.example.org", 443) && any.allows("b.a.example.org", 443));
        assert!(!any.allows("example.org", 443) && !any.allows("badexample.org", 443));
        let v6 = HostPort::parse("[::1]:8080").unwrap();
        assert!(v6.allows("[::1]", 8080) && v6.allows("::1", 8080) && !v6.allows("[::2]", 8080));
        for bad in ["example.org", ":443", "example.org:", "example.org:65536", "*.:443", "a..b:1", "[::1]8080"] {
            assert!(HostPort::parse(bad).is_err(), "{bad}");
        }
    }
}
