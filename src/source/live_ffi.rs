//! The only `unsafe` code in the crate: libpcap loaded at run time with
//! `libloading`, wrapped in a small safe API used by `live.rs`.
//!
//! Invariants this module keeps:
//! - [`Pcap`] owns the `Library`; every function pointer it holds was
//!   resolved from that library and is only called while the `Pcap` is alive
//!   (handles and breakers hold an `Arc<Pcap>`).
//! - [`Handle`] owns one `pcap_t`. It is closed exactly once, in `Drop`,
//!   under the same mutex [`Breaker::breakloop`] takes, so a breaker can never
//!   touch a closed handle.
//! - Packet data returned by [`Handle::next_ex`] borrows the handle mutably,
//!   so it cannot outlive the next call into libpcap.
#![allow(unsafe_code)]

use libc::{c_char, c_int, c_uint, c_void};
use std::ffi::{CStr, CString};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::{Arc, Mutex};

/// `PCAP_ERRBUF_SIZE`.
const ERRBUF_SIZE: usize = 256;
/// `PCAP_NETMASK_UNKNOWN`.
const NETMASK_UNKNOWN: u32 = 0xffff_ffff;
/// `PCAP_TSTAMP_PRECISION_NANO`.
const TSTAMP_PRECISION_NANO: c_int = 1;

pub const PCAP_IF_LOOPBACK: u32 = 0x1;
pub const PCAP_IF_UP: u32 = 0x2;
pub const PCAP_IF_RUNNING: u32 = 0x4;

/// Opaque `pcap_t`.
#[repr(C)]
struct PcapT {
    _private: [u8; 0],
}

/// `struct pcap_pkthdr`: a `struct timeval` (whose `tv_usec` holds
/// nanoseconds when nanosecond precision was granted), caplen, len.
#[repr(C)]
struct PktHdr {
    ts: libc::timeval,
    caplen: u32,
    len: u32,
}

/// `struct bpf_program`.
#[repr(C)]
struct BpfProgram {
    bf_len: c_uint,
    bf_insns: *mut c_void,
}

/// `struct pcap_stat` (Linux/BSD layout: three `u_int`s). Windows appends a
/// field; the padding keeps a write of that size in bounds too.
#[repr(C)]
#[derive(Default)]
struct PcapStat {
    ps_recv: c_uint,
    ps_drop: c_uint,
    ps_ifdrop: c_uint,
    _win32_bs_capt: c_uint,
}

/// `struct pcap_addr`.
#[repr(C)]
struct PcapAddr {
    next: *mut PcapAddr,
    addr: *mut libc::sockaddr,
    netmask: *mut libc::sockaddr,
    broadaddr: *mut libc::sockaddr,
    dstaddr: *mut libc::sockaddr,
}

/// `struct pcap_if`.
#[repr(C)]
struct PcapIf {
    next: *mut PcapIf,
    name: *mut c_char,
    description: *mut c_char,
    addresses: *mut PcapAddr,
    flags: u32,
}

type FindAllDevs = unsafe extern "C" fn(*mut *mut PcapIf, *mut c_char) -> c_int;
type FreeAllDevs = unsafe extern "C" fn(*mut PcapIf);
type Create = unsafe extern "C" fn(*const c_char, *mut c_char) -> *mut PcapT;
type SetInt = unsafe extern "C" fn(*mut PcapT, c_int) -> c_int;
type Activate = unsafe extern "C" fn(*mut PcapT) -> c_int;
type StatusToStr = unsafe extern "C" fn(c_int) -> *const c_char;
type Datalink = unsafe extern "C" fn(*mut PcapT) -> c_int;
type Compile =
    unsafe extern "C" fn(*mut PcapT, *mut BpfProgram, *const c_char, c_int, u32) -> c_int;
type SetFilter = unsafe extern "C" fn(*mut PcapT, *mut BpfProgram) -> c_int;
type FreeCode = unsafe extern "C" fn(*mut BpfProgram);
type NextExFn = unsafe extern "C" fn(*mut PcapT, *mut *mut PktHdr, *mut *const u8) -> c_int;
type Stats = unsafe extern "C" fn(*mut PcapT, *mut PcapStat) -> c_int;
type BreakLoop = unsafe extern "C" fn(*mut PcapT);
type GetErr = unsafe extern "C" fn(*mut PcapT) -> *mut c_char;
type Close = unsafe extern "C" fn(*mut PcapT);
type SetNonBlock = unsafe extern "C" fn(*mut PcapT, c_int, *mut c_char) -> c_int;
type SelectableFd = unsafe extern "C" fn(*mut PcapT) -> c_int;

/// A loaded libpcap and the functions we use from it.
pub struct Pcap {
    findalldevs: FindAllDevs,
    freealldevs: FreeAllDevs,
    create: Create,
    set_snaplen: SetInt,
    set_promisc: SetInt,
    set_timeout: SetInt,
    set_immediate_mode: SetInt,
    set_tstamp_precision: SetInt,
    activate: Activate,
    statustostr: Option<StatusToStr>,
    datalink: Datalink,
    compile: Compile,
    setfilter: SetFilter,
    freecode: FreeCode,
    next_ex: NextExFn,
    stats: Stats,
    breakloop: BreakLoop,
    geterr: GetErr,
    close: Close,
    setnonblock: SetNonBlock,
    get_selectable_fd: SelectableFd,
    /// Kept last so it is dropped (unloaded) after nothing can call in.
    _lib: libloading::Library,
}

/// Why loading one candidate library failed.
pub enum LoadError {
    /// The library could not be loaded at all.
    NotFound,
    /// It loaded but lacks a function we need (a libpcap older than 1.5).
    MissingSymbol { library: String, message: String },
}

impl Pcap {
    /// Loads `name` (a soname or a path) and resolves every function.
    pub fn load(name: &str) -> Result<Arc<Pcap>, LoadError> {
        // SAFETY: loading libpcap runs its ELF initialisers; libpcap has no
        // initialisers with preconditions on the caller. The name comes from
        // our fixed list or from TCPTRIAGE_LIBPCAP, which is documented as a
        // test hook that must name a libpcap build.
        let lib = unsafe { libloading::Library::new(name) }.map_err(|_| LoadError::NotFound)?;
        macro_rules! sym {
            ($name:literal) => {{
                // SAFETY: the symbol is resolved from libpcap and the declared
                // type matches its C prototype in <pcap/pcap.h>. The copied
                // function pointer is stored next to the `Library` and never
                // outlives it.
                match unsafe { lib.get(concat!($name, "\0").as_bytes()) } {
                    Ok(s) => *s,
                    Err(e) => {
                        return Err(LoadError::MissingSymbol {
                            library: name.to_string(),
                            message: e.to_string(),
                        });
                    }
                }
            }};
        }
        // SAFETY: as in `sym!`; pcap_statustostr is optional (libpcap >= 1.0).
        let statustostr = unsafe { lib.get::<StatusToStr>(b"pcap_statustostr\0") }
            .ok()
            .map(|s| *s);
        Ok(Arc::new(Pcap {
            findalldevs: sym!("pcap_findalldevs"),
            freealldevs: sym!("pcap_freealldevs"),
            create: sym!("pcap_create"),
            set_snaplen: sym!("pcap_set_snaplen"),
            set_promisc: sym!("pcap_set_promisc"),
            set_timeout: sym!("pcap_set_timeout"),
            set_immediate_mode: sym!("pcap_set_immediate_mode"),
            set_tstamp_precision: sym!("pcap_set_tstamp_precision"),
            activate: sym!("pcap_activate"),
            statustostr,
            datalink: sym!("pcap_datalink"),
            compile: sym!("pcap_compile"),
            setfilter: sym!("pcap_setfilter"),
            freecode: sym!("pcap_freecode"),
            next_ex: sym!("pcap_next_ex"),
            stats: sym!("pcap_stats"),
            breakloop: sym!("pcap_breakloop"),
            geterr: sym!("pcap_geterr"),
            close: sym!("pcap_close"),
            setnonblock: sym!("pcap_setnonblock"),
            get_selectable_fd: sym!("pcap_get_selectable_fd"),
            _lib: lib,
        }))
    }

    /// libpcap's text for a status code, e.g. "No such device exists".
    pub fn status_str(&self, status: i32) -> Option<String> {
        let f = self.statustostr?;
        // SAFETY: pcap_statustostr accepts any int and returns a pointer to a
        // NUL-terminated string (static, or a static buffer for unknown
        // codes), which we copy at once.
        let p = unsafe { f(status) };
        (!p.is_null()).then(|| cstr_to_string(p))
    }

    /// `pcap_findalldevs`, decoded into owned values.
    pub fn find_all_devs(&self) -> Result<Vec<RawInterface>, String> {
        let mut errbuf = [0 as c_char; ERRBUF_SIZE];
        let mut list: *mut PcapIf = std::ptr::null_mut();
        // SAFETY: both out-pointers are valid for writes; errbuf has
        // PCAP_ERRBUF_SIZE bytes as libpcap requires.
        let rc = unsafe { (self.findalldevs)(&mut list, errbuf.as_mut_ptr()) };
        if rc != 0 {
            return Err(errbuf_to_string(&errbuf));
        }
        let mut out = Vec::new();
        let mut cur = list;
        while !cur.is_null() {
            // SAFETY: `cur` is a node of the list libpcap just returned and
            // has not freed; its strings are NUL-terminated or null, its
            // address list is well formed. Everything is copied out before
            // pcap_freealldevs below.
            unsafe {
                let node = &*cur;
                let mut addresses = Vec::new();
                let mut a = node.addresses;
                while !a.is_null() {
                    if let Some(ip) = sockaddr_to_ip((*a).addr) {
                        addresses.push(ip);
                    }
                    a = (*a).next;
                }
                out.push(RawInterface {
                    name: if node.name.is_null() {
                        String::new()
                    } else {
                        cstr_to_string(node.name)
                    },
                    description: (!node.description.is_null())
                        .then(|| cstr_to_string(node.description)),
                    addresses,
                    flags: node.flags,
                });
                cur = node.next;
            }
        }
        if !list.is_null() {
            // SAFETY: `list` came from pcap_findalldevs and is freed once.
            unsafe { (self.freealldevs)(list) };
        }
        Ok(out)
    }
}

/// One entry of `pcap_findalldevs`.
pub struct RawInterface {
    pub name: String,
    pub description: Option<String>,
    pub addresses: Vec<IpAddr>,
    pub flags: u32,
}

/// Decodes an AF_INET / AF_INET6 socket address; other families are `None`.
///
/// # Safety
/// `sa` must be null or point to a socket address whose length matches its
/// family (as libpcap's address lists guarantee).
unsafe fn sockaddr_to_ip(sa: *const libc::sockaddr) -> Option<IpAddr> {
    if sa.is_null() {
        return None;
    }
    // SAFETY: `sa` is non-null and points to at least a `sockaddr` header
    // (caller's contract); the family tells which larger struct it is.
    unsafe {
        match i32::from((*sa).sa_family) {
            libc::AF_INET => {
                let sin = &*(sa as *const libc::sockaddr_in);
                Some(IpAddr::V4(Ipv4Addr::from(u32::from_be(
                    sin.sin_addr.s_addr,
                ))))
            }
            libc::AF_INET6 => {
                let sin6 = &*(sa as *const libc::sockaddr_in6);
                Some(IpAddr::V6(Ipv6Addr::from(sin6.sin6_addr.s6_addr)))
            }
            _ => None,
        }
    }
}

fn cstr_to_string(p: *const c_char) -> String {
    // SAFETY: every caller passes a non-null pointer to a NUL-terminated
    // string owned by libpcap that stays valid for the duration of the copy.
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

fn errbuf_to_string(buf: &[c_char]) -> String {
    let bytes: Vec<u8> = buf
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// A raw `pcap_t` that may be sent between threads.
#[derive(Clone, Copy)]
struct RawHandle(*mut PcapT);
// SAFETY: a pcap_t may be used from any thread as long as calls are not
// concurrent; `Handle` (which needs `&mut self` for capture calls) and the
// mutex around close/breakloop ensure that. pcap_breakloop is documented as
// callable from another thread while the capture thread is in a read.
unsafe impl Send for RawHandle {}

/// An owned `pcap_t`. Closed on drop.
pub struct Handle {
    pcap: Arc<Pcap>,
    raw: *mut PcapT,
    /// Header and data of the last packet, valid until the next libpcap call
    /// on this handle.
    last: Option<(*const PktHdr, *const u8)>,
    /// Shared with breakers; `None` once closed.
    shared: Arc<Mutex<Option<RawHandle>>>,
}

// SAFETY: see `RawHandle`: the pcap_t is only used through `&mut self` (or
// under the mutex, for breakloop/close), never concurrently.
unsafe impl Send for Handle {}

/// Result of one `pcap_next_ex` call.
pub enum NextEx {
    /// A packet; read it with [`Handle::packet`].
    Packet,
    Timeout,
    Break,
    Error(String),
    /// Any other return code (only -2/-1/0/1 are documented for live handles).
    Other(i32),
}

/// The packet of the last successful `pcap_next_ex`.
pub struct Packet<'a> {
    pub secs: i64,
    /// Microseconds or nanoseconds, depending on the precision granted.
    pub frac: i64,
    pub len: u32,
    pub data: &'a [u8],
}

impl Handle {
    /// `pcap_create`.
    pub fn create(pcap: &Arc<Pcap>, device: &CStr) -> Result<Handle, String> {
        let mut errbuf = [0 as c_char; ERRBUF_SIZE];
        // SAFETY: `device` is NUL-terminated; errbuf has PCAP_ERRBUF_SIZE bytes.
        let raw = unsafe { (pcap.create)(device.as_ptr(), errbuf.as_mut_ptr()) };
        if raw.is_null() {
            return Err(errbuf_to_string(&errbuf));
        }
        Ok(Handle {
            pcap: Arc::clone(pcap),
            raw,
            last: None,
            shared: Arc::new(Mutex::new(Some(RawHandle(raw)))),
        })
    }

    fn set_int(&mut self, f: SetInt, v: c_int) -> i32 {
        // SAFETY: `self.raw` is an open, not yet activated (callers only use
        // these before activate) pcap_t; the setters take plain ints.
        unsafe { f(self.raw, v) }
    }

    pub fn set_snaplen(&mut self, v: i32) -> i32 {
        self.set_int(self.pcap.set_snaplen, v)
    }
    pub fn set_promisc(&mut self, v: bool) -> i32 {
        self.set_int(self.pcap.set_promisc, v as c_int)
    }
    pub fn set_timeout(&mut self, ms: i32) -> i32 {
        self.set_int(self.pcap.set_timeout, ms)
    }
    pub fn set_immediate_mode(&mut self, v: bool) -> i32 {
        self.set_int(self.pcap.set_immediate_mode, v as c_int)
    }
    pub fn set_nano_precision(&mut self) -> i32 {
        self.set_int(self.pcap.set_tstamp_precision, TSTAMP_PRECISION_NANO)
    }

    pub fn activate(&mut self) -> i32 {
        // SAFETY: `self.raw` is an open pcap_t.
        unsafe { (self.pcap.activate)(self.raw) }
    }

    pub fn datalink(&self) -> i32 {
        // SAFETY: `self.raw` is an open, activated pcap_t (only called after
        // a successful activate).
        unsafe { (self.pcap.datalink)(self.raw) }
    }

    /// `pcap_geterr`, copied.
    pub fn geterr(&self) -> String {
        // SAFETY: `self.raw` is open; pcap_geterr returns a pointer into the
        // handle's NUL-terminated error buffer, copied before any other call.
        let p = unsafe { (self.pcap.geterr)(self.raw) };
        if p.is_null() {
            String::new()
        } else {
            cstr_to_string(p)
        }
    }

    /// Compiles `filter` (optimised, netmask unknown) and installs it.
    /// The error is libpcap's own message.
    pub fn set_filter(&mut self, filter: &CStr) -> Result<(), String> {
        let mut prog = BpfProgram {
            bf_len: 0,
            bf_insns: std::ptr::null_mut(),
        };
        // SAFETY: `self.raw` is activated; `prog` is a valid out-struct;
        // `filter` is NUL-terminated.
        let rc = unsafe {
            (self.pcap.compile)(self.raw, &mut prog, filter.as_ptr(), 1, NETMASK_UNKNOWN)
        };
        if rc != 0 {
            return Err(self.geterr());
        }
        // SAFETY: `prog` was filled by a successful pcap_compile.
        let rc = unsafe { (self.pcap.setfilter)(self.raw, &mut prog) };
        let result = if rc != 0 { Err(self.geterr()) } else { Ok(()) };
        // SAFETY: `prog` was filled by pcap_compile and is freed once;
        // pcap_setfilter copied what it needs.
        unsafe { (self.pcap.freecode)(&mut prog) };
        result
    }

    /// Puts the activated handle in non-blocking mode and returns the file
    /// descriptor to wait on. libpcap's read timeout cannot bound a wait
    /// (on Linux its timer only starts with the first packet), so reads
    /// are non-blocking and [`wait_readable`] bounds the wait instead.
    pub fn set_nonblocking(&mut self) -> Result<i32, String> {
        let mut errbuf = [0 as c_char; ERRBUF_SIZE];
        // SAFETY: `self.raw` is activated; `errbuf` has PCAP_ERRBUF_SIZE bytes.
        let rc = unsafe { (self.pcap.setnonblock)(self.raw, 1, errbuf.as_mut_ptr()) };
        if rc < 0 {
            return Err(cstr_to_string(errbuf.as_ptr()));
        }
        // SAFETY: `self.raw` is activated.
        let fd = unsafe { (self.pcap.get_selectable_fd)(self.raw) };
        if fd < 0 {
            return Err("this interface cannot be waited on".to_string());
        }
        Ok(fd)
    }

    /// `pcap_next_ex`. On [`NextEx::Packet`], [`Handle::packet`] returns
    /// the packet until the next call that takes `&mut self`.
    pub fn next_ex(&mut self) -> NextEx {
        self.last = None;
        let mut hdr: *mut PktHdr = std::ptr::null_mut();
        let mut data: *const u8 = std::ptr::null();
        // SAFETY: `self.raw` is activated; both out-pointers are valid.
        let rc = unsafe { (self.pcap.next_ex)(self.raw, &mut hdr, &mut data) };
        match rc {
            1 if !hdr.is_null() => {
                self.last = Some((hdr, data));
                NextEx::Packet
            }
            1 => NextEx::Other(1),
            0 => NextEx::Timeout,
            -2 => NextEx::Break,
            -1 => NextEx::Error(self.geterr()),
            other => NextEx::Other(other),
        }
    }

    /// The packet read by the last [`Handle::next_ex`], if it returned one.
    pub fn packet(&self) -> Option<Packet<'_>> {
        let (hdr, data) = self.last?;
        // time_t and suseconds_t are i64 here but narrower on some targets.
        #[allow(clippy::unnecessary_cast)]
        // SAFETY: `hdr` and `data` were set by a pcap_next_ex that returned 1:
        // a valid header and `caplen` readable bytes, both valid until the
        // next libpcap call on this handle. Every such call takes `&mut self`
        // (and clears `last` first), so it cannot happen while the returned
        // borrow of `self` lives.
        unsafe {
            let h = &*hdr;
            let bytes = if data.is_null() || h.caplen == 0 {
                &[][..]
            } else {
                std::slice::from_raw_parts(data, h.caplen as usize)
            };
            Some(Packet {
                secs: h.ts.tv_sec as i64,
                frac: h.ts.tv_usec as i64,
                len: h.len,
                data: bytes,
            })
        }
    }

    /// `pcap_stats`: (received, dropped by kernel, dropped by interface).
    pub fn stats(&self) -> Option<(u32, u32, u32)> {
        let mut st = PcapStat::default();
        // SAFETY: `self.raw` is activated; `st` is large enough for libpcap's
        // struct pcap_stat on every platform.
        let rc = unsafe { (self.pcap.stats)(self.raw, &mut st) };
        (rc == 0).then_some((st.ps_recv, st.ps_drop, st.ps_ifdrop))
    }

    /// A thread-safe handle that can interrupt `next_ex`.
    pub fn breaker(&self) -> Breaker {
        Breaker {
            pcap: Arc::clone(&self.pcap),
            shared: Arc::clone(&self.shared),
        }
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        let mut guard = match self.shared.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        *guard = None;
        // SAFETY: `self.raw` is open and is closed exactly once, here; the
        // mutex is held, so no breaker is inside pcap_breakloop, and the
        // `None` stops later ones.
        unsafe { (self.pcap.close)(self.raw) };
    }
}

/// Calls `pcap_breakloop` on a handle, if it is still open.
#[derive(Clone)]
pub struct Breaker {
    pcap: Arc<Pcap>,
    shared: Arc<Mutex<Option<RawHandle>>>,
}

impl Breaker {
    pub fn breakloop(&self) {
        let guard = match self.shared.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some(RawHandle(raw)) = *guard {
            // SAFETY: the handle is open (close sets `None` under this lock
            // first); pcap_breakloop only sets a flag and wakes the poll, and
            // is documented as safe to call from another thread.
            unsafe { (self.pcap.breakloop)(raw) };
        }
    }
}

/// Makes a C string, or `None` when `s` contains a NUL byte.
pub fn c_string(s: &str) -> Option<CString> {
    CString::new(s).ok()
}

/// Waits until `fd` is readable or `timeout_ms` passes; true if readable.
/// An interrupted wait (a signal) counts as not readable.
pub fn wait_readable(fd: i32, timeout_ms: i32) -> bool {
    let mut p = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: `p` is one valid pollfd that outlives the call; `fd` is the
    // selectable descriptor of an open pcap_t.
    let rc = unsafe { libc::poll(&mut p, 1, timeout_ms) };
    rc > 0
}
