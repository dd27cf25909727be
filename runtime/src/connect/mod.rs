//! Outbound TCP sockets: `connect()` of `cloudflare:sockets` (the JavaScript side is
//! `web/connect/35_connect.js`). A socket is a TCP stream, or a TLS stream over one
//! (`secureTransport: "on"`, or `startTls()` later), kept in its isolate's table by id and read
//! and written from JavaScript through the ops below.
//!
//! Guarantees: a worker whose outbound is blocked (`globalOutbound: null`) or given to an
//! outbound worker cannot open one; each socket counts as a subrequest; an isolate holds at most
//! [`TCP_SOCKETS_PER_ISOLATE_MAX`] open sockets; a read returns at most [`TCP_READ_BYTES_MAX`].

use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use rquickjs::prelude::{Func, Promised};
use rquickjs::{ArrayBuffer, Ctx, Exception, Object, Result, TypedArray};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadHalf, WriteHalf};

use crate::isolate;
use crate::worker::Outbound;

/// Open sockets one isolate may hold (Cloudflare allows 6 simultaneous connections per
/// request; an isolate serves many).
pub const TCP_SOCKETS_PER_ISOLATE_MAX: usize = 64;
/// Bytes one read hands to JavaScript at most.
pub const TCP_READ_BYTES_MAX: usize = 64 * 1024;
/// How long a connection attempt may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// What Cloudflare's runtime throws when a connection cannot be made.
const CONNECT_FAILED: &str = "proxy request failed, cannot connect to the specified address";

trait Io: AsyncRead + AsyncWrite + Unpin {}
impl<T: AsyncRead + AsyncWrite + Unpin> Io for T {}
type Stream = Box<dyn Io>;

/// One socket: its halves, so a read and a write can wait at once.
pub struct TcpSocket {
    read: tokio::sync::Mutex<Option<ReadHalf<Stream>>>,
    write: tokio::sync::Mutex<Option<WriteHalf<Stream>>>,
}

impl TcpSocket {
    fn new(stream: Stream) -> Rc<TcpSocket> {
        let (read, write) = tokio::io::split(stream);
        Rc::new(TcpSocket {
            read: tokio::sync::Mutex::new(Some(read)),
            write: tokio::sync::Mutex::new(Some(write)),
        })
    }
}

/// An isolate's open sockets by id.
#[derive(Default)]
pub struct TcpSockets {
    open: HashMap<u32, Rc<TcpSocket>>,
    next_id: u32,
}

impl TcpSockets {
    fn insert(&mut self, socket: Rc<TcpSocket>) -> u32 {
        self.next_id = self.next_id.wrapping_add(1);
        self.open.insert(self.next_id, socket);
        self.next_id
    }
}

pub fn register(_ctx: &Ctx<'_>, ops: &Object<'_>) -> Result<()> {
    ops.set("op_tcp_connect", Func::from(op_tcp_connect))?;
    ops.set("op_tcp_read", Func::from(op_tcp_read))?;
    ops.set("op_tcp_write", Func::from(op_tcp_write))?;
    ops.set("op_tcp_shutdown", Func::from(op_tcp_shutdown))?;
    ops.set("op_tcp_close", Func::from(op_tcp_close))?;
    ops.set("op_tcp_start_tls", Func::from(op_tcp_start_tls))?;
    Ok(())
}

fn tls_connector() -> tokio_rustls::TlsConnector {
    let mut roots = tokio_rustls::rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let config = tokio_rustls::rustls::ClientConfig::builder_with_provider(Arc::new(
        tokio_rustls::rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map(|builder| builder.with_root_certificates(roots).with_no_client_auth());
    match config {
        Ok(config) => tokio_rustls::TlsConnector::from(Arc::new(config)),
        Err(_) => tokio_rustls::TlsConnector::from(Arc::new(
            tokio_rustls::rustls::ClientConfig::builder()
                .with_root_certificates(tokio_rustls::rustls::RootCertStore::empty())
                .with_no_client_auth(),
        )),
    }
}

async fn tls(stream: Stream, host: &str) -> std::io::Result<Stream> {
    let name = tokio_rustls::rustls::pki_types::ServerName::try_from(host.to_owned())
        .map_err(|_| std::io::Error::other(format!("{host:?} is not a server name")))?;
    let wrapped = tls_connector().connect(name, stream).await?;
    Ok(Box::new(wrapped))
}

fn socket(ctx: &Ctx<'_>, id: u32) -> Result<Rc<TcpSocket>> {
    isolate::data(ctx)?
        .tcp
        .borrow()
        .open
        .get(&id)
        .cloned()
        .ok_or_else(|| crate::web::throw_error(ctx, "Network connection lost."))
}

/// Opens a connection to `host:port` (over TLS with `tls`); resolves with `[id, remote
/// address, local address]`.
fn op_tcp_connect<'js>(
    ctx: Ctx<'js>,
    host: String,
    port: u16,
    tls_now: bool,
) -> Result<Promised<impl std::future::Future<Output = Result<Vec<String>>> + 'js>> {
    {
        let data = isolate::data(&ctx)?;
        match data.worker.script().outbound {
        Outbound::Network => {}
        Outbound::Blocked => {
            return Err(crate::web::throw_error(
                &ctx,
                crate::web::fetch::NO_INTERNET_MESSAGE,
            ))
        }
        Outbound::Service(_) => {
            return Err(crate::web::throw_error(
                &ctx,
                "connect() is not available to a worker whose outbound requests go to an outbound worker.",
            ))
        }
    }
        data.count_subrequest(&ctx)?;
        if data.tcp.borrow().open.len() >= TCP_SOCKETS_PER_ISOLATE_MAX {
            return Err(Exception::throw_range(
                &ctx,
                &format!("Too many open sockets (at most {TCP_SOCKETS_PER_ISOLATE_MAX})."),
            ));
        }
    }
    Ok(Promised(async move {
        let connected = tokio::time::timeout(
            CONNECT_TIMEOUT,
            tokio::net::TcpStream::connect((host.as_str(), port)),
        )
        .await;
        let stream = match connected {
            Ok(Ok(stream)) => stream,
            _ => return Err(crate::web::throw_error(&ctx, CONNECT_FAILED)),
        };
        let remote = stream
            .peer_addr()
            .map(|a| a.to_string())
            .unwrap_or_default();
        let local = stream
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_default();
        let _ = stream.set_nodelay(true);
        let mut stream: Stream = Box::new(stream);
        if tls_now {
            stream = tls(stream, &host).await.map_err(|err| {
                crate::web::throw_error(&ctx, &format!("TLS handshake failed: {err}"))
            })?;
        }
        let id = isolate::data(&ctx)?
            .tcp
            .borrow_mut()
            .insert(TcpSocket::new(stream));
        Ok(vec![id.to_string(), remote, local])
    }))
}

/// The next bytes the peer sent, or null once it finished sending.
fn op_tcp_read<'js>(
    ctx: Ctx<'js>,
    id: u32,
) -> Result<Promised<impl std::future::Future<Output = Result<Option<ArrayBuffer<'js>>>> + 'js>> {
    let socket = socket(&ctx, id)?;
    Ok(Promised(async move {
        let mut guard = socket.read.lock().await;
        let Some(read) = guard.as_mut() else {
            return Ok(None);
        };
        let mut buffer = vec![0u8; TCP_READ_BYTES_MAX];
        let n = read
            .read(&mut buffer)
            .await
            .map_err(|_| crate::web::throw_error(&ctx, "Network connection lost."))?;
        if n == 0 {
            return Ok(None);
        }
        buffer.truncate(n);
        ArrayBuffer::new(ctx.clone(), buffer).map(Some)
    }))
}

fn op_tcp_write<'js>(
    ctx: Ctx<'js>,
    id: u32,
    bytes: TypedArray<'js, u8>,
) -> Result<Promised<impl std::future::Future<Output = Result<()>> + 'js>> {
    let socket = socket(&ctx, id)?;
    let bytes = bytes.as_bytes().unwrap_or(&[]).to_vec();
    Ok(Promised(async move {
        let mut guard = socket.write.lock().await;
        let write = guard
            .as_mut()
            .ok_or_else(|| Exception::throw_type(&ctx, "The socket's writable side is closed."))?;
        write
            .write_all(&bytes)
            .await
            .map_err(|_| crate::web::throw_error(&ctx, "Network connection lost."))?;
        write
            .flush()
            .await
            .map_err(|_| crate::web::throw_error(&ctx, "Network connection lost."))
    }))
}

/// Closes the writing side (the peer reads the end of the stream); reading goes on.
fn op_tcp_shutdown<'js>(
    ctx: Ctx<'js>,
    id: u32,
) -> Result<Promised<impl std::future::Future<Output = Result<()>> + 'js>> {
    let socket = socket(&ctx, id)?;
    Ok(Promised(async move {
        if let Some(write) = socket.write.lock().await.as_mut() {
            let _ = write.shutdown().await;
        }
        Ok(())
    }))
}

/// Forgets the socket; the connection closes once no read or write holds it.
fn op_tcp_close(ctx: Ctx<'_>, id: u32) -> Result<()> {
    isolate::data(&ctx)?.tcp.borrow_mut().open.remove(&id);
    Ok(())
}

/// Upgrades socket `id` to TLS with `host` as the server's name; resolves with the new id.
fn op_tcp_start_tls<'js>(
    ctx: Ctx<'js>,
    id: u32,
    host: String,
) -> Result<Promised<impl std::future::Future<Output = Result<u32>> + 'js>> {
    let socket = socket(&ctx, id)?;
    isolate::data(&ctx)?.tcp.borrow_mut().open.remove(&id);
    Ok(Promised(async move {
        let read = socket.read.lock().await.take();
        let write = socket.write.lock().await.take();
        let (Some(read), Some(write)) = (read, write) else {
            return Err(Exception::throw_type(
                &ctx,
                "The socket is in use or closed.",
            ));
        };
        let stream = read.unsplit(write);
        let secured = tls(stream, &host).await.map_err(|err| {
            crate::web::throw_error(&ctx, &format!("TLS handshake failed: {err}"))
        })?;
        Ok(isolate::data(&ctx)?
            .tcp
            .borrow_mut()
            .insert(TcpSocket::new(secured)))
    }))
}
