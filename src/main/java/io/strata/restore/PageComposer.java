package io.strata.restore;

import io.strata.error.CorruptDataException;
import io.strata.repo.Chain;
import io.strata.repo.ChunkedReader;
import io.strata.repo.DeltaFormat;
import io.strata.repo.FileEntry;
import io.strata.repo.Repository;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
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

    /** Composes {@code layers} (whole copy first, deltas oldest to newest) into {@code out}; returns bytes written. */
    static long compose(Repository repo, List<Chain.Layer> layers, FileEntry target, Path out) throws IOException {
        try (java.nio.channels.FileChannel ch = RestoreRun.createFile(out)) {
            // a page_compressed tablespace keeps its holes (SparseFileOutput); others are written whole
            OutputStream os = SparseFileOutput.open(ch, out, target.flags());
            long n = compose(repo, layers, target, os);
            SparseFileOutput.finish(os);
            ch.force(false);
            return n;
        }
    }

    /** As above, into a stream (merge writes the result into a new stored object). */
    static long compose(Repository repo, List<Chain.Layer> layers, FileEntry target, OutputStream os) throws IOException {
        int ps = new io.strata.innodb.TablespaceFlags(target.flags()).physicalPageSize();
        long pages = target.size() / ps;
        Chain.Layer baseLayer = layers.get(0);
        List<DeltaCursor> deltas = new ArrayList<>();
        try (ChunkedReader base = (ChunkedReader) open(repo, baseLayer, "innodb-file")) {
            for (Chain.Layer l : layers.subList(1, layers.size())) {
                deltas.add(new DeltaCursor(repo, l, ps));
            }
            byte[] basePage = new byte[ps];
            long basePages = baseLayer.entry().size() / ps;
            for (long p = 0; p < pages; p++) {
                byte[] chosen;
                if (p < basePages) {
                    readFully(base, basePage, baseLayer);
                    chosen = basePage;
                } else {
                    java.util.Arrays.fill(basePage, (byte) 0);
                    chosen = basePage;
                }
                for (DeltaCursor d : deltas) {
                    if (d.pageNo() == p) {
                        chosen = d.page();
                    }
                }
                os.write(chosen);
                for (DeltaCursor d : deltas) {
                    if (d.pageNo() == p) {
                        d.advance();
                    }
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

    private static void readFully(InputStream in, byte[] b, Chain.Layer l) throws IOException {
        int off = 0;
        while (off < b.length) {
            int n = in.read(b, off, b.length - off);
            if (n < 0) {
                throw new CorruptDataException("stored copy of " + l.entry().path() + " in backup " + l.backup().id() + " ends early",
                        "the backup is damaged; restore another backup");
            }
            off += n;
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
