//! The data directory: created private (0700), locked by one process at a time, checked for
//! writability at startup, and home of the high-water mark (`committed-seq`), the durable record
//! of the last committed sequence number kept OUTSIDE the journal, so that a journal that lost
//! committed entries (a damaged or deleted SQLite WAL, a restored backup) is noticed.

use std::fs::{File, OpenOptions};
use std::io::{Read as _, Write as _};
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};

/// The lock file's name: held (flock) by the process that owns the data directory, holding
/// its pid for the message a second process prints.
pub const LOCK_FILE: &str = "lock";
/// The high-water mark's name: the last committed sequence number, as decimal text.
pub const HIGH_WATER_MARK_FILE: &str = "committed-seq";
/// Mode of every file offernet creates in the data directory (journal, token, lock, mark):
/// they hold account data and secrets.
pub const FILE_MODE: u32 = 0o600;
/// Mode of the data directory when offernet creates it.
pub const DIR_MODE: u32 = 0o700;

/// Creates `dir` (and missing parents) with mode 0700 if it does not exist.
pub fn create_dir(dir: &Path) -> Result<(), String> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)
        .map_err(|e| format!("creating the data directory {}: {e}", dir.display()))
}

/// Creates `path` empty with mode 0600 if it does not exist (so that SQLite, which gives its
/// `-wal` and `-shm` files the mode of the database file, creates those 0600 too).
pub fn create_private_file(path: &Path) -> std::io::Result<()> {
    match OpenOptions::new().write(true).create_new(true).mode(FILE_MODE).open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// Fails with a clear message unless a file can be created, written, synced and removed in
/// `dir` (a read-only mount or a full disk is found at startup, not at the first write).
pub fn check_writable(dir: &Path) -> Result<(), String> {
    let probe = dir.join(format!(".write-check-{}", std::process::id()));
    let r = (|| {
        let mut f = OpenOptions::new().write(true).create(true).truncate(true).mode(FILE_MODE).open(&probe)?;
        f.write_all(b"offernet\n")?;
        f.sync_all()?;
        std::fs::remove_file(&probe)
    })();
    r.map_err(|e| {
        let _ = std::fs::remove_file(&probe);
        format!("the data directory {} is not writable: {e}", dir.display())
    })
}

/// The exclusive lock on a data directory, held until dropped (or the process dies: the
/// operating system releases it, so a SIGKILLed server leaves no stale lock).
#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
}

impl DataDirLock {
    /// Takes the lock or refuses, naming the pid of the process that holds it.
    pub fn acquire(dir: &Path) -> Result<DataDirLock, String> {
        let path = dir.join(LOCK_FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(FILE_MODE)
            .open(&path)
            .map_err(|e| format!("opening {}: {e}", path.display()))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                let who = if holder.is_empty() { "another process".to_string() } else { format!("pid {holder}") };
                return Err(format!(
                    "the data directory {} is in use by another offernet process ({who}, lock file {}); \
                     only one server (or journal repair/compact/load) at a time: stop it first",
                    dir.display(),
                    path.display()
                ));
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(format!("locking {}: {e}", path.display())),
        }
        file.set_len(0).map_err(|e| format!("writing {}: {e}", path.display()))?;
        writeln!(file, "{}", std::process::id()).map_err(|e| format!("writing {}: {e}", path.display()))?;
        Ok(DataDirLock { _file: file })
    }
}

/// The journal file's name inside the data directory (SQLite).
pub const JOURNAL_FILE: &str = "journal.sqlite";

/// The high-water mark file of a data directory.
pub fn high_water_mark_path(dir: &Path) -> PathBuf {
    dir.join(HIGH_WATER_MARK_FILE)
}

/// Reads the high-water mark: `None` when there is no file (a new data directory, or a journal
/// written before the mark existed).
pub fn read_high_water_mark(path: &Path) -> Result<Option<u64>, String> {
    Ok(read_marks(path)?.map(|m| m.seq))
}

/// The numbers of the high-water mark file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Marks {
    /// The last committed journal sequence number.
    pub seq: u64,
    /// The last event sequence number of the applied history, when written.
    pub event_seq: Option<u64>,
}

/// The file holds `SEQ EVENT_SEQ`: the last committed journal sequence number and the last
/// event sequence number of the applied history (at most as old as the mark). `SEQ` alone (a
/// mark written before event numbers were kept beside it) reads with no event number.
pub fn read_marks(path: &Path) -> Result<Option<Marks>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("reading the high-water mark {}: {e}", path.display())),
    };
    let unreadable =
        |why: String| format!("the high-water mark {} is unreadable ({why}): `{}`", path.display(), text.trim());
    let mut parts = text.split_whitespace().map(|p| p.parse::<u64>().map_err(|e| unreadable(e.to_string())));
    match (parts.next(), parts.next(), parts.next()) {
        (Some(seq), events, None) => Ok(Some(Marks { seq: seq?, event_seq: events.transpose()? })),
        _ => Err(unreadable("expected one or two numbers".into())),
    }
}

/// Writes the high-water mark atomically and durably (see [`write_private_atomic`]).
pub fn write_high_water_mark(path: &Path, seq: u64, events: u64) -> std::io::Result<()> {
    write_private_atomic(path, format!("{seq} {events}\n").as_bytes())
}

/// Replaces `path` with `bytes` atomically and durably, readable by the owner only: a new
/// temporary file created 0600 (a leftover one is removed first, so its mode never carries
/// over), fsync, rename over the old file, fsync of the directory. A crash leaves the old
/// contents or the new ones, never a torn file.
pub fn write_private_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = path.with_extension("tmp");
    let _ = std::fs::remove_file(&tmp);
    {
        let mut f = OpenOptions::new().write(true).create_new(true).mode(FILE_MODE).open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("offernet-datadir-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn high_water_mark_round_trip() {
        let d = dir("hwm");
        create_dir(&d).unwrap();
        let p = high_water_mark_path(&d);
        assert_eq!(read_high_water_mark(&p).unwrap(), None);
        write_high_water_mark(&p, 251, 900).unwrap();
        write_high_water_mark(&p, 252, 903).unwrap();
        assert_eq!(read_high_water_mark(&p).unwrap(), Some(252));
        assert_eq!(read_marks(&p).unwrap().and_then(|m| m.event_seq), Some(903));
        std::fs::write(&p, "77\n").unwrap();
        assert_eq!(
            (read_high_water_mark(&p).unwrap(), read_marks(&p).unwrap().and_then(|m| m.event_seq)),
            (Some(77), None)
        );
        std::fs::write(&p, "garbage").unwrap();
        assert!(read_high_water_mark(&p).unwrap_err().contains("unreadable"));
    }

    #[test]
    fn a_second_lock_names_the_holder() {
        let d = dir("lock");
        create_dir(&d).unwrap();
        let first = DataDirLock::acquire(&d).unwrap();
        let err = DataDirLock::acquire(&d).unwrap_err();
        assert!(err.contains(&format!("pid {}", std::process::id())), "{err}");
        drop(first);
        DataDirLock::acquire(&d).unwrap();
    }
}
