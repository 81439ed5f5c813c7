//! The HTTP benchmarks' client: one HTTP/1.1 connection (hyper's low-level client connection
//! over a tokio TCP stream), keep-alive, one request at a time. Each benchmark client opens its
//! own, so that the client spends as little CPU as it can on the cores it shares with the
//! server (a pooled client such as reqwest costs noticeably more per request).

use std::net::SocketAddr;

use http_body_util::BodyExt;
use hyper::body::{Bytes, Incoming};
use hyper::client::conn::http1::{handshake, SendRequest};
use hyper::header::{HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, HOST};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use serde_json::Value;

use crate::shared::{e, Result};

/// How long a request may take: a hung server fails the benchmark instead of hanging it.
const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// One keep-alive connection to a server on 127.0.0.1.
pub struct Conn {
    send: SendRequest<String>,
    host: HeaderValue,
}

impl Conn {
    /// Connects (TCP_NODELAY) and drives the connection on a task of the current runtime.
    pub async fn open(addr: SocketAddr) -> Result<Conn> {
        let tcp = tokio::net::TcpStream::connect(addr).await.map_err(e)?;
        tcp.set_nodelay(true).map_err(e)?;
        let (send, conn) = handshake(TokioIo::new(tcp)).await.map_err(e)?;
        tokio::spawn(conn);
        Ok(Conn { send, host: HeaderValue::try_from(addr.to_string()).map_err(e)? })
    }

    /// One request with the account's token and, if any, a JSON body: (status, body).
    pub async fn request(
        &mut self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<&Value>,
    ) -> Result<(u16, Bytes)> {
        let mut req = self.head(method, path, token)?;
        if body.is_some() {
            req = req.header(CONTENT_TYPE, "application/json");
        }
        let req = req.body(body.map(Value::to_string).unwrap_or_default()).map_err(e)?;
        self.exchange(req, REQUEST_TIMEOUT, method, path).await
    }

    /// One request with a body of any media type (an import's NDJSON) and its own time limit:
    /// (status, body).
    pub async fn send_body(
        &mut self,
        path: &str,
        token: &str,
        content_type: &str,
        body: String,
        limit: std::time::Duration,
    ) -> Result<(u16, Bytes)> {
        let req = self.head("POST", path, token)?.header(CONTENT_TYPE, content_type).body(body).map_err(e)?;
        self.exchange(req, limit, "POST", path).await
    }

    /// Sends `req` and reads the whole answer within `limit`: (status, body).
    async fn exchange(
        &mut self,
        req: Request<String>,
        limit: std::time::Duration,
        method: &str,
        path: &str,
    ) -> Result<(u16, Bytes)> {
        let answer = async {
            let resp = self.send(req).await?;
            let status = resp.status().as_u16();
            Ok((status, resp.into_body().collect().await.map_err(e)?.to_bytes()))
        };
        tokio::time::timeout(limit, answer).await.map_err(|_| format!("{method} {path}: no answer within {limit:?}"))?
    }

    /// A GET with extra headers whose body is counted frame by frame, never held whole (a
    /// streamed feed): (status, headers, body bytes).
    pub async fn get_counting(
        &mut self,
        path: &str,
        token: &str,
        headers: &[(&str, &str)],
        limit: std::time::Duration,
    ) -> Result<(u16, hyper::HeaderMap, u64)> {
        let mut req = self.head("GET", path, token)?;
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = req.body(String::new()).map_err(e)?;
        let answer = async {
            let resp = self.send(req).await?;
            let (status, headers) = (resp.status().as_u16(), resp.headers().clone());
            let mut body = resp.into_body();
            let mut n = 0u64;
            while let Some(frame) = body.frame().await {
                if let Some(d) = frame.map_err(e)?.data_ref() {
                    n += d.len() as u64;
                }
            }
            Ok((status, headers, n))
        };
        tokio::time::timeout(limit, answer).await.map_err(|_| format!("GET {path}: no answer within {limit:?}"))?
    }

    /// A GET with its answer's headers: (status, headers, body).
    pub async fn get_with_headers(&mut self, path: &str, token: &str) -> Result<(u16, hyper::HeaderMap, Bytes)> {
        let req = self.head("GET", path, token)?.body(String::new()).map_err(e)?;
        let answer = async {
            let resp = self.send(req).await?;
            let (status, headers) = (resp.status().as_u16(), resp.headers().clone());
            Ok((status, headers, resp.into_body().collect().await.map_err(e)?.to_bytes()))
        };
        tokio::time::timeout(REQUEST_TIMEOUT, answer).await.map_err(|_| format!("GET {path}: no answer in time"))?
    }

    /// A request that must succeed (2xx): its JSON answer (null when empty).
    pub async fn must(&mut self, method: &str, path: &str, token: &str, body: Option<Value>) -> Result<Value> {
        let (st, bytes) = self.request(method, path, token, body.as_ref()).await?;
        if st >= 300 {
            return Err(format!("{method} {path}: {st} {}", String::from_utf8_lossy(&bytes)));
        }
        if bytes.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&bytes).map_err(|x| format!("{method} {path}: not JSON: {x}"))
    }

    /// Opens an event stream (`text/event-stream`) on this connection, which it then occupies;
    /// read it with [`EventStream::next_event`].
    pub async fn events(mut self, path: &str, token: &str) -> Result<EventStream> {
        let req = self.head("GET", path, token)?.header(ACCEPT, "text/event-stream");
        let resp = self.send(req.body(String::new()).map_err(e)?).await?;
        if resp.status() != 200 {
            return Err(format!("event stream answered {}", resp.status().as_u16()));
        }
        Ok(EventStream { body: resp.into_body(), buf: Vec::new(), _conn: self })
    }

    fn head(&self, method: &str, path: &str, token: &str) -> Result<hyper::http::request::Builder> {
        let method = Method::from_bytes(method.as_bytes()).map_err(e)?;
        let auth = HeaderValue::try_from(format!("Bearer {token}")).map_err(e)?;
        Ok(Request::builder().method(method).uri(path).header(HOST, self.host.clone()).header(AUTHORIZATION, auth))
    }

    async fn send(&mut self, req: Request<String>) -> Result<hyper::Response<Incoming>> {
        self.send.ready().await.map_err(e)?;
        self.send.send_request(req).await.map_err(e)
    }
}

/// An open event stream.
pub struct EventStream {
    body: Incoming,
    buf: Vec<u8>,
    _conn: Conn,
}

impl EventStream {
    /// The next `data:` payload (other fields and comments skipped).
    pub async fn next_event(&mut self) -> Result<Value> {
        loop {
            while let Some(end) = self.buf.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=end).collect();
                if let Some(data) = String::from_utf8_lossy(&line).trim_end().strip_prefix("data:") {
                    return serde_json::from_str(data.trim()).map_err(e);
                }
            }
            match self.body.frame().await.transpose().map_err(e)? {
                Some(frame) => self.buf.extend_from_slice(frame.data_ref().map_or(&[][..], |d| &d[..])),
                None => return Err("the event stream ended".into()),
            }
        }
    }
}
