//! The Tencent dialect against the real server on port 0 (seed-surfaces 4.5; each
//! test names the checklist rows it covers). UserSigs are made here by a generator
//! written from the spec; the npm package's are exercised by
//! tests/clients/tencent and the npm/PyPI reference strings by the dialect's unit
//! tests.

mod helpers;

mod accounts;
mod auth;
mod engine_support;
mod members;
mod messages;
mod robots;
mod rooms;
