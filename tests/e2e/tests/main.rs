//! End-to-end, fault, kill and secret-hygiene tests of passerelle-core against the sandbox, in
//! one test binary: one module a concern. Tests that install a process-wide `tracing` subscriber
//! run alone in a child process of this binary (`passerelle_e2e::alone`).

mod back_office;
mod budget;
mod connect;
mod crash;
mod faults;
mod location_check;
mod logging_bridge;
mod oauth_edge_cases;
mod orders;
mod outage;
mod pos_backend;
mod real_hubrise;
mod recovery;
mod reentrancy;
mod retention;
mod secret_hygiene;
mod service_grade;
mod sessions;
mod slow_host;
mod wall_clock;
