//! The command line's drivers (binary only): each subcommand turns its
//! validated arguments into calls on the library and prints the result.

pub mod docs;
pub mod live;
