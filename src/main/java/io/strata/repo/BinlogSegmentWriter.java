package io.strata.repo;

import io.strata.codec.Compression;
import io.strata.repo.BinlogArchive.Segment;
import io.strata.store.ObjectStore;
import io.strata.store.StorageException;

import java.io.IOException;
import java.io.OutputStream;

/**
 * A segment of an archived binlog file being written ({@link BinlogArchive#createSegment}):
 * stream its bytes to {@link #stream()}, then {@link #commit} it with its summary. Closing without
 * a commit leaves nothing (an unfinished object is discarded by the store), or at worst a data
 * object without a summary, which readers ignore and the next archiver deletes.
 */
public final class BinlogSegmentWriter implements AutoCloseable {
    private final BinlogArchive archive;
    private final Repository repo;
    private final ObjectStore.Writer writer;
    private final ChunkedWriter chunks;
    private final String key;

    BinlogSegmentWriter(BinlogArchive archive, Repository repo, String key) throws IOException {
        this.archive = archive;
        this.repo = repo;
        this.key = key;
        this.writer = repo.store().create(key);
        this.chunks = new ChunkedWriter(writer.stream(), "binlog", repo.writeCodec(Compression.NONE));
    }

    /** Where the segment's bytes go, exactly {@code end - start} of them. */
    public OutputStream stream() { return chunks; }

    /**
     * Stores the data durably, then the summary (with this object's digest), which commits the
     * segment; the archive's index includes it from then on.
     *
     * @param s the summary; its {@code crc32c} is ignored and set from the bytes written
     * @return the summary as stored
     * @throws StorageException when the data cannot be stored
     * @throws IllegalStateException when the bytes written are not {@code s.length()}
     */
    public Segment commit(Segment s) {
        try {
            chunks.finish();
            writer.commit();
        } catch (IOException e) {
            throw StorageException.local("write", repo.store().describe(key), e);
        }
        if (chunks.rawBytes() != s.length()) {
            throw new IllegalStateException("segment " + key + " has " + chunks.rawBytes() + " bytes, expected " + s.length());
        }
        Segment done = new Segment(s.formatVersion(), s.timeline(), s.file(), s.start(), s.end(), s.boundaryEnd(), s.closed(), s.fileId(),
                s.fileCreated(), s.checksums(), s.events(), s.groups(), s.firstTime(), s.lastTime(), s.maxTime(), s.gtids(), s.asOf(),
                String.format(java.util.Locale.ROOT, "%08x", chunks.rawCrc()), s.archivedAt());
        archive.checkLock();
        repo.writeJson(BinlogArchive.sumKeyOf(key), "binlog-summary", done);
        archive.committed(done);
        return done;
    }

    @Override
    public void close() throws IOException {
        writer.close();
    }
}
