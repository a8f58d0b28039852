package io.strata.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

/**
 * Loads (without initialising) the classes a run of strata uses and builds what every run builds
 * first (the JSON readers, each command's option model), so that the launcher can record them once
 * in a class-data-sharing archive (-XX:ArchiveClassesAtExit) and later runs start faster.
 *
 * <p>Two archives, because an archive costs start-up time in proportion to its size (the JVM maps
 * it at a random address and relocates every pointer in it, and reads it from disk when cold): the
 * plain one holds strata, Jackson, Connector/J and the codecs (about 17 MB); {@code --s3} adds the
 * AWS SDK and its HTTP client (about 50 MB), which only runs on an S3 repository load. Measured on
 * a 4 GB repository, {@code strata show} warm / after drop_caches: 0.43 / 0.50 s with the plain
 * archive, 0.52 / 0.59 s with the one holding the SDK, 0.55 / 0.64 s with none. picocli's classes
 * are never archived: the JVM does not archive classes of class-file version 49 (Java 5).
 */
@Command(name = "cds-train", hidden = true, description = "Load strata's classes for a class-data-sharing archive.")
final class CdsTrainCommand implements Callable<Integer> {
    private static final List<String> PACKAGES = List.of("io/strata/", "picocli/", "org/mariadb/jdbc/", "com/fasterxml/jackson/",
            "com/github/luben/zstd/", "net/jpountz/");
    /** What only a run on an S3 repository loads. */
    private static final List<String> S3_PACKAGES = List.of("software/amazon/awssdk/", "org/apache/http/");

    @Option(names = "--s3", description = "Also load the AWS SDK (for the archive of runs on an S3 repository).")
    boolean s3;

    @Override
    public Integer call() throws IOException, URISyntaxException {
        List<String> packages = new ArrayList<>(PACKAGES);
        if (s3) {
            packages.addAll(S3_PACKAGES);
        }
        Path jar = Path.of(Main.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        ClassLoader loader = Main.class.getClassLoader();
        int loaded = 0;
        try (JarFile jf = new JarFile(jar.toFile())) {
            for (Enumeration<JarEntry> e = jf.entries(); e.hasMoreElements(); ) {
                String name = e.nextElement().getName();
                if (!name.endsWith(".class") || name.contains("-") || packages.stream().noneMatch(name::startsWith)) {
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
        io.strata.repo.Json.warmUp(); // the deserializers every run builds (their generated classes go into the archive too)
        for (String name : Main.commandNames()) {
            new picocli.CommandLine(Main.newCommand(name)).getUsageMessage();
        }
        System.out.println("loaded " + loaded + " classes");
        return 0;
    }
}
