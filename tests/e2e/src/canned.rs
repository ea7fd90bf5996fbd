//! A one-route HTTP server on loopback that answers every request with the same canned response:
//! for the token endpoint oddities the sandbox does not produce (HTML, empty, malformed bodies).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A running canned server; it stops when dropped.
pub struct CannedServer {
    pub base_url: String,
    hits: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl CannedServer {
    /// Answers `status` with `content_type` and `body` to every request.
    pub async fn start(status: u16, content_type: &str, body: &str) -> CannedServer {
        Self::start_with_header(status, content_type, body, None).await
    }

    /// The same, with one more header line (`Location: …`, say).
    pub async fn start_with_header(
        status: u16,
        content_type: &str,
        body: &str,
        header: Option<&str>,
    ) -> CannedServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base_url = format!("http://{}", listener.local_addr().expect("addr"));
        let response = format!(
            "HTTP/1.1 {status} Canned\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n{}connection: close\r\n\r\n{body}",
            body.len(),
            header.map(|h| format!("{h}\r\n")).unwrap_or_default()
        );
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = hits.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                let response = response.clone();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 16 * 1024];
                    // One read is enough for the small requests these tests send.
                    let _ = socket.read(&mut buf).await;
                    let _ = socket.write_all(response.as_bytes()).await;
                    let _ = socket.shutdown().await;
                });
            }
        });
        CannedServer {
            base_url,
            hits,
            task,
        }
    }

    /// How many connections it accepted.
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

impl Drop for CannedServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
