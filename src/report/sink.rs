//! Where connection reports go: every output is a [`ConnectionSink`] that
//! [`crate::analyze::analyze`] hands each connection's report to, once its
//! verdict is final.
//!
//! A sink says which connections it needs and when ([`Wants`]); the
//! analysis then keeps no more than that: the default table wants only the
//! listed connections, so `ok` ones are counted and dropped as the file is
//! read and memory follows the connections open at once; NDJSON wants every
//! connection as soon as it closed; the JSON document, `--all`, the module
//! view and the HTML report want every connection, in id order.
//!
//! The DNS queries and the summary come with the end-of-capture [`super::Report`]
//! that `analyze` returns: a query's outcome is known only at the end of
//! the capture, and the failed ones are few.

use super::{ConnectionReport, TableRows};
use crate::verdict::VerdictKind;
use std::io::{self, Write};
use std::ops::ControlFlow;

/// Which connections a sink needs, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wants {
    /// Only the listed connections ([`is_listed`]: not `ok`, or answered by
    /// an authentication gateway), each as soon as it closed and the rest
    /// at the end; `ok` ones are only counted (the default table, `show
    /// --failed`).
    Listed,
    /// Every connection, each as soon as it closed, then those still open
    /// at the end in id order (NDJSON, live).
    EveryAsItCloses,
    /// Every connection, all at the end in id order (the JSON document,
    /// `--all`, the module view, the HTML report, ladders).
    EveryAtEnd,
}

/// Whether a connection is listed in the default table: it failed, or an
/// authentication gateway answered it (HTTP 401/403/407).
pub fn is_listed(c: &ConnectionReport) -> bool {
    c.verdict != VerdictKind::Ok || c.auth_required.is_some()
}

/// A consumer of connection reports.
pub trait ConnectionSink {
    /// Which connections to hand over, and when.
    fn wants(&self) -> Wants;
    /// One connection's final report. `Break` stops the reading (the
    /// output is gone, or the sink has what it needs); the analysis then
    /// ends with the report of what was read.
    fn connection(&mut self, c: ConnectionReport) -> ControlFlow<()>;
    /// The connections still open at the end of the capture, by id, in one
    /// piece (a sink that keeps them can take the vector as it is: with
    /// [`Wants::EveryAtEnd`] that is every connection of the capture).
    fn rest(&mut self, rest: Vec<ConnectionReport>) -> ControlFlow<()> {
        rest.into_iter().try_for_each(|c| self.connection(c))
    }
    /// Why the sink stopped, if it broke because of an error (asked once,
    /// after the analysis).
    fn error(&mut self) -> Option<io::Error> {
        None
    }
}

/// What a sink that writes or stores answers for one connection: go on,
/// or stop with the error kept in `failed` for [`ConnectionSink::error`].
pub(crate) fn stop_on_error(r: io::Result<()>, failed: &mut Option<io::Error>) -> ControlFlow<()> {
    match r {
        Ok(()) => ControlFlow::Continue(()),
        Err(e) => {
            *failed = Some(e);
            ControlFlow::Break(())
        }
    }
}

/// Keeps the reports in memory, in id order when taken: for tests, the
/// JSON document and the HTML report.
#[derive(Debug)]
pub struct Collect {
    wants: Wants,
    kept: Vec<ConnectionReport>,
    /// Reports handed over in id order so far (no sort needed).
    sorted: bool,
}

impl Collect {
    /// Every connection.
    pub fn every() -> Collect {
        Collect::new(Wants::EveryAtEnd)
    }

    /// The listed connections only ([`is_listed`]).
    pub fn listed() -> Collect {
        Collect::new(Wants::Listed)
    }

    fn new(wants: Wants) -> Collect {
        Collect {
            wants,
            kept: Vec::new(),
            sorted: true,
        }
    }

    /// The reports, by id.
    pub fn into_sorted(mut self) -> Vec<ConnectionReport> {
        if !self.sorted {
            self.kept.sort_unstable_by_key(|c| c.id);
        }
        self.kept
    }
}

impl ConnectionSink for Collect {
    fn wants(&self) -> Wants {
        self.wants
    }

    fn rest(&mut self, rest: Vec<ConnectionReport>) -> ControlFlow<()> {
        if self.kept.is_empty() {
            // Every connection at the end: kept as it is, not moved one by
            // one into a growing vector (hundreds of thousands of reports).
            self.kept = rest;
            return ControlFlow::Continue(());
        }
        rest.into_iter().try_for_each(|c| self.connection(c))
    }

    fn connection(&mut self, c: ConnectionReport) -> ControlFlow<()> {
        if let Some(last) = self.kept.last()
            && last.id > c.id
        {
            self.sorted = false;
        }
        self.kept.push(c);
        ControlFlow::Continue(())
    }
}

/// The default table's rows: the listed connections kept as the text the
/// table prints, spilled to a temporary file when there are many.
impl ConnectionSink for TableRows {
    fn wants(&self) -> Wants {
        Wants::Listed
    }

    fn connection(&mut self, c: ConnectionReport) -> ControlFlow<()> {
        stop_on_error(self.push(&c), &mut self.failed)
    }

    fn error(&mut self) -> Option<io::Error> {
        self.failed.take()
    }
}

/// One JSON object per line, each connection written as soon as it closed
/// (`--format ndjson`); the DNS queries follow at the end
/// ([`super::write_ndjson_dns`]).
pub struct Ndjson<W: Write> {
    out: W,
    failed: Option<io::Error>,
}

impl<W: Write> Ndjson<W> {
    pub fn new(out: W) -> Ndjson<W> {
        Ndjson { out, failed: None }
    }
}

impl<W: Write> ConnectionSink for Ndjson<W> {
    fn wants(&self) -> Wants {
        Wants::EveryAsItCloses
    }

    fn connection(&mut self, c: ConnectionReport) -> ControlFlow<()> {
        let written =
            super::to_writer_line(&mut self.out, &c).and_then(|_| self.out.write_all(b"\n"));
        stop_on_error(written, &mut self.failed)
    }

    fn error(&mut self) -> Option<io::Error> {
        self.failed.take()
    }
}

/// Hands each connection to a function (which returns false to stop the
/// reading): for the live printer and for tests.
pub struct Each<F: FnMut(ConnectionReport) -> bool> {
    wants: Wants,
    f: F,
}

impl<F: FnMut(ConnectionReport) -> bool> Each<F> {
    pub fn new(wants: Wants, f: F) -> Each<F> {
        Each { wants, f }
    }
}

impl<F: FnMut(ConnectionReport) -> bool> ConnectionSink for Each<F> {
    fn wants(&self) -> Wants {
        self.wants
    }

    fn connection(&mut self, c: ConnectionReport) -> ControlFlow<()> {
        if (self.f)(c) {
            ControlFlow::Continue(())
        } else {
            ControlFlow::Break(())
        }
    }
}

/// Two sinks fed the same connections: `--format ndjson` with `--html` or
/// `--write-failed`, which need the connections NDJSON streams away. It
/// wants what the more demanding of the two wants (connections as they
/// close win over all at the end, which a collecting sink sorts); a sink
/// that wants only the listed ones is handed only those.
pub struct Tee<'a> {
    pub first: &'a mut dyn ConnectionSink,
    pub second: &'a mut dyn ConnectionSink,
}

impl Tee<'_> {
    fn takes(sink: &dyn ConnectionSink, c: &ConnectionReport) -> bool {
        sink.wants() != Wants::Listed || is_listed(c)
    }
}

impl ConnectionSink for Tee<'_> {
    fn wants(&self) -> Wants {
        match (self.first.wants(), self.second.wants()) {
            (Wants::EveryAsItCloses, _) | (_, Wants::EveryAsItCloses) => Wants::EveryAsItCloses,
            (Wants::Listed, Wants::Listed) => Wants::Listed,
            _ => Wants::EveryAtEnd,
        }
    }

    fn connection(&mut self, c: ConnectionReport) -> ControlFlow<()> {
        if Tee::takes(&*self.first, &c) {
            if Tee::takes(&*self.second, &c) {
                self.first.connection(c.clone())?;
            } else {
                return self.first.connection(c);
            }
        }
        if Tee::takes(&*self.second, &c) {
            self.second.connection(c)?;
        }
        ControlFlow::Continue(())
    }

    fn error(&mut self) -> Option<io::Error> {
        self.first.error().or_else(|| self.second.error())
    }
}
