//! The network cut: while it is on, the device cannot reach the sandbox, as when an iPad loses
//! its network. HubRise's API and the POS backend close their listening sockets (a new
//! connection is refused: `ECONNREFUSED`, a connect error for the client) and reopen them on the
//! same port when the cut ends; on every server, a request arriving on a connection opened
//! before the cut is dropped without an answer (the request log shows status 0). The manager
//! keeps listening so that the admin API (`/_sandbox`, never cut) can end the cut; its OAuth
//! routes drop every request meanwhile.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::state::Shared;

/// A listener that refuses connections while the network is cut.
pub(crate) struct CuttableListener {
    addr: SocketAddr,
    inner: Option<TcpListener>,
    cut: watch::Receiver<bool>,
    shared: Arc<Shared>,
}

impl CuttableListener {
    pub fn new(listener: TcpListener, shared: &Arc<Shared>) -> std::io::Result<Self> {
        Ok(CuttableListener {
            addr: listener.local_addr()?,
            inner: Some(listener),
            cut: shared.watch_network(),
            shared: shared.clone(),
        })
    }
}

/// Waits for the next change of the switch (forever once its sender is gone).
async fn changed(cut: &mut watch::Receiver<bool>) {
    if cut.changed().await.is_err() {
        std::future::pending::<()>().await;
    }
}

impl axum::serve::Listener for CuttableListener {
    type Io = TcpStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (TcpStream, SocketAddr) {
        loop {
            if *self.cut.borrow_and_update() {
                // Closing the socket is what makes new connections refused.
                if self.inner.take().is_some() {
                    self.shared.listener_closed(true);
                }
                changed(&mut self.cut).await;
                continue;
            }
            let listener = match &self.inner {
                Some(listener) => listener,
                None => match TcpListener::bind(self.addr).await {
                    Ok(listener) => {
                        self.shared.listener_closed(false);
                        &*self.inner.insert(listener)
                    }
                    Err(e) => {
                        tracing::warn!("sandbox: cannot listen on {} again: {e}", self.addr);
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                },
            };
            let accepted = tokio::select! {
                accepted = listener.accept() => Some(accepted),
                () = changed(&mut self.cut) => None,
            };
            match accepted {
                // The switch moved: look at it again.
                None => {}
                Some(Ok((stream, peer))) if !*self.cut.borrow() => return (stream, peer),
                // Accepted just as the cut began: closed at once.
                Some(Ok(_)) => {}
                Some(Err(e)) if is_connection_error(&e) => {}
                Some(Err(e)) => {
                    tracing::warn!("sandbox: accept error: {e}");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        Ok(self.addr)
    }
}

fn is_connection_error(e: &std::io::Error) -> bool {
    use std::io::ErrorKind;
    matches!(
        e.kind(),
        ErrorKind::ConnectionRefused | ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset
    )
}
