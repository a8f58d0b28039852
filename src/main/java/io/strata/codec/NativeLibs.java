package io.strata.codec;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Set;

/**
 * The native libraries of the compressors, loaded from a directory strata owns rather than from
 * {@code java.io.tmpdir}, where zstd-jni and lz4-java unpack them by default (a temporary directory
 * mounted noexec, a common hardening, makes that fail; any user who can write there could plant a
 * library). The directory is {@code ${XDG_CACHE_HOME:-~/.cache}/strata/native}: created 0700, and
 * used only when it is a directory of the user strata runs as that group and others cannot write.
 * Each library is unpacked from the jar under a name holding the start of its SHA-256, checked
 * against the jar's copy before every load, and written (temporary file, then rename) when it is
 * missing or differs.
 *
 * <p>How each library is told where to load from: zstd-jni by its documented system property
 * {@code ZstdNativePath}, which its loader honours before anything else. lz4-java's only other
 * place is {@code java.library.path}, fixed when the JVM starts: strata loads the library itself
 * (the JNI methods of lz4-java bind to it, as both are loaded by the same class loader) and marks
 * lz4-java's loader as done, so it neither unpacks a second copy into the temporary directory nor
 * falls back to its Java implementation in silence.
 *
 * <p>A library that cannot be unpacked or loaded is a native-library error naming the library and
 * the directory.
 */
public final class NativeLibs {
    private static final Set<PosixFilePermission> DIR_MODE = PosixFilePermissions.fromString("rwx------");
    private static final Set<PosixFilePermission> LIB_MODE = PosixFilePermissions.fromString("rwx------");
    private static volatile boolean zstdReady;
    private static volatile boolean lz4Ready;

    private NativeLibs() {}

    /** The directory strata loads native libraries from: {@code ${XDG_CACHE_HOME:-~/.cache}/strata/native}. */
    public static Path dir() {
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path cache = xdg != null && !xdg.isEmpty() && Path.of(xdg).isAbsolute() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return cache.resolve("strata").resolve("native");
    }

    /** Loads what {@code a} needs, once per process; a no-op for {@code none}. */
    public static void ensure(Compression.Algorithm a) {
        switch (a) {
            case ZSTD -> {
                if (!zstdReady) {
                    loadZstd();
                }
            }
            case LZ4 -> {
                if (!lz4Ready) {
                    loadLz4();
                }
            }
            case NONE -> { }
        }
    }

    private static synchronized void loadZstd() {
        if (zstdReady) {
            return;
        }
        String library = "zstd (zstd-jni " + com.github.luben.zstd.util.ZstdVersion.VERSION + ")";
        Path dir = dir();
        String resource = "/" + os() + "/" + arch() + "/libzstd-jni-" + com.github.luben.zstd.util.ZstdVersion.VERSION + ".so";
        Path lib = unpack(library, dir, com.github.luben.zstd.util.Native.class, resource, "libzstd-jni-" + com.github.luben.zstd.util.ZstdVersion.VERSION);
        System.setProperty("ZstdNativePath", lib.toString());
        try {
            com.github.luben.zstd.util.Native.load();
        } catch (UnsatisfiedLinkError | SecurityException e) {
            throw failure(library, dir, "loading " + lib + " failed: " + linkError(lib, e), e);
        }
        zstdReady = true;
    }

    private static synchronized void loadLz4() {
        if (lz4Ready) {
            return;
        }
        String library = "lz4 (lz4-java)";
        Path dir = dir();
        String resource = "/net/jpountz/util/" + os() + "/" + arch() + "/liblz4-java.so";
        Path lib = unpack(library, dir, net.jpountz.util.Native.class, resource, "liblz4-java");
        try {
            System.load(lib.toString());
        } catch (UnsatisfiedLinkError | SecurityException e) {
            throw failure(library, dir, "loading " + lib + " failed: " + linkError(lib, e), e);
        }
        try {
            java.lang.reflect.Field loaded = net.jpountz.util.Native.class.getDeclaredField("loaded");
            loaded.setAccessible(true);
            synchronized (net.jpountz.util.Native.class) {
                loaded.setBoolean(null, true);
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw failure(library, dir, "this lz4-java no longer has the loader flag strata sets (" + e + ")", e);
        }
        lz4Ready = true;
    }

    /** The library's bytes from {@code owner}'s jar, in {@code dir} under {@code base-<sha256 prefix>.so}: the existing copy when it is identical. */
    private static Path unpack(String library, Path dir, Class<?> owner, String resource, String base) {
        byte[] bytes;
        try (InputStream in = owner.getResourceAsStream(resource)) {
            if (in == null) {
                throw failure(library, dir, "the jar holds no library for this system (" + resource + ")", null);
            }
            bytes = in.readAllBytes();
        } catch (IOException e) {
            throw failure(library, dir, "reading " + resource + " from the jar failed: " + e.getMessage(), e);
        }
        Path lib = dir.resolve(base + "-" + sha256(bytes).substring(0, 16) + ".so");
        try {
            checkDir(library, dir);
            if (Files.isRegularFile(lib, LinkOption.NOFOLLOW_LINKS) && java.util.Arrays.equals(Files.readAllBytes(lib), bytes)) {
                return lib;
            }
            Path tmp = Files.createTempFile(dir, ".tmp-" + base, ".so", PosixFilePermissions.asFileAttribute(LIB_MODE));
            try {
                Files.write(tmp, bytes);
                try {
                    Files.move(tmp, lib, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(tmp, lib, StandardCopyOption.REPLACE_EXISTING);
                }
            } finally {
                Files.deleteIfExists(tmp);
            }
            return lib;
        } catch (IOException e) {
            throw failure(library, dir, "unpacking it failed: " + reason(e), e);
        }
    }

    /** Creates the directory 0700, and uses it only when it is this user's and no one else may write to it. */
    private static void checkDir(String library, Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(DIR_MODE));
        }
        String owner = Files.getOwner(dir).getName();
        Set<PosixFilePermission> mode = Files.getPosixFilePermissions(dir);
        String me = System.getProperty("user.name");
        if (!owner.equals(me) || mode.contains(PosixFilePermission.GROUP_WRITE) || mode.contains(PosixFilePermission.OTHERS_WRITE)) {
            throw failure(library, dir, "the directory belongs to " + owner + " with mode " + PosixFilePermissions.toString(mode)
                    + ": only a directory of " + me + " that no one else may write is used", null);
        }
    }

    /** What the dynamic linker said, without the file name the JDK repeats before it. */
    private static String linkError(Path lib, Throwable e) {
        String m = String.valueOf(e.getMessage());
        while (m.startsWith(lib + ": ")) {
            m = m.substring(lib.toString().length() + 2);
        }
        return m;
    }

    /** "FILE: what went wrong" for the JDK's file errors, whose message is often the file alone. */
    private static String reason(IOException e) {
        if (e instanceof FileSystemException f) {
            String why = e instanceof AccessDeniedException ? "permission denied" : e instanceof NoSuchFileException ? "no such file or directory"
                    : f.getReason() != null ? f.getReason() : e.getClass().getSimpleName();
            return f.getFile() + ": " + why;
        }
        return e.toString();
    }

    private static StrataException failure(String library, Path dir, String why, Throwable cause) {
        return new StrataException(ErrorCode.NATIVE_LIBRARY, "cannot load the native library of " + library + " from " + dir + ": " + why,
                "strata loads its native libraries from ${XDG_CACHE_HOME:-~/.cache}/strata/native, which must be a directory of this user, "
                        + "on a file system that allows executing (not mounted noexec); set XDG_CACHE_HOME to move it", cause);
    }

    private static String os() {
        String n = System.getProperty("os.name").toLowerCase(Locale.ROOT);
        return n.startsWith("linux") ? "linux" : n.replace(' ', '_');
    }

    private static String arch() {
        String a = System.getProperty("os.arch");
        return a.equals("x86_64") ? "amd64" : a;
    }

    private static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
