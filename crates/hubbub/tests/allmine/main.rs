//! The Allmine dialect (`/api/v1/...`) against the real server on port 0: every row of
//! the conformance checklist (reference section 3.4) and the OTP login flows.

mod helpers;

mod auth;
mod chat;
