//! The application context of a connection as reported: its name, TLS
//! handshake, HTTP exchanges, Go module fetch and ICMP error; and the DNS
//! queries of the capture.

use crate::flows::{Connection, Dir};
use crate::sniff::dns::{self, DnsOutcome, DnsQuery, Transport};
use crate::sniff::gomod::{self, FetchKind, GoProxy};
use crate::sniff::tls;
use crate::time::{Nanos, Ts};
use serde::Serialize;
use std::net::SocketAddr;

/// Settings that decide how connections are named and judged at the
/// application level.
#[derive(Debug, Clone, Default)]
pub struct AppSettings {
    /// Module proxies (`--goproxy`, default `$GOPROXY`) besides the
    /// well-known ones.
    pub goproxy: GoProxy,
    /// Certificate issuers the user expects (`--expect-issuer`, substrings,
    /// any case). When empty, issuers of known TLS-inspection products and
    /// self-signed certificates are flagged instead.
    pub expected_issuers: Vec<String>,
}

/// Issuer names of common TLS-inspecting proxies and firewalls.
const INSPECTION_ISSUERS: &[&str] = &[
    "zscaler",
    "netskope",
    "fortinet",
    "fortigate",
    "palo alto",
    "paloalto",
    "blue coat",
    "bluecoat",
    "symantec web",
    "sophos",
    "forcepoint",
    "websense",
    "checkpoint",
    "check point",
    "cisco umbrella",
    "mcafee web gateway",
    "barracuda",
    "squid",
    "mitmproxy",
    "inspection",
    "ssl proxy",
    "ssl-proxy",
];

impl AppSettings {
    /// Why a certificate's issuer looks like a TLS-inspecting proxy, if it
    /// does.
    pub fn unexpected_issuer(&self, cert: &tls::Certificate) -> Option<String> {
        let issuer = cert.issuer.to_lowercase();
        if !self.expected_issuers.is_empty() {
            let ok = self
                .expected_issuers
                .iter()
                .any(|e| issuer.contains(&e.to_lowercase()));
            return (!ok).then(|| {
                format!(
                    "certificate issued by \"{}\", not by an expected issuer (--expect-issuer)",
                    cert.issuer
                )
            });
        }
        if let Some(p) = INSPECTION_ISSUERS.iter().find(|p| issuer.contains(*p)) {
            return Some(format!(
                "certificate issued by \"{}\" (\"{p}\"): a TLS-inspecting proxy is likely re-signing this connection",
                cert.issuer
            ));
        }
        cert.self_signed.then(|| {
            format!(
                "self-signed certificate \"{}\": not from a public CA (a TLS-inspecting proxy or a private server)",
                cert.subject
            )
        })
    }
}

/// The TLS handshake as seen.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TlsReport {
    pub client_hello_frame: Option<u64>,
    pub sni: Option<String>,
    pub alpn: Vec<String>,
    /// Versions the client offered, highest first (e.g. `TLS 1.3`).
    pub offered_versions: Vec<String>,
    pub server_hello_frame: Option<u64>,
    /// The version the server chose.
    pub version: Option<String>,
    /// The cipher suite the server chose, as its IANA number (`0x1301`).
    pub cipher: Option<String>,
    /// The server's certificate (TLS 1.2 and older; TLS 1.3 encrypts it).
    pub certificate: Option<CertificateReport>,
    pub alerts: Vec<AlertReport>,
    /// Why the certificate looks like a TLS-inspecting proxy's.
    pub unexpected_issuer: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CertificateReport {
    pub frame: u64,
    pub subject: String,
    pub issuer: String,
    pub self_signed: bool,
    pub not_after: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AlertReport {
    pub frame: u64,
    /// `client` or `server`.
    pub from: &'static str,
    /// `warning`, `fatal`, or `encrypted` when sent after the handshake
    /// keys were in use.
    pub level: String,
    pub description: String,
}

/// One HTTP/1.x request and its response status.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct HttpReport {
    pub frame: u64,
    pub method: String,
    pub host: Option<String>,
    pub path: String,
    pub user_agent: Option<String>,
    pub status: Option<u16>,
    pub status_frame: Option<u64>,
    /// What the path asks a Go module proxy or checksum database for.
    pub module: Option<ModuleReport>,
}

/// A Go module proxy or checksum-database request.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ModuleReport {
    pub module: Option<String>,
    pub version: Option<String>,
    pub kind: FetchKind,
    /// e.g. `golang.org/x/text@v0.3.7 (zip)`.
    pub label: String,
}

/// An ICMP or ICMPv6 error about the connection.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct IcmpReport {
    pub frame: u64,
    pub sender: String,
    pub v6: bool,
    #[serde(rename = "type")]
    pub icmp_type: u8,
    pub code: u8,
    pub quotes_syn: bool,
}

/// Everything the sniffers tell about one connection.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AppContext {
    pub server_name: Option<String>,
    pub name_source: Option<&'static str>,
    pub tls: Option<TlsReport>,
    pub http: Vec<HttpReport>,
    pub http_requests: u32,
    pub module: Option<ModuleReport>,
    pub module_fetch: bool,
    /// 401, 403 or 407: an authentication gateway answered.
    pub auth_required: Option<u16>,
    pub target: Option<String>,
}

fn tls_report(c: &Connection, settings: &AppSettings) -> Option<TlsReport> {
    let app = c.app.as_ref()?;
    let (ch, sh) = (app.tls(Dir::ClientToServer), app.tls(Dir::ServerToClient));
    if ch.is_none() && sh.is_none() {
        return None;
    }
    let hello = ch.and_then(|i| i.client_hello.as_ref());
    let server_hello = sh.and_then(|i| i.server_hello.as_ref());
    let cert = sh.and_then(|i| i.certificate.as_ref());
    let mut alerts = Vec::new();
    for (dir, info) in [(Dir::ClientToServer, ch), (Dir::ServerToClient, sh)] {
        for a in info.map(|i| i.alerts.as_slice()).unwrap_or(&[]) {
            alerts.push(AlertReport {
                frame: a.at.frame,
                from: dir.sender(),
                level: if a.encrypted {
                    "encrypted".to_string()
                } else {
                    tls::alert_level_name(a.level).to_string()
                },
                description: if a.encrypted {
                    "unknown (encrypted)".to_string()
                } else {
                    tls::alert_description_name(a.description).to_string()
                },
            });
        }
    }
    alerts.sort_by_key(|a| a.frame);
    let mut offered: Vec<u16> = hello
        .map(|h| {
            if h.supported_versions.is_empty() {
                vec![h.legacy_version]
            } else {
                h.supported_versions.clone()
            }
        })
        .unwrap_or_default();
    offered.sort_unstable_by(|a, b| b.cmp(a));
    Some(TlsReport {
        client_hello_frame: hello.map(|h| h.at.frame),
        sni: hello.and_then(|h| h.sni.clone()),
        alpn: hello.map(|h| h.alpn.clone()).unwrap_or_default(),
        offered_versions: offered.into_iter().map(tls::version_name).collect(),
        server_hello_frame: server_hello.map(|s| s.at.frame),
        version: server_hello.map(|s| tls::version_name(s.version)),
        cipher: server_hello.map(|s| format!("0x{:04x}", s.cipher)),
        certificate: cert.map(|c| CertificateReport {
            frame: c.at.frame,
            subject: c.subject.clone(),
            issuer: c.issuer.clone(),
            self_signed: c.self_signed,
            not_after: c.not_after.clone(),
        }),
        alerts,
        unexpected_issuer: cert.and_then(|c| settings.unexpected_issuer(c)),
    })
}

fn module_report(f: &gomod::ModuleFetch) -> ModuleReport {
    ModuleReport {
        module: f.module.clone(),
        version: f.version.clone(),
        kind: f.kind,
        label: f.label(),
    }
}

/// Names a connection and collects what its sniffers saw. `dns_name` is the
/// name a DNS answer gave the server's address.
pub fn app_context(c: &Connection, settings: &AppSettings) -> AppContext {
    let tls = tls_report(c, settings);
    let mut http = Vec::new();
    let mut http_requests = 0;
    if let Some(app) = &c.app {
        http_requests = app.http_requests;
        for x in &app.http {
            let prefix = x
                .request
                .host
                .as_deref()
                .map_or("", |h| settings.goproxy.prefix_for(h));
            http.push(HttpReport {
                frame: x.at.frame,
                method: x.request.method.to_string(),
                host: x.request.host.clone(),
                path: x.request.path.clone(),
                user_agent: x.request.user_agent.clone(),
                status: x.response.map(|r| r.1),
                status_frame: x.response.map(|r| r.0.frame),
                module: gomod::parse_path(&x.request.path, prefix).map(|f| module_report(&f)),
            });
        }
    }
    let (server_name, name_source) = match crate::verdict::server_name_and_source(c) {
        Some((n, source)) => (Some(n.into_owned()), Some(source)),
        None => (None, None),
    };
    // The request the connection is remembered by: the one left without a
    // response, else the last one that asked for a module.
    let module = http
        .iter()
        .rev()
        .find(|h| h.status.is_none() && h.module.is_some())
        .or_else(|| http.iter().rev().find(|h| h.module.is_some()))
        .and_then(|h| h.module.clone());
    // The SNI or Host wins over a DNS answer for the same address (one
    // address can serve many names).
    let named_module_host = server_name
        .as_deref()
        .is_some_and(|n| settings.goproxy.is_module_host(n));
    let module_fetch = module.is_some() || named_module_host;
    let auth_required = auth_required(c);
    let target = match (&module, &server_name) {
        (Some(m), Some(n)) => Some(format!("{n} {}", m.label)),
        (Some(m), None) => Some(m.label.clone()),
        (None, Some(n)) => Some(n.clone()),
        (None, None) => None,
    };
    AppContext {
        server_name,
        name_source,
        tls,
        http,
        http_requests,
        module,
        module_fetch,
        auth_required,
        target,
    }
}

/// The first 401, 403 or 407 an HTTP response of `c` answered with.
pub fn auth_required(c: &Connection) -> Option<u16> {
    c.app
        .as_deref()?
        .http
        .iter()
        .filter_map(|x| x.response.map(|r| r.1))
        .find(|s| matches!(s, 401 | 403 | 407))
}

/// Whether `c` is a Go module fetch (what [`app_context`] says as
/// `module_fetch`, without building the rest): its name is a module host,
/// or a request path is a module proxy or checksum-database path.
pub fn is_module_fetch(c: &Connection, settings: &AppSettings) -> bool {
    if crate::verdict::server_name(c).is_some_and(|n| settings.goproxy.is_module_host(&n)) {
        return true;
    }
    c.app.as_deref().is_some_and(|a| {
        a.http.iter().any(|x| {
            let prefix = x
                .request
                .host
                .as_deref()
                .map_or("", |h| settings.goproxy.prefix_for(h));
            gomod::parse_path(&x.request.path, prefix).is_some()
        })
    })
}

/// [`is_module_fetch`] for the connections of a capture, one after the
/// other, remembering what each HTTP `Host` value says: its server name is
/// a module host or not (or it names none: an address), and its `GOPROXY`
/// path prefix. A capture names few hosts, and working that out again for
/// every connection (trimming, the port, the case, the host lists) was
/// about a thousand instructions per `ok` connection counted.
/// Made for one [`AppSettings`] (what it remembers depends on them).
#[derive(Debug, Clone, Default)]
pub struct ModuleFetches {
    settings: AppSettings,
    hosts: rustc_hash::FxHashMap<Box<str>, HostFacts>,
    /// The `Host` looked up last, and what it says: connections to one
    /// host come in runs, and comparing is cheaper than hashing.
    last: Option<(Box<str>, HostFacts)>,
}

/// What [`ModuleFetches`] remembers of a `Host` value.
#[derive(Debug, Clone)]
struct HostFacts {
    /// Whether the name it gives is a module host; `None` when it gives
    /// none ([`crate::sniff::http::host_name`]).
    module_host: Option<bool>,
    /// [`GoProxy::prefix_for`] it.
    prefix: Box<str>,
}

/// `Host` values remembered at most (then forgotten all at once).
const MAX_HOSTS: usize = 4096;

impl ModuleFetches {
    /// A memo for `settings`.
    pub fn new(settings: &AppSettings) -> ModuleFetches {
        ModuleFetches {
            settings: settings.clone(),
            ..ModuleFetches::default()
        }
    }

    /// What `host` says, worked out once.
    fn facts(&mut self, host: &str) -> Option<&HostFacts> {
        if self.last.as_ref().is_none_or(|(h, _)| **h != *host) {
            let facts = self.facts_by_map(host).cloned();
            self.last = facts.map(|f| (host.into(), f));
        }
        self.last.as_ref().map(|(_, f)| f)
    }

    fn facts_by_map(&mut self, host: &str) -> Option<&HostFacts> {
        if !self.hosts.contains_key(host) {
            let settings = &self.settings;
            if self.hosts.len() >= MAX_HOSTS {
                self.hosts.clear();
            }
            let facts = HostFacts {
                module_host: crate::sniff::http::host_name(host)
                    .map(|n| settings.goproxy.is_module_host(&n)),
                prefix: settings.goproxy.prefix_for(host).into(),
            };
            self.hosts.insert(host.into(), facts);
        }
        self.hosts.get(host)
    }

    /// [`is_module_fetch`] of `c` under the memo's settings, the same
    /// answer.
    pub fn is_module_fetch(&mut self, c: &Connection) -> bool {
        let Some(app) = c.app.as_deref() else {
            return c
                .dns_name
                .as_deref()
                .is_some_and(|d| self.settings.goproxy.is_module_host(d));
        };
        // The server's name as `verdict::server_name` picks it: the SNI,
        // else the first Host that gives a name, else the DNS answer.
        let named = match app.client_hello().and_then(|h| h.sni.as_deref()) {
            Some(sni) => Some(self.settings.goproxy.is_module_host(sni)),
            None => {
                let mut named = None;
                for host in app.http.iter().filter_map(|x| x.request.host.as_deref()) {
                    named = self.facts(host).and_then(|f| f.module_host);
                    if named.is_some() {
                        break;
                    }
                }
                named.or_else(|| {
                    c.dns_name
                        .as_deref()
                        .map(|d| self.settings.goproxy.is_module_host(d))
                })
            }
        };
        if named == Some(true) {
            return true;
        }
        for x in &app.http {
            let prefix = match x.request.host.as_deref() {
                Some(h) => self.facts(h).map_or("", |f| &f.prefix),
                None => "",
            };
            if gomod::parse_path(&x.request.path, prefix).is_some() {
                return true;
            }
        }
        false
    }
}

/// The ICMP error of a connection, as reported.
pub fn icmp_report(c: &Connection) -> Option<IcmpReport> {
    c.icmp.map(|i| IcmpReport {
        frame: i.at.frame,
        sender: i.sender.to_string(),
        v6: i.v6,
        icmp_type: i.icmp_type,
        code: i.code,
        quotes_syn: i.quotes_syn,
    })
}

/// One DNS query, as reported (the JSON `dns` array).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DnsReport {
    /// Always `dns`: tells these objects from connections in NDJSON.
    pub record: &'static str,
    pub name: String,
    pub qtype: String,
    pub outcome: DnsOutcome,
    /// `dns_failure` for nxdomain, servfail, refused and timeout; else `ok`.
    pub verdict: &'static str,
    /// For a failure, where it failed: the outcome (`nxdomain`, `servfail`,
    /// `refused`, `other_error`, `timeout`); `null` when ok.
    pub stage: Option<&'static str>,
    pub rcode: Option<String>,
    #[serde(serialize_with = "super::serialize_endpoint")]
    pub client: SocketAddr,
    #[serde(serialize_with = "super::serialize_endpoint")]
    pub server: SocketAddr,
    /// `udp` or `tcp`.
    pub transport: &'static str,
    pub first_frame: u64,
    pub time: String,
    /// Since the first packet of the capture (seconds in JSON).
    #[serde(serialize_with = "crate::time::serialize_secs")]
    pub start_offset_s: Nanos,
    pub query_frames: Vec<u64>,
    pub retransmissions: u32,
    pub response_frame: Option<u64>,
    pub response_ms: Option<Nanos>,
    /// Addresses in the answer.
    pub answers: Vec<String>,
    /// The CNAME chain, in order.
    pub cnames: Vec<String>,
    pub explanation: Option<String>,
    /// The name is a Go module proxy or checksum database.
    pub module_host: bool,
}

impl DnsReport {
    pub fn is_failure(&self) -> bool {
        self.outcome.is_failure()
    }
}

/// Builds the report of one finished DNS query.
pub fn dns_report(
    q: &DnsQuery,
    capture_start: Ts,
    capture_end: Ts,
    settings: &AppSettings,
) -> DnsReport {
    let server_addr = SocketAddr::new(q.server.0, q.server.1);
    let server = crate::decimal::endpoint(server_addr);
    let qtype = dns::qtype_name(q.qtype);
    let tries = match q.retransmissions {
        0 => String::new(),
        1 => ", sent twice".to_string(),
        n => format!(", sent {} times", n + 1),
    };
    let explanation = match q.outcome {
        DnsOutcome::Nxdomain => Some(format!(
            "{server} answered NXDOMAIN for {} {qtype} (frame {}): the name does not exist there",
            q.name,
            q.response.map_or(0, |r| r.frame)
        )),
        DnsOutcome::Servfail => Some(format!(
            "{server} answered SERVFAIL for {} {qtype} (frame {}): the resolver could not resolve it (upstream unreachable or DNSSEC failure)",
            q.name,
            q.response.map_or(0, |r| r.frame)
        )),
        DnsOutcome::Refused => Some(format!(
            "{server} REFUSED the query for {} {qtype} (frame {}): it does not resolve this name for this client (policy, or not a recursive resolver)",
            q.name,
            q.response.map_or(0, |r| r.frame)
        )),
        DnsOutcome::Timeout => Some(format!(
            "query for {} {qtype} to {server} (frame {}{tries}) got no response; the capture went on for {} s after it",
            q.name,
            q.first.frame,
            Nanos::between(q.first.ts, capture_end).secs(1)
        )),
        _ => None,
    };
    DnsReport {
        record: "dns",
        module_host: settings.goproxy.is_module_host(&q.name),
        name: q.name.clone(),
        qtype,
        outcome: q.outcome,
        verdict: if q.outcome.is_failure() {
            "dns_failure"
        } else {
            "ok"
        },
        stage: q.outcome.is_failure().then(|| q.outcome.as_str()),
        rcode: q.rcode.map(dns::rcode_name),
        client: SocketAddr::new(q.client.0, q.client.1),
        server: server_addr,
        transport: match q.transport {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
        },
        first_frame: q.first.frame,
        time: q.first.ts.rfc3339(),
        start_offset_s: Nanos::between(capture_start, q.first.ts),
        query_frames: q.query_frames.clone(),
        retransmissions: q.retransmissions,
        response_frame: q.response.map(|r| r.frame),
        response_ms: q.response.map(|r| Nanos::between(q.first.ts, r.ts)),
        answers: q.addresses.iter().map(|a| a.to_string()).collect(),
        cnames: q.cnames.clone(),
        explanation,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{Decoded, decode_frame};
    use crate::flows::{Event, FlowTable};

    /// The connections of a capture in testdata/, named by their DNS
    /// answer when `dns` (as the analysis names them).
    fn connections(name: &str, dns: Option<&str>) -> Vec<Connection> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("testdata")
            .join(name);
        let mut src = crate::source::open_path(&path).unwrap();
        let mut t = FlowTable::new();
        let mut n = 0;
        while let Some(f) = src.next_frame().unwrap() {
            n += 1;
            if let Ok(Decoded::Tcp(seg)) = decode_frame(&f) {
                t.on_tcp(&seg, Event { frame: n, ts: f.ts });
            }
        }
        let mut conns = t.into_connections();
        for c in &mut conns {
            c.dns_name = dns.map(str::to_string);
        }
        conns
    }

    /// Remembering what each Host says gives what working it out for
    /// every connection gives, whatever the GOPROXY setting and the DNS
    /// name, on captures of module fetches (plain, SNI, sumdb, one named
    /// by an address) and others.
    #[test]
    fn module_fetches_remembered_are_the_same() {
        let settings: Vec<AppSettings> = [
            "",
            "http://goproxy.corp.example:8080",
            "https://GoProxy.Corp.Example./corp.example/",
            "https://10.77.2.20/",
        ]
        .iter()
        .map(|g| AppSettings {
            goproxy: if g.is_empty() {
                GoProxy::default()
            } else {
                GoProxy::parse(g).unwrap()
            },
            ..AppSettings::default()
        })
        .collect();
        let (mut yes, mut no) = (0, 0);
        for name in [
            "gomod_ok.pcap",
            "gomod_fallback.pcap",
            "gomod_auth_407.pcap",
            "gomod_sni_reset.pcap",
            "sumdb_sni_reset.pcap",
            "accept_no_response.pcap",
            "port_reuse.pcap",
            "mixed.pcapng",
        ] {
            for dns in [None, Some("proxy.golang.org"), Some("bench.example")] {
                let conns = connections(name, dns);
                for s in &settings {
                    let mut memo = ModuleFetches::new(s);
                    // Twice: the second time from what was remembered.
                    for _ in 0..2 {
                        for c in &conns {
                            let want = is_module_fetch(c, s);
                            assert_eq!(memo.is_module_fetch(c), want, "{name} {dns:?}");
                            if want { yes += 1 } else { no += 1 }
                        }
                    }
                }
            }
        }
        assert!(yes > 50 && no > 50, "both answers seen: {yes} yes, {no} no");
    }

    /// The same on made-up exchanges: up to three requests a connection,
    /// each Host an address, a module host or not, with or without a
    /// `GOPROXY` path prefix, so that the name comes from a later request
    /// or from DNS and a prefix decides.
    #[test]
    fn module_fetches_remembered_on_many_hosts() {
        let base = connections("gomod_ok.pcap", None)
            .into_iter()
            .find(|c| c.app.as_ref().is_some_and(|a| !a.http.is_empty()))
            .expect("an HTTP connection");
        let x0 = base.app.as_ref().unwrap().http[0].clone();
        let hosts = [
            None,
            Some("10.77.2.20"),
            Some("[fd77::1]:80"),
            Some("other.example"),
            Some("GoProxy.Corp.Example:8080"),
            Some("proxy.golang.org."),
        ];
        let paths = [
            "/objects/1",
            "/goproxy/golang.org/x/mod/@v/list",
            "/golang.org/x/mod/@v/list",
        ];
        let settings = ["", "https://goproxy.corp.example/goproxy"].map(|g| AppSettings {
            goproxy: if g.is_empty() {
                GoProxy::default()
            } else {
                GoProxy::parse(g).unwrap()
            },
            ..AppSettings::default()
        });
        let mut answers = [0; 2];
        let ex = |h: Option<&str>, p: &str| {
            let mut x = x0.clone();
            x.request.host = h.map(str::to_string);
            x.request.path = p.to_string();
            x
        };
        for s in &settings {
            let mut memo = ModuleFetches::new(s);
            for dns in [None, Some("proxy.golang.org"), Some("other.example")] {
                for (h1, p1) in hosts
                    .iter()
                    .flat_map(|h| paths.iter().map(move |p| (*h, *p)))
                {
                    for (h2, p2) in hosts
                        .iter()
                        .flat_map(|h| paths.iter().map(move |p| (*h, *p)))
                    {
                        for third in [None, Some((Some("goproxy.corp.example"), paths[1]))] {
                            let mut c = base.clone();
                            c.dns_name = dns.map(str::to_string);
                            let app = c.app.as_mut().unwrap();
                            app.http = vec![ex(h1, p1), ex(h2, p2)];
                            if let Some((h, p)) = third {
                                app.http.push(ex(h, p));
                            }
                            let want = is_module_fetch(&c, s);
                            assert_eq!(
                                memo.is_module_fetch(&c),
                                want,
                                "{h1:?} {h2:?} {third:?} {dns:?}"
                            );
                            answers[usize::from(want)] += 1;
                        }
                    }
                }
            }
        }
        assert!(answers[0] > 100 && answers[1] > 100, "{answers:?}");
    }
}
