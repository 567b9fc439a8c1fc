//! The HTTPS client every AWS call goes through: Service Catalog, STS (assumed roles, the
//! caller's account), SSO and the other credential sources aws-config builds. It is the SDK's own
//! hyper 1 + rustls client, configured as the SDK's default one is (the system's root
//! certificates, `HTTPS_PROXY`/`NO_PROXY` from the environment, the SDK's connect timeout and
//! sleep), with one difference: rustls's crypto comes from ring rather than aws-lc-rs, so a build
//! compiles no C crypto library with cmake. Nothing sc-assoc does needs aws-lc's FIPS or
//! post-quantum modes.

use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use aws_smithy_http_client::{Builder, ConnectorBuilder};
use aws_smithy_runtime_api::client::http::SharedHttpClient;

/// A new client with its own connection pool. One is made per loaded configuration, as the
/// SDK's default client would be: pooled connections belong to the runtime that opened them.
/// Public for code that builds SDK clients of its own beside sc-assoc's (this build has no
/// SDK default client to fall back on): `Config::builder().http_client(https_client())`.
pub fn https_client() -> SharedHttpClient {
    Builder::new().build_with_connector_fn(|settings, components| {
        let mut connector =
            ConnectorBuilder::default().tls_provider(tls::Provider::Rustls(CryptoMode::Ring));
        connector.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            connector.set_sleep_impl(components.sleep_impl());
        }
        // As the SDK's default client does for current behaviour versions: a pipeline behind
        // a corporate proxy sets HTTPS_PROXY and expects every AWS call to use it.
        connector.set_proxy_config(Some(ProxyConfig::from_env()));
        connector.build()
    })
}
