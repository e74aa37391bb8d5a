//! Reconciler tests
