//! Test hosts: each a network namespace of its own joined to this one by a veth pair, so a
//! server in it reaches the shared services (the mock model, PostgreSQL) only over a real
//! network link, as a server on another machine would. Services listen on this side's
//! loopback; a forwarder on this side's end of each link carries connections to them.
//! Everything is removed when the [`Host`] is dropped.

use std::net::{Ipv4Addr, SocketAddr};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// One namespace with a point-to-point link to ours (a /30 of 198.18.0.0/15, the range
/// set aside for network tests).
pub struct Host {
    pub netns: String,
    link: String,
    /// Our end of the link: what the host reaches us at.
    pub gateway: Ipv4Addr,
    forwarders: Vec<JoinHandle<()>>,
}

fn ip(args: &[&str]) {
    let out = Command::new("ip")
        .args(args)
        .output()
        .expect("running `ip` (iproute2)");
    assert!(
        out.status.success(),
        "ip {}: {} (network namespaces need root)",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr).trim()
    );
}

impl Host {
    /// A fresh namespace with its link up (and its own loopback).
    pub fn new() -> Host {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let pid = std::process::id();
        let name = format!("cx{pid}h{n}");
        let link = format!("cx{pid}v{n}");
        // Names carry the pid; a run killed before its cleanup may have left these behind.
        for stale in [vec!["link", "del", &link], vec!["netns", "del", &name]] {
            let _ = Command::new("ip").args(&stale).output();
        }
        let block = (pid.wrapping_mul(16).wrapping_add(n)) % (1 << 15);
        let base = u32::from(Ipv4Addr::new(198, 18, 0, 0)) + block * 4;
        let gateway = Ipv4Addr::from(base + 1);
        let inside = Ipv4Addr::from(base + 2);
        let peer = format!("{link}p");
        ip(&["netns", "add", &name]);
        let host = Host {
            netns: name.clone(),
            link: link.clone(),
            gateway,
            forwarders: Vec::new(),
        };
        ip(&["link", "add", &link, "type", "veth", "peer", "name", &peer]);
        ip(&["link", "set", &peer, "netns", &name]);
        ip(&["addr", "add", &format!("{gateway}/30"), "dev", &link]);
        ip(&["link", "set", &link, "up"]);
        let in_ns = |args: &[&str]| {
            let mut all = vec!["netns", "exec", name.as_str(), "ip"];
            all.extend_from_slice(args);
            ip(&all);
        };
        in_ns(&["addr", "add", &format!("{inside}/30"), "dev", &peer]);
        in_ns(&["link", "set", &peer, "up"]);
        in_ns(&["link", "set", "lo", "up"]);
        host
    }

    /// Makes `target` (a service on our loopback) reachable from the host at the returned
    /// address on our end of the link.
    pub async fn forward(&mut self, target: SocketAddr) -> SocketAddr {
        let listener = TcpListener::bind((self.gateway, 0))
            .await
            .expect("listening on the link");
        let addr = listener.local_addr().expect("forwarder address");
        self.forwarders.push(tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(target).await {
                        let _ = inbound.set_nodelay(true);
                        let _ = outbound.set_nodelay(true);
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        }));
        addr
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        for f in &self.forwarders {
            f.abort();
        }
        // Deleting one end of a veth pair deletes both; then the namespace.
        let _ = Command::new("ip")
            .args(["link", "del", &self.link])
            .output();
        let _ = Command::new("ip")
            .args(["netns", "del", &self.netns])
            .output();
    }
}
