//! Either backend behind one type, chosen at startup: SQLite (a file in the data directory,
//! the default) or PostgreSQL (`--database postgres://…`).

use std::path::Path;

use crate::journal::*;
use crate::postgres::PgJournal;
use crate::sqlite::SqliteJournal;

pub enum AnyJournal {
    Sqlite(SqliteJournal),
    Postgres(PgJournal),
}

impl AnyJournal {
    /// `database`: a `postgres://` or `postgresql://` URL, or `None` for SQLite in `data_dir`.
    /// A journal opened here for the first time (empty) is born with this build's rules
    /// version (`rules`): whatever writes it, its entries are accepted under these rules.
    pub async fn open(database: Option<&str>, data_dir: &Path) -> JResult<AnyJournal> {
        let mut j = Self::open_backend(database, data_dir).await?;
        crate::rules::stamp_if_new(&mut j).await?;
        Ok(j)
    }

    async fn open_backend(database: Option<&str>, data_dir: &Path) -> JResult<AnyJournal> {
        match database {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                crate::datadir::create_dir(data_dir).map_err(JournalError::Db)?;
                Ok(AnyJournal::Postgres(PgJournal::open(url).await?.with_data_dir(data_dir)))
            }
            Some(other) => Err(JournalError::Incompatible(format!(
                "--database takes a postgres:// URL (got `{}`); without it the journal is SQLite in the data directory",
                other.split('@').next_back().unwrap_or("")
            ))),
            None => {
                crate::datadir::create_dir(data_dir).map_err(JournalError::Db)?;
                Ok(AnyJournal::Sqlite(SqliteJournal::open(&data_dir.join(crate::datadir::JOURNAL_FILE)).await?))
            }
        }
    }

    pub fn describe(&self) -> &'static str {
        match self {
            AnyJournal::Sqlite(_) => "sqlite",
            AnyJournal::Postgres(_) => "postgres",
        }
    }
}

macro_rules! delegate {
    ($self:ident, $j:ident => $e:expr) => {
        match $self {
            AnyJournal::Sqlite($j) => $e,
            AnyJournal::Postgres($j) => $e,
        }
    };
}

impl Journal for AnyJournal {
    async fn meta(&mut self, key: &str) -> JResult<Option<String>> {
        delegate!(self, j => j.meta(key).await)
    }
    async fn set_meta(&mut self, key: &str, value: &str) -> JResult<()> {
        delegate!(self, j => j.set_meta(key, value).await)
    }
    async fn append_batch(&mut self, batch: u64, entries: &[Entry], events: &[StoredEvent]) -> JResult<()> {
        delegate!(self, j => j.append_batch(batch, entries, events).await)
    }
    async fn append_encoded(
        &mut self,
        batch: u64,
        entries: &[Entry],
        encoded: &[Encoded],
        events: &[StoredEvent],
    ) -> JResult<()> {
        delegate!(self, j => j.append_encoded(batch, entries, encoded, events).await)
    }
    async fn insert_events(&mut self, events: &[StoredEvent]) -> JResult<()> {
        delegate!(self, j => j.insert_events(events).await)
    }
    async fn read_events(&mut self, after: u64, limit: u64) -> JResult<Vec<StoredEvent>> {
        delegate!(self, j => j.read_events(after, limit).await)
    }
    async fn last_event_seq(&mut self) -> JResult<u64> {
        delegate!(self, j => j.last_event_seq().await)
    }
    async fn event_floors(&mut self) -> JResult<Vec<(String, u64)>> {
        delegate!(self, j => j.event_floors().await)
    }
    async fn next_event_account(&mut self, after: &str) -> JResult<Option<String>> {
        delegate!(self, j => j.next_event_account(after).await)
    }
    async fn prune_events(&mut self, step: &PruneStep) -> JResult<u64> {
        delegate!(self, j => j.prune_events(step).await)
    }
    async fn read_after(&mut self, after: u64, limit: u64) -> JResult<Vec<RawEntry>> {
        delegate!(self, j => j.read_after(after, limit).await)
    }
    async fn read_for_replay(&mut self, after: u64, limit: u64) -> JResult<Vec<RawEntry>> {
        delegate!(self, j => j.read_for_replay(after, limit).await)
    }
    async fn last(&mut self) -> JResult<JournalEnd> {
        delegate!(self, j => j.last().await)
    }
    async fn first_seq(&mut self) -> JResult<Option<u64>> {
        delegate!(self, j => j.first_seq().await)
    }
    async fn quarantine(&mut self, repair: &Repair, then: &[Entry], then_batch: u64) -> JResult<u64> {
        delegate!(self, j => j.quarantine(repair, then, then_batch).await)
    }
    async fn repairs(&mut self) -> JResult<Vec<Repair>> {
        delegate!(self, j => j.repairs().await)
    }
    async fn reopen(&mut self) -> JResult<()> {
        delegate!(self, j => j.reopen().await)
    }
    async fn ping(&mut self) -> JResult<()> {
        delegate!(self, j => j.ping().await)
    }
    fn high_water_mark_file(&self) -> Option<std::path::PathBuf> {
        delegate!(self, j => j.high_water_mark_file())
    }
    async fn save_snapshot(&mut self, seq: u64, bytes: &[u8]) -> JResult<()> {
        delegate!(self, j => j.save_snapshot(seq, bytes).await)
    }
    async fn snapshots(&mut self) -> JResult<Vec<SnapshotMeta>> {
        delegate!(self, j => j.snapshots().await)
    }
    async fn load_snapshot(&mut self, seq: u64) -> JResult<Vec<u8>> {
        delegate!(self, j => j.load_snapshot(seq).await)
    }
    async fn compact(&mut self, upto: u64) -> JResult<u64> {
        delegate!(self, j => j.compact(upto).await)
    }
}
