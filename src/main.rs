//! The `sc-assoc` binary: parse arguments, run, turn the outcome into an exit code. The command
//! line lives in this binary's own [`cli`] module, private to it: the library (`sc_assoc`) owns
//! the pipeline, the CLI only parses, wires and renders.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::main()
}
