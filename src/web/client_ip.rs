//! The client's address for throttling and logs: the TCP peer, or the nearest untrusted hop of
//! `X-Forwarded-For` when the peer is one of `web.trusted_proxies`.

use std::net::SocketAddr;

use axum::extract::ConnectInfo;
use axum::http::request::Parts;

use super::WebState;

/// The client's address: the TCP peer (from `into_make_service_with_connect_info`), or, when
/// the peer is one of `web.trusted_proxies`, the nearest untrusted hop of `X-Forwarded-For`
/// (read right to left: the rightmost entries are the ones our proxies wrote). "unknown"
/// without connect info. Anything else in forwarding headers is the client's to forge.
pub struct ClientIp(pub String);

pub fn client_ip(parts: &Parts, trusted: &[crate::config::IpNet]) -> String {
    let Some(peer) = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
    else {
        return "unknown".into();
    };
    let is_trusted = |ip: std::net::IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(peer) {
        return peer.to_string();
    }
    let hops: Vec<&str> = parts
        .headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        match hop.parse::<std::net::IpAddr>() {
            Ok(ip) => {
                client = ip;
                if !is_trusted(ip) {
                    break;
                }
            }
            // A malformed hop was not written by a proxy we trust: stop at the last good one.
            Err(_) => break,
        }
    }
    client.to_string()
}

impl axum::extract::FromRequestParts<WebState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, s: &WebState) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(client_ip(parts, &s.settings.trusted_proxies)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::IpNet;

    fn parts(peer: [u8; 4], xff: &[&str]) -> Parts {
        let mut b = axum::http::Request::builder();
        for x in xff {
            b = b.header("x-forwarded-for", *x);
        }
        let (mut parts, ()) = b.body(()).unwrap().into_parts();
        parts
            .extensions
            .insert(ConnectInfo(SocketAddr::from((peer, 1))));
        parts
    }

    #[test]
    fn the_client_is_the_nearest_hop_no_trusted_proxy_wrote() {
        let trusted = [IpNet::parse("10.0.0.0/8").unwrap()];
        // Untrusted peer: the header is the client's to forge, so it is ignored.
        assert_eq!(
            client_ip(&parts([1, 2, 3, 4], &["9.9.9.9"]), &trusted),
            "1.2.3.4"
        );
        // Trusted peer: right to left, skipping our proxies; a forged left part is not used.
        let p = parts([10, 0, 0, 1], &["6.6.6.6, 7.7.7.7", "10.0.0.2"]);
        assert_eq!(client_ip(&p, &trusted), "7.7.7.7");
        // Only proxies in the chain: the leftmost of them.
        assert_eq!(
            client_ip(&parts([10, 0, 0, 1], &["10.0.0.5"]), &trusted),
            "10.0.0.5"
        );
        // No header, or garbage: the proxy itself.
        assert_eq!(client_ip(&parts([10, 0, 0, 1], &[]), &trusted), "10.0.0.1");
        assert_eq!(
            client_ip(&parts([10, 0, 0, 1], &["junk"]), &trusted),
            "10.0.0.1"
        );
        // Nothing trusted by default.
        assert_eq!(
            client_ip(&parts([10, 0, 0, 1], &["7.7.7.7"]), &[]),
            "10.0.0.1"
        );
    }
}
