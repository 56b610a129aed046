//! Generates the program's IDL on the host (no Solana toolchain needed) into idl/data_market.json.
//! With --check, fails if the committed IDL differs from what the program generates.
//!
//! cargo run -p market-idl [-- --check]
use std::path::PathBuf;
use std::process::ExitCode;

use anchor_lang_idl::build::IdlBuilder;

fn main() -> ExitCode {
    let check = std::env::args().any(|a| a == "--check");
    // The workspace is found at run time (`cargo run` sets CARGO_MANIFEST_DIR), not baked in at
    // compile time: two copies of this workspace (the deploy rehearsal's scratch copy) share one
    // build of this binary, and each must generate its own IDL.
    let manifest_dir =
        std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    let root = manifest_dir.join("../..").canonicalize().expect("workspace root");
    // A set RUSTUP_TOOLCHAIN makes the builder install that toolchain; always use the active one.
    std::env::remove_var("RUSTUP_TOOLCHAIN");
    // The builder compiles with its own RUSTFLAGS: a separate target dir keeps the main cache warm.
    let target_dir = root.join("target/idl");
    let idl = match IdlBuilder::new()
        .program_path(root.join("programs/data_market"))
        .cargo_args(vec!["--target-dir".into(), target_dir.display().to_string()])
        .build()
    {
        Ok(idl) => idl,
        Err(error) => {
            eprintln!("IDL build failed: {error}");
            return ExitCode::FAILURE;
        }
    };
    let generated = serde_json::to_string_pretty(&idl).expect("serialize IDL") + "\n";
    let path = root.join("idl/data_market.json");
    if check {
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        if committed != generated {
            eprintln!("{} is out of date: run `cargo run -p market-idl` and commit it", path.display());
            return ExitCode::FAILURE;
        }
        println!("IDL up to date ({} instructions)", idl.instructions.len());
    } else {
        std::fs::create_dir_all(path.parent().unwrap()).expect("create idl/");
        std::fs::write(&path, generated).expect("write IDL");
        println!("wrote {} ({} instructions)", path.display(), idl.instructions.len());
    }
    ExitCode::SUCCESS
}
