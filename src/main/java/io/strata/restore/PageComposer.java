package io.strata.restore;

import io.strata.error.CorruptDataException;
import io.strata.repo.Chain;
import io.strata.repo.ChunkedReader;
import io.strata.repo.DeltaFormat;
import io.strata.repo.FileEntry;
import io.strata.repo.ObjectFormat;
import io.strata.repo.Repository;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes one InnoDB file of a chain restore in a single sequential pass (design rule 4): the
 * base copy and every delta are read once, in page order, side by side, and for each page the
 * newest layer that holds it wins. Each page of the result is written exactly once, so the cost
 * follows the size of the result and of the deltas, not the length of the chain.
 */
final class PageComposer {
    private PageComposer() {}

    /** A delta object of one layer, read entry by entry; positioned on its first entry when opened. */
    private static final class DeltaCursor implements AutoCloseable {
        final Chain.Layer layer;
        final ChunkedReader reader;
        final DeltaFormat.Reader entries;

        DeltaCursor(Repository repo, Chain.Layer layer, int ps) throws IOException {
            this.layer = layer;
            this.reader = (ChunkedReader) open(repo, layer, DeltaFormat.CONTENT);
            this.entries = new DeltaFormat.Reader(reader, ps, "delta of " + layer.entry().path() + " in backup " + layer.backup().id());
            try {
                entries.next();
            } catch (IOException | RuntimeException e) {
                reader.close();
                throw e;
            }
        }

        long pageNo() { return entries.pageNo(); }

        byte[] page() { return entries.page(); }

        void advance() throws IOException {
            entries.next();
        }

        /** Reads the entries left, then checks the object's length and digest against the manifest entry. */
        void finish(int ps) throws IOException {
            while (entries.next()) {
                // every entry is read so that its order is checked, and the frame's footer
            }
            check(reader, layer, DeltaFormat.length(layer.entry().deltaPages(), ps));
        }

        @Override
        public void close() throws IOException {
            reader.close();
        }
    }

    static InputStream open(Repository repo, Chain.Layer l, String content) throws IOException {
        return repo.openBackupObject(l.backup().id(), l.entry().object(), content);
    }

    /** Where the pages of a composed file go, in order from its first byte. */
    interface Sink {
        /** Writes all of {@code b}'s remaining bytes. */
        void write(ByteBuffer b) throws IOException;
    }

    /**
     * Composes {@code layers} (whole copy first, deltas oldest to newest) into the new file
     * {@code out}, which is left open for the caller to force and close: a sparse page_compressed
     * file goes through {@link SparseFileOutput}, any other is written with a few large writes
     * straight from the readers' buffers ({@link ChunkedReader#nextBuffer()}). Returns bytes written.
     */
    static long compose(Repository repo, List<Chain.Layer> layers, FileEntry target, Path out, FileChannel ch) throws IOException {
        if (SparseFileOutput.needed(target.flags())) {
            OutputStream os = SparseFileOutput.open(ch, out, target.flags());
            long n = compose(repo, layers, target, os);
            SparseFileOutput.finish(os);
            return n;
        }
        return compose(repo, layers, target, b -> {
            while (b.hasRemaining()) {
                ch.write(b);
            }
        });
    }

    /** As above, into a stream (merge writes the result into a new stored object). */
    static long compose(Repository repo, List<Chain.Layer> layers, FileEntry target, OutputStream os) throws IOException {
        byte[] copy = new byte[64 << 10];
        return compose(repo, layers, target, b -> {
            while (b.hasRemaining()) {
                int n = Math.min(copy.length, b.remaining());
                b.get(copy, 0, n);
                os.write(copy, 0, n);
            }
        });
    }

    /**
     * Writes the result's pages in order: runs of base pages no delta holds straight from the base
     * object's buffers, each page a delta holds from the newest such delta (its base bytes skipped),
     * pages past the base's end from a delta or as zeros. Every object is read to its end, so that
     * its footer and digest are checked.
     */
    private static long compose(Repository repo, List<Chain.Layer> layers, FileEntry target, Sink sink) throws IOException {
        int ps = new io.strata.innodb.TablespaceFlags(target.flags()).physicalPageSize();
        long pages = target.size() / ps;
        Chain.Layer baseLayer = layers.get(0);
        List<DeltaCursor> deltas = new ArrayList<>();
        try (ChunkedReader base = (ChunkedReader) open(repo, baseLayer, "innodb-file")) {
            for (Chain.Layer l : layers.subList(1, layers.size())) {
                deltas.add(new DeltaCursor(repo, l, ps));
            }
            long limit = Math.min(baseLayer.entry().size() / ps, pages) * ps; // result bytes the base supplies
            long at = 0; // offset of the next result byte, which is also the base's next unread byte
            long next = nextDeltaPage(deltas);
            while (at < limit) {
                ByteBuffer b = base.nextBuffer();
                if (b == null) {
                    throw new CorruptDataException("stored copy of " + baseLayer.entry().path() + " in backup " + baseLayer.backup().id() + " ends early",
                            "the backup is damaged; restore another backup");
                }
                long bufferEnd = Math.min(at + b.remaining(), limit);
                while (at < bufferEnd) {
                    long p = at / ps;
                    long stop;
                    if (p == next) {
                        if (at == p * ps) {
                            sink.write(ByteBuffer.wrap(newest(deltas, p).page()));
                        }
                        stop = Math.min((p + 1) * ps, bufferEnd);
                        if (stop == (p + 1) * ps) {
                            advance(deltas, p);
                            next = nextDeltaPage(deltas);
                        }
                    } else {
                        stop = next == DeltaFormat.END ? bufferEnd : Math.min(bufferEnd, next * ps);
                        sink.write(b.duplicate().limit(b.position() + (int) (stop - at)));
                    }
                    b.position(b.position() + (int) (stop - at));
                    at = stop;
                }
            }
            ByteBuffer zeros = null;
            for (long p = at / ps; p < pages; p++) {
                if (p == next) {
                    sink.write(ByteBuffer.wrap(newest(deltas, p).page()));
                    advance(deltas, p);
                    next = nextDeltaPage(deltas);
                } else {
                    zeros = zeros == null ? ByteBuffer.allocate(ps) : zeros.clear();
                    sink.write(zeros);
                }
            }
            // read what is left so that every object's footer and digest are checked
            base.drainAndCheck();
            check(base, baseLayer, baseLayer.entry().size());
            for (DeltaCursor d : deltas) {
                d.finish(ps);
            }
        } finally {
            for (DeltaCursor d : deltas) {
                d.close();
            }
        }
        return pages * ps;
    }

    /**
     * Composes {@code layers} (whole copy first, deltas oldest to newest) into the new, empty file
     * {@code ch} chunk by chunk of the base, as {@link RestoreRun} does for a local repository: a
     * chunk of the base stored as it is (no compressor, in the clear) is read into direct memory and
     * checked ({@link io.strata.repo.ChunkScan#readInto}; past the page cache when {@code direct} is
     * open), any other chunk is decoded and checked; the deltas' pages that fall in it are laid over
     * it and its bytes inside the result are written at its offset at once (through {@code direct},
     * past the page cache, when it is open; {@link ChunkWriter}). Pages past the base's end come from
     * the deltas or are zeros. At the end the base's length and content digest (from its chunk
     * headers) are checked against its manifest entry and every delta is read to its end and
     * checked, as {@link #compose} does. The caller forces and closes {@code ch}; not for sparse
     * (page_compressed) files.
     *
     * @param base a scan of the whole copy's object (a local object in the clear), positioned before its first chunk
     * @param direct the same file as {@code ch} opened for writes past the page cache ({@link io.strata.util.DirectIo#openWrite}), or null
     * @return bytes of the result (its page count times the physical page size), or -1 when a chunk
     *         of the base does not start on a page boundary (another writer's chunk size; nothing is
     *         wrong with it) or its first chunk is compressed (then {@link #compose}'s reader decodes
     *         chunks on the codec pool, in parallel): the caller empties {@code ch} and composes the file with {@link #compose}
     * @throws CorruptDataException when an object does not check against its manifest entry
     */
    static long composeByChunks(Repository repo, List<Chain.Layer> layers, FileEntry target, io.strata.repo.ChunkScan base, FileChannel ch,
                                FileChannel direct) throws IOException {
        int ps = new io.strata.innodb.TablespaceFlags(target.flags()).physicalPageSize();
        long pages = target.size() / ps;
        Chain.Layer baseLayer = layers.get(0);
        List<DeltaCursor> deltas = openDeltas(repo, layers, ps);
        ChunkWriter w = new ChunkWriter(ch, direct);
        try {
            long limit = Math.min(baseLayer.entry().size() / ps, pages) * ps; // result bytes the base supplies
            long next = nextDeltaPage(deltas);
            byte[] res = null;
            while (base.next()) {
                long off = base.rawOffset();
                int n = base.rawLength();
                if (off >= limit) {
                    base.decode(); // base bytes beyond the result: read and checked all the same, as the stream does
                    continue;
                }
                if (off % ps != 0 || off == 0 && !base.storedAsIs()) {
                    return -1;
                }
                int m = (int) Math.min(n, limit - off); // result bytes from this chunk
                long endPage = (off + m) / ps;
                ByteBuffer stored = base.readInto(w.buffer(n), direct != null);
                if (stored != null) {
                    // the base's bytes read and checked; the deltas' pages laid over them (each before its delta moves
                    // on), then the result's part of the chunk written at once
                    while (next < endPage) {
                        stored.put((int) (next * ps - off), newest(deltas, next).page(), 0, ps);
                        advance(deltas, next);
                        next = nextDeltaPage(deltas);
                    }
                    w.write(stored.limit(m), off);
                    continue;
                }
                ByteBuffer raw = base.decode();
                if (res == null || res.length < n) {
                    res = new byte[Math.max(n, ObjectFormat.CHUNK_SIZE)];
                }
                raw.get(res, 0, m);
                while (next < endPage) {
                    System.arraycopy(newest(deltas, next).page(), 0, res, (int) (next * ps - off), ps);
                    advance(deltas, next);
                    next = nextDeltaPage(deltas);
                }
                w.writeNow(res, 0, m, off);
            }
            byte[] zeros = new byte[ps];
            for (long p = limit / ps; p < pages; p++) {
                if (p != next) {
                    w.writeNow(zeros, 0, ps, p * ps);
                    continue;
                }
                // written before the deltas move on: a delta reads its next entry into the same buffer
                w.writeNow(newest(deltas, p).page(), 0, ps, p * ps);
                advance(deltas, p);
                next = nextDeltaPage(deltas);
            }
            checkScanned(base, baseLayer);
            for (DeltaCursor d : deltas) {
                d.finish(ps);
            }
            w.finish(pages * ps); // and the zeros after a last write past the page cache that ended off the 4 KiB grid are cut
            return pages * ps;
        } finally {
            for (DeltaCursor d : deltas) {
                d.close();
            }
        }
    }

    /** Opens the delta of every layer after the first (oldest first); when one fails to open, those opened are closed again. */
    private static List<DeltaCursor> openDeltas(Repository repo, List<Chain.Layer> layers, int ps) throws IOException {
        List<DeltaCursor> deltas = new ArrayList<>();
        try {
            for (Chain.Layer l : layers.subList(1, layers.size())) {
                deltas.add(new DeltaCursor(repo, l, ps));
            }
            return deltas;
        } catch (IOException | RuntimeException e) {
            for (DeltaCursor d : deltas) {
                d.close();
            }
            throw e;
        }
    }

    /** Refuses a base whose scanned length or content digest is not its manifest entry's; {@code base} has ended. */
    private static void checkScanned(io.strata.repo.ChunkScan base, Chain.Layer baseLayer) {
        String digest = String.format("%08x", base.digest());
        if (base.rawTotal() != baseLayer.entry().size() || !digest.equals(baseLayer.entry().crc32c())) {
            throw new CorruptDataException(String.format("stored %s of %s in backup %s does not match its manifest entry: length %d digest %s, expected length %d digest %s",
                    baseLayer.entry().storage(), baseLayer.entry().path(), baseLayer.backup().id(), base.rawTotal(), digest,
                    baseLayer.entry().size(), baseLayer.entry().crc32c()), "the backup is damaged; restore another backup");
        }
    }

    /**
     * Brings the existing file {@code ch} to the composed result of {@code layers} (whole copy
     * first, deltas oldest to newest) as a delta restore does, reading the base's stored bytes only
     * where needed: {@code base} walks the whole copy's chunks (a local object in the clear), and a
     * chunk that no delta overrides, supplies only result bytes, and whose raw CRC-32C equals that
     * of the target's bytes at its offset, none of whose pages has a FIL_PAGE_LSN above
     * {@code maxLsn}, is taken as equal without being read (see {@link DeltaRestore}); any other
     * chunk is decoded, the deltas' pages laid over it, and the
     * pages that differ from the target's are written. Pages past the base's end come from the
     * deltas or are zeros, compared and written the same way. Every delta is read to its end and
     * checked, the base's footer and digest too; the file is cut to the result's length.
     *
     * @param maxLsn the restored backup's redo end LSN
     * @param suspects the only pages that may differ from the result ({@link DeltaBasis}): a chunk of the base holding none is
     *                 neither read nor compared, the deltas only move past it; null: any page may
     * @return {bytes written, raw bytes of the base decoded, bytes of the target read}; null when a chunk of the base is not on a page
     *         boundary (another writer's chunk size; nothing is wrong with it): the caller composes the file as a restore does
     * @throws CorruptDataException when an object does not check against its manifest entry
     */
    static long[] deltaCompose(Repository repo, List<Chain.Layer> layers, FileEntry target, io.strata.repo.ChunkScan base, FileChannel ch,
                               long maxLsn, java.util.BitSet suspects) throws IOException {
        int ps = new io.strata.innodb.TablespaceFlags(target.flags()).physicalPageSize();
        long pages = target.size() / ps;
        Chain.Layer baseLayer = layers.get(0);
        List<DeltaCursor> deltas = openDeltas(repo, layers, ps);
        try {
            long limit = Math.min(baseLayer.entry().size() / ps, pages) * ps; // result bytes the base supplies
            long next = nextDeltaPage(deltas);
            byte[] old = new byte[ObjectFormat.CHUNK_SIZE];
            byte[] res = new byte[ObjectFormat.CHUNK_SIZE];
            java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
            long written = 0;
            long decoded = 0;
            long read = 0;
            byte[] page = new byte[ps];
            byte[] oldPage = new byte[ps];
            io.strata.innodb.TablespaceFlags flags = new io.strata.innodb.TablespaceFlags(target.flags());
            try (ScanReadAhead ahead = ScanReadAhead.of(base, ch, suspects, ps, baseLayer.entry().size())) {
                for (long index = 0; base.next(); index++) {
                    if (ahead != null) {
                        ahead.at(index);
                    }
                    long off = base.rawOffset();
                    int n = base.rawLength();
                    if (off >= limit) {
                        base.decode(); // base bytes beyond the result: read and checked all the same, as a restore does
                        decoded += n;
                        continue;
                    }
                    if (off % ps != 0) {
                        return null; // chunks of another size than this writer's: the caller composes the file the plain way
                    }
                    int m = (int) Math.min(n, limit - off); // result bytes from this chunk
                    long endPage = (off + m) / ps;
                    if (!DeltaRestore.anySuspect(suspects, off, m, ps)) {
                        while (next < endPage) { // no page here written since the last restore of this backup (DeltaBasis): the deltas move past it
                            advance(deltas, next);
                            next = nextDeltaPage(deltas);
                        }
                        continue;
                    }
                    if (suspects != null && base.storedAsIs() && target.spaceId() != null) {
                        // page mode: only the named pages, each from the newest delta that holds it or read alone from the base's chunk
                        // and checked on its own (DeltaRestore.storedPageChecks); a base page that does not check: the chunk decoded
                        ByteBuffer whole = null;
                        for (long p = off / ps; p < endPage; p++) {
                            boolean inDelta = p == next;
                            if (suspects.get((int) p)) {
                                if (inDelta) {
                                    System.arraycopy(newest(deltas, p).page(), 0, page, 0, ps);
                                } else if (whole != null || !DeltaRestore.storedPageChecks(base, off, page, p, flags, target.spaceId())) {
                                    if (whole == null) {
                                        whole = base.decode();
                                        decoded += n;
                                    }
                                    whole.get((int) (p * ps - off), page, 0, ps);
                                }
                                int have = DeltaRestore.readAt(ch, oldPage, ps, p * ps);
                                read += have;
                                written += DeltaRestore.writeDiffering(ch, page, 0, oldPage, ps, have, ps, p * ps);
                            }
                            if (inDelta) {
                                advance(deltas, p);
                                next = nextDeltaPage(deltas);
                            }
                        }
                        continue;
                    }
                    if (old.length < n) {
                        old = new byte[n];
                        res = new byte[n];
                    }
                    int have = DeltaRestore.readAt(ch, old, m, off);
                    read += have;
                    if (next >= endPage && m == n && have == n && DeltaRestore.noPageAbove(old, n, ps, maxLsn)) {
                        crc.reset();
                        crc.update(old, 0, n);
                        if ((int) crc.getValue() == base.crc()) {
                            continue;
                        }
                    }
                    ByteBuffer raw = base.decode();
                    decoded += n;
                    raw.get(res, 0, m);
                    while (next < endPage) {
                        System.arraycopy(newest(deltas, next).page(), 0, res, (int) (next * ps - off), ps);
                        advance(deltas, next);
                        next = nextDeltaPage(deltas);
                    }
                    written += DeltaRestore.writeDiffering(ch, res, 0, old, m, have, ps, off);
                }
            }
            byte[] zeros = new byte[ps];
            for (long p = limit / ps; p < pages; p++) {
                // compared and written before the deltas move on: a delta reads its next entry into the same buffer
                if (DeltaRestore.anySuspect(suspects, p * ps, ps, ps)) {
                    byte[] want = p == next ? newest(deltas, p).page() : zeros;
                    int have = DeltaRestore.readAt(ch, page, ps, p * ps);
                    read += have;
                    written += DeltaRestore.writeDiffering(ch, want, 0, page, ps, have, ps, p * ps);
                }
                if (p == next) {
                    advance(deltas, p);
                    next = nextDeltaPage(deltas);
                }
            }
            checkScanned(base, baseLayer);
            for (DeltaCursor d : deltas) {
                d.finish(ps);
            }
            if (ch.size() > pages * ps) {
                ch.truncate(pages * ps);
            }
            return new long[] {written, decoded, read};
        } finally {
            for (DeltaCursor d : deltas) {
                d.close();
            }
        }
    }

    /** The lowest page number the deltas hold next ({@link DeltaFormat#END} when they are all read). */
    private static long nextDeltaPage(List<DeltaCursor> deltas) {
        long next = DeltaFormat.END;
        for (DeltaCursor d : deltas) {
            next = Math.min(next, d.pageNo());
        }
        return next;
    }

    /** The newest delta that holds page {@code p} (deltas are ordered oldest first). */
    private static DeltaCursor newest(List<DeltaCursor> deltas, long p) {
        for (int i = deltas.size() - 1; i >= 0; i--) {
            if (deltas.get(i).pageNo() == p) {
                return deltas.get(i);
            }
        }
        throw new IllegalStateException("no delta holds page " + p);
    }

    /** Moves every delta that holds page {@code p} to its next entry. */
    private static void advance(List<DeltaCursor> deltas, long p) throws IOException {
        for (DeltaCursor d : deltas) {
            if (d.pageNo() == p) {
                d.advance();
            }
        }
    }

    private static void check(ChunkedReader r, Chain.Layer l, long expectedLength) {
        String digest = String.format("%08x", r.rawCrc());
        if (r.rawBytes() != expectedLength || !digest.equals(l.entry().crc32c())) {
            throw new CorruptDataException(String.format("stored %s of %s in backup %s does not match its manifest entry: length %d digest %s, expected length %d digest %s",
                    l.entry().storage(), l.entry().path(), l.backup().id(), r.rawBytes(), digest, expectedLength, l.entry().crc32c()),
                    "the backup is damaged; restore another backup");
        }
    }


    /**
     * Merges two deltas of one file into one (the newer wins on a page both hold), written as
     * delta entries to {@code os}; returns the number of pages written.
     */
    static long mergeDeltas(Repository repo, Chain.Layer older, Chain.Layer newer, FileEntry target, OutputStream os) throws IOException {
        int ps = new io.strata.innodb.TablespaceFlags(target.flags()).physicalPageSize();
        long pages = target.size() / ps;
        try (DeltaCursor a = new DeltaCursor(repo, older, ps); DeltaCursor b = new DeltaCursor(repo, newer, ps)) {
            DeltaFormat.Writer out = new DeltaFormat.Writer(os, ps);
            while (a.pageNo() != DeltaFormat.END || b.pageNo() != DeltaFormat.END) {
                long p = Math.min(a.pageNo(), b.pageNo());
                DeltaCursor from = b.pageNo() == p ? b : a;
                if (p < pages) {
                    out.write(p, from.page(), 0);
                }
                if (a.pageNo() == p) {
                    a.advance();
                }
                if (b.pageNo() == p) {
                    b.advance();
                }
            }
            os.flush();
            a.finish(ps);
            b.finish(ps);
            return out.entries();
        }
    }
}
