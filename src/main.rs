fn main() {
    std::process::exit(simcost::cli::main());
}

/// Looks at standard output before Rust's runtime reopens a closed one on /dev/null
/// (`simcost::output::probe_stdout`): a function in the executable's list of initialisers,
/// which the loader runs before `main`.
#[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
#[used]
#[link_section = ".init_array"]
static PROBE_STDOUT: extern "C" fn() = simcost::output::probe_stdout;

#[cfg(target_os = "macos")]
#[used]
#[link_section = "__DATA,__mod_init_func"]
static PROBE_STDOUT: extern "C" fn() = simcost::output::probe_stdout;
