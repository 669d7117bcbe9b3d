//! The analysis pipeline (in progress).
