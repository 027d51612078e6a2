mod support;
mod thread_store;

mod load;
mod read;
mod requirements;
mod write;
