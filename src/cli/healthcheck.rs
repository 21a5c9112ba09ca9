//! `gitops-guard healthcheck`: `GET /healthz` on the local server, exit 0
//! on 200 and 1 otherwise — the Docker `HEALTHCHECK` of a distroless image,
//! which has no curl or shell.
//!
//! A plain HTTP/1.1 request over a blocking socket with short timeouts:
//! no TLS (the probe stays on the host), no runtime, bounded reads.

use std::io::{Read as _, Write as _};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::time::Duration;

/// Connect, write and read timeout of the probe.
pub const TIMEOUT: Duration = Duration::from_secs(3);
/// Bytes of the response we read (the status line is all we need).
const MAX_RESPONSE: u64 = 4096;

/// Where to probe for a server listening on `listen` (`LISTEN_ADDR`): the
/// same port, on loopback when it listens on every address.
pub fn probe_addr(listen: SocketAddr) -> SocketAddr {
    let ip = match listen.ip() {
        IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, listen.port())
}

/// `GET path` on `addr`; returns the HTTP status code.
pub fn get_status(addr: SocketAddr, path: &str, timeout: Duration) -> std::io::Result<u16> {
    let mut stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: gitops-guard-healthcheck\r\n\
         Connection: close\r\n\r\n"
    )?;
    let mut buf = Vec::new();
    stream.take(MAX_RESPONSE).read_to_end(&mut buf)?;
    parse_status(&buf).ok_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::InvalidData, "not an HTTP/1.x response")
    })
}

/// The status code of an `HTTP/1.x NNN ...` status line.
fn parse_status(resp: &[u8]) -> Option<u16> {
    let line = resp.split(|&b| b == b'\n').next()?;
    let line = std::str::from_utf8(line).ok()?.trim_end();
    let mut parts = line.splitn(3, ' ');
    let version = parts.next()?;
    if !version.starts_with("HTTP/1.") {
        return None;
    }
    let code = parts.next()?;
    if code.len() != 3 {
        return None;
    }
    code.parse().ok()
}

/// Runs the probe against `listen` (or `LISTEN_ADDR`'s default) and returns
/// the process exit code: 0 healthy, 1 not.
pub fn run(listen: SocketAddr, path: &str) -> u8 {
    match get_status(probe_addr(listen), path, TIMEOUT) {
        Ok(200) => 0,
        Ok(code) => {
            eprintln!("gitops-guard healthcheck: {path} answered {code}");
            1
        }
        Err(e) => {
            eprintln!("gitops-guard healthcheck: {e}");
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines() {
        assert_eq!(parse_status(b"HTTP/1.1 200 OK\r\n\r\nok"), Some(200));
        assert_eq!(
            parse_status(b"HTTP/1.0 503 Service Unavailable\r\n"),
            Some(503)
        );
        assert_eq!(parse_status(b"SSH-2.0-OpenSSH\r\n"), None);
        assert_eq!(parse_status(b"HTTP/1.1 2000 OK\r\n"), None);
        assert_eq!(parse_status(b""), None);
    }

    #[test]
    fn unspecified_listen_probes_loopback() {
        assert_eq!(
            probe_addr("0.0.0.0:8080".parse().unwrap()),
            "127.0.0.1:8080".parse().unwrap()
        );
        assert_eq!(
            probe_addr("[::]:9".parse().unwrap()),
            "[::1]:9".parse().unwrap()
        );
        assert_eq!(
            probe_addr("10.0.0.5:80".parse().unwrap()),
            "10.0.0.5:80".parse().unwrap()
        );
    }

    #[tokio::test]
    async fn probes_a_real_server() {
        let app = axum::Router::new()
            .route("/healthz", axum::routing::get(|| async { "ok" }))
            .route(
                "/down",
                axum::routing::get(|| async {
                    (axum::http::StatusCode::SERVICE_UNAVAILABLE, "no")
                }),
            );
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
        let (ok, down) =
            tokio::task::spawn_blocking(move || (run(addr, "/healthz"), run(addr, "/down")))
                .await
                .unwrap();
        assert_eq!((ok, down), (0, 1));
        // Nothing listening: unhealthy, not a hang.
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let dead = closed.local_addr().unwrap();
        drop(closed);
        assert_eq!(
            tokio::task::spawn_blocking(move || run(dead, "/healthz"))
                .await
                .unwrap(),
            1
        );
    }
}
