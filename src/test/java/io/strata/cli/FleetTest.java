package io.strata.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.repo.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Issue 16: the usage rules of backup/check --all and --servers, the summary table and the merged check JSON. */
class FleetTest {
    @TempDir
    Path dir;

    private String usageError(Path conf, String... args) {
        ConfigDefaults d = ConfigDefaults.load(args, Map.<String, String>of()::get, conf == null ? dir.resolve("none") : null);
        PrintStream sink = new PrintStream(new ByteArrayOutputStream());
        StrataException e = assertThrows(StrataException.class, () -> Fleet.run(d, d.args(), sink, sink));
        assertEquals(ErrorCode.USAGE, e.code());
        return e.getMessage();
    }

    @Test
    void usage() throws Exception {
        Path conf = Files.writeString(dir.resolve("s.conf"), "[global]\nuser = root\n[db1]\nrepo = /r1\n[db2]\nrepo = /r2\n");
        String c = conf.toString();
        assertTrue(Fleet.wanted(new String[] {"backup", "--all"}));
        assertTrue(Fleet.wanted(new String[] {"check", "--servers=db1"}));
        assertFalse(Fleet.wanted(new String[] {"backup", "--server", "db1"}));
        assertFalse(Fleet.wanted(new String[] {"restore", "--all"}));
        assertFalse(Fleet.wanted(new String[] {"backup", "--", "--all"}));
        assertEquals("backup --all/--servers: there is no configuration file", usageError(null, "backup", "--all"));
        assertEquals("--servers db1,db9: no section [db9] in " + c, usageError(conf, "--config", c, "backup", "--servers", "db1,db9"));
        assertEquals("--servers global: no section [global] in " + c, usageError(conf, "--config", c, "backup", "--servers", "global"));
        assertEquals("give either --all or --servers a,b, not both", usageError(conf, "--config", c, "backup", "--all", "--servers", "db1"));
        assertEquals("--jobs must be a number of servers backed up at once, 1-64, not 0", usageError(conf, "--config", c, "backup", "--all", "--jobs", "0"));
        assertEquals("--nagios gives one server's line, not several", usageError(conf, "--config", c, "check", "--all", "--nagios"));
        Path empty = Files.writeString(dir.resolve("e.conf"), "[global]\nuser = root\n");
        assertEquals(empty + " has no server section", usageError(empty, "--config", empty.toString(), "backup", "--all"));
    }

    @Test
    void summaryAndCheckJson() throws Exception {
        List<Fleet.Result> rs = List.of(new Fleet.Result("db1", 0, "20261201T0930Z", "full", 12_345, null, ""),
                new Fleet.Result("db2", 15, null, null, 600, "ERROR [server-unreachable]: cannot connect", ""));
        assertEquals("""
                SERVER  RESULT  BACKUP          TYPE  DURATION  EXIT  ERROR
                db1     ok      20261201T0930Z  full  12.3s     0
                db2     FAILED  -               -     0.6s      15    ERROR [server-unreachable]: cannot connect
                """, Fleet.summary(rs).replace(System.lineSeparator(), "\n"));

        List<Fleet.Result> checks = List.of(
                new Fleet.Result("db1", 0, null, null, 1, null, "[{\"server\":\"h:3306:/d\",\"status\":{\"code\":0,\"message\":\"ok\"},\"checks\":[]}]\n"),
                new Fleet.Result("db2", 10, null, null, 1, "ERROR [repo-missing]: no repository at /r2", ""));
        JsonNode j = Json.MAPPER.readTree(Fleet.checkJson(checks));
        assertEquals(2, j.size());
        assertEquals("db1", j.get(0).fieldNames().next().equals("section") ? j.get(0).get("section").asText() : "section not first");
        assertEquals("h:3306:/d", j.get(0).get("server").asText());
        assertEquals(0, j.get(0).get("status").get("code").asInt());
        assertEquals("db2", j.get(1).get("section").asText());
        assertEquals(2, j.get(1).get("status").get("code").asInt());
        assertEquals("ERROR [repo-missing]: no repository at /r2", j.get(1).get("checks").get(0).get("message").asText());
    }
}
