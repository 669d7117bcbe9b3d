//! Numbers with a fixed count of decimals, as `format!("{:.3}", x)` writes
//! them, and IP addresses, as `to_string` writes them, without the cost of
//! the formatting machinery.
//!
//! The report prints a few times and durations per failed connection
//! (start, duration, RTT, time to first byte, every Evidence line), tens of
//! thousands of rows on a large capture; the standard library's exact
//! formatting of an `f64` took about 800 instructions per number. For the
//! values these are (non-negative, below a billion once scaled) the digits
//! come from one multiplication and an integer instead; a value where that
//! could round differently from the exact decimal expansion (within a
//! millionth of a tie), or any other value, is formatted by the standard
//! library. The output is the same for every `f64` (a property test holds
//! it to `format!`).

use std::fmt;

/// `x` with `digits` decimals (at most 3 take the fast path), formatted
/// as `{:.digits}` would; width, fill, alignment, `0` and `+` apply as to
/// a number (`{:>10}`, `{:08}`; `{:+}` of NaN aside, which gets a sign).
pub fn fixed(x: f64, digits: u8) -> Fixed {
    Fixed { x, digits }
}

/// See [`fixed`].
#[derive(Debug, Clone, Copy)]
pub struct Fixed {
    x: f64,
    digits: u8,
}

const POW10: [u64; 4] = [1, 10, 100, 1000];

/// Scaled values below this take the fast path: the multiplication's
/// error is then far below the margin kept around ties.
const FAST_BELOW: f64 = 1e9;

/// How close to a tie (…5 exactly past the last digit) a scaled value may
/// be and still take the fast path.
const TIE_MARGIN: f64 = 1e-6;

impl Fixed {
    /// The digits of the fast path, or `None` where the standard library
    /// must decide.
    fn scaled(&self) -> Option<u64> {
        let p = *POW10.get(usize::from(self.digits))?;
        if self.x.is_sign_negative() || !self.x.is_finite() {
            return None;
        }
        let y = self.x * p as f64;
        if y >= FAST_BELOW {
            return None;
        }
        let frac = y - y.floor();
        if (frac - 0.5).abs() < TIE_MARGIN {
            return None;
        }
        Some(y.round() as u64)
    }

    /// Appends it to `s` (what `write!(s, "{}", self)` does, without the
    /// formatting machinery).
    pub fn push_to(&self, s: &mut String) {
        let mut buf = [0u8; 24];
        match self.fast(&mut buf) {
            Some(digits) => s.push_str(digits),
            None => {
                use fmt::Write as _;
                let _ = write!(s, "{:.*}", usize::from(self.digits), self.x);
            }
        }
    }

    /// The number written at the end of `buf` by the fast path, or `None`.
    fn fast<'a>(&self, buf: &'a mut [u8; 24]) -> Option<&'a str> {
        let k = self.scaled()?;
        // At most 10 digits, a point and 3 decimals.
        let mut i = buf.len();
        let digits = usize::from(self.digits);
        let mut n = k;
        for d in 0..digits {
            i -= 1;
            buf[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if d + 1 == digits {
                i -= 1;
                buf[i] = b'.';
            }
        }
        i = digits_before(buf, i, n);
        // ASCII digits and a point.
        std::str::from_utf8(&buf[i..]).ok()
    }
}

impl fmt::Display for Fixed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; 24];
        let slow;
        let text = match self.fast(&mut buf) {
            Some(digits) => digits,
            None => {
                slow = format!("{:.*}", usize::from(self.digits), self.x);
                &slow
            }
        };
        // Padded as a number: right-aligned by default, `0` and `+` kept.
        match text.strip_prefix('-') {
            Some(rest) => f.pad_integral(false, "", rest),
            None => f.pad_integral(true, "", text),
        }
    }
}

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

impl Fixed {
    /// Appends it right-aligned in `width` columns (as `{:>width$}`).
    pub fn push_right(&self, s: &mut String, width: usize) {
        let mut buf = [0u8; 24];
        match self.fast(&mut buf) {
            Some(digits) => push_padded(s, digits, width, true),
            None => {
                use fmt::Write as _;
                let _ = write!(s, "{:>width$}", self);
            }
        }
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
            use fmt::Write as _;
            let _ = write!(s, "{v6}");
        }
    }
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
            x in 0.0f64..1e7,
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
            let mut s = String::new();
            fixed(x, 3).push_right(&mut s, width);
            prop_assert_eq!(s, format!("{x:>width$.3}"));
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

    fn same(x: f64) {
        for d in 0..=3u8 {
            let want = format!("{:.*}", usize::from(d), x);
            assert_eq!(fixed(x, d).to_string(), want, "{x:?} with {d} decimals");
            let mut s = String::from("t=");
            fixed(x, d).push_to(&mut s);
            assert_eq!(s, format!("t={want}"), "{x:?} pushed, {d} decimals");
            let d = usize::from(d);
            let want = format!("{:>12.*}|{:<9.*}|{:^11.*}|{:8.*}", d, x, d, x, d, x, d, x);
            let got = format!(
                "{:>12}|{:<9}|{:^11}|{:8}",
                fixed(x, d as u8),
                fixed(x, d as u8),
                fixed(x, d as u8),
                fixed(x, d as u8)
            );
            assert_eq!(got, want, "{x:?} padded, {d} decimals");
            if !x.is_nan() {
                let want = format!("{:08.*}|{:+.*}|{:+010.*}", d, x, d, x, d, x);
                let got = format!(
                    "{:08}|{:+}|{:+010}",
                    fixed(x, d as u8),
                    fixed(x, d as u8),
                    fixed(x, d as u8)
                );
                assert_eq!(got, want, "{x:?} signed or zero-padded, {d} decimals");
            }
        }
    }

    #[test]
    fn edges() {
        for x in [
            0.0,
            -0.0,
            0.5,
            1.5,
            2.5,
            0.25,
            0.125,
            0.0625,
            0.0005,
            0.0015,
            0.9995,
            0.9994999,
            9.9995,
            999_999.999_5,
            1e6,
            1e9,
            1e12,
            1e300,
            f64::MAX,
            f64::MIN_POSITIVE,
            -1.25,
            -0.0004,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            1.0 / 3.0,
            2.0 / 3.0,
            1234.5678,
        ] {
            same(x);
        }
        // Every tie and near-tie of three decimals up to 10.
        for k in 0..20_000u64 {
            let x = k as f64 / 2000.0;
            same(x);
            same(f64::from_bits(x.to_bits() + 1));
            same(f64::from_bits(x.to_bits().saturating_sub(1)));
        }
        // A digit count with no fast path falls back.
        assert_eq!(fixed(1.23456, 5).to_string(), "1.23456");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(5000))]

        /// Times as the report makes them: nanoseconds over 1e6 or 1e9.
        #[test]
        fn like_format_for_times(ns in 0i64..1_000_000_000_000_000, ms in any::<bool>()) {
            same(ns as f64 / if ms { 1e6 } else { 1e9 });
        }

        /// Any bits at all.
        #[test]
        fn like_format_for_any_f64(bits in any::<u64>()) {
            same(f64::from_bits(bits));
        }

        /// Small values, where the fast path is taken most.
        #[test]
        fn like_format_for_small_values(x in 0.0f64..1e7) {
            same(x);
        }
    }
}
