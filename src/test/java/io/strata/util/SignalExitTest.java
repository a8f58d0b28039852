package io.strata.util;

import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link SignalExit} in a JVM of its own, stopped by SIGTERM: the main thread's report, printed
 * 0.5 s after the signal's hook let it go, comes out whole, and the exit status is the signal's
 * (143), not the one the main thread would have exited with (38). Without the gate the JVM halts
 * as soon as the hook returns, before the report.
 */
class SignalExitTest {
    /** The JVM under test: a hook like strata track's, then a slow report and an exit with 38. */
    public static void main(String[] args) throws Exception {
        CountDownLatch stopAsked = new CountDownLatch(1);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            SignalExit.begin();
            stopAsked.countDown();
            try {
                stopped.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                return;
            }
            SignalExit.awaitReport(10);
        }));
        System.out.println("ready");
        System.out.flush();
        stopAsked.await();
        stopped.countDown(); // the run has stored what it read; the hook may go on
        Thread.sleep(500);
        System.out.println("report: 3 sets stored");
        System.out.flush();
        SignalExit.beforeExit();
        System.exit(38);
    }

    @Test
    void theSignalsStatusWinsAfterTheReport() throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process p = new ProcessBuilder(java.toString(), "-cp", System.getProperty("java.class.path"), SignalExitTest.class.getName())
                .redirectErrorStream(true).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        assertEquals("ready", out.readLine());
        p.toHandle().destroy(); // SIGTERM (Process.destroy would also close our end of its output)
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "the JVM under test did not exit");
        assertEquals("report: 3 sets stored", out.readLine());
        assertEquals(143, p.exitValue());
    }
}
