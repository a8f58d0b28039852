package io.strata.repo;

import io.strata.error.CorruptDataException;
import io.strata.repo.BinlogArchive.Segment;
import io.strata.store.ObjectStore;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;

/**
 * The bytes {@code [from, to)} of an archived binlog file, read from the segments of its cover
 * ({@link ArchivedBinlog#cover()}) one after the other. Every chunk is checked as it is read
 * ({@link ChunkedReader}); a segment read to its end is also checked against its summary's
 * length and digest. Made by {@link BinlogArchive#open}.
 */
final class BinlogSegmentReader extends InputStream {
    private final BinlogArchive archive;
    private final Repository repo;
    private final List<Segment> segs;
    private final long to;
    private long pos;
    private int idx = -1;
    private InputStream cur;
    private ChunkedReader reader;
    private long curEnd;

    BinlogSegmentReader(BinlogArchive archive, Repository repo, ArchivedBinlog f, long from, long to) {
        this.archive = archive;
        this.repo = repo;
        this.segs = f.cover();
        this.pos = from;
        this.to = to;
    }

    private boolean advance() throws IOException {
        closeCurrent();
        while (pos < to) {
            idx++;
            if (idx >= segs.size()) {
                return false;
            }
            Segment s = segs.get(idx);
            if (s.end() <= pos) {
                continue;
            }
            String key = archive.segmentKey(s.timeline(), s.file(), s.start(), s.end());
            String where = repo.store().describe(key);
            try {
                cur = repo.store().open(key);
            } catch (ObjectStore.NoSuchObjectException e) {
                throw archive.missing(s, where);
            }
            reader = new ChunkedReader(cur, "binlog", where, repo.readCodec());
            reader.skipNBytes(pos - s.start());
            curEnd = s.end();
            return true;
        }
        return false;
    }

    private void closeCurrent() throws IOException {
        if (reader != null) {
            Segment s = segs.get(idx);
            if (pos == s.end()) {
                checkToEnd(reader, s, archive);
            }
            reader.close();
            reader = null;
            cur = null;
        }
    }

    /** Reads a segment's object to its end: the footer and the summary must agree on length and digest. */
    static void checkToEnd(ChunkedReader reader, Segment s, BinlogArchive archive) throws IOException {
        int crc = reader.drainAndCheck();
        if (reader.rawBytes() != s.length() || !String.format(java.util.Locale.ROOT, "%08x", crc).equals(s.crc32c())) {
            throw new CorruptDataException(String.format(java.util.Locale.ROOT, "archived binlog segment holds %d bytes with digest %08x, its summary says %d bytes with digest %s (resource=%s)",
                    reader.rawBytes(), crc, s.length(), s.crc32c(), archive.describe(s)), "the archive is damaged; restore to a point before this binlog");
        }
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        if (pos >= to) {
            closeCurrent();
            return -1;
        }
        while (reader == null || pos >= curEnd) {
            if (pos >= to || !advance()) {
                closeCurrent();
                return -1;
            }
        }
        int want = (int) Math.min(len, Math.min(curEnd, to) - pos);
        int n = reader.read(b, off, want);
        if (n < 0) {
            Segment s = segs.get(idx);
            throw new CorruptDataException("archived binlog segment ends at " + pos + ", its summary says " + s.end() + " (resource=" + archive.describe(s) + ")",
                    "the archive is damaged");
        }
        pos += n;
        return n;
    }

    @Override
    public void close() throws IOException {
        if (reader != null) {
            reader.close();
            reader = null;
        }
    }
}
