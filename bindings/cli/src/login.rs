//! The loopback side of a native-app login (RFC 8252 §7.3): listen on 127.0.0.1, wait for the
//! browser to come back to the redirect path, hand its URL to core, answer with a small page.
//!
//! Nothing here checks `state`, `iss` or the code: `Client::exchange_code` does.

use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tokenward::ErrorCode;

use crate::exit::{CliError, CliResult, NETWORK};

/// A listening socket on 127.0.0.1 and the redirect path it answers.
pub struct Loopback {
    listener: TcpListener,
    port: u16,
    path: String,
}

/// The browser's request to the redirect path, waiting for its answer.
pub struct Callback {
    /// The full URL the browser was sent to, query included.
    pub url: String,
    stream: TcpStream,
}

const MAX_REQUEST: usize = 16 * 1024;

impl Loopback {
    /// Listens on `port` (0 or `None`: a free one the OS picks).
    pub fn bind(port: Option<u16>, path: &str) -> CliResult<Loopback> {
        if !path.starts_with('/') || path.contains(['?', '#', ' ']) {
            return Err(CliError::usage(format!(
                "redirect path `{path}` must start with `/` and have no `?`, `#` or spaces"
            )));
        }
        let listener =
            TcpListener::bind((Ipv4Addr::LOCALHOST, port.unwrap_or(0))).map_err(|e| {
                CliError::usage(format!(
                    "cannot listen on 127.0.0.1:{}: {e}; pick another --port",
                    port.unwrap_or(0)
                ))
            })?;
        let port = listener
            .local_addr()
            .map_err(|e| CliError::local(format!("cannot read the listening port: {e}")))?
            .port();
        Ok(Loopback {
            listener,
            port,
            path: path.to_string(),
        })
    }

    pub fn redirect_uri(&self) -> String {
        format!("http://127.0.0.1:{}{}", self.port, self.path)
    }

    /// Waits up to `timeout` for a GET on the redirect path. Other requests (a favicon, a
    /// probe) get a 404 and the wait goes on.
    pub fn wait(&self, timeout: Duration) -> CliResult<Callback> {
        self.listener
            .set_nonblocking(true)
            .map_err(|e| CliError::local(format!("cannot poll the loopback socket: {e}")))?;
        let deadline = Instant::now() + timeout;
        loop {
            match self.listener.accept() {
                Ok((stream, _)) => {
                    if let Some(cb) = self.handle(stream) {
                        return Ok(cb);
                    }
                }
                Err(e)
                    if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::Interrupted =>
                {
                    if Instant::now() >= deadline {
                        return Err(CliError::plain(
                            NETWORK,
                            ErrorCode::Timeout.as_str(),
                            format!(
                                "the browser did not come back to {} within {} s; open the URL \
                                 above and sign in, or raise --timeout",
                                self.redirect_uri(),
                                timeout.as_secs()
                            ),
                        ));
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(e) => return Err(CliError::local(format!("the loopback socket failed: {e}"))),
            }
        }
    }

    /// Reads one request; the callback if it is one, else answers it and returns `None`.
    fn handle(&self, mut stream: TcpStream) -> Option<Callback> {
        stream.set_nonblocking(false).ok()?;
        stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
        let head = read_head(&mut stream)?;
        let mut parts = head.lines().next()?.split(' ');
        let (method, target) = (parts.next()?, parts.next()?);
        let path = target.split(['?', '#']).next().unwrap_or("");
        if method != "GET" || path != self.path {
            let _ = respond(&mut stream, "404 Not Found", "Not found", "Nothing here.");
            return None;
        }
        Some(Callback {
            url: format!("http://127.0.0.1:{}{target}", self.port),
            stream,
        })
    }
}

impl Callback {
    /// Tells the browser how it went. The details stay in the terminal: the page echoes nothing
    /// from the request, so a forged callback cannot inject anything into it.
    pub fn answer(mut self, ok: bool) {
        let _ = if ok {
            respond(
                &mut self.stream,
                "200 OK",
                "Signed in",
                "You are signed in. You can close this tab and return to the terminal.",
            )
        } else {
            respond(
                &mut self.stream,
                "400 Bad Request",
                "Sign-in failed",
                "tokenward could not finish the sign-in; the terminal says why. You can close this tab.",
            )
        };
    }
}

/// The request line and headers, up to the blank line (capped).
fn read_head(stream: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        if buf.len() > MAX_REQUEST {
            return None;
        }
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    String::from_utf8(buf).ok()
}

fn respond(stream: &mut TcpStream, status: &str, title: &str, text: &str) -> std::io::Result<()> {
    let body = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>tokenward: {title}</title></head>\
         <body style=\"font-family:sans-serif;margin:3em\"><h1>{title}</h1><p>{text}</p></body></html>\n"
    );
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nReferrer-Policy: no-referrer\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    stream.flush()
}

/// Opens `url` in the default browser, without waiting for it.
pub fn open_browser(url: &str) -> Result<(), String> {
    let mut cmd = if cfg!(target_os = "macos") {
        let mut c = Command::new("open");
        c.arg(url);
        c
    } else if cfg!(windows) {
        let mut c = Command::new("rundll32");
        c.args(["url.dll,FileProtocolHandler", url]);
        c
    } else {
        let mut c = Command::new("xdg-open");
        c.arg(url);
        c
    };
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map(drop)
        .map_err(|e| format!("could not start a browser ({e})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(port: u16, target: &str) -> String {
        let mut s = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).unwrap();
        write!(s, "GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    }

    #[test]
    fn the_callback_is_found_among_other_requests() {
        let lb = Loopback::bind(None, "/callback").unwrap();
        let port = lb.port;
        assert_eq!(
            lb.redirect_uri(),
            format!("http://127.0.0.1:{port}/callback")
        );
        let browser = std::thread::spawn(move || {
            let favicon = get(port, "/favicon.ico");
            let page = get(port, "/callback?state=s&code=c");
            (favicon, page)
        });
        let cb = lb.wait(Duration::from_secs(10)).unwrap();
        assert_eq!(
            cb.url,
            format!("http://127.0.0.1:{port}/callback?state=s&code=c")
        );
        cb.answer(true);
        let (favicon, page) = browser.join().unwrap();
        assert!(favicon.starts_with("HTTP/1.1 404"), "{favicon}");
        assert!(page.starts_with("HTTP/1.1 200"), "{page}");
        assert!(page.contains("You can close this tab"), "{page}");
    }

    #[test]
    fn no_browser_means_a_timeout_with_exit_4() {
        let lb = Loopback::bind(None, "/cb").unwrap();
        let e = lb.wait(Duration::from_millis(200)).err().unwrap();
        assert_eq!(e.code, NETWORK);
        assert!(e.message.contains("raise --timeout"), "{e}");
    }

    #[test]
    fn odd_redirect_paths_are_refused() {
        for p in ["callback", "/cb?x=1", "/a b"] {
            assert_eq!(
                Loopback::bind(None, p).err().unwrap().code,
                crate::exit::USAGE
            );
        }
    }
}
