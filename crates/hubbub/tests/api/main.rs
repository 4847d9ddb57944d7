//! Integration tests: the real server on port 0, driven over HTTP.

mod helpers;

mod auth;
mod channels;
mod imports;
mod invites;
mod jobs;
mod keystrokes;
mod limits;
mod messages;
mod moderation;
mod notifications;
mod ops;
mod receipts;
mod reports;
mod sessions;
mod threads;
mod users;
