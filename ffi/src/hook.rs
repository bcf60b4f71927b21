//! The token hook: a C function pointer plus user data, called with every new token.

use std::ffi::c_void;
use std::sync::{Arc, PoisonError, RwLock};

use tokenward::Token;

use crate::token::tw_token;

/// Called with every token a client obtains; see `tw_options_set_on_token` for the rules
/// (which thread, what may be done inside). `token` is borrowed for the call only.
pub type tw_token_callback =
    Option<unsafe extern "C" fn(user_data: *mut c_void, token: *const tw_token)>;

/// What `tw_options_set_on_token` stored.
#[derive(Clone, Copy)]
pub(crate) struct HookSpec {
    pub cb: unsafe extern "C" fn(*mut c_void, *const tw_token),
    pub user_data: *mut c_void,
}

/// A client's hook. Calls hold the read lock; `disable` takes the write lock, so once it has
/// returned no call is running and none will start: the caller may free `user_data`.
pub(crate) struct HookState {
    spec: HookSpec,
    enabled: RwLock<bool>,
}

// SAFETY: the C caller promises (tw_options_set_on_token's contract) that the callback and its
// user data may be used from any thread, concurrently.
unsafe impl Send for HookState {}
unsafe impl Sync for HookState {}

impl HookState {
    pub(crate) fn new(spec: HookSpec) -> Arc<HookState> {
        Arc::new(HookState {
            spec,
            enabled: RwLock::new(true),
        })
    }

    pub(crate) fn call(&self, token: &Token) {
        let enabled = self.enabled.read().unwrap_or_else(PoisonError::into_inner);
        if *enabled {
            let token: *const tw_token = (token as *const Token).cast();
            // SAFETY: the pointer is valid for the call; the contract is the caller's.
            unsafe { (self.spec.cb)(self.spec.user_data, token) };
        }
    }

    pub(crate) fn disable(&self) {
        *self.enabled.write().unwrap_or_else(PoisonError::into_inner) = false;
    }
}
