//! The kitkot dialect (being built; see ../mod.rs).

use crate::AppState;
use axum::Router;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
}
