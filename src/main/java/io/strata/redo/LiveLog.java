package io.strata.redo;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.innodb.Checkpoint;
import io.strata.innodb.LogCrypt;
import io.strata.innodb.LogGeometry;
import io.strata.innodb.LogHeader;
import io.strata.innodb.MtrParser;
import io.strata.innodb.MtrVisitor;
import io.strata.server.ServerSession;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * The server's live, circular {@code ib_logfile0}, read for change detection (the redo method of
 * an incremental and {@code strata track}). A range of LSNs is read in pieces; every mini-transaction
 * is framed and validated (sequence bit, CRC-32C) and its page ids go to a visitor, nothing is
 * applied. Design rule 2 holds as for the backup's own redo copy: after each read the server's
 * current LSN is compared with the LSN the read began at, and if the server may have written a
 * full log capacity past it the bytes just read are not trusted ({@link Unavailable}). An encrypted
 * log ({@code innodb_encrypt_log=ON}) is read with the key {@link RedoKeys} gets through the server
 * connection given to {@link #open(Path, ServerSession)}.
 */
public final class LiveLog implements AutoCloseable {
    /** Largest piece read at once, in bytes. */
    static final int MAX_READ = 8 << 20;
    /** Headroom demanded beyond the capacity, in bytes: the rewritten tail block and write-ahead padding. */
    public static final long MARGIN = 1 << 20;

    /**
     * The log does not (or no longer) hold what was asked for; the message says why, in words
     * that fit after "because" or "but" in a caller's message.
     */
    public static final class Unavailable extends Exception {
        public Unavailable(String message) {
            super(message);
        }
    }

    private final Path file;
    private final FileChannel channel;
    private final LogHeader header;
    private final Checkpoint checkpoint;
    private final LogGeometry geometry;
    private final long fileSize;
    private final Object fileKey;
    private final byte[] buf;
    private final LogCrypt crypt;

    /** {@code given}: the decryptor (tests); else one from {@code session} when the log is encrypted. */
    private LiveLog(Path file, int bufferSize, ServerSession session, LogCrypt given) {
        this.file = file;
        try {
            this.channel = FileChannel.open(file, StandardOpenOption.READ);
            this.fileKey = Files.readAttributes(file, BasicFileAttributes.class).fileKey();
            this.fileSize = channel.size();
            byte[] head = new byte[LogHeader.START_OFFSET];
            readFully(head, 0, head.length, 0);
            this.header = LogHeader.parse(head);
            try {
                if (!header.encrypted()) {
                    this.crypt = null;
                } else if (given != null) {
                    this.crypt = given;
                } else if (session == null) {
                    this.crypt = noKey(file);
                } else {
                    this.crypt = RedoKeys.forLog(header, head, session, file);
                }
            } catch (RuntimeException e) {
                channel.close();
                throw e;
            }
            this.checkpoint = Checkpoint.newest(head, header);
            this.geometry = new LogGeometry(header.firstLsn(), fileSize);
            if (crypt != null && given == null) {
                try {
                    RedoKeys.checkKey(crypt, channel, file, geometry, fileSize, checkpoint);
                } catch (RuntimeException e) {
                    channel.close();
                    throw e;
                }
            }
            this.buf = new byte[bufferSize];
        } catch (IOException e) {
            throw new StrataException(ErrorCode.DATADIR_UNREADABLE, "cannot read the redo log " + file + ": " + e.getMessage(),
                    "strata must run on the database host as a user that can read the data directory (--datadir)", e);
        }
    }

    /**
     * Opens {@code ib_logfile0} and reads its header and newest checkpoint.
     *
     * @throws StrataException datadir-unreadable when the file cannot be read; server-unsupported
     *         when the log is encrypted
     */
    public static LiveLog open(Path file) {
        return new LiveLog(file, MAX_READ, null, null);
    }

    /**
     * Opens {@code ib_logfile0} of the server behind {@code session}, which gives the key when the log
     * is encrypted ({@link RedoKeys}).
     *
     * @throws StrataException datadir-unreadable when the file or the key file cannot be read;
     *         server-unsupported when the log is encrypted with a key strata cannot get
     */
    public static LiveLog open(Path file, ServerSession session) {
        return new LiveLog(file, MAX_READ, session, null);
    }

    /** For tests: a smaller read size (bytes) makes every range take several reads. */
    static LiveLog open(Path file, int bufferSize) {
        return new LiveLog(file, bufferSize, null, null);
    }

    /** For tests: an encrypted log with its decryptor. */
    static LiveLog open(Path file, int bufferSize, LogCrypt crypt) {
        return new LiveLog(file, bufferSize, null, crypt);
    }

    private static LogCrypt noKey(Path file) {
        throw new StrataException(ErrorCode.SERVER_UNSUPPORTED, "the redo log " + file + " is encrypted (innodb_encrypt_log=ON) and no server connection gives its key",
                "read it through a connection to its server");
    }

    public Path file() { return file; }

    public LogHeader header() { return header; }

    /** The newest checkpoint when the log was opened. */
    public Checkpoint checkpoint() { return checkpoint; }

    /** Bytes of log the circular file holds (its size less the header). */
    public long capacity() { return geometry.capacity(); }

    /** Size of the file in bytes when it was opened. */
    public long fileSize() { return fileSize; }

    /**
     * Why the log cannot give LSN {@code lsn} onward while the server is at {@code currentLsn}, or
     * null when it can. Bytes at LSN x are overwritten only when the server writes LSN x + capacity.
     */
    public String whyNotHeld(long lsn, long currentLsn) {
        if (lsn < header.firstLsn()) {
            return "the server's redo log now begins at LSN " + header.firstLsn() + " (it was resized or re-created since LSN " + lsn + ")";
        }
        if (currentLsn + MARGIN >= lsn + geometry.capacity()) {
            return "the server has written " + (currentLsn - lsn) + " bytes of redo log since LSN " + lsn + ", more than its log holds ("
                    + geometry.capacity() + " bytes of capacity, innodb_log_file_size)";
        }
        return null;
    }

    /**
     * Reads the mini-transactions in [from, to) and reports them to {@code visitor}. {@code from}
     * must be an mtr boundary and {@code to} at most the server's flushed LSN.
     *
     * @param currentLsn the server's current LSN (Innodb_lsn_current), asked after every read
     * @return the end of the last complete mtr read, {@code to} when {@code to} is an mtr boundary
     * @throws Unavailable when the log no longer holds [from, to), or a mini-transaction in it is not valid
     */
    public long scan(long from, long to, LongSupplier currentLsn, MtrVisitor visitor) throws Unavailable, IOException {
        Objects.requireNonNull(visitor);
        long pos = from;
        while (pos < to) {
            int len = (int) Math.min(buf.length, to - pos);
            readCircular(pos, len);
            String why = whyNotHeld(pos, currentLsn.getAsLong());
            if (why != null) {
                throw new Unavailable(why);
            }
            MtrParser.ParseResult r = MtrParser.parse(buf, 0, len, pos, geometry, false, visitor, crypt);
            pos += r.acceptedBytes();
            if (r.stop() != MtrParser.Stop.NEED_MORE) {
                throw new Unavailable("the redo log holds no valid mini-transaction at LSN " + pos + ", below LSN " + to
                        + (r.reason() == null ? "" : " (" + r.reason() + ")") + "; the server overwrote or rewrote it");
            }
            if (r.acceptedBytes() == 0 || len < buf.length && pos < to) {
                return pos; // the next mtr ends beyond `to`
            }
        }
        return pos;
    }

    /**
     * Reads the mini-transactions of a log no server writes (a stopped server's) from {@code from},
     * an mtr boundary, to its end: the first mtr that is not valid (a zero byte where an mtr
     * starts, a wrong sequence byte, a CRC-32C mismatch), where crash recovery stops too. Reads at
     * most the log's capacity. The caller must make sure that nothing from {@code from} on was
     * overwritten (a checkpoint at or after {@code from} and at or before the returned end).
     *
     * @return the LSN after the last valid mtr (LSN)
     * @throws IOException reading the file
     */
    public long scanToEnd(long from, MtrVisitor visitor) throws IOException {
        Objects.requireNonNull(visitor);
        long pos = from;
        long limit = from + geometry.capacity();
        while (pos < limit) {
            int len = (int) Math.min(buf.length, limit - pos);
            readCircular(pos, len);
            MtrParser.ParseResult r = MtrParser.parse(buf, 0, len, pos, geometry, false, visitor, crypt);
            pos += r.acceptedBytes();
            if (r.stop() != MtrParser.Stop.NEED_MORE || r.acceptedBytes() == 0) {
                return pos;
            }
        }
        return pos;
    }

    /** Whether ib_logfile0 on disk is no longer the file this reader opened (resized, re-created). */
    public boolean replaced() {
        try {
            if (!Objects.equals(Files.readAttributes(file, BasicFileAttributes.class).fileKey(), fileKey)) {
                return true;
            }
            byte[] head = new byte[LogHeader.BLOCK_SIZE];
            readFully(head, 0, head.length, 0);
            return LogHeader.parse(head).firstLsn() != header.firstLsn() || channel.size() != fileSize;
        } catch (IOException | RuntimeException e) {
            return true;
        }
    }

    private void readFully(byte[] dst, int off, int len, long pos) throws IOException {
        readFully(channel, file, dst, off, len, pos);
    }

    private void readCircular(long lsn, int len) throws IOException {
        readCircular(channel, file, geometry, fileSize, lsn, buf, len);
    }

    /**
     * Reads exactly {@code len} bytes at file offset {@code pos} into {@code dst[off..off+len)}.
     *
     * @throws IOException when the file ends first (the message names {@code file} and the offset)
     */
    public static void readFully(FileChannel channel, Path file, byte[] dst, int off, int len, long pos) throws IOException {
        // in slices: see NioSlices
        int n = io.strata.util.NioSlices.read(channel, dst, off, len, pos);
        if (n < len) {
            throw new IOException("unexpected end of " + file + " at offset " + (pos + n));
        }
    }

    /**
     * Reads the log bytes of LSNs [lsn, lsn+len) from the circular file into buf[0..len), wrapping
     * from the end of the file to the start of the log area.
     */
    public static void readCircular(FileChannel channel, Path file, LogGeometry geometry, long fileSize, long lsn, byte[] buf, int len) throws IOException {
        long off = geometry.offset(lsn);
        int first = (int) Math.min(len, fileSize - off);
        readFully(channel, file, buf, 0, first, off);
        if (first < len) {
            readFully(channel, file, buf, first, len - first, LogHeader.START_OFFSET);
        }
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException ignored) {
            // read-only channel
        }
    }
}
