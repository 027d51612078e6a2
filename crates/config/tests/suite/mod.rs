mod support;

mod load;
mod read;
mod requirements;
mod write;
