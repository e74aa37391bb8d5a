//! The one integration-test binary: drives the real `coffer` binary and the real app.
//! Modules by area share one build.

mod cli;
