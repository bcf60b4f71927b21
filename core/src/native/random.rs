//! The operating system's random generator as the core's [`RandomSource`].

use crate::prelude::*;

use crate::error::{Error, Result};
use crate::pkce::RandomSource;

/// The OS CSPRNG (`getrandom(2)` on Linux) through the `getrandom` crate, for every PKCE
/// verifier, `state` and `nonce`. A login draws 96 bytes once; nothing here is worth a
/// generator of our own.
#[derive(Debug, Clone, Copy, Default)]
pub struct OsRandom;

impl RandomSource for OsRandom {
    fn fill(&self, dest: &mut [u8]) -> Result<()> {
        getrandom::fill(dest)
            .map_err(|e| Error::config(format!("the OS random generator failed: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pkce::Pkce;

    #[test]
    fn os_random_differs_each_time() {
        let a = Pkce::generate(&OsRandom).unwrap();
        let b = Pkce::generate(&OsRandom).unwrap();
        assert_ne!(a.verifier().expose(), b.verifier().expose());
    }
}
