//! Applications, their settings and their credentials.

use super::{Actor, Engine, require_app};
use crate::credentials::{
    Redacted, hash_secret, new_access_token, new_client_id, new_client_secret, random_token,
    verify_secret,
};
use crate::error::{Error, Result};
use crate::ids::AppId;
use crate::model::{AppSettings, Application, DialectCredential, NewApplication, now};
use crate::names::Properties;
use std::time::Duration;

/// What `hubbub app create` prints once. The secrets are never shown again.
#[derive(Debug, Clone)]
pub struct NewApplicationCredentials {
    pub application: Application,
    pub client_secret: Redacted<String>,
    pub signing_secret: Redacted<String>,
    /// The credentials of every live-stream dialect (PRISM, kitkot, Allmine, Tencent).
    pub dialects: Vec<DialectCredential>,
}

/// An access token from the client-credentials grant.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub access_token: Redacted<String>,
    pub expires_in: Duration,
}

impl Engine {
    /// Creates an application with fresh credentials (operators: CLI and first start).
    pub async fn create_application(&self, name: &str) -> Result<NewApplicationCredentials> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 128 {
            return Err(Error::invalid("name", "must be 1 to 128 characters"));
        }
        let client_secret = new_client_secret();
        let signing_secret = random_token(32);
        let application = self
            .store
            .create_application(NewApplication {
                name: name.to_owned(),
                client_id: new_client_id(),
                client_secret_hash: hash_secret(&client_secret),
                signing_secret: signing_secret.clone(),
                properties: Properties::default(),
                settings: AppSettings::default(),
            })
            .await?;
        let dialects = self.generate_dialect_credentials(&application).await?;
        Ok(NewApplicationCredentials {
            application,
            client_secret: Redacted(client_secret),
            signing_secret: Redacted(signing_secret),
            dialects,
        })
    }

    /// Every application (operators only).
    pub async fn list_applications(&self) -> Result<Vec<Application>> {
        self.store.list_applications().await
    }

    /// The actor's own application.
    pub async fn get_application(&self, actor: &Actor) -> Result<Application> {
        self.store
            .get_application(actor.app())
            .await?
            .ok_or_else(|| Error::not_found("application"))
    }

    pub async fn update_app_settings(
        &self,
        actor: &Actor,
        settings: AppSettings,
    ) -> Result<Application> {
        require_app(actor)?;
        self.store.update_app_settings(actor.app(), settings).await
    }

    /// The OAuth client-credentials grant: checks the secret in constant time and
    /// issues a token valid for `ttl`. Unknown client ids and wrong secrets fail alike.
    pub async fn issue_access_token(
        &self,
        client_id: &str,
        client_secret: &str,
        ttl: Duration,
    ) -> Result<(Application, IssuedToken)> {
        let credentials = self.store.find_credentials(client_id).await?;
        let Some(credentials) = credentials else {
            // Spend the same work as a real check so timing does not reveal ids.
            let _ = verify_secret(client_secret, &hash_secret("unknown-client"));
            return Err(Error::Forbidden("bad client credentials".into()));
        };
        if !verify_secret(client_secret, &credentials.client_secret_hash) {
            return Err(Error::Forbidden("bad client credentials".into()));
        }
        let token = new_access_token();
        let expires_at = now()
            + chrono::Duration::from_std(ttl).map_err(|_| Error::invalid("ttl", "too long"))?;
        self.store
            .insert_access_token(credentials.app.id, &hash_secret(&token), expires_at)
            .await?;
        Ok((
            credentials.app,
            IssuedToken {
                access_token: Redacted(token),
                expires_in: ttl,
            },
        ))
    }

    /// The application a bearer token belongs to and the token's expiry, if the token
    /// is known and unexpired.
    pub async fn authenticate_access_token(
        &self,
        token: &str,
    ) -> Result<Option<(AppId, crate::model::Timestamp)>> {
        let found = self.store.find_access_token(&hash_secret(token)).await?;
        Ok(found.filter(|(_, expires_at)| *expires_at > now()))
    }

    /// The application's realtime signing secret and record, by client id (for the
    /// CLI's token command and the gateway).
    pub async fn find_credentials(
        &self,
        client_id: &str,
    ) -> Result<Option<crate::model::AppCredentials>> {
        self.store.find_credentials(client_id).await
    }
}
