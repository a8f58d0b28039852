package io.strata.repo;

import io.strata.codec.ChunkCipher;
import io.strata.codec.CodecException;
import io.strata.codec.Compression;
import io.strata.codec.Compressors;
import io.strata.error.CorruptDataException;
import io.strata.error.ErrorCode;
import io.strata.error.StrataException;

import java.util.Locale;
import java.util.zip.CRC32C;

/** Encodes and decodes one chunk of {@link ObjectFormat}; runs on any thread, one chunk per call. */
final class ChunkCoder {
    private ChunkCoder() {}

    /**
     * Chunk buffers cost up to 1-3 MiB each; a backup opens one writer per file, most of them
     * small, so finished writers and readers hand theirs back here instead of to the garbage
     * collector. A writer's buffer is sized to the object when its size is known
     * ({@link #takeOut(long)}): a power of two from {@link #MIN_OUT} to a whole chunk, so the 24
     * writers of a backup's small files (a .frm of 1.5 KiB, a tablespace of 96 KiB) hold 16-128
     * KiB each instead of 1 MiB. The spares kept are bounded by their bytes, {@link #SPARE_BYTES}
     * (at 50,000 tables, 25 spare 1 MiB buffers were a sixth of the agent's heap at its peak).
     */
    static final int MIN_OUT = 16 << 10;
    static final long SPARE_BYTES = 16L << 20;
    /** Spare writer buffers by size class: index k holds buffers of {@code MIN_OUT << k} bytes. */
    private static final int OUT_CLASSES = Integer.numberOfTrailingZeros(ObjectFormat.CHUNK_SIZE / MIN_OUT) + 1;
    @SuppressWarnings("unchecked")
    private static final java.util.concurrent.ConcurrentLinkedDeque<Out>[] SPARE_OUT = new java.util.concurrent.ConcurrentLinkedDeque[OUT_CLASSES];
    static {
        for (int k = 0; k < OUT_CLASSES; k++) {
            SPARE_OUT[k] = new java.util.concurrent.ConcurrentLinkedDeque<>();
        }
    }
    private static final java.util.concurrent.ConcurrentLinkedDeque<In> SPARE_IN = new java.util.concurrent.ConcurrentLinkedDeque<>();
    /** What a reader's buffers are counted as: its stored and raw bytes, a chunk each. */
    private static final long IN_BYTES = 2L * ObjectFormat.CHUNK_SIZE;
    /** Bytes held by the spares of both kinds. */
    private static final java.util.concurrent.atomic.AtomicLong SPARE_HELD = new java.util.concurrent.atomic.AtomicLong();

    /** A writer's chunk buffer of a whole chunk. */
    static Out takeOut() {
        return takeOut(ObjectFormat.CHUNK_SIZE);
    }

    /**
     * A writer's chunk buffer for an object of about {@code expectedBytes} raw bytes (negative:
     * unknown, a whole chunk): the smallest size class that holds it; {@link Out#grow} makes it a
     * whole chunk when more bytes come.
     */
    static Out takeOut(long expectedBytes) {
        int k = outClass(expectedBytes);
        Out o = SPARE_OUT[k].poll();
        if (o == null) {
            return new Out(MIN_OUT << k);
        }
        SPARE_HELD.addAndGet(-o.raw.length);
        o.rawLen = 0;
        return o;
    }

    /** The size class of a buffer for {@code expectedBytes}: 0 for up to {@link #MIN_OUT}, the last for a whole chunk. */
    static int outClass(long expectedBytes) {
        if (expectedBytes < 0 || expectedBytes >= ObjectFormat.CHUNK_SIZE) {
            return OUT_CLASSES - 1;
        }
        int k = 0;
        while ((long) MIN_OUT << k < expectedBytes) {
            k++;
        }
        return k;
    }

    static In takeIn() {
        In i = SPARE_IN.poll();
        if (i == null) {
            return new In();
        }
        SPARE_HELD.addAndGet(-IN_BYTES);
        return i;
    }

    static void give(Out o) {
        int k = Integer.numberOfTrailingZeros(o.raw.length / MIN_OUT);
        if (Integer.bitCount(o.raw.length) != 1 || k >= OUT_CLASSES) {
            return;
        }
        if (SPARE_HELD.addAndGet(o.raw.length) <= SPARE_BYTES) {
            SPARE_OUT[k].push(o);
        } else {
            SPARE_HELD.addAndGet(-o.raw.length);
        }
    }

    static void give(In i) {
        if (SPARE_HELD.addAndGet(IN_BYTES) <= SPARE_BYTES) {
            SPARE_IN.push(i);
        } else {
            SPARE_HELD.addAndGet(-IN_BYTES);
        }
    }

    static int crc(byte[] b, int off, int len) {
        CRC32C c = new CRC32C();
        c.update(b, off, len);
        return (int) c.getValue();
    }

    /** One chunk on its way out: the raw bytes in, the stored bytes and header fields out. */
    static final class Out {
        /** The raw bytes of the chunk being filled: a power of two from {@link #MIN_OUT} to {@link ObjectFormat#CHUNK_SIZE} bytes. */
        byte[] raw;
        byte[] tmp;
        byte[] out;
        int rawLen;
        int index;
        // results
        byte[] stored;
        int storedLen;
        int codec;
        int crcField;
        int rawCrc;

        Out(int capacity) {
            raw = new byte[capacity];
        }

        /** Makes {@link #raw} a whole chunk, keeping its first {@code rawLen} bytes. */
        void grow() {
            if (raw.length < ObjectFormat.CHUNK_SIZE) {
                raw = java.util.Arrays.copyOf(raw, ObjectFormat.CHUNK_SIZE);
            }
        }

        /** Encodes {@code raw[0, rawLen)}; a chunk that does not shrink is stored uncompressed. */
        void encode(ObjectCodec codec, byte[] aadPrefix) {
            rawCrc = crc(raw, 0, rawLen);
            Compression c = codec.compression();
            ChunkCipher cipher = codec.cipher();
            int bound = c.isNone() ? rawLen : Compressors.bound(c, rawLen);
            if (cipher == null) {
                if (!c.isNone()) {
                    ensureOut(bound);
                    int n = Compressors.compress(c, raw, 0, rawLen, out, 0);
                    if (n < rawLen) {
                        stored = out;
                        storedLen = n;
                        this.codec = c.algorithm().id();
                        crcField = rawCrc;
                        return;
                    }
                }
                stored = raw;
                storedLen = rawLen;
                this.codec = ObjectFormat.CODEC_NONE;
                crcField = rawCrc;
                return;
            }
            if (tmp == null || tmp.length < 4 + Math.max(bound, rawLen)) {
                tmp = new byte[4 + Math.max(bound, raw.length)];
            }
            ObjectFormat.putInt(tmp, 0, rawCrc);
            int plainLen = -1;
            int algo = Compression.Algorithm.NONE.id();
            if (!c.isNone()) {
                int n = Compressors.compress(c, raw, 0, rawLen, tmp, 4);
                if (n < rawLen) {
                    plainLen = 4 + n;
                    algo = c.algorithm().id();
                }
            }
            if (plainLen < 0) {
                System.arraycopy(raw, 0, tmp, 4, rawLen);
                plainLen = 4 + rawLen;
            }
            this.codec = algo | ObjectFormat.CODEC_SEALED;
            ensureOut(plainLen + ChunkCipher.OVERHEAD);
            storedLen = cipher.seal(ObjectFormat.aad(aadPrefix, index, rawLen, this.codec, ObjectFormat.KIND_CHUNK), tmp, 0, plainLen, out, 0);
            stored = out;
            crcField = crc(out, 0, storedLen);
        }

        private void ensureOut(int n) {
            if (out == null || out.length < n) {
                out = new byte[Math.max(n, raw.length + ChunkCipher.OVERHEAD + 4096)];
            }
        }
    }

    /** One chunk on its way in: the stored bytes and header fields in, the raw bytes out. */
    static final class In {
        byte[] stored = new byte[0];
        byte[] tmp;
        byte[] raw;
        int storedLen;
        int rawLen;
        int codec;
        int crcField;
        int index;
        long offset;
        // results
        byte[] data;
        int dataOff;
        int rawCrc;
        /** The raw bytes in direct memory, for a chunk stored uncompressed and in the clear and read from a local file; else null. */
        java.nio.ByteBuffer direct;
        private java.nio.ByteBuffer directSpace;

        /** This chunk's direct buffer, cleared and limited to {@code n} bytes; allocated (1 MiB or more) on first use and kept. */
        java.nio.ByteBuffer directBuffer(int n) {
            if (directSpace == null || directSpace.capacity() < n) {
                directSpace = java.nio.ByteBuffer.allocateDirect(Math.max(n, ObjectFormat.CHUNK_SIZE));
            }
            return directSpace.clear().limit(n);
        }

        /** Checks the CRC of {@link #direct} (stored uncompressed, so raw and stored bytes are the same) against the header's; the caller checked the header (codec none, stored length = raw length) and that the object is not sealed. */
        void checkDirect(String resource) {
            CRC32C c = new CRC32C();
            c.update(direct.duplicate());
            rawCrc = (int) c.getValue();
            if (rawCrc != crcField) {
                throw mismatch(resource, crcField, rawCrc, "");
            }
        }

        void decode(ObjectCodec codec, byte[] aadPrefix, String resource) {
            int algo = this.codec & ObjectFormat.CODEC_COMPRESSOR_MASK;
            if ((this.codec & ObjectFormat.CODEC_SEALED) != 0) {
                ChunkCipher cipher = codec.cipher();
                if (cipher == null) {
                    throw missingKey(resource);
                }
                int stored = crc(this.stored, 0, storedLen);
                if (stored != crcField) {
                    throw mismatch(resource, crcField, stored, " of the stored bytes");
                }
                if (tmp == null || tmp.length < storedLen) {
                    tmp = new byte[Math.max(storedLen, ObjectFormat.CHUNK_SIZE + 4)];
                }
                int plainLen;
                try {
                    plainLen = cipher.open(ObjectFormat.aad(aadPrefix, index, rawLen, this.codec, ObjectFormat.KIND_CHUNK), this.stored, 0, storedLen, tmp);
                } catch (CodecException.AuthenticationFailed e) {
                    throw corrupt(resource, String.format(Locale.ROOT, "chunk %d (raw offset %d) failed authentication: it was altered, or moved from another object or position",
                            index, offset));
                }
                int expectCrc = ObjectFormat.getInt(tmp, 0);
                if (algo == Compression.Algorithm.NONE.id()) {
                    if (plainLen - 4 != rawLen) {
                        throw corrupt(resource, String.format(Locale.ROOT, "chunk %d holds %d bytes, its header says %d", index, plainLen - 4, rawLen));
                    }
                    data = tmp;
                    dataOff = 4;
                } else {
                    decompress(algo, tmp, 4, plainLen - 4, resource);
                }
                rawCrc = crc(data, dataOff, rawLen);
                if (rawCrc != expectCrc) {
                    throw mismatch(resource, expectCrc, rawCrc, "");
                }
                return;
            }
            if (codec.sealed()) {
                throw corrupt(resource, "chunk " + index + " is not encrypted, but the repository is: it was not written by strata with this repository's key");
            }
            if (algo == Compression.Algorithm.NONE.id()) {
                if (storedLen != rawLen) {
                    throw corrupt(resource, String.format(Locale.ROOT, "chunk %d has a bad header: raw=%d stored=%d codec=%d", index, rawLen, storedLen, this.codec));
                }
                data = stored;
                dataOff = 0;
            } else {
                decompress(algo, stored, 0, storedLen, resource);
            }
            rawCrc = crc(data, dataOff, rawLen);
            if (rawCrc != crcField) {
                throw mismatch(resource, crcField, rawCrc, "");
            }
        }

        private void decompress(int algo, byte[] src, int off, int len, String resource) {
            if (raw == null || raw.length < rawLen) {
                raw = new byte[Math.max(rawLen, ObjectFormat.CHUNK_SIZE)];
            }
            try {
                Compressors.decompress(Compression.Algorithm.byId(algo), src, off, len, raw, rawLen);
            } catch (CodecException e) {
                throw corrupt(resource, String.format(Locale.ROOT, "chunk %d (raw offset %d) cannot be decompressed: %s", index, offset, e.getMessage()));
            }
            data = raw;
            dataOff = 0;
        }

        private CorruptDataException mismatch(String resource, int expected, int computed, String what) {
            return corrupt(resource, String.format(Locale.ROOT, "chunk %d (raw offset %d) checksum mismatch%s: stored crc32c=0x%08x computed=0x%08x",
                    index, offset, what, expected, computed));
        }
    }

    static CorruptDataException corrupt(String resource, String what) {
        return new CorruptDataException(what + " (resource=" + resource + ")",
                "the stored copy is damaged; this backup cannot be used, take a new one");
    }

    static StrataException missingKey(String resource) {
        return new StrataException(ErrorCode.KEY_MISSING, "object " + resource + " is encrypted and no key was given",
                "give the repository's key with --encrypt-key-file FILE or its passphrase with --encrypt-passphrase-file FILE (or STRATA_PASSPHRASE)");
    }
}
