//! Limits the engine enforces. Configurable by the operator; defaults are safe.

/// Engine-level limits. (Transport limits such as request body size live at the edge.)
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest message body in bytes (UTF-8).
    pub max_message_bytes: usize,
    /// Most members a channel created in one request may list.
    pub max_initial_members: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_message_bytes: 4096,
            max_initial_members: 1000,
        }
    }
}
