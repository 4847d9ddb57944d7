//! Integration tests: the real server on port 0, driven over HTTP.

mod helpers;

mod auth;
mod channels;
mod imports;
mod jobs;
mod limits;
mod messages;
mod ops;
mod users;
