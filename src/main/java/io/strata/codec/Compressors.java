package io.strata.codec;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdCompressCtx;
import com.github.luben.zstd.ZstdDecompressCtx;
import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Exception;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4SafeDecompressor;

/**
 * Compresses and decompresses one chunk. Thread-safe: zstd contexts are kept per thread (a
 * context is not shareable, and making one per chunk would cost more than level 1 saves), lz4's
 * compressor and safe decompressor are stateless. Each library's native code is loaded by
 * {@link NativeLibs} before its first use (the holders below are initialised only after that).
 */
public final class Compressors {
    private static final class Lz4 {
        private static final LZ4Factory FACTORY = LZ4Factory.fastestInstance();
        static final LZ4Compressor FAST = FACTORY.fastCompressor();
        /** The safe decompressor checks every bound; the stored bytes may come from a damaged or hostile repository. */
        static final LZ4SafeDecompressor SAFE = FACTORY.safeDecompressor();
    }

    private static final class ZstdContexts {
        static final ThreadLocal<ZstdCompressCtx> C = ThreadLocal.withInitial(ZstdCompressCtx::new);
        static final ThreadLocal<ZstdDecompressCtx> D = ThreadLocal.withInitial(ZstdDecompressCtx::new);
    }

    private Compressors() {}

    /** Loads the native library {@code c} needs now (native-library error when it cannot), rather than at its first chunk. */
    public static void load(Compression c) {
        NativeLibs.ensure(c.algorithm());
    }

    /** The largest output {@link #compress} may produce for {@code len} input bytes. */
    public static int bound(Compression c, int len) {
        NativeLibs.ensure(c.algorithm());
        return switch (c.algorithm()) {
            case NONE -> len;
            case ZSTD -> (int) Zstd.compressBound(len);
            case LZ4 -> Lz4.FAST.maxCompressedLength(len);
        };
    }

    /**
     * Compresses {@code src[off, off+len)} into {@code dst} from {@code dstOff} (which must have
     * {@link #bound} bytes free); returns the compressed length.
     */
    public static int compress(Compression c, byte[] src, int off, int len, byte[] dst, int dstOff) {
        NativeLibs.ensure(c.algorithm());
        switch (c.algorithm()) {
            case ZSTD: {
                ZstdCompressCtx ctx = ZstdContexts.C.get();
                ctx.setLevel(c.level());
                return ctx.compressByteArray(dst, dstOff, dst.length - dstOff, src, off, len);
            }
            case LZ4:
                return Lz4.FAST.compress(src, off, len, dst, dstOff, dst.length - dstOff);
            default:
                throw new IllegalArgumentException("nothing to compress with " + c);
        }
    }

    /**
     * Decompresses exactly {@code rawLen} bytes into {@code dst[0, rawLen)}; a compressed chunk
     * that does not yield exactly that many bytes is damaged.
     */
    public static void decompress(Compression.Algorithm a, byte[] src, int off, int len, byte[] dst, int rawLen) {
        NativeLibs.ensure(a);
        int n;
        try {
            n = switch (a) {
                case ZSTD -> ZstdContexts.D.get().decompressByteArray(dst, 0, rawLen, src, off, len);
                case LZ4 -> Lz4.SAFE.decompress(src, off, len, dst, 0, rawLen);
                case NONE -> throw new IllegalArgumentException("nothing to decompress");
            };
        } catch (LZ4Exception | com.github.luben.zstd.ZstdException e) {
            throw new CodecException(a.label() + " data is damaged: " + e.getMessage(), e);
        }
        if (n != rawLen) {
            throw new CodecException(a.label() + " data is damaged: it decompresses to " + n + " bytes, the chunk header says " + rawLen);
        }
    }
}
