//! SIGBUS, which a memory-mapped capture file raises when it shrinks (or
//! its storage fails) while it is read (`source::mapped`), ends the run
//! with a one-line message and exit code 2 instead of a core dump.
#![allow(unsafe_code)]

/// What the handler writes to standard error.
pub const MESSAGE: &str = "tcptriage: error: the capture file could not be read any more while it was being analysed (did it shrink, or its disk fail?)\n";

extern "C" fn on_sigbus(_signal: libc::c_int) {
    // Only async-signal-safe calls: write(2) and _exit(2).
    // SAFETY: a static buffer and its length; _exit does not return.
    unsafe {
        let _ = libc::write(2, MESSAGE.as_ptr().cast(), MESSAGE.len());
        libc::_exit(2);
    }
}

/// Installs the handler for the whole process (the binary's policy, not
/// the library's).
pub fn install() {
    // SAFETY: a zeroed sigaction with an empty mask and a handler of the
    // signature sa_handler expects (no SA_SIGINFO); the old action is not
    // needed.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_sigbus as extern "C" fn(libc::c_int) as libc::sighandler_t;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(libc::SIGBUS, &action, std::ptr::null_mut());
    }
}
