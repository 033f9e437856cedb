//! The `qujat` command: parses arguments, runs the library, prints the error chain and exits
//! with a documented code (0 done, 1 some input rejected, 2 fatal).

use clap::Parser;
use qujat::cli::{self, Cli};
use qujat::exit;

fn main() {
    qujat::memory::use_small_pages();
    let code = match cli::run(Cli::parse()) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err}");
            for cause in err.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            exit::FATAL
        }
    };
    std::process::exit(code);
}
