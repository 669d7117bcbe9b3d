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

    /// Milliseconds from `earlier` to `self` (negative if `self` is earlier).
    pub fn ms_since(self, earlier: Ts) -> f64 {
        (self.0.saturating_sub(earlier.0)) as f64 / 1e6
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
    fn ms_since_is_signed() {
        let a = Ts(1_000_000);
        let b = Ts(3_500_000);
        assert_eq!(b.ms_since(a), 2.5);
        assert_eq!(a.ms_since(b), -2.5);
    }
}
