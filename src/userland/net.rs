//! The simulated network as programs see it: one function, [`fetch`],
//! that every URL-fetching program (`curl`, `wget`) goes through. There is
//! no real network: for now every host fails to resolve and the loopback
//! names refuse connections, which is what a container on a build network
//! with no such service sees. Published ports may answer here later.

use super::proc::Ctx;

/// A parsed `scheme://host[:port]/path` URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Url {
    pub scheme: String,
    pub host: String,
    pub port: u16,
    pub path: String,
}

/// What a fetch returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Why a fetch failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NetError {
    #[error("bad URL: {0}")]
    BadUrl(String),
    #[error("unsupported protocol: {0}")]
    Protocol(String),
    #[error("could not resolve host: {0}")]
    Resolve(String),
    #[error("connection refused: {0} port {1}")]
    Refused(String, u16),
}

/// Parses a URL the way curl and wget accept it (a missing scheme means
/// `http`).
pub fn parse_url(s: &str) -> Result<Url, NetError> {
    let (scheme, rest) = match s.split_once("://") {
        Some((sc, r)) => (sc.to_ascii_lowercase(), r),
        None => ("http".to_string(), s),
    };
    let (hostport, path) = match rest.find(['/', '?', '#']) {
        Some(i) => (&rest[..i], rest[i..].to_string()),
        None => (rest, "/".to_string()),
    };
    let hostport = hostport.rsplit_once('@').map(|x| x.1).unwrap_or(hostport);
    let default_port = match scheme.as_str() {
        "http" => 80,
        "https" => 443,
        "ftp" => 21,
        _ => 0,
    };
    let (host, port) = if let Some(h) = hostport.strip_prefix('[') {
        let (h, rest) = h
            .split_once(']')
            .ok_or_else(|| NetError::BadUrl(s.to_string()))?;
        let port = match rest.strip_prefix(':') {
            Some(p) => p.parse().map_err(|_| NetError::BadUrl(s.to_string()))?,
            None => default_port,
        };
        (h.to_string(), port)
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (
                h.to_string(),
                p.parse().map_err(|_| NetError::BadUrl(s.to_string()))?,
            ),
            None => (hostport.to_string(), default_port),
        }
    };
    if host.is_empty() {
        return Err(NetError::BadUrl(s.to_string()));
    }
    if !matches!(scheme.as_str(), "http" | "https" | "ftp") {
        return Err(NetError::Protocol(scheme));
    }
    Ok(Url {
        scheme,
        host,
        port,
        path,
    })
}

/// Whether a host name is this container itself.
pub fn is_loopback(host: &str) -> bool {
    host == "localhost" || host == "::1" || host.starts_with("127.") || host == "0.0.0.0"
}

/// Fetches a URL (GET). Always fails for now: loopback hosts refuse the
/// connection, every other host does not resolve.
pub fn fetch(_ctx: &Ctx, url: &str) -> Result<Response, NetError> {
    let u = parse_url(url)?;
    if is_loopback(&u.host) {
        return Err(NetError::Refused(u.host, u.port));
    }
    Err(NetError::Resolve(u.host))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_with_default_ports() {
        let u = parse_url("https://example.com/a?b").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("example.com", 443, "/a?b")
        );
        let u = parse_url("localhost:8080").unwrap();
        assert_eq!((u.scheme.as_str(), u.port), ("http", 8080));
        assert_eq!(
            parse_url("gopher://x"),
            Err(NetError::Protocol("gopher".into()))
        );
        assert!(parse_url("http://").is_err());
    }
}
