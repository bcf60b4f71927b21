//! PKCE (RFC 7636), always S256, and the random values a login needs (`state`, `nonce`).
//!
//! Randomness comes in through [`RandomSource`] so the browser can hand in
//! `crypto.getRandomValues` and tests can be deterministic; natively it is the OS RNG.

use crate::prelude::*;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::secret::Secret;

/// Fills buffers with cryptographically secure random bytes.
pub trait RandomSource: Send + Sync {
    fn fill(&self, dest: &mut [u8]) -> Result<()>;
}

/// The operating system's RNG (`getrandom(2)` on Linux), stretched per thread with ChaCha20.
///
/// The kernel's generator costs about 3 ns a byte here, a third of a PKCE pair, so each thread
/// keys a ChaCha20 generator (SIMD, about 1 ns a byte) from the OS and draws 4 KiB at a time:
/// - **fast key erasure**: every refill also draws the next key and drops the generator, so the
///   memory holds no key that could replay a value already handed out, and handed-out bytes
///   are wiped from the pool;
/// - a fresh key from the OS every 64 KiB, so a leaked state goes stale;
/// - a `fork()` makes the child take a fresh key from the OS before its first draw, so parent
///   and child never share a verifier.
///
/// Draws over 512 bytes go to the OS directly.
#[cfg(feature = "blocking")]
#[derive(Debug, Clone, Copy, Default)]
pub struct OsRandom;

#[cfg(feature = "blocking")]
impl RandomSource for OsRandom {
    fn fill(&self, dest: &mut [u8]) -> Result<()> {
        os_pool::fill(dest)
            .map_err(|e| Error::config(format!("the OS random generator failed: {e}")))
    }
}

#[cfg(feature = "blocking")]
mod os_pool {
    use crate::prelude::*;
    use chacha20::rand_core::{Rng, SeedableRng};
    use chacha20::ChaCha20Rng;
    use std::cell::RefCell;
    use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
    use std::thread_local;
    use zeroize::{Zeroize, Zeroizing};

    const POOL: usize = 4096;
    /// Refills per key from the OS: 64 KiB of output.
    const REFILLS_PER_OS_KEY: u32 = 16;

    /// Bumped in the child after every `fork()`: a key taken before it is stale.
    static FORK_GENERATION: AtomicU64 = AtomicU64::new(0);

    #[cfg(unix)]
    extern "C" fn after_fork_in_child() {
        FORK_GENERATION.fetch_add(1, Relaxed);
    }

    fn watch_forks() {
        #[cfg(unix)]
        {
            static REGISTER: std::sync::Once = std::sync::Once::new();
            // SAFETY: registers a handler that only touches an atomic, as code running right
            // after fork must; the handler is a plain function that lives for the process.
            REGISTER.call_once(|| unsafe {
                libc::pthread_atfork(None, None, Some(after_fork_in_child));
            });
        }
    }

    struct Pool {
        bytes: Box<[u8; POOL]>,
        next: usize,
        /// The key of the next refill (never one that produced bytes still in the pool).
        key: Zeroizing<[u8; 32]>,
        refills_left: u32,
        generation: u64,
    }

    impl Pool {
        fn refill(&mut self, generation: u64) -> Result<(), getrandom::Error> {
            if self.refills_left == 0 || self.generation != generation {
                getrandom::fill(&mut self.key[..])?;
                self.refills_left = REFILLS_PER_OS_KEY;
                self.generation = generation;
            }
            // Dropping the generator wipes its state (chacha20's `zeroize` feature).
            let mut rng = ChaCha20Rng::from_seed(*self.key);
            rng.fill_bytes(&mut self.key[..]);
            rng.fill_bytes(&mut self.bytes[..]);
            self.next = 0;
            self.refills_left -= 1;
            Ok(())
        }
    }

    impl Drop for Pool {
        fn drop(&mut self) {
            self.bytes.zeroize();
        }
    }

    thread_local! {
        static THREAD_POOL: RefCell<Option<Pool>> = const { RefCell::new(None) };
    }

    pub fn fill(dest: &mut [u8]) -> Result<(), getrandom::Error> {
        if dest.len() > POOL / 8 {
            return getrandom::fill(dest);
        }
        watch_forks();
        THREAD_POOL.with(|cell| {
            let mut slot = cell.borrow_mut();
            let generation = FORK_GENERATION.load(Relaxed);
            let pool = slot.get_or_insert_with(|| Pool {
                bytes: Box::new([0; POOL]),
                next: POOL,
                key: Zeroizing::new([0; 32]),
                refills_left: 0,
                generation,
            });
            if pool.generation != generation || pool.next + dest.len() > POOL {
                pool.refill(generation)?;
            }
            let taken = &mut pool.bytes[pool.next..pool.next + dest.len()];
            dest.copy_from_slice(taken);
            taken.zeroize();
            pool.next += dest.len();
            Ok(())
        })
    }
}

/// 32 random bytes, base64url without padding: 43 characters, 256 bits.
pub fn random_string(rng: &dyn RandomSource) -> Result<Secret> {
    let mut bytes = zeroize::Zeroizing::new([0u8; 32]);
    rng.fill(&mut bytes[..])?;
    Ok(Secret::new(URL_SAFE_NO_PAD.encode(&bytes[..])))
}

/// A code verifier and its S256 challenge.
#[derive(Debug, Clone)]
pub struct Pkce {
    verifier: Secret,
    challenge: String,
}

impl Pkce {
    /// A fresh pair: a 43-character verifier (256 random bits) and its challenge.
    pub fn generate(rng: &dyn RandomSource) -> Result<Pkce> {
        let verifier = random_string(rng)?;
        let challenge = s256_challenge(verifier.expose());
        Ok(Pkce {
            verifier,
            challenge,
        })
    }

    /// Rebuilds the pair from a stored verifier, checking RFC 7636 §4.1's alphabet and length.
    pub fn from_verifier(verifier: &str) -> Result<Pkce> {
        let ok_len = (43..=128).contains(&verifier.len());
        let ok_chars = verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
        if !ok_len || !ok_chars {
            return Err(Error::config(
                "a PKCE code verifier is 43 to 128 characters of A-Z a-z 0-9 - . _ ~",
            ));
        }
        Ok(Pkce {
            challenge: s256_challenge(verifier),
            verifier: Secret::new(verifier),
        })
    }

    pub fn verifier(&self) -> &Secret {
        &self.verifier
    }

    /// `BASE64URL(SHA256(verifier))`; the method is always `S256`, `plain` is never sent.
    pub fn challenge(&self) -> &str {
        &self.challenge
    }
}

/// `BASE64URL-ENCODE(SHA256(ASCII(verifier)))` (RFC 7636 §4.2).
pub fn s256_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7636_appendix_b() {
        let p = Pkce::from_verifier("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").unwrap();
        assert_eq!(p.challenge(), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    }

    struct Fixed(u8);
    impl RandomSource for Fixed {
        fn fill(&self, dest: &mut [u8]) -> Result<()> {
            dest.fill(self.0);
            Ok(())
        }
    }

    #[test]
    fn generated_verifier_is_43_unreserved_chars() {
        let p = Pkce::generate(&Fixed(0xfb)).unwrap();
        assert_eq!(p.verifier().expose().len(), 43);
        assert!(Pkce::from_verifier(p.verifier().expose()).is_ok());
        assert_eq!(p.challenge(), s256_challenge(p.verifier().expose()));
    }

    #[test]
    fn bad_verifiers_are_refused() {
        assert!(Pkce::from_verifier("short").is_err());
        assert!(Pkce::from_verifier(&"a".repeat(129)).is_err());
        assert!(Pkce::from_verifier(&format!("{}+", "a".repeat(43))).is_err());
    }

    #[cfg(all(feature = "blocking", unix))]
    #[test]
    fn a_forked_child_never_repeats_the_parents_random_bytes() {
        let rng = OsRandom;
        let mut warm = [0u8; 32];
        rng.fill(&mut warm).unwrap(); // the pool is filled now
        let mut fds = [0; 2];
        // SAFETY: plain libc calls; the child only fills a stack buffer, writes it and _exits.
        unsafe {
            assert_eq!(libc::pipe(fds.as_mut_ptr()), 0);
            let pid = libc::fork();
            assert!(pid >= 0);
            if pid == 0 {
                let mut child = [0u8; 32];
                let ok = rng.fill(&mut child).is_ok();
                libc::write(fds[1], child.as_ptr().cast(), if ok { 32 } else { 0 });
                libc::_exit(0);
            }
            let mut parent = [0u8; 32];
            rng.fill(&mut parent).unwrap();
            let mut child = [0u8; 32];
            let n = libc::read(fds[0], child.as_mut_ptr().cast(), 32);
            libc::waitpid(pid, std::ptr::null_mut(), 0);
            libc::close(fds[0]);
            libc::close(fds[1]);
            assert_eq!(n, 32, "the child could not draw random bytes");
            assert_ne!(
                parent, child,
                "parent and child drew the same bytes after fork"
            );
        }
    }

    #[cfg(feature = "blocking")]
    #[test]
    fn pool_hands_out_fresh_bytes_across_refills_and_os_rekeys() {
        let mut seen = std::collections::HashSet::new();
        // 96 KB: 23 refills and the OS key replaced once.
        for _ in 0..3000 {
            let mut b = [0u8; 32];
            OsRandom.fill(&mut b).unwrap();
            assert!(seen.insert(b), "a 32-byte draw repeated");
        }
        let mut big = vec![0u8; 4096];
        OsRandom.fill(&mut big).unwrap();
        assert!(big.iter().any(|&b| b != 0));
    }

    #[cfg(feature = "blocking")]
    #[test]
    fn os_random_differs_each_time() {
        let a = Pkce::generate(&OsRandom).unwrap();
        let b = Pkce::generate(&OsRandom).unwrap();
        assert_ne!(a.verifier().expose(), b.verifier().expose());
    }
}
