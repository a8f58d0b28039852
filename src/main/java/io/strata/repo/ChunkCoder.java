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
     * Chunk buffers cost 1-3 MiB each; a backup opens one writer per file, most of them small,
     * so finished writers and readers hand theirs back here instead of to the garbage collector.
     */
    private static final int SPARE_LIMIT = 64;
    private static final java.util.concurrent.ConcurrentLinkedDeque<Out> SPARE_OUT = new java.util.concurrent.ConcurrentLinkedDeque<>();
    private static final java.util.concurrent.ConcurrentLinkedDeque<In> SPARE_IN = new java.util.concurrent.ConcurrentLinkedDeque<>();
    private static final java.util.concurrent.atomic.AtomicInteger SPARES = new java.util.concurrent.atomic.AtomicInteger();

    static Out takeOut() {
        Out o = SPARE_OUT.poll();
        if (o == null) {
            return new Out();
        }
        SPARES.decrementAndGet();
        o.rawLen = 0;
        return o;
    }

    static In takeIn() {
        In i = SPARE_IN.poll();
        if (i == null) {
            return new In();
        }
        SPARES.decrementAndGet();
        return i;
    }

    static void give(Out o) {
        if (SPARES.incrementAndGet() <= SPARE_LIMIT) {
            SPARE_OUT.push(o);
        } else {
            SPARES.decrementAndGet();
        }
    }

    static void give(In i) {
        if (SPARES.incrementAndGet() <= SPARE_LIMIT) {
            SPARE_IN.push(i);
        } else {
            SPARES.decrementAndGet();
        }
    }

    static int crc(byte[] b, int off, int len) {
        CRC32C c = new CRC32C();
        c.update(b, off, len);
        return (int) c.getValue();
    }

    /** One chunk on its way out: the raw bytes in, the stored bytes and header fields out. */
    static final class Out {
        final byte[] raw = new byte[ObjectFormat.CHUNK_SIZE];
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
                tmp = new byte[4 + Math.max(bound, ObjectFormat.CHUNK_SIZE)];
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
                out = new byte[Math.max(n, ObjectFormat.CHUNK_SIZE + ChunkCipher.OVERHEAD + 4096)];
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
