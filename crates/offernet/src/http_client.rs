//! A minimal HTTP/1.1 client over std sockets for benchmarks and tests against the local
//! server (127.0.0.1 only): keep-alive requests with Content-Length or chunked bodies, and
//! a line reader for `text/event-stream`. Not a general client: no TLS, no redirects.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

pub struct Conn {
    addr: String,
    r: BufReader<TcpStream>,
}

impl Conn {
    pub fn open(addr: &str) -> std::io::Result<Conn> {
        let s = TcpStream::connect(addr)?;
        s.set_nodelay(true)?;
        s.set_read_timeout(Some(Duration::from_secs(30)))?;
        Ok(Conn { addr: addr.to_string(), r: BufReader::new(s) })
    }

    /// Sends one request on this connection and reads the whole response: (status, body).
    pub fn request(
        &mut self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
        headers: &[(&str, &str)],
    ) -> std::io::Result<(u16, String)> {
        let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\n", self.addr);
        if let Some(t) = token {
            req.push_str(&format!("Authorization: Bearer {t}\r\n"));
        }
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        let body = body.unwrap_or("");
        if !body.is_empty() || matches!(method, "POST" | "PUT" | "PATCH") {
            req.push_str(&format!("Content-Type: application/json\r\nContent-Length: {}\r\n", body.len()));
        }
        req.push_str("\r\n");
        req.push_str(body);
        self.send_raw(req.as_bytes())
    }

    /// Sends bytes as they are (a request the caller framed, well or badly) and reads one
    /// response: (status, body).
    pub fn send_raw(&mut self, request: &[u8]) -> std::io::Result<(u16, String)> {
        self.r.get_mut().write_all(request)?;
        let (status, headers) = self.head()?;
        let body = if let Some(n) = header(&headers, "content-length") {
            let mut buf = vec![0u8; n.parse().unwrap_or(0)];
            self.r.read_exact(&mut buf)?;
            String::from_utf8_lossy(&buf).into_owned()
        } else if header(&headers, "transfer-encoding").is_some_and(|v| v.contains("chunked")) {
            let mut out = Vec::new();
            loop {
                let mut size = String::new();
                self.r.read_line(&mut size)?;
                let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
                let mut chunk = vec![0u8; n + 2];
                self.r.read_exact(&mut chunk)?;
                if n == 0 {
                    break;
                }
                out.extend_from_slice(&chunk[..n]);
            }
            String::from_utf8_lossy(&out).into_owned()
        } else {
            String::new()
        };
        Ok((status, body))
    }

    fn head(&mut self) -> std::io::Result<(u16, Vec<(String, String)>)> {
        let mut line = String::new();
        self.r.read_line(&mut line)?;
        let status =
            line.split(' ').nth(1).and_then(|s| s.parse().ok()).ok_or_else(|| {
                std::io::Error::new(std::io::ErrorKind::InvalidData, format!("bad status line {line:?}"))
            })?;
        let mut headers = Vec::new();
        loop {
            line.clear();
            self.r.read_line(&mut line)?;
            if line == "\r\n" || line.is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
            }
        }
        Ok((status, headers))
    }

    /// Opens an event stream on this connection; read it with [`Conn::next_event`].
    pub fn stream(mut self, path: &str, token: &str) -> std::io::Result<Conn> {
        let req = format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n",
            self.addr
        );
        self.r.get_mut().write_all(req.as_bytes())?;
        let (status, _) = self.head()?;
        if status != 200 {
            return Err(std::io::Error::other(format!("event stream answered {status}")));
        }
        Ok(self)
    }

    /// The next `data:` payload of an event stream (chunk framing and other fields skipped).
    pub fn next_event(&mut self) -> std::io::Result<serde_json::Value> {
        let mut line = String::new();
        loop {
            line.clear();
            if self.r.read_line(&mut line)? == 0 {
                return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "stream ended"));
            }
            if let Some(data) = line.trim_end().strip_prefix("data:") {
                return serde_json::from_str(data.trim()).map_err(std::io::Error::other);
            }
        }
    }
}

fn header<'a>(h: &'a [(String, String)], k: &str) -> Option<&'a str> {
    h.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
}
