//! The bridge with real parts: real HTTP on loopback, real SQLite files (and Postgres, see
//! `postgres.rs`), the sandbox playing HubRise. One test binary, a module a concern.

mod support;

mod back_office;
mod background;
mod bad_input;
mod binary;
mod conformance;
mod events;
mod identity_provider;
mod operations;
mod postgres;
mod push;
mod push_to_till;
mod refusals;
mod replays;
mod siblings;
mod startup;
mod storage;
mod stream;
mod with_the_core;
