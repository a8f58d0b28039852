package io.strata.server;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Issue 16: how a lock wait names its blocker (the statement cut at 100 characters, white space folded). */
class LockWaitTest {
    @Test
    void describesTheBlocker() {
        assertEquals("connection 7 (user app, 12 s, User sleep): \"INSERT INTO t SELECT SLEEP(30)\"",
                new LockWait.Blocker(7, "app", 12, "Query", "User sleep", "INSERT INTO t\n  SELECT SLEEP(30)").describe());
        String longSql = "UPDATE t SET a = 1 WHERE id IN (" + "1,".repeat(80) + "1)";
        assertEquals("connection 8 (user root, 3 s): \"" + longSql.substring(0, 100) + "...\"",
                new LockWait.Blocker(8, "root", 3, "Query", "", longSql).describe());
        assertEquals("connection 9 (user root, 40 s): no statement (idle, Sleep)",
                new LockWait.Blocker(9, "root", 40, "Sleep", null, null).describe());
    }
}
