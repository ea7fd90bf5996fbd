//! `passerelle-sandbox-blocked-exec PROGRAM [ARGS...]`: blocks SIGTERM and SIGINT, then replaces
//! itself with PROGRAM (found on `PATH`), which starts with them still blocked, as a process
//! started from a Swift concurrency thread does. A helper of the `serve` tests (its signal-mask
//! check), not for people. (`std::process::Command` cannot do it: it empties the child's signal
//! mask, and `pre_exec` is unsafe code, which this workspace forbids.)

use std::ffi::CString;
use std::os::unix::ffi::OsStringExt;
use std::process::ExitCode;

use nix::sys::signal::{SigSet, SigmaskHow, Signal, sigprocmask};

fn main() -> ExitCode {
    let args: Result<Vec<CString>, _> = std::env::args_os()
        .skip(1)
        .map(|arg| CString::new(arg.into_vec()))
        .collect();
    let args = match args {
        Ok(args) if !args.is_empty() => args,
        _ => {
            eprintln!("usage: passerelle-sandbox-blocked-exec PROGRAM [ARGS...]");
            return ExitCode::from(2);
        }
    };
    let mut blocked = SigSet::empty();
    blocked.add(Signal::SIGTERM);
    blocked.add(Signal::SIGINT);
    if let Err(e) = sigprocmask(SigmaskHow::SIG_BLOCK, Some(&blocked), None) {
        eprintln!("passerelle-sandbox-blocked-exec: sigprocmask: {e}");
        return ExitCode::FAILURE;
    }
    let Err(e) = nix::unistd::execvp(&args[0], &args);
    eprintln!("passerelle-sandbox-blocked-exec: {:?}: {e}", args[0]);
    ExitCode::from(127)
}
