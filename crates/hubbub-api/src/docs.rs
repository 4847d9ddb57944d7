//! `/openapi.json` (OpenAPI 3.1, generated from the handlers' annotations) and `/docs`
//! (Swagger UI, served from files compiled into the binary — no internet needed).

use crate::AppState;
use axum::Router;
use std::sync::Arc;
use utoipa::openapi::security::{
    ClientCredentials, Flow, Http, HttpAuthScheme, OAuth2, Scopes, SecurityScheme,
};
use utoipa::openapi::{InfoBuilder, OpenApi, Server};
use utoipa_swagger_ui::SwaggerUi;

/// Adds the document-wide parts: info, servers and security schemes.
pub fn finish(mut api: OpenApi) -> OpenApi {
    api.info = InfoBuilder::new()
        .title("hubbub")
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(
            "A self-hosted live-stream chat server. This document describes the \
             ChatKitty-compatible Platform API; every path is also served under /v1.",
        ))
        .build();
    api.servers = Some(vec![Server::new("/"), Server::new("/v1")]);
    let components = api.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "application_authorization",
        SecurityScheme::OAuth2(OAuth2::new([Flow::ClientCredentials(
            ClientCredentials::new(
                "/oauth/token",
                Scopes::from_iter([
                    ("create:*", "create resources"),
                    ("read:*", "read resources"),
                    ("update:*", "update resources"),
                    ("delete:*", "delete resources"),
                ]),
            ),
        )])),
    );
    components.add_security_scheme(
        "client_basic",
        SecurityScheme::Http(Http::new(HttpAuthScheme::Basic)),
    );
    api.security = Some(vec![utoipa::openapi::security::SecurityRequirement::new(
        "application_authorization",
        ["create:*", "read:*", "update:*", "delete:*"],
    )]);
    api
}

pub fn router(api: Arc<OpenApi>) -> Router<AppState> {
    Router::new().merge(SwaggerUi::new("/docs").url("/openapi.json", (*api).clone()))
}
