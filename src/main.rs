//! The `coinfer` binary: the command line with the built-in policies.

fn main() -> std::process::ExitCode {
    coinfer::cli::main()
}
