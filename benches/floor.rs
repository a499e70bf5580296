//! The floor for `scripts/bench.sh`: read every record of a CSV as a `csv::ByteRecord` and count
//! them, the least any CSV-reading tool must do. simcost's time is reported as a ratio to this.

use std::io::Read;

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: floor FILE.csv");
        std::process::exit(2);
    };
    let file = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("floor: {path}: {e}");
            std::process::exit(1);
        }
    };
    let input: Box<dyn Read> = Box::new(std::io::BufReader::with_capacity(1 << 20, file));
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(input);
    let mut rec = csv::ByteRecord::new();
    let mut n: u64 = 0;
    loop {
        match rdr.read_byte_record(&mut rec) {
            Ok(true) => n += 1,
            Ok(false) => break,
            Err(e) => {
                eprintln!("floor: {path}: {e}");
                std::process::exit(1);
            }
        }
    }
    println!("{n}");
}
