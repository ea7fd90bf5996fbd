//! Where the sandbox listens, and who may drive its admin API.
//!
//! By default the three servers listen on 127.0.0.1 only. For a demo on a real iPad, `serve
//! --listen 0.0.0.0` (or a LAN address) makes them reachable from this machine's network; then
//! the admin API (which can place orders, block connections, read the seed and its client
//! secrets) asks for a token printed at start. On every address, it answers only requests that
//! name this server in `Host` (a page served by another name and resolved to this address, DNS
//! rebinding, is refused) and that come from no web page but the sandbox's own (`Origin`), so no
//! page open in a browser on that network can drive it.

use std::net::{IpAddr, Ipv4Addr, UdpSocket};

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rand::Rng;
use serde_json::json;

/// Where the servers listen and what their URLs name.
#[derive(Clone, Debug)]
pub struct Exposure {
    /// The address the three servers bind. Not loopback: reachable from the network.
    pub listen: IpAddr,
    /// The host the URLs name (what the iPad connects to). Default: the listen address, or this
    /// machine's address on its network when listening on every interface.
    pub public_host: Option<String>,
    /// Required on the admin API (`Authorization: Bearer TOKEN`). Always set when listening
    /// beyond loopback ([`Exposure::prepared`] generates one when none is given).
    pub admin_token: Option<String>,
}

impl Default for Exposure {
    fn default() -> Self {
        Exposure {
            listen: IpAddr::V4(Ipv4Addr::LOCALHOST),
            public_host: None,
            admin_token: None,
        }
    }
}

impl Exposure {
    /// Whether other machines can reach the servers.
    pub fn reachable_from_network(&self) -> bool {
        !self.listen.is_loopback()
    }

    /// The exposure to start with: a token when the network can reach the admin API, and the host
    /// the URLs name.
    pub fn prepared(mut self) -> Exposure {
        if self.reachable_from_network() && self.admin_token.is_none() {
            self.admin_token = Some(new_token());
        }
        if self.public_host.is_none() {
            self.public_host = Some(match self.listen {
                ip if ip.is_unspecified() => network_address().unwrap_or(ip).to_string(),
                IpAddr::V6(ip) => format!("[{ip}]"),
                ip => ip.to_string(),
            });
        }
        self
    }

    /// The host the URLs name (after [`Exposure::prepared`]).
    pub fn host(&self) -> String {
        self.public_host
            .clone()
            .unwrap_or_else(|| self.listen.to_string())
    }
}

/// A token people can type on an iPad: 16 characters (80 bits) in groups of four, without the
/// characters that read alike (0/o, 1/l/i).
pub fn new_token() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::thread_rng();
    let chars: Vec<char> = (0..16)
        .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
        .collect();
    chars
        .chunks(4)
        .map(|group| group.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// This machine's address on the network that routes to the outside, without sending anything
/// (a UDP socket is only "connected" to a documentation address).
fn network_address() -> Option<IpAddr> {
    let socket = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0)).ok()?;
    socket.connect((Ipv4Addr::new(192, 0, 2, 1), 9)).ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_unspecified() && !ip.is_loopback()).then_some(ip)
}

/// What the admin API accepts, checked on every request by [`guard`].
#[derive(Clone, Debug)]
pub(crate) struct AdminAccess {
    /// `host:port` values a request may name in `Host` (the manager server's).
    hosts: Vec<String>,
    /// The sandbox's own origins (`http://host:port` of its three servers).
    origins: Vec<String>,
    token: Option<String>,
}

impl AdminAccess {
    /// `ports`: the manager's port first, then the API's and the POS backend's.
    pub(crate) fn new(exposure: &Exposure, manager_port: u16, other_ports: &[u16]) -> AdminAccess {
        let mut names = vec![
            exposure.host(),
            "127.0.0.1".to_owned(),
            "localhost".to_owned(),
        ];
        if !exposure.listen.is_unspecified() {
            names.push(match exposure.listen {
                IpAddr::V6(ip) => format!("[{ip}]"),
                ip => ip.to_string(),
            });
        }
        names.dedup();
        let hosts = names
            .iter()
            .map(|name| format!("{name}:{manager_port}"))
            .collect();
        let origins = names
            .iter()
            .flat_map(|name| {
                std::iter::once(manager_port)
                    .chain(other_ports.iter().copied())
                    .map(move |port| format!("http://{name}:{port}"))
            })
            .collect();
        AdminAccess {
            hosts,
            origins,
            token: exposure.admin_token.clone(),
        }
    }

    /// Why the request is refused, if it is.
    fn refusal(&self, path: &str, headers: &HeaderMap) -> Option<(StatusCode, &'static str)> {
        let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
        if !host.is_some_and(|host| self.hosts.iter().any(|h| h.eq_ignore_ascii_case(host))) {
            return Some((
                StatusCode::MISDIRECTED_REQUEST,
                "this admin API answers only requests addressed to the sandbox by its own name",
            ));
        }
        if let Some(origin) = headers.get(header::ORIGIN) {
            let own = origin
                .to_str()
                .is_ok_and(|o| self.origins.iter().any(|own| own.eq_ignore_ascii_case(o)));
            if !own {
                return Some((
                    StatusCode::FORBIDDEN,
                    "web pages of other sites cannot use this admin API",
                ));
            }
        }
        // The landing page is a redirect target a browser arrives at (it shows its own query);
        // it needs no token and reveals nothing.
        if path == "/_sandbox/landing" {
            return None;
        }
        let Some(token) = &self.token else {
            return None;
        };
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        if !given.is_some_and(|given| same(given.as_bytes(), token.as_bytes())) {
            return Some((
                StatusCode::UNAUTHORIZED,
                "this admin API needs the token `serve` printed at start: Authorization: Bearer TOKEN",
            ));
        }
        None
    }
}

/// Compares in time independent of where the values differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The admin API's middleware: `Host`, `Origin`, then the token.
pub(crate) async fn guard(
    State(access): State<AdminAccess>,
    request: Request,
    next: Next,
) -> Response {
    match access.refusal(request.uri().path(), request.headers()) {
        Some((status, why)) => (status, axum::Json(json!({ "error": why }))).into_response(),
        None => next.run(request).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(name.clone(), HeaderValue::from_str(value).unwrap());
        }
        map
    }

    fn lan() -> AdminAccess {
        let exposure = Exposure {
            listen: "0.0.0.0".parse().unwrap(),
            public_host: Some("192.168.1.20".into()),
            admin_token: Some("abcd-efgh-jkmn-pqrs".into()),
        };
        AdminAccess::new(&exposure, 8480, &[8481, 8482])
    }

    #[test]
    fn tokens_are_typable_and_differ() {
        let token = new_token();
        assert_eq!(token.len(), 19, "{token}");
        assert!(
            token
                .chars()
                .all(|c| c == '-' || c.is_ascii_lowercase() || c.is_ascii_digit())
        );
        assert!(!token.contains(['0', 'o', '1', 'l', 'i']));
        assert_ne!(token, new_token());
    }

    #[test]
    fn a_network_exposure_gets_a_token_and_a_host() {
        let exposure = Exposure {
            listen: "0.0.0.0".parse().unwrap(),
            ..Exposure::default()
        }
        .prepared();
        assert!(exposure.admin_token.is_some());
        assert!(exposure.public_host.is_some());
        let local = Exposure::default().prepared();
        assert_eq!(local.admin_token, None);
        assert_eq!(local.host(), "127.0.0.1");
    }

    #[test]
    fn the_admin_api_wants_its_token_its_host_and_no_foreign_origin() {
        let access = lan();
        let token = (header::AUTHORIZATION, "Bearer abcd-efgh-jkmn-pqrs");
        let host = (header::HOST, "192.168.1.20:8480");
        assert_eq!(
            access.refusal("/_sandbox/seed", &headers(&[host.clone(), token.clone()])),
            None
        );
        // From the Mac itself, by loopback.
        assert_eq!(
            access.refusal(
                "/_sandbox/seed",
                &headers(&[(header::HOST, "127.0.0.1:8480"), token.clone()])
            ),
            None
        );
        let no_token = access.refusal("/_sandbox/seed", &headers(std::slice::from_ref(&host)));
        assert_eq!(no_token.map(|r| r.0), Some(StatusCode::UNAUTHORIZED));
        let wrong = access.refusal(
            "/_sandbox/seed",
            &headers(&[
                host.clone(),
                (header::AUTHORIZATION, "Bearer abcd-efgh-jkmn-pqrx"),
            ]),
        );
        assert_eq!(wrong.map(|r| r.0), Some(StatusCode::UNAUTHORIZED));
        // DNS rebinding: a page of evil.example whose name now resolves to this machine.
        let rebound = access.refusal(
            "/_sandbox/seed",
            &headers(&[(header::HOST, "evil.example:8480"), token.clone()]),
        );
        assert_eq!(rebound.map(|r| r.0), Some(StatusCode::MISDIRECTED_REQUEST));
        // A page on another site posting to the admin API, even with the token.
        let cross = access.refusal(
            "/_sandbox/locations/3r4s3-1/orders",
            &headers(&[
                host.clone(),
                token.clone(),
                (header::ORIGIN, "http://192.168.1.30:3000"),
            ]),
        );
        assert_eq!(cross.map(|r| r.0), Some(StatusCode::FORBIDDEN));
        // The sandbox's own pages may.
        let own = access.refusal(
            "/_sandbox/locations/3r4s3-1/orders",
            &headers(&[
                host.clone(),
                token,
                (header::ORIGIN, "http://192.168.1.20:8482"),
            ]),
        );
        assert_eq!(own, None);
        // The landing page needs no token, but still its own host.
        assert_eq!(access.refusal("/_sandbox/landing", &headers(&[host])), None);
    }

    #[test]
    fn on_loopback_without_a_token_only_host_and_origin_are_checked() {
        let access = AdminAccess::new(&Exposure::default().prepared(), 41235, &[40111, 38807]);
        let host = (header::HOST, "127.0.0.1:41235");
        assert_eq!(
            access.refusal("/_sandbox/seed", &headers(std::slice::from_ref(&host))),
            None
        );
        let cross = access.refusal(
            "/_sandbox/seed",
            &headers(&[host, (header::ORIGIN, "https://example.com")]),
        );
        assert_eq!(cross.map(|r| r.0), Some(StatusCode::FORBIDDEN));
    }
}
