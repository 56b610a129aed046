use std::path::PathBuf;
use std::sync::Once;

use anchor_lang::prelude::*;
use litesvm::LiteSVM;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// target/deploy/data_market.so (or $DATA_MARKET_SO) executed by the SBF VM.
    Sbf,
    /// The program crate linked into the test binary as a builtin.
    Native,
}

/// Where the SBF build puts the program (`anchor build` and scripts/build-sbf-offline.sh alike).
pub fn sbf_program_path() -> PathBuf {
    std::env::var_os("DATA_MARKET_SO")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/deploy/data_market.so"))
}

impl Backend {
    pub fn load(self, svm: &mut LiteSVM) {
        match self {
            Backend::Sbf => {
                let path = sbf_program_path();
                assert!(
                    path.exists(),
                    "{} is missing: build it with scripts/build-sbf-offline.sh (or `anchor build`)",
                    path.display()
                );
                svm.add_program_from_file(data_market::ID, &path).expect("load the SBF program");
            }
            Backend::Native => {
                install_native_syscall_stubs();
                let builtin: Option<solana_program_runtime::invoke_context::BuiltinFunctionWithContext> =
                    solana_program_test::processor!(native_entry);
                svm.add_builtin(data_market::ID, builtin.expect("builtin entry"));
            }
        }
    }
}

/// program-test installs the syscall stubs (CPI, sysvars) that a natively compiled program needs when
/// it first starts a bank; once per process is enough.
fn install_native_syscall_stubs() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // program-test turns on debug logging of every instruction unless told otherwise
        if std::env::var_os("RUST_LOG").is_none() {
            std::env::set_var("RUST_LOG", "error");
        }
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
            let _ = solana_program_test::ProgramTest::default().start().await;
        })
    });
}

/// Anchor's entry wants one 'info lifetime for all accounts; program-test's function type has several.
fn native_entry(
    program_id: &Pubkey,
    accounts: &[AccountInfo],
    data: &[u8],
) -> anchor_lang::solana_program::entrypoint::ProgramResult {
    // SAFETY: only lifetimes change; the accounts outlive the call.
    let accounts: &[AccountInfo] = unsafe { std::mem::transmute(accounts) };
    data_market::entry(program_id, accounts, data)
}
