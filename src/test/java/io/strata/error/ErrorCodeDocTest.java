package io.strata.error;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The README's exit-code table and the ErrorCode enum must say the same, and codes must be distinct. */
class ErrorCodeDocTest {
    @Test
    void readmeTableMatchesTheCatalogue() throws Exception {
        String readme = Files.readString(Path.of("README.md"), StandardCharsets.UTF_8);
        Matcher m = Pattern.compile("(?m)^\\| (\\d+) \\| ([a-z-]+) \\|").matcher(readme);
        TreeMap<Integer, String> documented = new TreeMap<>();
        while (m.find()) {
            documented.put(Integer.parseInt(m.group(1)), m.group(2));
        }
        TreeMap<Integer, String> actual = new TreeMap<>();
        for (ErrorCode c : ErrorCode.values()) {
            actual.put(c.exitCode(), c.id());
        }
        assertEquals(actual, documented);
    }

    @Test
    void exitCodesAreDistinct() {
        Set<Integer> seen = new HashSet<>();
        for (ErrorCode c : ErrorCode.values()) {
            assertTrue(seen.add(c.exitCode()), "exit code used twice: " + c.exitCode());
        }
    }

    @Test
    void renderShowsIdMessageAndHint() {
        StrataException e = new StrataException(ErrorCode.TARGET_NOT_EMPTY, "restore target /x is not empty", "name an empty directory");
        assertEquals("ERROR [target-not-empty]: restore target /x is not empty" + System.lineSeparator() + "HINT: name an empty directory", e.render());
    }
}
