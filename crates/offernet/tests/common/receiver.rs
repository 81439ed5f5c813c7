//! A webhook receiver on 127.0.0.1 for the tests: plain threads and a hand-written HTTP/1.1
//! reader, so nothing is shared with the server's client. It verifies every delivery's
//! signature with its own Standard Webhooks implementation (HMAC-SHA256 written here from
//! RFC 2104 over `sha2`, base64 written here), records what came, and answers as the test's
//! plan says (a status, `Retry-After`, a stall). It can go away (the port refuses) and come back.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

/// What the receiver answers.
#[derive(Clone, Debug)]
pub enum Reply {
    Status(u16),
    /// 429 with `Retry-After: secs`.
    TooMany(u64),
    /// Answers nothing for this long, then 200 (the sender times out first).
    Stall(Duration),
}

/// One request received.
#[derive(Clone, Debug)]
pub struct Got {
    pub id: String,
    pub timestamp: u64,
    pub body: String,
    pub signature_ok: bool,
    /// The status answered (0 for a stall).
    pub answered: u16,
    pub at: Instant,
}

type Plan = Arc<dyn Fn(&str, usize) -> Reply + Send + Sync>;

pub struct Receiver {
    pub port: u16,
    pub got: Arc<Mutex<Vec<Got>>>,
    plan: Arc<Mutex<Plan>>,
    secret: Arc<Mutex<Vec<u8>>>,
    down: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
}

impl Receiver {
    /// Listens on a free port; answers 200 until told otherwise.
    pub fn start() -> Receiver {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let r = Receiver {
            port,
            got: Arc::default(),
            plan: Arc::new(Mutex::new(Arc::new(|_: &str, _: usize| Reply::Status(200)))),
            secret: Arc::default(),
            down: Arc::default(),
            stop: Arc::default(),
        };
        r.serve(l);
        r
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hook", self.port)
    }

    /// The secret (`whsec_…`) signatures are checked against.
    pub fn set_secret(&self, whsec: &str) {
        *self.secret.lock().unwrap() = b64_decode(whsec.strip_prefix("whsec_").unwrap());
    }

    /// `plan(webhook-id, how many times this id came before)` decides each answer.
    pub fn set_plan(&self, plan: impl Fn(&str, usize) -> Reply + Send + Sync + 'static) {
        *self.plan.lock().unwrap() = Arc::new(plan);
    }

    /// The port refuses connections until [`Receiver::come_back`].
    pub fn go_away(&self) {
        self.down.store(true, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(300));
    }

    pub fn come_back(&self) {
        let l = TcpListener::bind(("127.0.0.1", self.port)).expect("the port again");
        self.down.store(false, Ordering::SeqCst);
        self.serve(l);
    }

    pub fn received(&self) -> Vec<Got> {
        self.got.lock().unwrap().clone()
    }

    fn serve(&self, l: TcpListener) {
        l.set_nonblocking(true).unwrap();
        let (got, plan, secret, down, stop) =
            (self.got.clone(), self.plan.clone(), self.secret.clone(), self.down.clone(), self.stop.clone());
        std::thread::spawn(move || loop {
            if down.load(Ordering::SeqCst) || stop.load(Ordering::SeqCst) {
                return; // drops the listener: the port refuses
            }
            match l.accept() {
                Ok((conn, _)) => {
                    let (got, plan, secret, down) = (got.clone(), plan.clone(), secret.clone(), down.clone());
                    std::thread::spawn(move || connection(conn, &got, &plan, &secret, &down));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(5)),
            }
        });
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn connection(conn: TcpStream, got: &Mutex<Vec<Got>>, plan: &Mutex<Plan>, secret: &Mutex<Vec<u8>>, down: &AtomicBool) {
    conn.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut w = conn.try_clone().unwrap();
    let mut r = BufReader::new(conn);
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).unwrap_or(0) == 0 || down.load(Ordering::SeqCst) {
            return;
        }
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            r.read_line(&mut h).unwrap();
            let h = h.trim_end().to_string();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
            }
        }
        let header = |k: &str| headers.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
        let len: usize = header("content-length").parse().unwrap_or(0);
        let mut body = vec![0u8; len];
        r.read_exact(&mut body).unwrap();
        let (id, ts, sig) = (header("webhook-id"), header("webhook-timestamp"), header("webhook-signature"));
        let expected = format!(
            "v1,{}",
            b64_encode(&hmac_sha256(&secret.lock().unwrap(), format!("{id}.{ts}.").as_bytes(), &body))
        );
        let signature_ok = sig.split(' ').any(|s| s == expected);
        let seen = got.lock().unwrap().iter().filter(|g| g.id == id).count();
        let reply = (plan.lock().unwrap().clone())(&id, seen);
        let answered = match &reply {
            Reply::Status(s) => *s,
            Reply::TooMany(_) => 429,
            Reply::Stall(_) => 0,
        };
        got.lock().unwrap().push(Got {
            id: id.clone(),
            timestamp: ts.parse().unwrap_or(0),
            body: String::from_utf8_lossy(&body).into_owned(),
            signature_ok,
            answered,
            at: Instant::now(),
        });
        let head = match reply {
            Reply::Status(s) => format!("HTTP/1.1 {s} X\r\ncontent-length: 2\r\n\r\nok"),
            Reply::TooMany(secs) => format!("HTTP/1.1 429 X\r\nretry-after: {secs}\r\ncontent-length: 0\r\n\r\n"),
            Reply::Stall(d) => {
                std::thread::sleep(d);
                "HTTP/1.1 200 X\r\ncontent-length: 0\r\n\r\n".to_string()
            }
        };
        if w.write_all(head.as_bytes()).is_err() {
            return;
        }
    }
}

/// HMAC-SHA256 (RFC 2104) of `a` then `b` under `key`.
pub fn hmac_sha256(key: &[u8], a: &[u8], b: &[u8]) -> [u8; 32] {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let inner: Vec<u8> = k.iter().map(|x| x ^ 0x36).collect();
    let outer: Vec<u8> = k.iter().map(|x| x ^ 0x5c).collect();
    let mut h = Sha256::new();
    h.update(&inner);
    h.update(a);
    h.update(b);
    let ih = h.finalize();
    let mut h = Sha256::new();
    h.update(&outer);
    h.update(ih);
    h.finalize().into()
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

pub fn b64_encode(data: &[u8]) -> String {
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, &b)| acc | (u32::from(b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

pub fn b64_decode(s: &str) -> Vec<u8> {
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = Vec::new();
    for c in s.bytes().filter(|&c| c != b'=') {
        let v = B64.iter().position(|&x| x == c).expect("base64") as u32;
        bits = (bits << 6) | v;
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
            bits &= (1 << n) - 1;
        }
    }
    out
}
