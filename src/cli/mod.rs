//! The command line's drivers (binary only): each subcommand turns its
//! validated arguments into calls on the library and prints the result.

pub mod docs;
pub mod live;

/// The binary's allocator: mimalloc instead of glibc's malloc. A capture
/// with hundreds of thousands of connections allocates and frees a boxed
/// state, stream buffers and report strings for each; glibc spent ≈ 15 %
/// of the analysis in malloc/free there (bench/RESULTS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
