package io.strata.innodb;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** Builds well-formed mini-transactions (records + sequence byte + CRC-32C) for tests. */
public final class MtrBuilder {
    private final ByteArrayOutputStream recs = new ByteArrayOutputStream();

    public MtrBuilder() {}

    /** A record: header flags|type, then {@code body} (ids and payload), with the length coded in the header or as a varint. */
    public MtrBuilder record(int hdrTypeBits, byte[] body, boolean forceLong) {
        int len = body.length;
        if (len >= 1 && len <= 15 && !forceLong) {
            recs.write(hdrTypeBits | len);
        } else {
            // n = add + 15 counts the varint bytes too
            int lenLen = 1;
            while (Varint.encodedLength(Math.max(0, len + lenLen - 15)) != lenLen) lenLen++;
            long add = len + lenLen - 15;
            if (add < 0) throw new IllegalArgumentException("a long record needs at least 14 body bytes");
            recs.write(hdrTypeBits);
            recs.writeBytes(Varint.encode(add));
        }
        recs.writeBytes(body);
        return this;
    }

    public MtrBuilder page(int type, int space, int page, byte[] payload) {
        return record(type, concat(Varint.encode(Integer.toUnsignedLong(space)),
                Varint.encode(Integer.toUnsignedLong(page)), payload), false);
    }

    public MtrBuilder pageLong(int type, int space, int page, byte[] payload) {
        return record(type, concat(Varint.encode(space), Varint.encode(page), payload), true);
    }

    public MtrBuilder samePage(int type, byte[] payload) {
        return record(0x80 | type, payload, false);
    }

    public MtrBuilder file(int type, int space, String name) {
        return record(type, concat(Varint.encode(space), new byte[] {0}, name.getBytes(StandardCharsets.UTF_8)), false);
    }

    public MtrBuilder rename(int space, String from, String to) {
        return record(RecordType.FILE_RENAME, concat(Varint.encode(space), new byte[] {0},
                from.getBytes(StandardCharsets.UTF_8), new byte[] {0}, to.getBytes(StandardCharsets.UTF_8)), false);
    }

    public MtrBuilder checkpoint(long lsn) {
        byte[] b = new byte[10];
        Be.put64(b, 2, lsn);
        return record(RecordType.FILE_CHECKPOINT, b, false);
    }

    public MtrBuilder raw(int... bytes) {
        for (int b : bytes) recs.write(b);
        return this;
    }

    /** Records, then term = {@code seq}, then the CRC-32C of the records. */
    public byte[] build(int seq) {
        byte[] r = recs.toByteArray();
        byte[] m = new byte[r.length + 5];
        System.arraycopy(r, 0, m, 0, r.length);
        m[r.length] = (byte) seq;
        Be.put32(m, r.length + 1, Crc32c.compute(r, 0, r.length));
        return m;
    }

    /**
     * The encrypted form (FORMAT_ENC_11): records encrypted by {@code ctr} (an AES_CTR decryptor: CTR is
     * its own inverse), term = {@code seq}, the 8-byte {@code nonce}, the CRC-32C of the encrypted records and the nonce.
     */
    public byte[] buildEncrypted(int seq, LogCrypt ctr, long nonce) {
        if (ctr.mode() != LogCrypt.Mode.CTR) throw new IllegalArgumentException("only CTR encrypts by decrypting");
        byte[] r = recs.toByteArray();
        byte[] m = new byte[r.length + 1 + 8 + 4];
        System.arraycopy(r, 0, m, 0, r.length);
        m[r.length] = (byte) seq;
        Be.put64(m, r.length + 1, nonce);
        ctr.decryptMtr(m, 0, r.length, m, r.length + 1);
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(m, 0, r.length);
        crc.update(m, r.length + 1, 8);
        Be.put32(m, r.length + 9, (int) crc.getValue());
        return m;
    }

    public static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        for (byte[] p : parts) o.writeBytes(p);
        return o.toByteArray();
    }
}
