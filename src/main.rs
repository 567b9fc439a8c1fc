//! The `sc-assoc` binary: parse arguments, run, turn the outcome into an exit code. Everything
//! else lives in the library's `cli` module so it can be tested.

use std::process::ExitCode;

fn main() -> ExitCode {
    sc_assoc::cli::main()
}
