//! Verdict rules (in progress).
