//! Report printers (in progress).
