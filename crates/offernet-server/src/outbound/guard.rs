//! The SSRF guard: outbound requests go only to public addresses. The URL must be `https://`
//! (or `http://` with `--outbound-allow-local`); its host is resolved by [`GuardedResolver`],
//! which drops every address that is loopback (unless allowed), private, link-local, shared
//! (CGNAT), multicast, unspecified, documentation or a cloud metadata address, so the client
//! connects only to an address that was checked (a name that resolves differently later, DNS
//! rebinding, cannot slip through). A host written as an IP address is checked by
//! [`check_url`] (the client resolves no name for it). Redirects are never followed.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Why `ip` may not be connected to, or `None` when it may.
pub fn refused(ip: IpAddr, allow_local: bool) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => refused_v4(v4, allow_local),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => refused_v4(v4, allow_local),
            None => refused_v6(v6, allow_local),
        },
    }
}

fn refused_v4(ip: Ipv4Addr, allow_local: bool) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    if ip.is_loopback() {
        return (!allow_local).then_some("loopback");
    }
    if ip == Ipv4Addr::new(169, 254, 169, 254) || ip == Ipv4Addr::new(100, 100, 100, 200) {
        return Some("cloud metadata");
    }
    if ip.is_private() {
        return Some("private");
    }
    if ip.is_link_local() {
        return Some("link-local");
    }
    if a == 100 && (64..128).contains(&b) {
        return Some("shared (carrier-grade NAT)");
    }
    if ip.is_unspecified() || a == 0 {
        return Some("unspecified");
    }
    if ip.is_broadcast() || ip.is_multicast() || a >= 240 {
        return Some("broadcast, multicast or reserved");
    }
    if (a, b, c) == (192, 0, 2)
        || (a, b, c) == (198, 51, 100)
        || (a, b, c) == (203, 0, 113)
        || (a == 198 && (b & 0xfe) == 18)
    {
        return Some("documentation or benchmarking");
    }
    if (a, b, c) == (192, 0, 0) {
        return Some("IETF protocol assignments");
    }
    None
}

fn refused_v6(ip: Ipv6Addr, allow_local: bool) -> Option<&'static str> {
    let seg = ip.segments();
    if ip.is_loopback() {
        return (!allow_local).then_some("loopback");
    }
    if ip == Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x254) {
        return Some("cloud metadata");
    }
    if ip.is_unspecified() {
        return Some("unspecified");
    }
    if (seg[0] & 0xfe00) == 0xfc00 {
        return Some("private (unique local)");
    }
    if (seg[0] & 0xffc0) == 0xfe80 {
        return Some("link-local");
    }
    if ip.is_multicast() {
        return Some("multicast");
    }
    if seg[0] == 0x2001 && seg[1] == 0x0db8 {
        return Some("documentation");
    }
    // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) embed an IPv4 address: judge that one.
    if seg[0] == 0x64 && seg[1] == 0xff9b && seg[2..6] == [0, 0, 0, 0] {
        let v4 = Ipv4Addr::new((seg[6] >> 8) as u8, seg[6] as u8, (seg[7] >> 8) as u8, seg[7] as u8);
        return refused_v4(v4, allow_local);
    }
    if seg[0] == 0x2002 {
        let v4 = Ipv4Addr::new((seg[1] >> 8) as u8, seg[1] as u8, (seg[2] >> 8) as u8, seg[2] as u8);
        return refused_v4(v4, allow_local);
    }
    None
}

/// The scheme and, for an IP-literal host, the address: `Err` with the reason to refuse.
pub fn check_url(url: &reqwest::Url, allow_local: bool) -> Result<(), String> {
    match url.scheme() {
        "https" => {}
        "http" if allow_local => {}
        "http" => return Err("plain http:// is refused: use https:// (or run with --outbound-allow-local)".into()),
        other => return Err(format!("scheme `{other}` is refused: use https://")),
    }
    let ip = match url.host() {
        Some(url::Host::Ipv4(v4)) => IpAddr::V4(v4),
        Some(url::Host::Ipv6(v6)) => IpAddr::V6(v6),
        Some(url::Host::Domain(_)) => return Ok(()),
        None => return Err("the URL has no host".into()),
    };
    match refused(ip, allow_local) {
        Some(why) => Err(format!("{ip} is a {why} address: refused")),
        None => Ok(()),
    }
}

/// A resolver for the outbound client that answers only addresses [`refused`] lets through.
pub struct GuardedResolver {
    pub allow_local: bool,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow_local = self.allow_local;
        Box::pin(async move {
            let host = name.as_str().to_string();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let mut reasons = Vec::new();
            let ok: Vec<SocketAddr> = found
                .into_iter()
                .filter(|a| match refused(a.ip(), allow_local) {
                    Some(why) => {
                        reasons.push(format!("{} ({why})", a.ip()));
                        false
                    }
                    None => true,
                })
                .collect();
            if ok.is_empty() {
                let why = if reasons.is_empty() { "no address".to_string() } else { reasons.join(", ") };
                return Err(format!("{host} resolves only to refused addresses: {why}").into());
            }
            Ok(Box::new(ok.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn private_local_and_metadata_addresses_are_refused() {
        for a in [
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "169.254.1.1",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::",
            "fc00::1",
            "fd00:ec2::254",
            "fe80::1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a00:1",
            "2002:a00:1::",
        ] {
            assert!(refused(ip(a), true).is_some(), "{a} allowed");
        }
        assert_eq!(refused(ip("127.0.0.1"), false), Some("loopback"));
        assert_eq!(refused(ip("::1"), false), Some("loopback"));
        assert_eq!(refused(ip("127.0.0.1"), true), None, "--outbound-allow-local");
        for a in ["93.184.215.14", "8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8"] {
            assert_eq!(refused(ip(a), false), None, "{a}");
        }
    }

    #[test]
    fn urls_need_https_and_a_public_literal_address() {
        let u = |s: &str| reqwest::Url::parse(s).unwrap();
        assert!(check_url(&u("https://hooks.example/x"), false).is_ok());
        assert!(check_url(&u("http://hooks.example/x"), false).unwrap_err().contains("https"));
        assert!(check_url(&u("http://127.0.0.1:9/x"), true).is_ok());
        assert!(check_url(&u("https://127.0.0.1/x"), false).unwrap_err().contains("loopback"));
        assert!(check_url(&u("https://[::ffff:192.168.0.1]/x"), true).unwrap_err().contains("private"));
        assert!(check_url(&u("https://169.254.169.254/latest"), true).unwrap_err().contains("metadata"));
    }

    #[tokio::test]
    async fn names_resolving_to_refused_addresses_are_refused() {
        use reqwest::dns::Resolve;
        let name = |s: &str| s.parse::<reqwest::dns::Name>().unwrap();
        let strict = GuardedResolver { allow_local: false };
        let err = strict.resolve(name("localhost")).await.err().expect("localhost refused").to_string();
        assert!(err.contains("refused addresses") && err.contains("loopback"), "{err}");
        let local = GuardedResolver { allow_local: true };
        let Ok(addrs) = local.resolve(name("localhost")).await else { panic!("localhost allowed") };
        let addrs: Vec<SocketAddr> = addrs.collect();
        assert!(addrs.iter().all(|a| a.ip().is_loopback()) && !addrs.is_empty());
    }
}
