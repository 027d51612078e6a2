//! Protocol v2 types, one file per resource.

/// Declares several structs with one field list. The official schema gives distinct names to
/// payloads of identical shape (`turn/started` vs `turn/completed`, `thread/start` vs
/// `thread/resume` responses); generated clients rely on those names, so we keep them.
macro_rules! same_shape {
    ($(#[$meta:meta])* [$($name:ident),+ $(,)?] $body:tt) => {
        same_shape!(@each { $(#[$meta])* } [$($name),+] $body);
    };
    (@each $attrs:tt [$($name:ident),+] $body:tt) => {
        $( same_shape!(@one $attrs $name $body); )+
    };
    (@one { $(#[$meta:meta])* } $name:ident { $($fields:tt)* }) => {
        $(#[$meta])*
        pub struct $name { $($fields)* }
    };
}

mod account;
mod approval;
mod command_exec;
mod common;
mod config;
mod dynamic_tools;
mod fs;
mod history;
mod initialize;
mod item;
mod mcp;
mod model;
mod notification;
mod review;
mod search;
mod skills;
mod subscription;
mod thread;
mod turn;

pub use account::*;
pub use approval::*;
pub use command_exec::*;
pub use common::*;
pub use config::*;
pub use dynamic_tools::*;
pub use fs::*;
pub use history::*;
pub use initialize::*;
pub use item::*;
pub use mcp::*;
pub use model::*;
pub use notification::*;
pub use review::*;
pub use search::*;
pub use skills::*;
pub use subscription::*;
pub use thread::*;
pub use turn::*;
