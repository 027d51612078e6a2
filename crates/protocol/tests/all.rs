//! Integration tests of the protocol crate: schema drift and wire shapes.

mod suite;
