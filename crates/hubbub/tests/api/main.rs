//! Integration tests: the real server on port 0, driven over HTTP.

mod helpers;

mod auth;
mod channels;
mod limits;
mod messages;
mod ops;
mod users;
