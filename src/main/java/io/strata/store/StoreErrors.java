package io.strata.store;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;

/** Turns I/O failures of a store into errors a user can act on. */
public final class StoreErrors {
    private StoreErrors() {}

    public static StrataException translate(IOException e, String resource) {
        String msg = String.valueOf(e.getMessage());
        if (msg.contains("No space left on device") || msg.contains("Disk quota exceeded")) {
            return new StrataException(ErrorCode.DISK_FULL,
                    "no space left on the repository's device while writing " + resource,
                    "free space or use another repository; the attempt is recorded as failed and nothing stored before is lost", e);
        }
        if (e instanceof AccessDeniedException || msg.contains("Permission denied") || msg.contains("Read-only file system")) {
            return new StrataException(ErrorCode.REPO_NOT_WRITABLE,
                    "cannot write to the repository: " + resource + " (" + reason(e) + ")",
                    "check the repository directory's permissions and that its file system is mounted read-write", e);
        }
        return new StrataException(ErrorCode.IO_ERROR, "I/O error on " + resource + ": " + reason(e), null, e);
    }

    static String reason(IOException e) {
        if (e instanceof FileSystemException fse && fse.getReason() != null) {
            return fse.getReason();
        }
        return e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
    }
}
