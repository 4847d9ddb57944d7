//! The PRISM Live Studio dialect (seed-surfaces section 1): the real server on port 0,
//! driven the way PRISM Live Studio drives a service. Each test names the checklist
//! row (1.7) it covers; rows marked [P] test hubbub's proposals, not PRISM's docs.

mod helpers;

mod chat;
mod lives;
mod moderation;
mod oauth;
mod protocol;
