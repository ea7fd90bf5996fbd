//! `passerelle-sandbox serve [...]`: see `serve::USAGE` and README.md.

use passerelle_sandbox::serve::{self, ServeArgs, USAGE};

fn main() -> std::process::ExitCode {
    // Before the runtime starts any thread: threads inherit the mask.
    if let Err(e) = serve::reset_signal_mask() {
        eprintln!("passerelle-sandbox: cannot reset the signal mask: {e}");
    }
    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        Some("serve") => {}
        Some("--help") | Some("-h") | Some("help") => {
            print!("{USAGE}");
            return std::process::ExitCode::SUCCESS;
        }
        _ => {
            eprint!("{USAGE}");
            return std::process::ExitCode::from(2);
        }
    }
    let args: Vec<String> = args.collect();
    if args.iter().any(|arg| arg == "--help" || arg == "-h") {
        print!("{USAGE}");
        return std::process::ExitCode::SUCCESS;
    }
    let parsed = match ServeArgs::parse(args) {
        Ok(parsed) => parsed,
        Err(e) => {
            eprintln!("passerelle-sandbox: {e}\n\n{USAGE}");
            return std::process::ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("passerelle-sandbox: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve::run(parsed)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("passerelle-sandbox: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
