//! The `coinfer` binary: parse the command line, run it, report errors.

use std::process::ExitCode;

fn main() -> ExitCode {
    match coinfer::cli::main() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
