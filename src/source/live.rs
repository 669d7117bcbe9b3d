//! Live capture through libpcap, loaded at run time (dlopen), so building and
//! testing need no libpcap; capturing needs libpcap0.8 (Debian) and
//! CAP_NET_RAW.
//!
//! The library is looked up as `libpcap.so.1`, then `libpcap.so.0.8`, then
//! `libpcap.so`. The environment variable `TCPTRIAGE_LIBPCAP` (a test hook)
//! replaces that list with the one name it holds.
//!
//! All `unsafe` code lives in the `ffi` submodule (`live_ffi.rs`).

#[path = "live_ffi.rs"]
mod ffi;

pub use super::live_types::*;
use super::{Frame, PacketSource, SourceError};
use crate::time::Ts;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// libpcap status codes (`PCAP_ERROR_*`) we tell apart.
const PCAP_ERROR: i32 = -1;
const PCAP_ERROR_NO_SUCH_DEVICE: i32 = -5;
const PCAP_ERROR_PERM_DENIED: i32 = -8;
const PCAP_ERROR_PROMISC_PERM_DENIED: i32 = -11;

/// Interrupts a running capture from another thread (e.g. one waiting for
/// Ctrl-C). Calling it after the source is dropped does nothing.
#[derive(Clone)]
pub struct Breaker(ffi::Breaker, Arc<AtomicBool>);

impl std::fmt::Debug for Breaker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Breaker")
    }
}

impl Breaker {
    /// Makes the current (or next) [`LiveSource::next`] return
    /// [`LiveNext::Stopped`] (`pcap_breakloop`).
    pub fn stop(&self) {
        // libpcap only checks its break flag inside a blocking wait, and
        // our reads are non-blocking: keep our own flag too.
        self.1.store(true, Ordering::SeqCst);
        self.0.breakloop();
    }
}

/// What one `pcap_next_ex` yielded, without the packet's borrow.
enum Step {
    Packet,
    Timeout,
    Stopped,
}

/// An open live capture. Owns the libpcap handle and the loaded library;
/// dropping it closes the handle.
pub struct LiveSource {
    /// The selectable descriptor; reads are non-blocking, waits bounded.
    fd: i32,
    /// Set by [`Breaker::stop`]; reported once as [`LiveNext::Stopped`].
    stop: Arc<AtomicBool>,
    timeout_ms: i32,
    handle: ffi::Handle,
    interface: String,
    linktype: u32,
    nanos: bool,
    count: u64,
    warnings: Vec<String>,
}

impl std::fmt::Debug for LiveSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveSource")
            .field("interface", &self.interface)
            .field("linktype", &self.linktype)
            .field("nanos", &self.nanos)
            .field("count", &self.count)
            .finish()
    }
}

/// The library names to try: the one in `env` (the value of
/// `TCPTRIAGE_LIBPCAP`) if set and non-empty, else the default list.
pub fn candidate_names(env: Option<&str>) -> Vec<String> {
    match env.map(str::trim) {
        Some(name) if !name.is_empty() => vec![name.to_string()],
        _ => DEFAULT_LIBPCAP_NAMES
            .iter()
            .map(|s| s.to_string())
            .collect(),
    }
}

fn env_candidates() -> Vec<String> {
    let env = std::env::var(LIBPCAP_ENV).ok();
    candidate_names(env.as_deref())
}

/// Loads the first library of `names` that is a usable libpcap.
fn load_with(names: &[String]) -> Result<Arc<ffi::Pcap>, LiveError> {
    let mut missing_symbol = None;
    for name in names {
        match ffi::Pcap::load(name) {
            Ok(p) => return Ok(p),
            Err(ffi::LoadError::NotFound) => {}
            Err(ffi::LoadError::MissingSymbol { library, message }) => {
                missing_symbol.get_or_insert(format!(
                    "{library} is too old for live capture (libpcap 1.5 or later is needed): {message}"
                ));
            }
        }
    }
    Err(match missing_symbol {
        Some(m) => LiveError::Capture(m),
        None => LiveError::LibpcapMissing {
            tried: names.join(", "),
        },
    })
}

/// Maps a failed `pcap_activate` to an error.
fn activate_error(status: i32, message: String, interface: &str) -> LiveError {
    let interface = interface.to_string();
    let lower = message.to_ascii_lowercase();
    match status {
        PCAP_ERROR_PERM_DENIED | PCAP_ERROR_PROMISC_PERM_DENIED => {
            LiveError::Permission { interface, message }
        }
        PCAP_ERROR_NO_SUCH_DEVICE => LiveError::NoSuchDevice { interface, message },
        PCAP_ERROR
            if lower.contains("operation not permitted") || lower.contains("permission denied") =>
        {
            LiveError::Permission { interface, message }
        }
        PCAP_ERROR if lower.contains("no such device") => {
            LiveError::NoSuchDevice { interface, message }
        }
        _ => LiveError::Capture(format!("{interface}: {message}")),
    }
}

/// DLT_* values that differ from the LINKTYPE_* value written to files.
fn dlt_to_linktype(dlt: i32) -> u32 {
    match dlt {
        // DLT_RAW is 12 (14 on OpenBSD); files say LINKTYPE_RAW.
        12 | 14 => crate::packet::link::RAW,
        d => d as u32,
    }
}

impl LiveSource {
    /// Opens and starts a capture: create, snaplen, promiscuous mode,
    /// timeout, immediate mode, nanosecond timestamps (microseconds if the
    /// interface cannot do better), activate, then the filter if any.
    pub fn open(opts: &LiveOptions) -> Result<LiveSource, LiveError> {
        Self::open_with(opts, &env_candidates())
    }

    /// [`LiveSource::open`] with an explicit list of library names.
    pub(crate) fn open_with(opts: &LiveOptions, names: &[String]) -> Result<LiveSource, LiveError> {
        let pcap = load_with(names)?;
        let iface = &opts.interface;
        let c_iface = ffi::c_string(iface).ok_or_else(|| LiveError::NoSuchDevice {
            interface: iface.clone(),
            message: "the name contains a NUL byte".to_string(),
        })?;
        let mut handle = ffi::Handle::create(&pcap, &c_iface)
            .map_err(|m| LiveError::Capture(format!("{iface}: {m}")))?;
        let mut warnings = Vec::new();
        let snaplen = i32::try_from(opts.snaplen).unwrap_or(i32::MAX);
        let timeout = i32::try_from(opts.timeout_ms).unwrap_or(i32::MAX);
        // These only fail on an already-activated handle, which this is not.
        handle.set_snaplen(snaplen);
        handle.set_promisc(opts.promisc);
        handle.set_timeout(timeout);
        // Not immediate mode: on Linux (TPACKET_V3) it makes libpcap wait
        // for a packet without the read timeout, and a quiet link must
        // still wake us to advance capture time. The timeout (100 ms by
        // default) bounds how late a packet is delivered instead.
        handle.set_immediate_mode(false);
        let nanos = handle.set_nano_precision() == 0;
        let status = handle.activate();
        if status < 0 {
            let mut message = handle.geterr();
            if message.is_empty() {
                message = pcap
                    .status_str(status)
                    .unwrap_or_else(|| format!("pcap_activate returned {status}"));
            }
            return Err(activate_error(status, message, iface));
        }
        if status > 0 {
            // A warning (e.g. promiscuous mode not supported); capture works.
            let mut message = handle.geterr();
            if message.is_empty() {
                message = pcap
                    .status_str(status)
                    .unwrap_or_else(|| format!("warning {status}"));
            }
            warnings.push(format!("{iface}: {message}"));
        }
        if let Some(filter) = &opts.filter {
            let bad = |message: String| LiveError::BadFilter {
                filter: filter.clone(),
                message,
            };
            let c_filter =
                ffi::c_string(filter).ok_or_else(|| bad("contains a NUL byte".to_string()))?;
            handle.set_filter(&c_filter).map_err(bad)?;
        }
        let linktype = dlt_to_linktype(handle.datalink());
        let fd = handle
            .set_nonblocking()
            .map_err(|m| LiveError::Capture(format!("{iface}: {m}")))?;
        Ok(LiveSource {
            fd,
            stop: Arc::new(AtomicBool::new(false)),
            timeout_ms: timeout,
            handle,
            interface: iface.clone(),
            linktype,
            nanos,
            count: 0,
            warnings,
        })
    }

    /// Waits for the next packet (at most about `timeout_ms`).
    ///
    /// The returned [`Frame`] borrows libpcap's buffer and is valid only
    /// until the next call on this source. Frames are numbered from 1.
    /// After [`LiveNext::Stopped`] the source can still be read again.
    // Not an Iterator: each item borrows the source.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Result<LiveNext<'_>, LiveError> {
        match self.step()? {
            Step::Packet => Ok(match self.frame_from_last() {
                Some(f) => LiveNext::Frame(f),
                None => return Err(LiveError::Capture("pcap_next_ex lost its packet".into())),
            }),
            Step::Timeout => Ok(LiveNext::Timeout),
            Step::Stopped => Ok(LiveNext::Stopped),
        }
    }

    /// One `pcap_next_ex`; on a packet, counts it (read it with
    /// [`LiveSource::frame_from_last`]).
    fn step(&mut self) -> Result<Step, LiveError> {
        // Non-blocking reads; wait for the descriptor in slices of at most
        // 100 ms so that a breakloop (which only sets a flag that the next
        // read sees) is noticed promptly, up to the read timeout in all.
        let started = std::time::Instant::now();
        let limit = std::time::Duration::from_millis(self.timeout_ms.max(0) as u64);
        let rc = loop {
            if self.stop.swap(false, Ordering::SeqCst) {
                return Ok(Step::Stopped);
            }
            let rc = self.handle.next_ex();
            if !matches!(rc, ffi::NextEx::Timeout) {
                break rc;
            }
            let left = limit.saturating_sub(started.elapsed());
            if left.is_zero() {
                return Ok(Step::Timeout);
            }
            ffi::wait_readable(self.fd, left.as_millis().clamp(1, 100) as i32);
        };
        match rc {
            ffi::NextEx::Packet => {
                self.count += 1;
                Ok(Step::Packet)
            }
            ffi::NextEx::Timeout => Ok(Step::Timeout),
            ffi::NextEx::Break => Ok(Step::Stopped),
            ffi::NextEx::Error(m) => Err(LiveError::Capture(format!("{}: {m}", self.interface))),
            ffi::NextEx::Other(rc) => Err(LiveError::Capture(format!(
                "{}: pcap_next_ex returned {rc}",
                self.interface
            ))),
        }
    }

    /// The frame read by the last [`LiveSource::step`], if it read one.
    fn frame_from_last(&self) -> Option<Frame<'_>> {
        let p = self.handle.packet()?;
        let ns = if self.nanos {
            p.frac
        } else {
            p.frac.saturating_mul(1000)
        };
        Some(Frame {
            number: self.count,
            ts: Ts::from_parts(p.secs, ns),
            linktype: self.linktype,
            orig_len: p.len.max(p.data.len() as u32),
            data: p.data,
        })
    }

    /// The capture's pcap LINKTYPE_* value.
    pub fn linktype(&self) -> u32 {
        self.linktype
    }

    /// Whether timestamps have nanosecond (rather than microsecond) precision.
    pub fn nanosecond_timestamps(&self) -> bool {
        self.nanos
    }

    /// The interface name.
    pub fn interface(&self) -> &str {
        &self.interface
    }

    /// Kernel counters, if libpcap can provide them.
    pub fn stats(&self) -> Option<LiveStats> {
        self.handle
            .stats()
            .map(|(received, dropped_kernel, dropped_interface)| LiveStats {
                received: received.into(),
                dropped_kernel: dropped_kernel.into(),
                dropped_interface: dropped_interface.into(),
            })
    }

    /// A handle that stops the capture from another thread.
    pub fn breaker(&self) -> Breaker {
        Breaker(self.handle.breaker(), Arc::clone(&self.stop))
    }
}

/// A live source as a [`PacketSource`]: timeouts are waited through, and
/// [`LiveNext::Stopped`] ends the stream.
impl PacketSource for LiveSource {
    fn next_frame(&mut self) -> Result<Option<Frame<'_>>, SourceError> {
        loop {
            match self.step() {
                Ok(Step::Packet) => return Ok(self.frame_from_last()),
                Ok(Step::Timeout) => continue,
                Ok(Step::Stopped) => return Ok(None),
                Err(e) => return Err(SourceError::Io(std::io::Error::other(e.to_string()))),
            }
        }
    }

    fn warnings(&self) -> &[String] {
        &self.warnings
    }

    fn format(&self) -> String {
        format!(
            "live capture on {} ({}, {})",
            self.interface,
            crate::packet::link::name(self.linktype),
            if self.nanos {
                "nanoseconds"
            } else {
                "microseconds"
            }
        )
    }
}

/// Lists the capture interfaces (`pcap_findalldevs`).
pub fn list_interfaces() -> Result<Vec<InterfaceInfo>, LiveError> {
    list_interfaces_with(&env_candidates())
}

pub(crate) fn list_interfaces_with(names: &[String]) -> Result<Vec<InterfaceInfo>, LiveError> {
    let pcap = load_with(names)?;
    let raw = pcap.find_all_devs().map_err(LiveError::Capture)?;
    Ok(raw
        .into_iter()
        .map(|r| InterfaceInfo {
            name: r.name,
            description: r.description,
            addresses: r.addresses,
            up: r.flags & ffi::PCAP_IF_UP != 0,
            running: r.flags & ffi::PCAP_IF_RUNNING != 0,
            loopback: r.flags & ffi::PCAP_IF_LOOPBACK != 0,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn is_root() -> bool {
        std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("Uid:"))
                    .map(|l| l.split_whitespace().nth(2) == Some("0"))
            })
            .unwrap_or(false)
    }

    /// Opens a capture, or explains on stderr why the test is skipped.
    fn open_or_skip(opts: &LiveOptions) -> Option<LiveSource> {
        if !is_root() {
            eprintln!("skipped: live capture tests need root");
            return None;
        }
        match LiveSource::open(opts) {
            Ok(s) => Some(s),
            Err(e @ LiveError::LibpcapMissing { .. }) => {
                eprintln!("skipped: {e}");
                None
            }
            Err(e) => panic!("opening {}: {e}", opts.interface),
        }
    }

    fn lo(filter: Option<&str>) -> LiveOptions {
        LiveOptions {
            interface: "lo".to_string(),
            filter: filter.map(str::to_string),
            ..LiveOptions::default()
        }
    }

    fn libpcap_loadable() -> bool {
        load_with(&env_candidates()).is_ok()
    }

    #[test]
    fn defaults() {
        let o = LiveOptions::default();
        assert_eq!((o.snaplen, o.promisc, o.timeout_ms), (262_144, true, 100));
        assert_eq!(o.filter, None);
    }

    #[test]
    fn candidate_names_default_and_override() {
        assert_eq!(
            candidate_names(None),
            ["libpcap.so.1", "libpcap.so.0.8", "libpcap.so"]
        );
        assert_eq!(candidate_names(Some("")), candidate_names(None));
        assert_eq!(candidate_names(Some("libnope.so")), ["libnope.so"]);
    }

    #[test]
    fn missing_library_names_the_package() {
        let err =
            LiveSource::open_with(&lo(None), &candidate_names(Some("libnope.so"))).unwrap_err();
        assert!(matches!(err, LiveError::LibpcapMissing { .. }), "{err:?}");
        let msg = err.to_string();
        assert!(msg.contains("tried libnope.so)"), "{msg}");
        assert!(msg.contains("apt-get install libpcap0.8"), "{msg}");
        assert!(!msg.contains('\n'));
        assert_eq!(err.exit_code(), 2);
        let err = list_interfaces_with(&["libnope.so".to_string()]).unwrap_err();
        assert!(matches!(err, LiveError::LibpcapMissing { .. }), "{err:?}");
    }

    #[test]
    fn default_missing_message_is_exact() {
        let err = load_with(
            &candidate_names(None)
                .iter()
                .map(|n| format!("{n}.nope"))
                .collect::<Vec<_>>(),
        );
        assert!(matches!(err, Err(LiveError::LibpcapMissing { .. })));
        let err = LiveError::LibpcapMissing {
            tried: DEFAULT_LIBPCAP_NAMES.join(", "),
        };
        assert_eq!(
            err.to_string(),
            "live capture needs libpcap at run time, which was not found (tried libpcap.so.1, libpcap.so.0.8, libpcap.so): install it with `apt-get install libpcap0.8`"
        );
    }

    #[test]
    fn a_library_without_pcap_symbols_is_not_taken_for_libpcap() {
        // libc loads but has no pcap_* functions.
        let err = load_with(&["libc.so.6".to_string()]).err().unwrap();
        assert!(
            matches!(&err, LiveError::Capture(m) if m.contains("libc.so.6")),
            "{err:?}"
        );
    }

    #[test]
    fn activate_errors_are_classified() {
        let perm = activate_error(
            PCAP_ERROR_PERM_DENIED,
            "eth0: You don't have permission".into(),
            "eth0",
        );
        assert!(matches!(perm, LiveError::Permission { .. }));
        let msg = perm.to_string();
        assert!(msg.contains("CAP_NET_RAW"), "{msg}");
        assert!(
            msg.contains("sudo setcap cap_net_raw,cap_net_admin=eip $(command -v tcptriage)"),
            "{msg}"
        );
        assert!(msg.contains("root"), "{msg}");
        let perm = activate_error(PCAP_ERROR, "socket: Operation not permitted".into(), "eth0");
        assert!(matches!(perm, LiveError::Permission { .. }));
        let nodev = activate_error(
            PCAP_ERROR_NO_SUCH_DEVICE,
            "No such device exists".into(),
            "x",
        );
        assert!(matches!(nodev, LiveError::NoSuchDevice { .. }));
        let other = activate_error(-9, "That device is not up".into(), "x");
        assert!(matches!(other, LiveError::Capture(_)));
    }

    #[test]
    fn list_interfaces_has_loopback() {
        if !is_root() || !libpcap_loadable() {
            eprintln!("skipped: needs root and libpcap");
            return;
        }
        let ifs = list_interfaces().unwrap();
        let lo = ifs.iter().find(|i| i.name == "lo").expect("lo listed");
        assert!(lo.loopback && lo.up, "{lo:?}");
        assert!(
            lo.addresses
                .contains(&std::net::IpAddr::from([127, 0, 0, 1])),
            "{lo:?}"
        );
    }

    #[test]
    fn bad_filter_has_libpcaps_message() {
        let Some(_) = open_or_skip(&lo(None)) else {
            return;
        };
        let err = LiveSource::open(&lo(Some("tcp port"))).unwrap_err();
        match &err {
            LiveError::BadFilter { filter, message } => {
                assert_eq!(filter, "tcp port");
                assert!(message.contains("syntax error"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        assert!(
            err.to_string()
                .starts_with("invalid capture filter `tcp port`: ")
        );
    }

    #[test]
    fn unknown_interface_is_no_such_device() {
        let Some(_) = open_or_skip(&lo(None)) else {
            return;
        };
        let mut opts = lo(None);
        opts.interface = "tcptriage-nope0".to_string();
        let err = LiveSource::open(&opts).unwrap_err();
        assert!(
            matches!(&err, LiveError::NoSuchDevice { interface, .. } if interface == "tcptriage-nope0"),
            "{err:?}"
        );
        eprintln!("{err}");
    }

    #[test]
    fn captures_a_syn_on_loopback() {
        const PORT: u16 = 47011;
        let Some(mut src) = open_or_skip(&lo(Some(&format!("tcp port {PORT}")))) else {
            return;
        };
        assert!(src.nanosecond_timestamps());
        let listener = std::net::TcpListener::bind(("127.0.0.1", PORT)).unwrap();
        let client = std::thread::spawn(move || {
            let s = std::net::TcpStream::connect(("127.0.0.1", PORT)).unwrap();
            let _ = listener.accept();
            drop(s);
        });
        let start = Instant::now();
        let before = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap();
        let mut seen_syn = false;
        let mut last_number = 0;
        // Everything captured is also written as pcapng and read back.
        let mut writer =
            crate::source::PcapngWriter::new(Vec::new(), src.linktype(), 262_144).unwrap();
        let mut written = Vec::new();
        for _ in 0..200 {
            if start.elapsed() > Duration::from_secs(3) {
                break;
            }
            match src.next().unwrap() {
                LiveNext::Frame(f) => {
                    assert_eq!(f.number, last_number + 1);
                    last_number = f.number;
                    assert_eq!(f.linktype, crate::packet::link::ETHERNET);
                    // Timestamps are real time in nanoseconds.
                    let ns = f.ts.0 as i128 - before.as_nanos() as i128;
                    assert!(ns.abs() < 60_000_000_000, "{:?}", f.ts);
                    writer.write(f.ts, f.orig_len, f.data).unwrap();
                    written.push((f.ts, f.orig_len, f.data.to_vec()));
                    if let Ok(crate::decode::Decoded::Tcp(seg)) = crate::decode::decode_frame(&f)
                        && seg.flags.syn()
                        && !seg.flags.ack()
                        && seg.dst_port == PORT
                    {
                        seen_syn = true;
                        break;
                    }
                }
                LiveNext::Timeout => {}
                LiveNext::Stopped => panic!("stopped"),
            }
        }
        client.join().unwrap();
        assert!(seen_syn, "no SYN seen in {last_number} frames");
        let stats = src.stats().expect("stats");
        assert!(stats.received >= 1, "{stats:?}");
        let bytes = writer.finish().unwrap();
        let mut back = crate::source::file::open_reader(std::io::Cursor::new(bytes)).unwrap();
        for (ts, len, data) in &written {
            let f = back.next_frame().unwrap().expect("frame written");
            assert_eq!((f.ts, f.orig_len, f.data), (*ts, *len, &data[..]));
        }
        assert!(back.next_frame().unwrap().is_none());
    }

    #[test]
    fn breaker_stops_a_waiting_capture() {
        // A filter nothing matches, and a long timeout: only the breaker
        // can end the wait early.
        let mut opts = lo(Some("tcp port 47012 and tcp port 47013"));
        opts.timeout_ms = 10_000;
        let Some(mut src) = open_or_skip(&opts) else {
            return;
        };
        let breaker = src.breaker();
        fn assert_send_sync<T: Send + Sync + Clone>(_: &T) {}
        assert_send_sync(&breaker);
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            breaker.stop();
            breaker
        });
        let start = Instant::now();
        let mut stopped = false;
        while start.elapsed() < Duration::from_secs(5) {
            if let LiveNext::Stopped = src.next().unwrap() {
                stopped = true;
                break;
            }
        }
        let breaker = t.join().unwrap();
        assert!(stopped);
        assert!(start.elapsed() < Duration::from_secs(5));
        // A breaker outliving its source does nothing.
        drop(src);
        breaker.stop();
    }

    #[test]
    fn packet_source_ends_when_stopped() {
        let mut opts = lo(Some("tcp port 47014 and tcp port 47015"));
        opts.timeout_ms = 50;
        let Some(mut src) = open_or_skip(&opts) else {
            return;
        };
        let breaker = src.breaker();
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            breaker.stop();
        });
        let src: &mut dyn PacketSource = &mut src;
        assert!(src.next_frame().unwrap().is_none());
        assert!(src.format().starts_with("live capture on lo"));
        t.join().unwrap();
    }

    /// Set in a child process (this test binary run again) to pick the
    /// check it performs; see [`run_child`].
    const CHILD_ENV: &str = "TCPTRIAGE_TEST_CHILD";

    /// Runs the test `name` of this binary in a child process with `env`
    /// set (env mutation is unsafe in this process), optionally through a
    /// wrapper command; returns the child's combined output.
    fn run_child(wrapper: &[&str], name: &str, env: &[(&str, &str)]) -> std::process::Output {
        let exe = std::env::current_exe().unwrap();
        let mut cmd = match wrapper.split_first() {
            Some((prog, args)) => {
                let mut c = std::process::Command::new(prog);
                c.args(args).arg(&exe);
                c
            }
            None => std::process::Command::new(&exe),
        };
        cmd.args(["--exact", name, "--nocapture", "--test-threads=1"]);
        cmd.env(CHILD_ENV, name);
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    }

    fn in_child(name: &str) -> bool {
        std::env::var(CHILD_ENV).ok().as_deref() == Some(name)
    }

    const CHILD_ENV_OVERRIDE: &str = "source::live_imp::tests::child_env_override";
    const CHILD_PERMISSION: &str = "source::live_imp::tests::child_permission";

    #[test]
    fn child_env_override() {
        if !in_child(CHILD_ENV_OVERRIDE) {
            return;
        }
        let err = LiveSource::open(&lo(None)).unwrap_err();
        assert!(matches!(err, LiveError::LibpcapMissing { .. }), "{err:?}");
        assert!(err.to_string().contains("(tried libnope.so)"), "{err}");
        let err = list_interfaces().unwrap_err();
        assert!(matches!(err, LiveError::LibpcapMissing { .. }), "{err:?}");
        println!("CHILD-OK");
    }

    #[test]
    fn env_var_replaces_the_library_list() {
        let out = run_child(&[], CHILD_ENV_OVERRIDE, &[(LIBPCAP_ENV, "libnope.so")]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success() && text.contains("CHILD-OK"), "{out:?}");
    }

    #[test]
    fn child_permission() {
        if !in_child(CHILD_PERMISSION) {
            return;
        }
        let err = LiveSource::open(&lo(None)).unwrap_err();
        assert!(
            matches!(&err, LiveError::Permission { interface, .. } if interface == "lo"),
            "{err:?}"
        );
        println!("CHILD-OK {err}");
    }

    /// Without root (uid 65534, no capabilities) opening `lo` is a
    /// permission error that names CAP_NET_RAW.
    #[test]
    fn unprivileged_capture_is_a_permission_error() {
        let has_setpriv = std::process::Command::new("setpriv")
            .arg("--version")
            .output()
            .is_ok();
        if !is_root() || !libpcap_loadable() || !has_setpriv {
            eprintln!("skipped: needs root (to drop it), libpcap and setpriv");
            return;
        }
        let wrapper = [
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
        ];
        let out = run_child(&wrapper, CHILD_PERMISSION, &[]);
        let text = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() && text.is_empty() {
            // The test binary may not be readable by uid 65534.
            eprintln!("skipped: could not run the test binary unprivileged: {out:?}");
            return;
        }
        assert!(out.status.success() && text.contains("CHILD-OK"), "{out:?}");
        assert!(text.contains("CAP_NET_RAW"), "{text}");
        eprintln!(
            "{}",
            text.lines().find(|l| l.contains("CHILD-OK")).unwrap_or("")
        );
    }
}
