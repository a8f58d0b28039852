package io.strata.it;

import io.strata.testing.MariaDbSandbox;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The compressors' native libraries come from strata's own directory (issue 15, item 12): with a
 * java.io.tmpdir the JVM cannot use, compressed backups, their verify and a restore still work;
 * with strata's directory unusable the command fails with native-library (exit 31) naming the
 * library and the directory, before a backup writes anything. As root, where a mount namespace can
 * be made, the same on a real tmpfs mounted noexec (the hardening the issue met).
 */
class NativeLibrariesIT {
    private static final String ZSTD = "zstd (zstd-jni " + com.github.luben.zstd.util.ZstdVersion.VERSION + ")";
    private static final String HINT = "HINT: strata loads its native libraries from ${XDG_CACHE_HOME:-~/.cache}/strata/native, which must be a directory of this user, "
            + "on a file system that allows executing (not mounted noexec); set XDG_CACHE_HOME to move it\n";

    private static List<String> names(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void librariesLoadFromStratasDirectoryNotTheTemporaryOne() throws Exception {
        Path work = ItSupport.tempDir("native-");
        Path cache = work.resolve("cache");
        Path native_ = cache.resolve("strata/native");
        Path noTmp = work.resolve("no-such-tmp");
        List<String> badTmp = List.of("-Djava.io.tmpdir=" + noTmp);
        Map<String, String> env = Map.of("XDG_CACHE_HOME", cache.toString());
        try (MariaDbSandbox source = ItSupport.source()) {
            try (var c = source.connection()) {
                io.strata.testing.SampleSchema.create(c, "app");
                io.strata.testing.SampleSchema.loadRows(c, "app", 2_000);
            }
            String socket = source.socket().toString();
            for (String codec : new String[] {"zstd", "lz4"}) {
                Path repo = work.resolve("repo-" + codec);
                String id = ItSupport.completedId(StrataCli.exec(StrataCli.command(List.of(), badTmp, "backup", "--repo", repo.toString(), "--socket", socket,
                        "--user", "root", "--compress", codec), env));
                StrataCli.Result v = StrataCli.exec(StrataCli.command(List.of(), badTmp, "verify", "--repo", repo.toString(), id), env);
                assertEquals(0, v.exit(), v.toString());
            }
            assertFalse(Files.exists(noTmp));
            List<String> libs = names(native_);
            assertEquals(2, libs.size(), libs.toString());
            assertTrue(libs.get(0).startsWith("liblz4-java-") && libs.get(1).startsWith("libzstd-jni-"), libs.toString());
            assertEquals("rwx------", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(native_)));

            // strata's directory unusable (below a regular file): its own error, before anything is written
            Path file = Files.writeString(work.resolve("a-file"), "x");
            Map<String, String> broken = Map.of("XDG_CACHE_HOME", file.toString());
            Path repo = work.resolve("repo-never");
            StrataCli.Result r = StrataCli.runWithEnv(broken, "backup", "--repo", repo.toString(), "--socket", socket, "--user", "root", "--compress", "zstd");
            assertEquals(31, r.exit(), r.toString());
            assertEquals("ERROR [native-library]: cannot load the native library of " + ZSTD + " from " + file + "/strata/native: unpacking it failed: "
                    + file + "/strata: Not a directory\n" + HINT, r.err());
            assertFalse(Files.exists(repo), "the refused backup created its repository");
            // reading a compressed repository needs the library too: the same error, not damage
            r = StrataCli.runWithEnv(broken, "verify", "--repo", work.resolve("repo-lz4").toString());
            assertEquals(31, r.exit(), r.toString());
            assertTrue(r.err().startsWith("ERROR [native-library]: cannot load the native library of lz4 (lz4-java) from " + file + "/strata/native: "), r.err());

            if (!noexecMountWorks(work)) {
                assertFalse("true".equals(System.getenv("CI")), "CI runs as root with mount namespaces: the noexec case must run");
                System.err.println("NativeLibrariesIT: no mount namespace here (not root?); the noexec tmpfs case did not run");
                return;
            }
            // a real tmpfs mounted noexec as java.io.tmpdir: zstd-jni and lz4-java's own loaders fail there
            Path noexec = Files.createDirectories(work.resolve("noexec"));
            List<String> inNoexecMount = List.of("unshare", "-m", "sh", "-c", "mount -t tmpfs -o noexec,mode=1777 none \"$0\" && exec \"$@\"", noexec.toString());
            Path cache2 = work.resolve("cache2");
            StrataCli.Result ok = StrataCli.exec(StrataCli.command(inNoexecMount, List.of("-Djava.io.tmpdir=" + noexec), "backup", "--repo",
                    work.resolve("repo-noexec").toString(), "--socket", socket, "--user", "root", "--compress", "zstd"), Map.of("XDG_CACHE_HOME", cache2.toString()));
            ItSupport.completedId(ok);
            // and strata's own directory on it: the loader's own words, with the library and the directory
            StrataCli.Result refused = StrataCli.exec(StrataCli.command(inNoexecMount, List.of(), "backup", "--repo", work.resolve("repo-never-2").toString(),
                    "--socket", socket, "--user", "root", "--compress", "zstd"), Map.of("XDG_CACHE_HOME", noexec.resolve("cache").toString()));
            assertEquals(31, refused.exit(), refused.toString());
            String dir = noexec.resolve("cache/strata/native").toString();
            String first = refused.err().lines().findFirst().orElse("");
            assertTrue(first.matches("ERROR \\[native-library]: cannot load the native library of " + java.util.regex.Pattern.quote(ZSTD + " from " + dir + ": loading " + dir
                    + "/libzstd-jni-" + com.github.luben.zstd.util.ZstdVersion.VERSION + "-") + "[0-9a-f]{16}\\.so failed: failed to map segment from shared object"), first);
        }
    }

    private static boolean noexecMountWorks(Path work) throws Exception {
        Path probe = Files.createDirectories(work.resolve("probe"));
        try {
            Process p = new ProcessBuilder("unshare", "-m", "mount", "-t", "tmpfs", "-o", "noexec", "none", probe.toString()).redirectErrorStream(true).start();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException noUnshare) {
            return false;
        }
    }
}
