//! The device authorization grant's runtime half: [`Client::device_authorization`] asks the
//! device endpoint for the codes, [`Client::device_wait`] sleeps between polls for as long as
//! the core's [`DevicePoll`] says, and stops when asked to. The rules are in
//! [`crate::device`].

use core::sync::atomic::{AtomicBool, Ordering};
use core::time::Duration;
use std::sync::Arc;
use std::time::Instant;

use super::client::Client;
use crate::device::{self, DeviceAuthorization, DeviceOptions, PollStep};
use crate::error::{Error, Result};
use crate::token::Token;

/// The error of a device login cancelled before the user approved it.
pub fn cancelled() -> Error {
    Error::LoginRequired(
        "the device login was cancelled before the user approved it; start a new one".into(),
    )
}

/// Sleeps `delay` in short slices; false as soon as `cancel` is set.
pub fn sleep_unless_cancelled(cancel: &AtomicBool, delay: Duration) -> bool {
    let until = Instant::now() + delay;
    loop {
        if cancel.load(Ordering::Acquire) {
            return false;
        }
        let now = Instant::now();
        if now >= until {
            return true;
        }
        std::thread::sleep((until - now).min(Duration::from_millis(100)));
    }
}

impl Client {
    /// Starts a device login (RFC 8628): show the user [`DeviceAuthorization::user_code`] and
    /// [`DeviceAuthorization::url_to_show`], then call [`Client::device_wait`].
    pub fn device_authorization(&self, options: &DeviceOptions) -> Result<DeviceAuthorization> {
        let flows = self.flows();
        let started = device::device_authorization_request(
            &flows.provider,
            &flows.config,
            options,
            flows.rng.as_ref(),
        )?;
        let sent_at = flows.sent_at();
        let response = flows.transport.send(&started.request)?;
        device::parse_device_authorization(&response, sent_at, started.pkce)
    }

    /// Polls until the user approves, refuses, the codes expire or `cancel` is set; the
    /// approved login is cached like any other ([`Client::token`] renews it with its refresh
    /// token). `access_denied` and `expired_token` are [`Error::OAuth`] with that `error`; a
    /// cancellation is [`Error::LoginRequired`].
    pub fn device_wait(
        &self,
        authorization: &DeviceAuthorization,
        cancel: &AtomicBool,
    ) -> Result<Arc<Token>> {
        self.device_wait_with(authorization, |d| sleep_unless_cancelled(cancel, d))
    }

    /// [`Client::device_wait`] with the waiting done by `wait`: it gets each delay the policy
    /// asks for and returns false to cancel (a binding's own event loop, or a test's clock).
    pub fn device_wait_with(
        &self,
        authorization: &DeviceAuthorization,
        mut wait: impl FnMut(Duration) -> bool,
    ) -> Result<Arc<Token>> {
        let flows = self.flows();
        let mut poll = authorization.poll();
        let mut delay = poll.first(flows.clock.now())?;
        loop {
            if !wait(delay) {
                return Err(cancelled());
            }
            let request =
                device::device_token_request(&flows.provider, &flows.config, authorization)?;
            let outcome = flows.request_token(request);
            match poll.next(outcome, flows.clock.now())? {
                PollStep::Done(token) => return Ok(self.token_source().set(*token)),
                PollStep::Wait(next) => delay = next,
            }
        }
    }
}
