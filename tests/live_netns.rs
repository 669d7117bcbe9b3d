//! Live capture between network namespaces that this test creates (client
//! and server joined by a veth pair, addresses in 10.77.0.0/16 only).
//! Needs root, `ip`, `iptables`, python3 and libpcap at run time; each test
//! prints why and returns when something is missing. `.ci/run` installs
//! them. Namespaces are removed by name and processes killed by PID.

mod testkit;

use serde_json::Value;
use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const SERVER_PY: &str = r#"
import socket, sys, threading, time
def stall(c):
    try:
        c.recv(4096); time.sleep(30)
    finally:
        c.close()
def abort(c):
    c.recv(4096)
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"x" * 20000)
    time.sleep(0.2)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    c.close()
def ok(c):
    c.recv(4096)
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
    c.close()
def serve(port, fn):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port)); s.listen(16)
    while True:
        c, _ = s.accept(); threading.Thread(target=fn, args=(c,), daemon=True).start()
for port, fn in ((9001, stall), (9002, abort), (9005, ok)):
    threading.Thread(target=serve, args=(port, fn), daemon=True).start()
print("ready", flush=True)
time.sleep(60)
"#;

const CLIENT_PY: &str = r#"
import socket, sys, threading, time
host = sys.argv[1]; ports = [int(p) for p in sys.argv[2].split(",")]
def one(port):
    s = socket.socket(); s.settimeout(3.0)
    try:
        s.connect((host, port))
        s.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        while s.recv(65536): pass
    except Exception as e:
        print(port, type(e).__name__, flush=True)
    finally:
        s.close()
ts = [threading.Thread(target=one, args=(p,)) for p in ports]
for t in ts: t.start(); time.sleep(0.2)
for t in ts: t.join()
"#;

fn have(cmd: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {cmd} >/dev/null 2>&1")])
        .status()
        .is_ok_and(|s| s.success())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0"))
}

/// libpcap loads: `tcptriage interfaces` works only then.
fn libpcap_present() -> bool {
    Command::new(env!("CARGO_BIN_EXE_tcptriage"))
        .arg("interfaces")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn skip_reason() -> Option<&'static str> {
    if !is_root() {
        return Some("not root");
    }
    for c in ["ip", "iptables", "python3"] {
        if !have(c) {
            return Some("ip, iptables or python3 missing");
        }
    }
    if !libpcap_present() {
        return Some("libpcap not installed");
    }
    None
}

fn run(args: &[&str]) {
    let st = Command::new(args[0]).args(&args[1..]).status().unwrap();
    assert!(st.success(), "{args:?} failed");
}

/// A client and a server namespace joined by a veth pair; removed on drop.
struct Net {
    client: String,
    server: String,
    client_ip: String,
    server_ip: String,
    iface: String,
    dir: PathBuf,
    children: Vec<Child>,
}

impl Net {
    fn new(tag: &str, subnet: u8) -> Net {
        let pid = std::process::id() % 100_000;
        let client = format!("tt-lc-{tag}-{pid}");
        let server = format!("tt-ls-{tag}-{pid}");
        for ns in [&client, &server] {
            let _ = Command::new("ip")
                .args(["netns", "del", ns])
                .stderr(Stdio::null())
                .status();
        }
        let dir = std::env::temp_dir().join(format!("tcptriage-live-{tag}-{pid}"));
        std::fs::create_dir_all(&dir).unwrap();
        let net = Net {
            client_ip: format!("10.77.{subnet}.1"),
            server_ip: format!("10.77.{subnet}.2"),
            iface: "veth0".to_string(),
            client,
            server,
            dir,
            children: Vec::new(),
        };
        run(&["ip", "netns", "add", &net.client]);
        run(&["ip", "netns", "add", &net.server]);
        run(&[
            "ip",
            "link",
            "add",
            "tt-lv",
            "netns",
            &net.client,
            "type",
            "veth",
            "peer",
            "name",
            "tt-lvp",
            "netns",
            &net.server,
        ]);
        let c = |args: &[&str]| {
            let mut v = vec!["ip", "netns", "exec", &net.client];
            v.extend_from_slice(args);
            run(&v);
        };
        let s = |args: &[&str]| {
            let mut v = vec!["ip", "netns", "exec", &net.server];
            v.extend_from_slice(args);
            run(&v);
        };
        c(&["ip", "link", "set", "tt-lv", "name", "veth0"]);
        s(&["ip", "link", "set", "tt-lvp", "name", "veth0"]);
        c(&[
            "ip",
            "addr",
            "add",
            &format!("{}/24", net.client_ip),
            "dev",
            "veth0",
        ]);
        s(&[
            "ip",
            "addr",
            "add",
            &format!("{}/24", net.server_ip),
            "dev",
            "veth0",
        ]);
        for f in [&c as &dyn Fn(&[&str]), &s] {
            f(&["ip", "link", "set", "lo", "up"]);
            f(&["ip", "link", "set", "veth0", "up"]);
        }
        // The firewall: port 9004 silently dropped.
        s(&[
            "iptables", "-A", "INPUT", "-p", "tcp", "--dport", "9004", "-j", "DROP",
        ]);
        net
    }

    fn exec(&self, ns: &str, args: &[&str]) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", ns]).args(args);
        cmd
    }

    fn start_server(&mut self) {
        let py = self.dir.join("server.py");
        std::fs::write(&py, SERVER_PY).unwrap();
        let mut child = self
            .exec(
                &self.server.clone(),
                &["python3", "-u", py.to_str().unwrap()],
            )
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut buf = [0u8; 6];
        child.stdout.as_mut().unwrap().read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"ready\n");
        self.children.push(child);
    }

    fn clients(&self, ports: &str) -> Child {
        let py = self.dir.join("client.py");
        std::fs::write(&py, CLIENT_PY).unwrap();
        self.exec(
            &self.client,
            &["python3", py.to_str().unwrap(), &self.server_ip, ports],
        )
        .stdout(Stdio::null())
        .spawn()
        .unwrap()
    }

    fn live(&self, extra: &[&str]) -> Child {
        let mut args = vec![env!("CARGO_BIN_EXE_tcptriage"), "live", "-i", &self.iface];
        args.extend_from_slice(extra);
        self.exec(&self.client, &args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        for ns in [&self.client, &self.server] {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn parse_lines(out: &str) -> Vec<Value> {
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

#[test]
fn live_streams_every_verdict_and_summarises() {
    if let Some(why) = skip_reason() {
        eprintln!("skipping live capture test: {why}");
        return;
    }
    let mut net = Net::new("a", 61);
    net.start_server();
    let pcap = net.dir.join("seen.pcapng");
    let live = net.live(&[
        "-f",
        "tcp portrange 9001-9004",
        "--format",
        "ndjson",
        "--duration",
        "14s",
        "--stall-after",
        "2s",
        "--write",
        pcap.to_str().unwrap(),
    ]);
    std::thread::sleep(Duration::from_millis(700));
    let mut clients = net.clients("9004,9003,9001,9002");
    // Traffic the filter must keep out.
    let mut other = net.clients("9005");
    let _ = clients.wait();
    let _ = other.wait();
    let (code, out, err) = testkit::wait_output(live, Duration::from_secs(40));
    assert_eq!(code, Some(0), "{err}");
    let lines = parse_lines(&out);
    let summary = lines.last().unwrap();
    assert!(summary["summary"].is_object(), "{out}");
    let conns: Vec<&Value> = lines
        .iter()
        .filter(|l| l.get("verdict").is_some())
        .collect();
    let by_port = |p: u64| {
        conns
            .iter()
            .find(|c| c["server_port"] == p)
            .unwrap_or_else(|| panic!("no connection to {p}:\n{out}\n{err}"))
    };
    assert_eq!(by_port(9004)["verdict"], "firewall_drop");
    assert_eq!(by_port(9003)["verdict"], "service_down");
    assert_eq!(by_port(9001)["verdict"], "app_stall");
    assert_eq!(by_port(9001)["stage"], "awaiting_response");
    assert_eq!(by_port(9002)["verdict"], "midstream_reset");
    assert!(
        conns.iter().all(|c| c["server_port"] != 9005),
        "the BPF filter let port 9005 in:\n{out}"
    );
    // Every verdict was streamed while capturing, not only in the final report.
    let live_info = &summary["capture"]["live"];
    assert_eq!(live_info["reported_live"], 4, "{out}");
    assert_eq!(live_info["stopped_by"], "duration");
    assert!(live_info["received"].as_u64().unwrap() > 0);
    let s = &summary["summary"];
    assert_eq!(s["connections"], 4);
    assert_eq!(s["failed"], 4);
    for v in [
        "firewall_drop",
        "service_down",
        "app_stall",
        "midstream_reset",
    ] {
        assert_eq!(s["verdicts"][v], 1, "{v}: {out}");
    }

    // The saved capture gives the same verdicts when analysed.
    let a = Command::new(env!("CARGO_BIN_EXE_tcptriage"))
        .args(["analyze", "-F", "ndjson"])
        .arg(&pcap)
        .output()
        .unwrap();
    assert_eq!(
        a.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&a.stderr)
    );
    let mut saved: Vec<(u64, String)> = parse_lines(&String::from_utf8_lossy(&a.stdout))
        .iter()
        .map(|c| {
            (
                c["server_port"].as_u64().unwrap(),
                c["verdict"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    saved.sort();
    assert_eq!(
        saved,
        [
            (9001, "app_stall".to_string()),
            (9002, "midstream_reset".to_string()),
            (9003, "service_down".to_string()),
            (9004, "firewall_drop".to_string())
        ]
    );
    if Command::new("tshark")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        let t = Command::new("tshark")
            .arg("-r")
            .arg(&pcap)
            .output()
            .unwrap();
        assert!(t.status.success());
        let err = String::from_utf8_lossy(&t.stderr);
        assert!(
            err.lines().all(|l| l.contains("Running as user")),
            "tshark warned: {err}"
        );
    }
}

#[test]
fn sigint_prints_the_final_report() {
    if let Some(why) = skip_reason() {
        eprintln!("skipping live capture test: {why}");
        return;
    }
    let net = Net::new("b", 62);
    let live = net.live(&["-f", "tcp", "--format", "table"]);
    std::thread::sleep(Duration::from_millis(700));
    let mut c = net.clients("9003");
    let _ = c.wait();
    std::thread::sleep(Duration::from_millis(1500));
    let pid = live.id().to_string();
    // `ip netns exec` execs the binary, so this PID is tcptriage itself.
    run(&["kill", "-INT", &pid]);
    let (code, out, err) = testkit::wait_output(live, Duration::from_secs(15));
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("service_down/syn"), "no streamed line:\n{out}");
    assert!(out.contains("Summary"), "{out}");
    assert!(out.contains("stopped by signal"), "{out}");
    assert!(out.contains("1 service_down"), "{out}");
}

#[test]
fn bad_filter_and_missing_libpcap_are_clear_errors() {
    if let Some(why) = skip_reason() {
        eprintln!("skipping live capture test: {why}");
        return;
    }
    let out = Command::new(env!("CARGO_BIN_EXE_tcptriage"))
        .args(["live", "-i", "lo", "-f", "tcp port"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("tcp port") && err.to_lowercase().contains("syntax"),
        "{err}"
    );

    let out = Command::new(env!("CARGO_BIN_EXE_tcptriage"))
        .args(["live", "-i", "lo"])
        .env("TCPTRIAGE_LIBPCAP", "libtcptriage-nope.so")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("libpcap0.8"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

/// Answers every DNS query on UDP port 53 with NXDOMAIN.
const DNS_NXDOMAIN_PY: &str = r#"
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 53)); s.settimeout(1.0)
print("ready", flush=True)
end = time.time() + 30
while time.time() < end:
    try:
        q, peer = s.recvfrom(512)
    except socket.timeout:
        continue
    if len(q) < 12: continue
    s.sendto(q[:2] + bytes([0x81, 0x83]) + q[4:], peer)
"#;

/// Sends one A query for blocked.corp.example to the address in argv[1].
const DNS_QUERY_PY: &str = r#"
import socket, sys
q = b"\x4a\x4b\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00" + b"\x07blocked\x04corp\x07example\x00" + b"\x00\x01\x00\x01"
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2.0)
s.sendto(q, (sys.argv[1], 53))
try: s.recvfrom(512)
except Exception: pass
"#;

#[test]
fn live_reports_dns_failures_as_they_happen() {
    if let Some(why) = skip_reason() {
        eprintln!("skipping live capture test: {why}");
        return;
    }
    let mut net = Net::new("d", 63);
    let srv = net.dir.join("dns.py");
    std::fs::write(&srv, DNS_NXDOMAIN_PY).unwrap();
    let mut child = net
        .exec(
            &net.server.clone(),
            &["python3", "-u", srv.to_str().unwrap()],
        )
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut buf = [0u8; 6];
    child.stdout.as_mut().unwrap().read_exact(&mut buf).unwrap();
    net.children.push(child);
    let live = net.live(&["-f", "udp port 53", "--duration", "4s"]);
    std::thread::sleep(Duration::from_millis(700));
    let cli = net.dir.join("q.py");
    std::fs::write(&cli, DNS_QUERY_PY).unwrap();
    let _ = net
        .exec(
            &net.client.clone(),
            &["python3", cli.to_str().unwrap(), &net.server_ip],
        )
        .status();
    let (code, out, err) = testkit::wait_output(live, Duration::from_secs(30));
    assert_eq!(code, Some(0), "{err}");
    // The line printed while capturing, before the final summary.
    let line = out
        .lines()
        .find(|l| l.contains("dns    dns_failure/nxdomain"))
        .unwrap_or_else(|| panic!("no live DNS line:\n{out}\n{err}"));
    assert!(line.contains("blocked.corp.example A"), "{line}");
    let summary_at = out.find("\nSummary").unwrap();
    assert!(out.find(line).unwrap() < summary_at, "{out}");
    assert!(out.contains("dns          1 query, 1 failed"), "{out}");
}
