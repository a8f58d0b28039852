package io.strata.it;

import io.strata.util.Dirs;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestWatcher;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Removes the work directories ({@link ItSupport#tempDir}) of a test class whose tests all passed
 * and keeps those of a class with a failure, for the post-mortem (repositories, restored data
 * directories and server logs under target/it-work). A full run otherwise leaves about 10 GB
 * behind. Registered for every test class by extension auto-detection
 * (src/test/resources/junit-platform.properties).
 */
public final class WorkDirs implements TestWatcher, AfterAllCallback {
    private static final List<Path> CREATED = new ArrayList<>();
    private static boolean failed;

    static synchronized void created(Path dir) {
        CREATED.add(dir);
    }

    @Override
    public void testFailed(ExtensionContext context, Throwable cause) {
        synchronized (WorkDirs.class) {
            failed = true;
        }
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        List<Path> dirs;
        boolean keep;
        synchronized (WorkDirs.class) {
            dirs = new ArrayList<>(CREATED);
            keep = failed || context.getExecutionException().isPresent();
            CREATED.clear();
            failed = false;
        }
        for (Path d : dirs) {
            if (keep) {
                System.err.println("kept for inspection: " + d);
            } else {
                Dirs.delete(d, false);
            }
        }
    }
}
