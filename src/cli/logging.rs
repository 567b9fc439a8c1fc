//! Where the CLI's logs go: stderr, through a writer that redacts each log line first
//! ([`sc_assoc::redact`]): a log line may quote a server message or a request, and session
//! tokens, signatures and keys never reach a log.

use sc_assoc::redact::redact;
use std::io::Write;

/// A `tracing` writer that redacts each log line before it reaches stderr.
#[derive(Debug, Clone, Copy, Default)]
pub struct RedactingStderr;

/// One log event's bytes, redacted and written when the event is complete.
pub struct RedactedLine {
    buffer: Vec<u8>,
}

impl Write for RedactedLine {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for RedactedLine {
    fn drop(&mut self) {
        let text = String::from_utf8_lossy(&self.buffer);
        // A log line that cannot be written is not worth failing the run for.
        let _ = std::io::stderr().write_all(redact(&text).as_bytes());
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for RedactingStderr {
    type Writer = RedactedLine;

    fn make_writer(&'a self) -> Self::Writer {
        RedactedLine { buffer: Vec::new() }
    }
}
