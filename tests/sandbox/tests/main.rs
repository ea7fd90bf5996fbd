//! The sandbox's behavioural tests over real HTTP on loopback, in one test binary: one module a
//! concern (see README.md, "Tests").

mod common;

mod active_callbacks;
mod admin_http;
mod api_orders;
mod browser;
mod callbacks;
mod faults_and_log;
mod hubrise_back_office;
mod oauth;
mod pos_backend;
mod rate_limits;
mod serve;
mod web_back_office;
