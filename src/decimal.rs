//! Integers, padded text and IP addresses written without the cost of the
//! formatting machinery: the report prints a few numbers and addresses per
//! failed connection, tens of thousands of rows on a large capture, and
//! `format!` took hundreds of instructions per number (the standard
//! library's `Display` of an IPv4 address about 1 200). Times are written
//! by [`crate::time::Nanos`] from integer nanoseconds.

/// Writes `n` in decimal into `buf` just before `end`; where it starts.
/// `buf[..end]` must hold its digits (20 for any `u64`).
fn digits_before(buf: &mut [u8], end: usize, mut n: u64) -> usize {
    let mut i = end;
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return i;
        }
    }
}

/// Appends `n` in decimal, right-aligned in `width` columns (as
/// `{:>width$}` writes it).
pub fn push_u64(s: &mut String, n: u64, width: usize) {
    let mut buf = [0u8; 20];
    let i = digits_before(&mut buf, 20, n);
    let digits = &buf[i..];
    for _ in digits.len()..width {
        s.push(' ');
    }
    // ASCII digits.
    s.push_str(std::str::from_utf8(digits).unwrap_or_default());
}

/// Appends `text` right-aligned (`right`) or left-aligned in `width`
/// characters, as `{:>width$}` and `{:<width$}` pad a string.
pub fn push_padded(s: &mut String, text: &str, width: usize, right: bool) {
    let n = if text.is_ascii() {
        text.len()
    } else {
        text.chars().count()
    };
    let pad = width.saturating_sub(n);
    if !right {
        s.push_str(text);
    }
    for _ in 0..pad {
        s.push(' ');
    }
    if right {
        s.push_str(text);
    }
}

/// `ip` as `ip.to_string()` writes it: an IPv4 address's four numbers
/// written directly (the standard library's `Display` took about 1 200
/// instructions, a few per failed connection: its report, its
/// explanations); IPv6 by the standard library.
pub fn ip_string(ip: std::net::IpAddr) -> String {
    let mut s = String::with_capacity(15);
    push_ip(&mut s, ip);
    s
}

/// Appends [`ip_string`] of `ip` to `s`.
pub fn push_ip(s: &mut String, ip: std::net::IpAddr) {
    match ip {
        std::net::IpAddr::V4(v4) => {
            for (i, n) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    s.push('.');
                }
                if n >= 100 {
                    s.push(char::from(b'0' + n / 100));
                }
                if n >= 10 {
                    s.push(char::from(b'0' + n / 10 % 10));
                }
                s.push(char::from(b'0' + n % 10));
            }
        }
        std::net::IpAddr::V6(v6) => {
            use std::fmt::Write as _;
            let _ = write!(s, "{v6}");
        }
    }
}

/// `10.0.0.1:80` or `[fd77::1]:80` (as `SocketAddr`'s `Display` writes an
/// address without a scope), appended to `s`: the one way every report,
/// explanation and ladder writes an endpoint.
pub fn push_endpoint(s: &mut String, e: std::net::SocketAddr) {
    let v6 = e.is_ipv6();
    if v6 {
        s.push('[');
    }
    push_ip(s, e.ip());
    if v6 {
        s.push(']');
    }
    s.push(':');
    push_u64(s, u64::from(e.port()), 0);
}

/// [`push_endpoint`] as a new string.
pub fn endpoint(e: std::net::SocketAddr) -> String {
    let mut s = String::with_capacity(24);
    push_endpoint(&mut s, e);
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn ip_like_to_string(v4 in any::<u32>(), v6 in any::<u128>()) {
            for ip in [
                std::net::IpAddr::V4(v4.into()),
                std::net::IpAddr::V6(v6.into()),
                std::net::IpAddr::V6(std::net::Ipv4Addr::from(v4).to_ipv6_mapped()),
            ] {
                prop_assert_eq!(ip_string(ip), ip.to_string());
            }
        }
    }

    proptest! {
        #[test]
        fn numbers_and_text_padded_like_format(
            n in any::<u64>(),
            small in 0u64..100_000,
            text in "\\PC{0,9}",
            width in 0usize..12,
        ) {
            for v in [n, small] {
                let mut s = String::new();
                push_u64(&mut s, v, width);
                prop_assert_eq!(s, format!("{v:>width$}"));
            }
            let mut s = String::new();
            push_padded(&mut s, &text, width, true);
            push_padded(&mut s, &text, width, false);
            prop_assert_eq!(s, format!("{text:>width$}{text:<width$}"));
        }
    }

    #[test]
    fn ip_edges() {
        for v4 in [
            0u32,
            1,
            9,
            10,
            99,
            100,
            255,
            256,
            0x0a4d_0001,
            u32::MAX,
            0x6464_6464,
        ] {
            let ip = std::net::IpAddr::V4(v4.into());
            assert_eq!(ip_string(ip), ip.to_string());
        }
    }
}
