//! Two connections over an in-memory pipe: typed requests one way, server requests the other,
//! and a close that flushes what was queued.

use codex_jsonrpc::{memory_pair, Connection, Frame, Incoming, Limits, RequestError};
use codex_protocol::jsonrpc::JsonRpcErrorBody;
use codex_protocol::methods::{Notification, ThreadLoadedList, ThreadStarted};
use codex_protocol::v2::ThreadLoadedListResponse;
use serde_json::json;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(10);

fn pair() -> (Connection, Connection) {
    let (a, b) = memory_pair();
    (
        Connection::stream(a, Limits::default()),
        Connection::stream(b, Limits::default()),
    )
}

#[tokio::test]
async fn a_typed_request_gets_its_typed_response_and_errors_come_back_as_rejections() {
    let (client, mut server) = pair();
    let answering = tokio::spawn(async move {
        let mut n = 0;
        while let Some(msg) = server.incoming.recv().await {
            let Incoming::Request { id, method, .. } = msg else {
                continue;
            };
            assert_eq!(method, "thread/loaded/list");
            n += 1;
            if n == 1 {
                let resp = ThreadLoadedListResponse {
                    data: vec!["t1".into()],
                    next_cursor: None,
                };
                server.peer.respond(id, &resp).await.unwrap();
            } else {
                server
                    .peer
                    .respond_error(Some(id), JsonRpcErrorBody::invalid_request("no"))
                    .await
                    .unwrap();
            }
        }
    });
    let params = Default::default();
    let got = tokio::time::timeout(WAIT, client.peer.request::<ThreadLoadedList>(&params))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.data, vec!["t1".to_string()]);
    let err = tokio::time::timeout(WAIT, client.peer.request::<ThreadLoadedList>(&params))
        .await
        .unwrap()
        .unwrap_err();
    assert!(matches!(err, RequestError::Rejected(e) if e.message == "no"));
    drop(client);
    answering.abort();
}

#[tokio::test]
async fn notifications_arrive_in_order_and_close_flushes_them() {
    let (server, mut client) = pair();
    for i in 0..500 {
        let frame =
            Frame::notification(<ThreadStarted as Notification>::NAME, &json!({"i": i})).unwrap();
        server.peer.send(frame).await.unwrap();
    }
    server.close(WAIT).await;
    for i in 0..500 {
        let msg = tokio::time::timeout(WAIT, client.incoming.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            msg,
            Incoming::Notification {
                method: "thread/started".into(),
                params: Some(json!({"i": i}))
            }
        );
    }
    assert_eq!(
        tokio::time::timeout(WAIT, client.incoming.recv())
            .await
            .unwrap(),
        None
    );
}
