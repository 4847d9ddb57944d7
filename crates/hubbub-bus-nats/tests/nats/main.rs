//! The NATS bus and cluster presence against real NATS servers: the shared one for
//! the happy paths, private ones for outages and broker figures.

mod support;

mod bus;
mod figures;
mod outage;
mod presence;
