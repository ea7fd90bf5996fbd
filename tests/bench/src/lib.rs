//! Shared pieces of Passerelle's benchmarks.
