//! Capture time. Timestamps are nanoseconds since the Unix epoch, taken from
//! the capture file; analysis never reads the wall clock.

use serde::Serialize;

/// A capture timestamp in nanoseconds since 1970-01-01T00:00:00Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize)]
pub struct Ts(pub i64);

impl Ts {
    /// Builds a timestamp from seconds and nanoseconds.
    pub fn from_parts(secs: i64, nanos: i64) -> Ts {
        Ts(secs.saturating_mul(1_000_000_000).saturating_add(nanos))
    }

    /// Nanoseconds from `earlier` to `self`, saturating (hostile captures
    /// can hold any timestamps).
    pub fn nanos_since(self, earlier: Ts) -> i64 {
        self.0.saturating_sub(earlier.0)
    }

    /// Seconds since the epoch as a float (for display only).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e9
    }

    /// This timestamp plus `ms` milliseconds.
    pub fn plus_ms(self, ms: u64) -> Ts {
        Ts(self.0.saturating_add((ms as i64).saturating_mul(1_000_000)))
    }

    /// RFC 3339 in UTC with microseconds, e.g. `2026-11-25T14:28:28.123456Z`.
    pub fn rfc3339(self) -> String {
        let secs = self.0.div_euclid(1_000_000_000);
        let nanos = self.0.rem_euclid(1_000_000_000) as u32;
        match chrono::DateTime::from_timestamp(secs, nanos) {
            Some(dt) => dt.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            None => format!("{}.{:09}", secs, nanos),
        }
    }
}

/// A capture time that reads as RFC 3339 ([`Ts::rfc3339`]) when it is
/// printed or serialized, and is not formatted before: the default table
/// shows no absolute time of a connection or of its evidence, and
/// formatting six of them per failed connection (chrono) cost a few
/// thousand instructions that only JSON output used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rfc3339(pub Ts);

impl std::fmt::Display for Rfc3339 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.rfc3339())
    }
}

impl Serialize for Rfc3339 {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.rfc3339())
    }
}

/// A span of capture time, in nanoseconds: durations, offsets, the time of
/// evidence since a connection's first packet. Kept as an integer and
/// written by integer arithmetic ([`Nanos::ms`], [`Nanos::secs`]), so a
/// time prints as its exact decimal value rounded half away from zero.
/// Serialized (JSON) as milliseconds, the `f64` of [`Nanos::ms_f64`]:
/// the `_ms` fields of the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Nanos(pub i64);

impl Nanos {
    /// From `earlier` to `later`, saturating (hostile captures can hold any
    /// timestamps; negative if `later` is earlier).
    pub fn between(earlier: Ts, later: Ts) -> Nanos {
        Nanos(later.nanos_since(earlier))
    }

    /// Milliseconds as a float, for JSON and the HTML report's data.
    pub fn ms_f64(self) -> f64 {
        self.0 as f64 / 1e6
    }

    /// Seconds as a float, for JSON and the HTML report's data (computed
    /// through milliseconds, as these fields always were).
    pub fn secs_f64(self) -> f64 {
        self.ms_f64() / 1000.0
    }

    /// In milliseconds with `digits` decimals (at most 6).
    pub fn ms(self, digits: u8) -> FixedTime {
        FixedTime::new(self.0, 6, digits)
    }

    /// In seconds with `digits` decimals (at most 9).
    pub fn secs(self, digits: u8) -> FixedTime {
        FixedTime::new(self.0, 9, digits)
    }

    /// For people, with its unit: `12.3 ms` below a second (either way),
    /// `1.50 s` from one second on. The table's durations and the
    /// explanations' both.
    pub fn human(self) -> Human {
        Human(self)
    }
}

/// See [`Nanos::human`].
#[derive(Debug, Clone, Copy)]
pub struct Human(Nanos);

impl Human {
    /// Appends it to `s`.
    pub fn push_to(&self, s: &mut String) {
        let n = self.0;
        if n.0.unsigned_abs() < 1_000_000_000 {
            n.ms(1).push_to(s);
            s.push_str(" ms");
        } else {
            n.secs(2).push_to(s);
            s.push_str(" s");
        }
    }
}

impl std::fmt::Display for Human {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut s = String::with_capacity(16);
        self.push_to(&mut s);
        f.write_str(&s)
    }
}

impl Serialize for Nanos {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.ms_f64())
    }
}

/// Serializes a [`Nanos`] as seconds ([`Nanos::secs_f64`]), for the
/// `_s` fields of the report (`#[serde(serialize_with = ...)]`).
pub fn serialize_secs<S: serde::Serializer>(n: &Nanos, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(n.secs_f64())
}

/// A time written with a fixed count of decimals: the exact decimal value
/// of the nanoseconds in the unit, rounded half away from zero. Padding
/// (`{:>10}`) applies as to a number.
#[derive(Debug, Clone, Copy)]
pub struct FixedTime {
    negative: bool,
    /// The value in units of the last decimal written.
    scaled: u128,
    digits: u8,
}

impl FixedTime {
    /// `ns` in units of 10^`unit_exp` ns, with `digits` decimals.
    fn new(ns: i64, unit_exp: u8, digits: u8) -> FixedTime {
        let digits = digits.min(unit_exp);
        let per_digit = 10u128.pow(u32::from(unit_exp - digits));
        let abs = u128::from(ns.unsigned_abs());
        let (q, r) = (abs / per_digit, abs % per_digit);
        let scaled = if per_digit > 1 && 2 * r >= per_digit {
            q + 1
        } else {
            q
        };
        FixedTime {
            negative: ns < 0,
            scaled,
            digits,
        }
    }

    /// The digits (and point) written at the end of `buf`; where they start.
    fn write<'a>(&self, buf: &'a mut [u8; 48]) -> &'a str {
        let mut i = buf.len();
        let mut n = self.scaled;
        for _ in 0..self.digits {
            i -= 1;
            buf[i] = b'0' + (n % 10) as u8;
            n /= 10;
        }
        if self.digits > 0 {
            i -= 1;
            buf[i] = b'.';
        }
        loop {
            i -= 1;
            buf[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        // ASCII digits and a point only.
        std::str::from_utf8(&buf[i..]).unwrap_or_default()
    }

    /// Appends it to `s`.
    pub fn push_to(&self, s: &mut String) {
        let mut buf = [0u8; 48];
        if self.negative {
            s.push('-');
        }
        s.push_str(self.write(&mut buf));
    }

    /// Appends it right-aligned in `width` columns (as `{:>width}`).
    pub fn push_right(&self, s: &mut String, width: usize) {
        let mut buf = [0u8; 48];
        let text = self.write(&mut buf);
        let len = text.len() + usize::from(self.negative);
        for _ in len..width {
            s.push(' ');
        }
        if self.negative {
            s.push('-');
        }
        s.push_str(text);
    }
}

impl std::fmt::Display for FixedTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut buf = [0u8; 48];
        f.pad_integral(!self.negative, "", self.write(&mut buf))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_is_utc_with_micros() {
        let t = Ts::from_parts(1_700_000_000, 123_456_789);
        assert_eq!(t.rfc3339(), "2023-11-14T22:13:20.123456Z");
        // Printed and serialized as the same text.
        assert_eq!(Rfc3339(t).to_string(), t.rfc3339());
        assert_eq!(
            serde_json::to_string(&Rfc3339(t)).unwrap(),
            format!("\"{}\"", t.rfc3339())
        );
    }

    #[test]
    fn times_print_their_exact_decimal_value_rounded_half_away_from_zero() {
        let ms = |ns: i64, d: u8| Nanos(ns).ms(d).to_string();
        assert_eq!(ms(10_550_000, 1), "10.6");
        // A float would hold 10.65 as 10.6499999…: the exact value is a tie.
        assert_eq!(ms(10_650_000, 1), "10.7");
        assert_eq!(ms(10_649_999, 1), "10.6");
        assert_eq!(ms(0, 3), "0.000");
        assert_eq!(ms(999_999_500, 0), "1000");
        assert_eq!(ms(-1_030_000_000, 1), "-1030.0");
        assert_eq!(ms(-40_000, 1), "-0.0");
        assert_eq!(Nanos(7_112_751_000).secs(2).to_string(), "7.11");
        assert_eq!(Nanos(1_205_000_000).secs(2).to_string(), "1.21");
        assert_eq!(Nanos(302_999_999).secs(3).to_string(), "0.303");
        // The extremes do not overflow.
        assert_eq!(Nanos(i64::MIN).secs(3).to_string(), "-9223372036.855");
        assert_eq!(Nanos(i64::MAX).ms(6).to_string(), "9223372036854.775807");
        // Padded as a number, and the same through push_right.
        assert_eq!(format!("{:>10}", Nanos(1_000_740_000).ms(3)), "  1000.740");
        let mut s = String::new();
        Nanos(1_000_740_000).ms(3).push_right(&mut s, 10);
        assert_eq!(s, "  1000.740");
        let mut s = String::new();
        Nanos(-5_000_000).ms(3).push_right(&mut s, 8);
        assert_eq!(s, "  -5.000");
    }

    #[test]
    fn times_serialize_as_the_floats_they_were() {
        for ns in [
            0,
            1,
            10_552_000,
            7_112_751_000,
            123_456_789_123,
            -1_030_000_000,
            i64::MAX,
        ] {
            let n = Nanos(ns);
            assert_eq!(
                serde_json::to_string(&n).unwrap(),
                serde_json::to_string(&(ns as f64 / 1e6)).unwrap()
            );
            assert_eq!(n.secs_f64(), ns as f64 / 1e6 / 1000.0);
        }
    }
}
