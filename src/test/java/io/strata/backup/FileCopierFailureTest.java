package io.strata.backup;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.store.StorageException;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

/** What a failed page copy is: the repository's full device or quota (disk-full), else the data directory's read error. */
class FileCopierFailureTest {
    private static final Tablespace TS = new Tablespace("app/t.ibd", Path.of("/var/lib/mysql/app/t.ibd"), 5, 0, "app/t");
    private static final String OBJECT = "/backups/db1/backups/20261201T0000Z-abcd/data/00/000001";

    @Test
    void aFullDeviceIsDiskFull() {
        StrataException e = FileCopier.copyFailure(TS, new FileSystemException(OBJECT, null, "No space left on device"), OBJECT);
        assertInstanceOf(StorageException.class, e);
        assertEquals(ErrorCode.DISK_FULL, e.code());
        assertEquals("no space left on the repository's device while writing " + OBJECT, e.getMessage());
    }

    /** EDQUOT: before, this read as an unreadable data directory (exit 17). */
    @Test
    void aUsedUpQuotaIsDiskFull() {
        StrataException e = FileCopier.copyFailure(TS, new IOException("Disk quota exceeded"), OBJECT);
        assertInstanceOf(StorageException.class, e);
        assertEquals(ErrorCode.DISK_FULL, e.code());
        assertEquals("no space left on the repository's device while writing " + OBJECT + " (the disk quota is used up)", e.getMessage());
        assertEquals(StorageException.Kind.NO_SPACE, ((StorageException) e).kind());
    }

    @Test
    void anyOtherErrorIsTheDataDirectorys() {
        StrataException e = FileCopier.copyFailure(TS, new IOException("Input/output error"), OBJECT);
        assertEquals(ErrorCode.DATADIR_UNREADABLE, e.code());
        assertEquals("cannot read /var/lib/mysql/app/t.ibd: Input/output error", e.getMessage());
    }
}
