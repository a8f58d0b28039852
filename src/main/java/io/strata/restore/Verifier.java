package io.strata.restore;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.innodb.LogGeometry;
import io.strata.innodb.LogHeader;
import io.strata.innodb.MtrParser;
import io.strata.innodb.PageChecker;
import io.strata.innodb.PageVerdict;
import io.strata.innodb.TablespaceFlags;
import io.strata.repo.Chain;
import io.strata.repo.ChunkedReader;
import io.strata.repo.DeltaFormat;
import io.strata.repo.FileEntry;
import io.strata.repo.Manifest;
import io.strata.repo.Repository;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Checks backups without restoring them: the chain (members completed, same server, LSN
 * continuity), every stored object (frame, chunk CRCs, digest and length against the manifest),
 * every stored InnoDB page (its own checksum and page number) and every mini-transaction of the
 * stored redo log. Reports every problem it finds, not only the first.
 */
public final class Verifier {
    private final Repository repo;
    private final Consumer<String> out;
    private final List<String> problems = new ArrayList<>();
    private long pages;
    private long objects;

    public Verifier(Repository repo, Consumer<String> out) {
        this.repo = repo;
        this.out = out;
    }

    public List<String> problems() { return problems; }

    /** Verifies the given backup and its chain, or every completed backup when id is null. */
    public void run(String id) {
        Set<String> ids = new LinkedHashSet<>();
        if (id != null) {
            Chain chain;
            try {
                chain = Chain.resolve(repo, id);
            } catch (StrataException e) {
                if (e.code() == ErrorCode.BACKUP_NOT_FOUND && !repo.hasManifest(id)) {
                    throw e; // the id names no backup (exit 19): nothing was found damaged
                }
                problems.add(e.getMessage());
                out.accept("FAILED " + id + ": " + e.getMessage());
                return;
            }
            ids.addAll(chain.ids());
        } else {
            ids.addAll(repo.history().completedIds());
            for (String m : repo.history().misplacedRecords()) {
                problems.add(m);
                out.accept("FAILED " + m);
            }
        }
        for (String b : ids) {
            verifyBackup(b);
        }
    }

    private void verifyBackup(String id) {
        int before = problems.size();
        long pagesBefore = pages;
        long objectsBefore = objects;
        Manifest m;
        try {
            m = repo.manifest(id);
            if (m.parent() != null) {
                Chain.resolve(repo, id);
            }
        } catch (StrataException e) {
            problems.add(e.getMessage());
            out.accept("FAILED " + id + ": " + e.getMessage());
            return;
        }
        for (FileEntry f : m.files()) {
            check(() -> verifyFile(m, f));
        }
        check(() -> verifyRedo(m));
        if (problems.size() == before) {
            out.accept(String.format("ok     %s (%s): %d objects, %d InnoDB pages and the redo log [%d, %d) verified",
                    id, m.type(), objects - objectsBefore, pages - pagesBefore, m.startLsn(), m.redoEndLsn()));
        } else {
            out.accept("FAILED " + id + ": " + (problems.size() - before) + " problem(s)");
        }
    }

    private interface Check {
        void run() throws IOException;
    }

    private void check(Check c) {
        try {
            c.run();
        } catch (StrataException e) {
            if (e.code() == ErrorCode.NATIVE_LIBRARY) {
                throw e; // this host cannot run the decompressor: that says nothing of the stored data
            }
            problems.add(e.getMessage());
            out.accept("  " + e.getMessage());
        } catch (IOException e) {
            problems.add(e.toString());
            out.accept("  " + e);
        }
    }

    private void problem(String msg) {
        problems.add(msg);
        out.accept("  " + msg);
    }

    private ChunkedReader open(Manifest m, String object, String content) throws IOException {
        objects++;
        return repo.openBackupObject(m.id(), object, content);
    }

    private void verifyFile(Manifest m, FileEntry f) throws IOException {
        boolean innodb = "innodb".equals(f.kind());
        String content = !innodb ? "file" : f.isDelta() ? DeltaFormat.CONTENT : "innodb-file";
        try (ChunkedReader r = open(m, f.object(), content)) {
            long expectedLength = f.size();
            if (innodb) {
                TablespaceFlags flags = new TablespaceFlags(f.flags());
                int ps = flags.physicalPageSize();
                if (f.isDelta()) {
                    expectedLength = DeltaFormat.length(f.deltaPages(), ps);
                    DeltaFormat.Reader delta = new DeltaFormat.Reader(r, ps, "delta of " + f.path() + " in backup " + m.id());
                    while (delta.next()) {
                        verifyPage(m, f, flags, delta.page(), delta.pageNo());
                    }
                } else {
                    DataInputStream in = new DataInputStream(r);
                    byte[] page = new byte[ps];
                    for (long no = 0; no < f.pages(); no++) {
                        in.readFully(page);
                        verifyPage(m, f, flags, page, no);
                    }
                }
            }
            r.drainAndCheck();
            String digest = String.format("%08x", r.rawCrc());
            if (r.rawBytes() != expectedLength || !digest.equals(f.crc32c())) {
                problem(String.format("%s of backup %s: stored length %d digest %s, manifest says length %d digest %s",
                        f.path(), m.id(), r.rawBytes(), digest, expectedLength, f.crc32c()));
            }
        } catch (EOFException e) {
            problem(f.path() + " of backup " + m.id() + ": stored copy ends before its last page");
        }
    }

    private void verifyPage(Manifest m, FileEntry f, TablespaceFlags flags, byte[] page, long no) {
        pages++;
        if (f.spaceId() != null && f.spaceId() == 0 && PageChecker.isDoublewrite(0, no, flags.physicalPageSize())) {
            return;
        }
        PageVerdict v = PageChecker.verify(page, 0, flags, no);
        if (!v.ok()) {
            problem("page " + no + " of " + f.path() + " in backup " + m.id() + ": " + v.reason());
        }
    }

    /** The stored log is contiguous from C with every sequence byte 1: frame every mtr again. */
    private void verifyRedo(Manifest m) throws IOException {
        long length = m.redoEndLsn() - m.startLsn();
        LogGeometry g = new LogGeometry(m.startLsn(), LogHeader.START_OFFSET + Math.max(length, 1) + (1L << 30));
        byte[] buf = new byte[8 << 20];
        int fill = 0;
        long lsn = m.startLsn();
        try (ChunkedReader r = open(m, m.redoObject(), "redo"); InputStream in = r) {
            while (true) {
                int n = in.read(buf, fill, buf.length - fill);
                if (n > 0) {
                    fill += n;
                }
                if (fill == 0 && n < 0) {
                    break;
                }
                MtrParser.ParseResult pr = MtrParser.parse(buf, 0, fill, lsn, g, false, null);
                if (pr.stop() != MtrParser.Stop.NEED_MORE || (n < 0 && pr.acceptedBytes() < fill)) {
                    problem("redo log of backup " + m.id() + ": invalid mini-transaction at LSN " + (lsn + pr.acceptedBytes())
                            + (pr.reason() == null ? "" : " (" + pr.reason() + ")"));
                    return;
                }
                System.arraycopy(buf, pr.acceptedBytes(), buf, 0, fill - pr.acceptedBytes());
                fill -= pr.acceptedBytes();
                lsn += pr.acceptedBytes();
                if (n < 0) {
                    break;
                }
            }
            r.drainAndCheck();
            String digest = String.format(Locale.ROOT, "%08x", r.rawCrc());
            if (m.redoCrc32c() != null && !m.redoCrc32c().equals(digest)) {
                // valid mini-transactions of another log (e.g. another backup's redo object of the same length)
                problem("redo log of backup " + m.id() + " does not match its manifest: digest " + digest + ", expected " + m.redoCrc32c()
                        + " (resource=" + repo.describeBackupObject(m.id(), m.redoObject()) + ")");
                return;
            }
        }
        if (lsn != m.redoEndLsn()) {
            problem("redo log of backup " + m.id() + " ends at LSN " + lsn + ", the manifest says " + m.redoEndLsn());
        }
    }
}
