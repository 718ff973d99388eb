//! `.npz` archives as numpy's `np.savez` writes them: one `.npy` array per
//! entry, stored (not compressed). Written by the `zip` crate, which
//! switches to zip64 for an array of 4 GiB or more (a hand-written writer
//! silently produced a corrupt archive there).

use std::io::{Seek, Write};

/// Write a zip archive holding `data` uncompressed under `name` to `out`,
/// with a fixed modification time (1980-01-01), so the same array gives
/// the same bytes.
pub(crate) fn write_stored_zip<W: Write + Seek>(
    out: W,
    name: &str,
    data: &[u8],
) -> zip::result::ZipResult<W> {
    let mut zip = zip::ZipWriter::new(out);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .last_modified_time(zip::DateTime::default())
        .large_file(u64::try_from(data.len()).unwrap_or(u64::MAX) >= u64::from(u32::MAX));
    zip.start_file(name, options)?;
    zip.write_all(data)?;
    zip.finish()
}

/// [`write_stored_zip`] into memory.
#[cfg(test)]
pub(crate) fn stored_zip(name: &str, data: &[u8]) -> Vec<u8> {
    write_stored_zip(std::io::Cursor::new(Vec::new()), name, data)
        .expect("writing to memory")
        .into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn the_archive_reads_back_stored_with_its_crc() {
        let data = b"\x93NUMPY data";
        let bytes = stored_zip("data.npy", data);
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(&bytes)).expect("zip");
        assert_eq!(archive.len(), 1);
        let mut entry = archive.by_name("data.npy").expect("entry");
        assert_eq!(entry.compression(), zip::CompressionMethod::Stored);
        assert_eq!(entry.crc32(), crc_of(data));
        let mut back = Vec::new();
        entry.read_to_end(&mut back).expect("read");
        assert_eq!(back, data);
        // Deterministic: the same array, the same bytes.
        assert_eq!(bytes, stored_zip("data.npy", data));
    }

    /// The standard CRC-32 (IEEE), bit by bit: what the archive must carry.
    fn crc_of(bytes: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    #[test]
    fn crc_reference_matches_the_standard_check_value() {
        assert_eq!(crc_of(b"123456789"), 0xCBF4_3926);
    }
}
