package io.strata.util;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
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
        Process p = new ProcessBuilder("sleep", "60").start();
        RunOwner child = RunOwner.of(p.pid());
        assertNotNull(child);
        assertTrue(child.alive());
        p.destroyForcibly().waitFor();
        Thread.sleep(100); // reaped by the JDK's process reaper
        assertFalse(child.alive());
        assertFalse(new RunOwner(5_000_000, 1).alive(), "above the kernel's pid limit");
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
