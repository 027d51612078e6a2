mod fs;
mod search;
mod skills;
mod watch;
