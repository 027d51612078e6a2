//! Fault cases, one file per kind of fault, and the harness they share.

mod harness;

mod kill;
mod memory;
mod model_garbage;
mod shared_home;
mod storage;
mod wire;
