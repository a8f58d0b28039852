package io.strata.backup;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** What a backup says of the time the server's commits were blocked ({@link BackupRun#commitsBlockedLine}). */
class BlockCommitLineTest {

    @Test
    void aShortBlockIsOnlyMeasured() {
        assertEquals("[block-commit] BACKUP STAGE END: commits were blocked for 0.004 s", BackupRun.commitsBlockedLine(0.0042, null));
        assertEquals("[block-commit] BACKUP STAGE END: commits were blocked for 0.249 s", BackupRun.commitsBlockedLine(0.249, "2"));
    }

    @Test
    void aLongBlockOnAServerThatSyncsItsLogOnceASecondIsExplained() {
        assertEquals("[block-commit] BACKUP STAGE END: commits were blocked for 0.921 s, most of it waiting for the server to make its redo "
                + "log durable: with innodb_flush_log_at_trx_commit=2 it does so once a second, and strata copies only durable redo",
                BackupRun.commitsBlockedLine(0.9214, "2"));
        assertEquals("[block-commit] BACKUP STAGE END: commits were blocked for 0.500 s, most of it waiting for the server to make its redo "
                + "log durable: with innodb_flush_log_at_trx_commit=0 it does so once a second, and strata copies only durable redo",
                BackupRun.commitsBlockedLine(0.5, "0"));
        // with 1 every commit syncs the log: something else held it, and the line does not guess what
        assertEquals("[block-commit] BACKUP STAGE END: commits were blocked for 0.800 s", BackupRun.commitsBlockedLine(0.8, "1"));
        assertEquals("[block-commit] BACKUP STAGE END: commits were blocked for 0.800 s", BackupRun.commitsBlockedLine(0.8, null));
    }
}
