package io.strata.util;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RunOwnerTest {

    @Test
    void thisProcessIsAliveAndItsTagReadsBack() throws Exception {
        RunOwner me = RunOwner.self();
        assertEquals(ProcessHandle.current().pid(), me.pid());
        assertTrue(me.startTicks() > 0, me.toString());
        assertTrue(me.tag().matches("[0-9a-z]+_[0-9a-z]+") && me.tag().length() <= 13, me.tag());
        assertEquals(me, RunOwner.parse(me.tag()));
        assertTrue(me.alive());
    }

    @Test
    void anEndedProcessOrAReusedPidIsDead() throws Exception {
        Process p = new ProcessBuilder("true").start();
        long pid = p.pid();
        RunOwner child = RunOwner.of(pid);
        p.waitFor();
        Thread.sleep(50); // reaped by the JDK's process reaper
        assertFalse(new RunOwner(pid, child == null ? 1 : child.startTicks()).alive());
        // the pid of this process with another start time: a reused pid
        assertFalse(new RunOwner(RunOwner.self().pid(), RunOwner.self().startTicks() + 1).alive());
        assertFalse(RunOwner.parse("zzzz_1").alive());
    }

    @Test
    void malformedTagsAreNone() {
        assertNull(RunOwner.parse("abc"));
        assertNull(RunOwner.parse("a_b_c"));
        assertNull(RunOwner.parse("_1"));
        assertNull(RunOwner.parse("A_1"));
        assertNull(RunOwner.parse("a_!"));
    }
}
