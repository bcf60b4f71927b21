//! The Redis store against a real `redis-server` (Debian's package; scripts/setup installs it),
//! started here on a free loopback port with its own directory and stopped by PID.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tokenward::native::store;

struct Redis {
    child: Child,
    port: u16,
    dir: PathBuf,
    password: Option<String>,
}

impl Redis {
    fn start(password: Option<&str>) -> Redis {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        Self::start_on(port, password)
    }

    fn start_on(port: u16, password: Option<&str>) -> Redis {
        let dir = std::env::temp_dir().join(format!("tw-redis-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut cmd = Command::new("redis-server");
        cmd.args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .arg("--dir")
            .arg(&dir)
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(p) = password {
            cmd.args(["--requirepass", p]);
        }
        let child = cmd
            .spawn()
            .expect("redis-server (run scripts/setup to install it)");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Redis {
            child,
            port,
            dir,
            password: password.map(str::to_string),
        }
    }

    fn url(&self) -> String {
        match &self.password {
            Some(p) => format!("redis://:{p}@127.0.0.1:{}/0", self.port),
            None => format!("redis://127.0.0.1:{}", self.port),
        }
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

const KEY: &str = "tw1-0123abcd";

#[test]
fn records_locks_and_a_restart() {
    let mut redis = Redis::start(None);
    let s = store::open(&redis.url()).unwrap().unwrap();
    assert_eq!(s.read(KEY).unwrap(), None);
    s.write(KEY, b"{\"v\":1}", Some(Duration::from_secs(60)))
        .unwrap();
    assert_eq!(s.read(KEY).unwrap().as_deref(), Some(&b"{\"v\":1}"[..]));
    s.write(KEY, b"short", Some(Duration::from_millis(50)))
        .unwrap();
    std::thread::sleep(Duration::from_millis(120));
    assert_eq!(
        s.read(KEY).unwrap(),
        None,
        "kept only as long as it is of use"
    );

    // The lock: exclusive, released on drop.
    let held = s.lock(KEY, Duration::from_secs(5), Duration::ZERO).unwrap();
    assert!(s
        .lock(KEY, Duration::from_secs(5), Duration::from_millis(50))
        .is_err());
    drop(held);
    drop(s.lock(KEY, Duration::from_secs(5), Duration::ZERO).unwrap());

    // A holder that died (its lock expired) is replaced; its late release does not free the
    // new holder's lock (compare-and-delete).
    let stale = s
        .lock(KEY, Duration::from_millis(100), Duration::ZERO)
        .unwrap();
    let fresh = s
        .lock(KEY, Duration::from_secs(5), Duration::from_secs(2))
        .unwrap();
    drop(stale);
    assert!(
        s.lock(KEY, Duration::from_secs(5), Duration::from_millis(50))
            .is_err(),
        "the stale holder released the new holder's lock"
    );
    drop(fresh);

    // Redis stops: every call fails fast and says which store, without a password.
    let port = redis.port;
    redis.stop();
    let started = Instant::now();
    let e = s.read(KEY).unwrap_err().to_string();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert!(e.contains(&format!("127.0.0.1:{port}")), "{e}");
    assert!(s
        .lock(KEY, Duration::from_secs(1), Duration::from_secs(1))
        .is_err());

    // It comes back (empty): the store is used again after its pause.
    let _again = Redis::start_on(port, None);
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(s.read(KEY).unwrap(), None);
    s.write(KEY, b"x", None).unwrap();
    assert_eq!(s.read(KEY).unwrap().as_deref(), Some(&b"x"[..]));
}

#[test]
fn auth_comes_from_the_url_and_a_wrong_password_never_shows() {
    let redis = Redis::start(Some("s3cret-pass"));
    let s = store::open(&redis.url()).unwrap().unwrap();
    s.write(KEY, b"y", None).unwrap();
    assert_eq!(s.read(KEY).unwrap().as_deref(), Some(&b"y"[..]));
    assert!(!s.describe().contains("s3cret"), "{}", s.describe());

    let wrong = format!("redis://:wrong-pass@127.0.0.1:{}", redis.port);
    let s = store::open(&wrong).unwrap().unwrap();
    let e = s.read(KEY).unwrap_err().to_string();
    assert!(!e.contains("wrong-pass"), "{e}");
    let none = format!("redis://127.0.0.1:{}", redis.port);
    let s = store::open(&none).unwrap().unwrap();
    assert!(s.read(KEY).is_err());
}
