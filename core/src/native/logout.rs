//! Ending a session from a program (no browser): [`Client::logout`].

use super::client::Client;
use crate::error::Result;
use crate::oauth_error::error_from_response;
use crate::secret::Secret;
use crate::session::{self, TokenKind};

impl Client {
    /// Logs the user out without a browser: ends the session at the provider's end-session
    /// endpoint with its refresh token (Keycloak's back-channel logout), then revokes the
    /// refresh token (RFC 7009; for an offline token, Keycloak drops the offline session too)
    /// and empties the cache. A provider without an end-session endpoint only gets the
    /// revocation.
    pub fn logout(&self, refresh_token: &Secret) -> Result<()> {
        let flows = self.flows();
        if flows.provider.end_session_endpoint.is_some() {
            let request =
                session::end_session_request(&flows.provider, &flows.config, refresh_token)?;
            let response = flows.transport.send(&request)?;
            // 400 invalid_grant: the session had already ended; the revocation below still runs.
            if !response.is_success() {
                let e = error_from_response(&response);
                if e.oauth_error() != Some("invalid_grant") {
                    return Err(e);
                }
            }
        }
        if flows.provider.revocation_endpoint.is_some() {
            self.revoke(refresh_token, TokenKind::RefreshToken)?;
        }
        self.token_source().clear();
        Ok(())
    }
}
