//! Connection tracking (in progress).
