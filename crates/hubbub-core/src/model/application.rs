use super::Timestamp;
use crate::ids::AppId;
use crate::names::Properties;
use serde::{Deserialize, Serialize};

/// An application: a tenant with its own users, channels and credentials.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Application {
    pub id: AppId,
    /// Operator-facing name (`hubbub app create --name`).
    pub name: String,
    /// Public identifier of the application; it is also the OAuth `client_id`
    /// and ChatKitty's `key`.
    pub client_id: String,
    pub created_at: Timestamp,
    pub properties: Properties,
    pub settings: AppSettings,
}

/// Application-wide switches (ChatKitty's application settings, plus hubbub's own).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AppSettings {
    /// Users may be created on first connect by a guest session.
    pub guest_users: bool,
    /// Users (not only the backend) may create channels.
    pub user_created_channels: bool,
    /// Anonymous read-only viewers may watch public live rooms.
    pub anonymous_viewers: bool,
}

impl Default for AppSettings {
    fn default() -> Self {
        Self {
            guest_users: false,
            user_created_channels: false,
            anonymous_viewers: true,
        }
    }
}

/// What a store needs to create an application. Secrets arrive already hashed.
#[derive(Debug, Clone)]
pub struct NewApplication {
    pub name: String,
    pub client_id: String,
    pub client_secret_hash: String,
    /// The key the application's realtime JWTs are signed with (HS256). Stored as is
    /// because the server must sign and verify with it.
    pub signing_secret: String,
    pub properties: Properties,
    pub settings: AppSettings,
}

/// An application's stored credentials, as the authenticating edge sees them.
#[derive(Debug, Clone)]
pub struct AppCredentials {
    pub app: Application,
    pub client_secret_hash: String,
    pub signing_secret: String,
}
