//! Connections: the accept loop and everything that keeps slow, idle or non-reading clients
//! from taking the server down (axum::serve has none of it).
//!
//! - **Connection cap**: a semaphore of `max_connections` places, taken *before* `accept`, so
//!   connections over the cap wait in the kernel's listen backlog (and are served as places
//!   free up) instead of using file descriptors. The cap is derived from the open-file limit,
//!   raised to its hard limit at startup, minus [`FD_HEADROOM`].
//! - **Header-read timeout** (hyper's, with a tokio timer): a request head must arrive whole
//!   within it, counted from the accept or from the end of the previous response.
//! - **Idle timeout** ([`Activity`]): a connection with no request in progress (none yet, or
//!   between keep-alive requests) for this long is closed; a response being sent, such as an
//!   event stream, counts as in progress until its body is dropped. The header-read timeout
//!   runs over the same idle time, so the shorter of the two applies.
//! - **Send timeout** ([`SendTimeout`]): a connection whose client takes no bytes for this long
//!   while the server has bytes for it is closed; this is what frees a non-reading event stream.
//! - **Body timeout** ([`body_timeout`]): a request body not complete within it is answered 408.
//! - **Bounded graceful shutdown**: stop accepting, let in-flight requests finish for the grace
//!   period, then close whatever is left.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use http_body_util::BodyExt as _;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Sleep;

use crate::error::ApiError;
use crate::state::AppState;

/// File descriptors kept free of client connections: the journal (SQLite database, WAL and
/// shared memory, or a PostgreSQL pool), the listener, stdio, the runtime's own (epoll, wakers)
/// and a margin for what the process opens later (snapshots, logs).
pub const FD_HEADROOM: u64 = 64;

/// Connections the kernel holds for us while every place is taken (and before `accept`):
/// those over the cap wait here; beyond it the kernel drops their SYNs and clients retry.
/// Linux caps it at `net.core.somaxconn` (4096 by default).
pub const LISTEN_BACKLOG: u32 = 1024;

/// After an `accept` error (typically EMFILE), wait this long before the next: the error
/// repeats until a descriptor frees up, and retrying at once would spin.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(50);

/// Binds `addr` (host names resolved, the first address that binds wins) with
/// [`LISTEN_BACKLOG`].
pub async fn bind(addr: &str) -> io::Result<TcpListener> {
    let mut last = io::Error::new(io::ErrorKind::AddrNotAvailable, "the address resolves to nothing");
    for a in tokio::net::lookup_host(addr).await? {
        let socket = if a.is_ipv4() { tokio::net::TcpSocket::new_v4()? } else { tokio::net::TcpSocket::new_v6()? };
        socket.set_reuseaddr(true)?;
        match socket.bind(a).and_then(|_| socket.listen(LISTEN_BACKLOG)) {
            Ok(l) => return Ok(l),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// Raises the soft open-file limit to the hard limit where allowed; returns the soft limit in
/// effect afterwards.
pub fn raise_open_file_limit() -> u64 {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit/setrlimit only read and write the struct passed.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return 1024;
        }
        if lim.rlim_cur < lim.rlim_max {
            let mut raised = lim;
            // An unlimited hard limit cannot be the soft one on Linux (nr_open bounds it).
            raised.rlim_cur = if lim.rlim_max == libc::RLIM_INFINITY { 1 << 20 } else { lim.rlim_max };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                lim = raised;
            }
        }
    }
    // rlim_t is not u64 everywhere.
    #[allow(clippy::unnecessary_cast)]
    let soft = lim.rlim_cur as u64;
    soft
}

/// The connection cap: the configured one (refused if the open-file limit cannot hold it plus
/// the headroom), or the open-file limit minus the headroom.
pub fn connection_cap(configured: usize, open_files: u64) -> Result<usize, String> {
    let most = open_files.saturating_sub(FD_HEADROOM) as usize;
    if most == 0 {
        return Err(format!("the open-file limit ({open_files}) leaves no room for connections"));
    }
    match configured {
        0 => Ok(most),
        n if n <= most => Ok(n),
        n => Err(format!(
            "max_connections {n} does not fit the open-file limit {open_files} minus {FD_HEADROOM} kept for the journal and the process; at most {most}"
        )),
    }
}

pub struct Limits {
    pub max_connections: usize,
    pub header_read_timeout: Duration,
    pub idle_timeout: Duration,
    pub send_timeout: Duration,
    pub shutdown_grace: Duration,
}

/// Open connections and why they were closed (metrics).
#[derive(Default)]
pub struct ConnStats {
    pub open: AtomicU64,
    pub send_timeouts: AtomicU64,
    pub forced_at_shutdown: AtomicU64,
}

struct OpenGuard(Arc<ConnStats>);
impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Serves `app` on `listener` until `stop` fires, then shuts down within the grace period.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    stats: Arc<ConnStats>,
    mut stop: tokio::sync::oneshot::Receiver<()>,
) -> io::Result<()> {
    let places = Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
    let (closing, _) = tokio::sync::watch::channel(false);
    let mut tasks = tokio::task::JoinSet::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout).keep_alive(true);
    loop {
        while tasks.try_join_next().is_some() {}
        let place = tokio::select! {
            p = places.clone().acquire_owned() => p.expect("the semaphore is never closed"),
            _ = &mut stop => break,
        };
        let tcp = tokio::select! {
            r = listener.accept() => match r {
                Ok((tcp, _)) => tcp,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                    continue;
                }
            },
            _ = &mut stop => break,
        };
        let _ = tcp.set_nodelay(true);
        let io = TokioIo::new(SendTimeout::new(tcp, limits.send_timeout, stats.clone()));
        let activity = Arc::new(Activity::default());
        let conn = http.serve_connection(io, service(app.clone(), activity.clone()));
        stats.open.fetch_add(1, Ordering::Relaxed);
        let open = OpenGuard(stats.clone());
        let (closing, idle_timeout) = (closing.subscribe(), limits.idle_timeout);
        tasks.spawn(async move {
            let _place = place;
            let _open = open;
            if let Err(e) = run_connection(conn, activity, idle_timeout, closing).await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    // Connections without a request in progress close at once; in-flight requests finish, up
    // to the grace period.
    let _ = closing.send(true);
    let grace = tokio::time::sleep(limits.shutdown_grace);
    tokio::pin!(grace);
    loop {
        tokio::select! {
            next = tasks.join_next() => if next.is_none() { break },
            _ = &mut grace => {
                let left = stats.open.load(Ordering::Relaxed);
                stats.forced_at_shutdown.fetch_add(left, Ordering::Relaxed);
                tracing::warn!(connections = left, "grace period over: closing the connections left");
                break;
            }
        }
    }
    tasks.abort_all();
    while tasks.join_next().await.is_some() {}
    Ok(())
}

/// Requests in progress on one connection: from the head's arrival until the response body is
/// dropped (sent whole, or the connection ended). A connection with none is idle.
#[derive(Default)]
struct Activity {
    in_flight: AtomicU64,
    /// Counts requests begun, so an idle period interrupted by a request is noticed.
    begun: AtomicU64,
    changed: tokio::sync::Notify,
}

struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
        self.0.changed.notify_one();
    }
}

/// The router as a hyper service that keeps `activity` current.
fn service(
    app: Router,
    activity: Arc<Activity>,
) -> impl hyper::service::Service<
    hyper::Request<hyper::body::Incoming>,
    Response = Response,
    Error = std::convert::Infallible,
    Future = impl Future<Output = Result<Response, std::convert::Infallible>> + Send,
> + Clone {
    hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
        activity.in_flight.fetch_add(1, Ordering::SeqCst);
        activity.begun.fetch_add(1, Ordering::SeqCst);
        activity.changed.notify_one();
        let guard = InFlight(activity.clone());
        let mut app = app.clone();
        async move {
            let resp = tower_service::Service::call(&mut app, req.map(Body::new)).await?;
            // The response body holds the guard: the request counts as in progress until the
            // body is dropped (an event stream is never idle). `map_frame` hides the body's
            // size from hyper; answers keep `Content-Length` because axum sets the header on
            // every route's response before it reaches here.
            Ok(resp.map(|inner| {
                Body::new(inner.map_frame(move |frame| {
                    let _held = &guard;
                    frame
                }))
            }))
        }
    })
}

/// Serves one connection; closes it gracefully (after the request in progress, if any) once
/// it has been idle for `idle_timeout` or the server is shutting down.
async fn run_connection<S>(
    conn: hyper::server::conn::http1::Connection<TokioIo<SendTimeout>, S>,
    activity: Arc<Activity>,
    idle_timeout: Duration,
    mut closing: tokio::sync::watch::Receiver<bool>,
) -> hyper::Result<()>
where
    S: hyper::service::HttpService<hyper::body::Incoming, ResBody = Body>,
{
    tokio::pin!(conn);
    let mut asked_to_close = false;
    loop {
        tokio::select! {
            r = conn.as_mut() => return r,
            _ = closing.wait_for(|c| *c), if !asked_to_close => {}
            _ = idle_for(&activity, idle_timeout), if !asked_to_close => {}
        }
        conn.as_mut().graceful_shutdown();
        asked_to_close = true;
    }
}

/// Returns once no request has been in progress for `limit`.
async fn idle_for(activity: &Activity, limit: Duration) {
    loop {
        let changed = activity.changed.notified();
        tokio::pin!(changed);
        changed.as_mut().enable();
        if activity.in_flight.load(Ordering::SeqCst) > 0 {
            changed.await;
            continue;
        }
        let begun = activity.begun.load(Ordering::SeqCst);
        tokio::select! {
            _ = tokio::time::sleep(limit) => {
                if activity.in_flight.load(Ordering::SeqCst) == 0 && activity.begun.load(Ordering::SeqCst) == begun {
                    return;
                }
            }
            _ = changed => {}
        }
    }
}

/// A TCP stream whose writes fail once the peer has taken nothing for `limit` while bytes are
/// waiting: hyper then closes the connection and drops the response (an event stream's cursor
/// and page with it).
pub struct SendTimeout {
    io: TcpStream,
    limit: Duration,
    /// Armed at the first write that cannot proceed; disarmed by any write that does.
    stalled: Option<Pin<Box<Sleep>>>,
    stats: Arc<ConnStats>,
}

impl SendTimeout {
    pub fn new(io: TcpStream, limit: Duration, stats: Arc<ConnStats>) -> Self {
        SendTimeout { io, limit, stalled: None, stats }
    }

    fn after_write<T>(&mut self, cx: &mut Context<'_>, r: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        if r.is_ready() {
            self.stalled = None;
            return r;
        }
        let limit = self.limit;
        let sleep = self.stalled.get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        match sleep.as_mut().poll(cx) {
            Poll::Ready(()) => {
                self.stats.send_timeouts.fetch_add(1, Ordering::Relaxed);
                Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the client took no bytes within the send timeout",
                )))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl AsyncRead for SendTimeout {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl AsyncWrite for SendTimeout {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.io).poll_write(cx, buf);
        self.after_write(cx, r)
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        self.after_write(cx, r)
    }
    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let r = Pin::new(&mut self.io).poll_flush(cx);
        self.after_write(cx, r)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

/// Gives the request body `body_timeout_ms` to arrive whole; if it does not, the answer is
/// 408 `body_timeout` whatever the handler made of the broken body, and the connection closes.
pub async fn body_timeout(State(st): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    use axum::body::HttpBody as _;
    if req.body().is_end_stream() {
        return next.run(req).await;
    }
    let timed_out = Arc::new(AtomicBool::new(false));
    let ms = match crate::routes::import::is_import_path(req.uri().path()) {
        true => crate::routes::import::IMPORT_BODY_TIMEOUT_MS,
        false => st.config.body_timeout_ms,
    };
    let limit = Duration::from_millis(ms);
    let req = req.map(|inner| {
        Body::new(DeadlineBody { inner, deadline: Box::pin(tokio::time::sleep(limit)), timed_out: timed_out.clone() })
    });
    let resp = next.run(req).await;
    if !timed_out.load(Ordering::Relaxed) {
        return resp;
    }
    let mut resp = ApiError::new(
        StatusCode::REQUEST_TIMEOUT,
        "body_timeout",
        format!("the request body did not arrive within {ms} ms"),
    )
    .into_response();
    resp.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    resp
}

struct DeadlineBody {
    inner: Body,
    deadline: Pin<Box<Sleep>>,
    timed_out: Arc<AtomicBool>,
}

impl axum::body::HttpBody for DeadlineBody {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        if let Poll::Ready(f) = Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(f);
        }
        match self.deadline.as_mut().poll(cx) {
            Poll::Ready(()) => {
                self.timed_out.store(true, Ordering::Relaxed);
                Poll::Ready(Some(Err(axum::Error::new("the request body did not arrive in time"))))
            }
            Poll::Pending => Poll::Pending,
        }
    }
    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }
    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_connection_cap_leaves_the_headroom() {
        assert_eq!(connection_cap(0, 1024), Ok(1024 - FD_HEADROOM as usize));
        assert_eq!(connection_cap(64, 256), Ok(64));
        assert!(connection_cap(1000, 1024).is_err());
        assert!(connection_cap(0, FD_HEADROOM).is_err());
    }
}
