//! The four seed systems against the bundled Keycloak: a token for each, its decoded claims,
//! and what a cache hit costs. `make demo` runs it with the env file of the local Keycloak.
//!
//!     cargo run -p tokenward --example seeds -- .tw-state/demo/env

use std::collections::HashMap;
use std::time::Instant;

use tokenward::{Client, ClientConfig, Provider, RefreshPolicy};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let env_file = std::env::args()
        .nth(1)
        .ok_or("usage: seeds <keycloak env file>")?;
    let env: HashMap<String, String> = std::fs::read_to_string(&env_file)?
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.trim_matches('"').to_string()))
        .collect();
    let kc = &env["KC_URL"];
    let secret = |var: &str| env[var].clone();
    let port = kc.rsplit(':').next().unwrap_or_default();

    let seeds = [
        (
            "VION Cloud API (Keycloak base + realm)",
            Provider::keycloak(kc, "vion")?,
            ClientConfig::new("vion-service").secret(secret("TW_VION_SERVICE_SECRET")),
        ),
        (
            "ecoinvent (bare token URL)",
            Provider::from_token_url(&format!(
                "{kc}/realms/ecoinvent/protocol/openid-connect/token"
            ))?,
            ClientConfig::new("ecoinvent-client").secret(secret("TW_ECOINVENT_CLIENT_SECRET")),
        ),
        (
            "Iopole (optional scopes, role admin)",
            Provider::from_token_url(&format!("{kc}/realms/iopole/protocol/openid-connect/token"))?,
            ClientConfig::new("iopole-admin")
                .secret(secret("TW_IOPOLE_ADMIN_SECRET"))
                .scope("invoicing"),
        ),
        (
            "Docbyte Vault (URL template, tenant claim required)",
            Provider::from_template(
                "http://127.0.0.1:{port}/realms/{tenant}",
                &[("port", port), ("tenant", "acme")],
            )?,
            ClientConfig::new("vault-service")
                .secret(secret("TW_VAULT_SERVICE_SECRET"))
                .scope("openid")
                .require_claim("tenant"),
        ),
    ];

    for (name, provider, config) in seeds {
        let client = Client::new(provider, config)?;
        let started = Instant::now();
        let token = client.token()?;
        let fetch = started.elapsed();
        let started = Instant::now();
        let again = client.token()?;
        let hit = started.elapsed();
        assert!(std::sync::Arc::ptr_eq(&token, &again));
        let claims = token.claims().ok_or("Keycloak tokens are JWTs")?;
        println!("== {name}");
        println!("   token endpoint  {}", client.provider().token_endpoint);
        println!(
            "   expires_in      {} s (renews {:.1} s before expiry)",
            token.expires_in().unwrap_or(0),
            RefreshPolicy::default()
                .margin(token.lifetime().unwrap_or_default())
                .as_secs_f64()
        );
        println!(
            "   refresh token   {}",
            if token.refresh_token().is_some() {
                "yes"
            } else {
                "none (client credentials)"
            }
        );
        println!("   scope           {}", token.scope().unwrap_or(""));
        println!("   realm roles     {:?}", claims.realm_roles());
        if let Some(tenant) = claims.str("tenant") {
            println!("   tenant          {tenant}");
        }
        println!(
            "   first call      {:>9.3} ms (token request)",
            fetch.as_secs_f64() * 1e3
        );
        println!(
            "   second call     {:>9.3} µs (from the cache)",
            hit.as_secs_f64() * 1e6
        );
    }
    Ok(())
}
