//! Files and hashes shared by every layer: atomic writes (a reader never sees
//! a half-written file) and the one stable hash of the crate (FNV-1a, 64 bit),
//! used for scenario hashes and run fingerprints.
//!
//! Atomic writes use `tempfile`: the bytes go to a uniquely named temporary
//! file in the target's folder, which is renamed over the target; on any
//! error the temporary file is removed. A reader (or a later run after the
//! process was killed) sees the old file or the new one, never a part.
//! Durability against a power cut is bought once per output folder, when a
//! command has written it, with [`sync_folder`], not with a sync per file.
//! A file a later run relies on as it stands (a batch of results that a
//! resumed run reads back, a profile) is written with [`write_durable`]: its
//! data reach the disk before its name, so a power cut never leaves it
//! present but empty.

use std::io::{self, Write};
use std::path::Path;

/// Writes `contents` to `path` atomically (temporary file, rename); see
/// [`sync_folder`] for durability.
pub fn write_atomic(path: &Path, contents: &[u8]) -> io::Result<()> {
    write_via_temp(path, contents, false)
}

/// [`write_atomic`], with the data synced before the rename.
pub fn write_durable(path: &Path, contents: &[u8]) -> io::Result<()> {
    write_via_temp(path, contents, true)
}

fn write_via_temp(path: &Path, contents: &[u8], sync: bool) -> io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".coinfer-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    tmp.write_all(contents)?;
    if sync {
        tmp.as_file().sync_data()?;
    }
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Makes every file written under the output folder `dir` durable: one
/// `syncfs` of its file system on Linux (which also waits for other
/// programs' writes to it), elsewhere a sync of each file in `dir`'s tree.
/// A missing `dir` is fine.
pub fn sync_folder(dir: &Path) -> io::Result<()> {
    match std::fs::File::open(dir) {
        Ok(folder) => sync_tree(folder, dir),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(target_os = "linux")]
fn sync_tree(folder: std::fs::File, _dir: &Path) -> io::Result<()> {
    Ok(rustix::fs::syncfs(folder)?)
}

#[cfg(not(target_os = "linux"))]
fn sync_tree(_folder: std::fs::File, dir: &Path) -> io::Result<()> {
    for e in std::fs::read_dir(dir)?.flatten() {
        let path = e.path();
        let synced = match e.file_type()?.is_dir() {
            true => std::fs::File::open(&path).and_then(|f| sync_tree(f, &path)),
            false => std::fs::File::open(&path).and_then(|f| f.sync_all()),
        };
        // A file another process removed meanwhile needs no sync.
        match synced {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    Ok(())
}

/// An advisory lock on one part of a folder (its `.coinfer-<part>.lock`
/// file), held until dropped: two coinfer processes never write the same
/// part of an output folder at once.
#[derive(Debug)]
pub struct DirLock {
    _file: std::fs::File,
}

/// Takes the lock of `part` of `dir` without waiting; `Ok(None)` when
/// another process holds it.
pub fn try_lock_dir(dir: &Path, part: &str) -> io::Result<Option<DirLock>> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(format!(".coinfer-{part}.lock")))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(DirLock { _file: file })),
        Err(std::fs::TryLockError::WouldBlock) => Ok(None),
        Err(std::fs::TryLockError::Error(e)) => Err(e),
    }
}

/// Removes the temporary files that [`write_atomic`] leaves behind when a
/// process is killed mid-write, in `dir` only (call it while holding the
/// lock of the part of the folder `dir` belongs to); a missing `dir` is fine.
pub fn remove_stale_temps(dir: &Path) -> io::Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(".coinfer-") && name.ends_with(".tmp") && e.file_type()?.is_file() {
            std::fs::remove_file(e.path())?;
        }
    }
    Ok(())
}

/// The FNV-1a 64-bit hash, fed bytes or whole 64-bit words.
///
/// ```
/// use coinfer::fsio::Fnv64;
/// let mut h = Fnv64::new();
/// h.write_bytes(b"a");
/// assert_eq!(h.finish(), 0xaf63_dc4c_8601_ec8c);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fnv64(u64);

impl Default for Fnv64 {
    fn default() -> Self {
        Fnv64::new()
    }
}

impl Fnv64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;

    /// The empty hash (FNV offset basis).
    pub fn new() -> Fnv64 {
        Fnv64(Self::OFFSET)
    }

    /// Mixes in each byte.
    pub fn write_bytes(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(b as u64);
        }
    }

    /// Mixes in a whole 64-bit word in one step.
    pub fn write_u64(&mut self, v: u64) {
        self.0 = (self.0 ^ v).wrapping_mul(Self::PRIME);
    }

    /// The hash value.
    pub fn finish(self) -> u64 {
        self.0
    }
}

/// The hash of `text` as 16 hex digits.
pub fn hash_hex(text: &str) -> String {
    let mut h = Fnv64::new();
    h.write_bytes(text.as_bytes());
    format!("{:016x}", h.finish())
}
