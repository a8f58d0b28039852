package io.strata.codec;

import net.jpountz.lz4.LZ4Factory;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Both compressors' native libraries come from strata's own directory, and lz4 runs its native
 * code, not its Java fallback. (The failures, which need a JVM of their own, are in the
 * integration tests: NativeLibrariesIT.)
 */
class NativeLibsTest {
    @Test
    void bothLibrariesAreUnpackedIntoStratasDirectoryAndUsed() throws IOException {
        NativeLibs.ensure(Compression.Algorithm.ZSTD);
        NativeLibs.ensure(Compression.Algorithm.LZ4);
        Path dir = NativeLibs.dir();
        List<String> names;
        try (Stream<Path> s = Files.list(dir)) {
            names = s.map(p -> p.getFileName().toString()).sorted().toList();
        }
        assertTrue(names.stream().anyMatch(n -> n.matches("libzstd-jni-[0-9.]+-[0-9]+-[0-9a-f]{16}\\.so")), names.toString());
        assertTrue(names.stream().anyMatch(n -> n.matches("liblz4-java-[0-9a-f]{16}\\.so")), names.toString());
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)));
        assertTrue(System.getProperty("ZstdNativePath").startsWith(dir.toString()), System.getProperty("ZstdNativePath"));
        assertTrue(net.jpountz.util.Native.isLoaded(), "lz4-java counts its library as loaded");
        assertEquals("LZ4Factory:JNI", LZ4Factory.fastestInstance().toString());

        byte[] raw = new byte[1 << 16];
        for (int i = 0; i < raw.length; i++) {
            raw[i] = (byte) (i % 251 < 128 ? i : 0);
        }
        for (Compression c : new Compression[] {Compression.zstd(1), Compression.LZ4}) {
            byte[] packed = new byte[Compressors.bound(c, raw.length)];
            int n = Compressors.compress(c, raw, 0, raw.length, packed, 0);
            byte[] back = new byte[raw.length];
            Compressors.decompress(c.algorithm(), packed, 0, n, back, raw.length);
            assertArrayEquals(raw, back, c.toString());
        }
    }
}
