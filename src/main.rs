fn main() {
    std::process::exit(simcost::cli::main());
}
