package io.strata.innodb;

import java.util.zip.CRC32C;

/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78, initial value and final XOR 0xFFFFFFFF), the
 * checksum of full_crc32 pages, legacy crc32 pages, the redo log header, checkpoint blocks and every
 * mini-transaction. Same value as the server's {@code my_crc32c(0, buf, len)}; check value of
 * "123456789" is 0xE3069283.
 */
public final class Crc32c {
    private Crc32c() {}

    /** CRC-32C of {@code b[off, off+len)}. */
    public static int compute(byte[] b, int off, int len) {
        CRC32C c = new CRC32C();
        c.update(b, off, len);
        return (int) c.getValue();
    }
}
