//! Creating program-derived accounts by hand, where Anchor's `init` cannot be used: registration must
//! answer a taken content hash with its own error, and the licence mint's extensions depend on the terms.
//! And finding their canonical bump for less than `find_program_address` charges.
use anchor_lang::prelude::*;

const PDA_MARKER: &[u8] = b"ProgramDerivedAddress";
/// Seeds of the accounts this program derives, bump excluded.
const MAX_SEEDS: usize = 4;

/// The canonical bump of `address` as a PDA of this program under `seeds`, or ConstraintSeeds if
/// `address` is not that PDA. Same result as `find_program_address`, but each candidate bump costs
/// one sha256 and one curve check (a few hundred compute units) instead of a
/// `create_program_address` (1,500), so every buyer pays about the same whatever its key.
pub fn canonical_bump(address: &Pubkey, seeds: &[&[u8]]) -> Result<u8> {
    let count = seeds.len();
    require!(count <= MAX_SEEDS, ErrorCode::ConstraintSeeds);
    let program = crate::ID;
    for bump in (0..=u8::MAX).rev() {
        let bump_seed = [bump];
        let mut parts: [&[u8]; MAX_SEEDS + 3] = [&[]; MAX_SEEDS + 3];
        parts[..count].copy_from_slice(seeds);
        parts[count] = &bump_seed;
        parts[count + 1] = program.as_ref();
        parts[count + 2] = PDA_MARKER;
        let hash = solana_sha256_hasher::hashv(&parts[..count + 3]).to_bytes();
        // a PDA is a hash that is not a point of the curve (no private key can exist for it)
        if !on_curve(hash) {
            require_keys_eq!(*address, Pubkey::new_from_array(hash), ErrorCode::ConstraintSeeds);
            return Ok(bump);
        }
    }
    err!(ErrorCode::ConstraintSeeds)
}
use anchor_lang::system_program::{self, Allocate, Assign, CreateAccount, Transfer};

/// Creates `target` (a PDA signed for by `signer_seeds`) with `space` bytes, `lamports` of rent and
/// `owner`. Someone may have sent lamports to the address beforehand to block a plain
/// `create_account`: then top up, allocate and assign instead.
pub fn create_pda_account<'info>(
    payer: &AccountInfo<'info>,
    target: &AccountInfo<'info>,
    system: &AccountInfo<'info>,
    space: usize,
    lamports: u64,
    owner: &Pubkey,
    signer_seeds: &[&[u8]],
) -> Result<()> {
    let signer: &[&[&[u8]]] = &[signer_seeds];
    let space = u64::try_from(space).map_err(|_| error!(crate::errors::MarketError::Overflow))?;
    let current = target.lamports();
    if current == 0 {
        let accounts = CreateAccount { from: payer.clone(), to: target.clone() };
        return system_program::create_account(
            CpiContext::new_with_signer(system.key(), accounts, signer),
            lamports,
            space,
            owner,
        );
    }
    let top_up = lamports.saturating_sub(current);
    if top_up > 0 {
        let accounts = Transfer { from: payer.clone(), to: target.clone() };
        system_program::transfer(CpiContext::new(system.key(), accounts), top_up)?;
    }
    system_program::allocate(
        CpiContext::new_with_signer(system.key(), Allocate { account_to_allocate: target.clone() }, signer),
        space,
    )?;
    system_program::assign(
        CpiContext::new_with_signer(system.key(), Assign { account_to_assign: target.clone() }, signer),
        owner,
    )
}

/// Creates the program-owned PDA `target`, sized and funded for `T`, and writes `value` into it
/// (discriminator first), as Anchor's `init` would.
pub fn create_program_account<'info, T: AccountSerialize + Space>(
    payer: &AccountInfo<'info>,
    target: &AccountInfo<'info>,
    system: &AccountInfo<'info>,
    signer_seeds: &[&[u8]],
    value: &T,
) -> Result<()> {
    let space = 8 + T::INIT_SPACE;
    create_pda_account(payer, target, system, space, Rent::get()?.minimum_balance(space), &crate::ID, signer_seeds)?;
    value.try_serialize(&mut &mut target.try_borrow_mut_data()?[..])
}

/// The curve check behind `create_program_address` (a syscall on chain). The crate, pinned, marks
/// this interface as unstable from its next major version.
#[allow(deprecated)]
fn on_curve(bytes: [u8; 32]) -> bool {
    solana_curve25519::edwards::validate_edwards(&solana_curve25519::edwards::PodEdwardsPoint(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn canonical_bump_matches_find_program_address(a in any::<[u8; 32]>(), b in any::<[u8; 32]>()) {
            let seeds: [&[u8]; 3] = [b"license", &a, &b];
            let (address, bump) = Pubkey::find_program_address(&seeds, &crate::ID);
            prop_assert_eq!(canonical_bump(&address, &seeds).unwrap(), bump);
            // any other address is refused
            let mut other = address.to_bytes();
            other[0] ^= 1;
            prop_assert!(canonical_bump(&Pubkey::new_from_array(other), &seeds).is_err());
        }
    }
}
