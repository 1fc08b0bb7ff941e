//! The `fusejit` binary: runs one program over CSV inputs (`-e`), or the REPL.

mod cli;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = match cli::Args::try_parse() {
        Ok(args) => args,
        Err(error) => {
            // --help and --version are successes; every other argument error is a user error.
            let _ = error.print();
            return if error.use_stderr() { ExitCode::from(1) } else { ExitCode::SUCCESS };
        }
    };
    // The library never panics on user input; should a bug slip through, report it as one
    // instead of letting a backtrace reach the user.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("internal error (a bug in fusejit, please report it): {info}");
    }));
    match std::panic::catch_unwind(|| cli::run(args)) {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(cli::UserError(message))) => {
            eprintln!("{}", message.trim_end());
            ExitCode::from(1)
        }
        Err(_) => ExitCode::from(101),
    }
}
