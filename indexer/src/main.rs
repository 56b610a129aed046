//! The indexer's commands come with its chain source and API; the store and decoders are the library.

fn main() {
    eprintln!("indexer: no command yet (the store and decoders are the library)");
    std::process::exit(2);
}
