package io.strata.cli;

import picocli.CommandLine.Command;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Enumeration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

/**
 * Loads (without initialising) the classes a run of strata uses, so that bin/strata can record them
 * once in a class-data-sharing archive (-XX:ArchiveClassesAtExit) and later runs start faster.
 */
@Command(name = "cds-train", hidden = true, description = "Load strata's classes for a class-data-sharing archive.")
final class CdsTrainCommand implements Callable<Integer> {
    private static final List<String> PACKAGES = List.of("io/strata/", "picocli/", "org/mariadb/jdbc/", "com/fasterxml/jackson/",
            "com/github/luben/zstd/", "net/jpountz/", "software/amazon/awssdk/", "org/apache/http/");

    @Override
    public Integer call() throws IOException, URISyntaxException {
        Path jar = Path.of(Main.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        ClassLoader loader = Main.class.getClassLoader();
        int loaded = 0;
        try (JarFile jf = new JarFile(jar.toFile())) {
            for (Enumeration<JarEntry> e = jf.entries(); e.hasMoreElements(); ) {
                String name = e.nextElement().getName();
                if (!name.endsWith(".class") || name.contains("-") || PACKAGES.stream().noneMatch(name::startsWith)) {
                    continue;
                }
                try {
                    Class.forName(name.substring(0, name.length() - 6).replace('/', '.'), false, loader);
                    loaded++;
                } catch (LinkageError | ClassNotFoundException skipped) {
                    // optional parts of a library whose dependencies are not shipped
                }
            }
        }
        System.out.println("loaded " + loaded + " classes");
        return 0;
    }
}
