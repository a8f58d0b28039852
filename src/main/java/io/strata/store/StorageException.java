package io.strata.store;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;

/**
 * Every failure of an {@link ObjectStore}, local or S3: what the store was doing
 * ({@link #operation()}: "read", "write", "size", "list", "delete", "copy", "compact", "sync",
 * "create", "lock", "unlock", or the S3 request such as "PUT"), the object it was doing it to ({@link #resource()}: a file path or an s3:// URL), and
 * a {@link Kind}. The kind alone decides the exit code ({@link #codeOf(Kind)}), so both stores
 * map failures to exit codes in this one place and callers never translate by hand.
 *
 * <p>Unchecked: it passes through the repository, backup and restore layers to the command line,
 * which prints {@link #render()} and exits with {@link #code()}. A caller that can say more (a
 * restore naming the backup whose object is missing) catches the kind it knows.
 */
public class StorageException extends StrataException {
    /** What went wrong, independent of the store. */
    public enum Kind {
        /** The object does not exist (a reader needed it: the repository is incomplete). */
        NOT_FOUND,
        /** The device or quota is full. */
        NO_SPACE,
        /** Permission denied, a read-only file system, or a refused write request. */
        NOT_WRITABLE,
        /** The bucket of an S3 repository does not exist. */
        NO_BUCKET,
        /** The remote store failed for good (after its retries), or has no credentials. */
        REMOTE_FAILED,
        /** The thread was interrupted while it waited for the store. */
        INTERRUPTED,
        /** Any other local I/O error. */
        IO
    }

    private final Kind kind;
    private final String operation;
    private final String resource;

    public StorageException(Kind kind, String operation, String resource, String message, String hint, Throwable cause) {
        super(codeOf(kind), message, hint, cause);
        this.kind = kind;
        this.operation = operation;
        this.resource = resource;
    }

    /** The one mapping of storage failures to the error catalogue (and so to exit codes). */
    public static ErrorCode codeOf(Kind kind) {
        return switch (kind) {
            case NOT_FOUND -> ErrorCode.CORRUPT_DATA;
            case NO_SPACE -> ErrorCode.DISK_FULL;
            case NOT_WRITABLE -> ErrorCode.REPO_NOT_WRITABLE;
            case NO_BUCKET -> ErrorCode.REPO_MISSING;
            case REMOTE_FAILED -> ErrorCode.STORE_FAILED;
            case INTERRUPTED -> ErrorCode.INTERRUPTED;
            case IO -> ErrorCode.IO_ERROR;
        };
    }

    public Kind kind() { return kind; }

    /** What the store was doing (see the class comment), for messages and for callers that tell operations apart. */
    public String operation() { return operation; }

    /** The object or directory concerned, as messages name it (a path or an s3:// URL). */
    public String resource() { return resource; }

    /**
     * A missing object: readers of a completed backup meet it only when the repository lost an
     * object (copied partially, removed by hand).
     */
    public static StorageException notFound(String operation, String resource) {
        return new ObjectStore.NoSuchObjectException(operation, resource);
    }

    /** Whether a local write failed because its device is full (ENOSPC) or the user's quota is used up (EDQUOT). */
    public static boolean noSpace(IOException e) {
        String msg = String.valueOf(e.getMessage());
        return msg.contains("No space left on device") || msg.contains("Disk quota exceeded");
    }

    /**
     * A local file-system failure of {@code operation} on {@code resource}: a full device, a
     * permission or read-only refusal, or any other I/O error, each with its message and hint.
     */
    public static StorageException local(String operation, String resource, IOException e) {
        String msg = String.valueOf(e.getMessage());
        if (noSpace(e)) {
            return new StorageException(Kind.NO_SPACE, operation, resource, "no space left on the repository's device while writing " + resource
                    + (msg.contains("Disk quota exceeded") ? " (the disk quota is used up)" : ""),
                    "free space or use another repository; the attempt is recorded as failed and nothing stored before is lost", e);
        }
        if (e instanceof AccessDeniedException || msg.contains("Permission denied") || msg.contains("Read-only file system")) {
            return new StorageException(Kind.NOT_WRITABLE, operation, resource, "cannot write to the repository: " + resource + " (" + reason(e) + ")",
                    "check the repository directory's permissions and that its file system is mounted read-write", e);
        }
        return new StorageException(Kind.IO, operation, resource, "I/O error on " + resource + " (" + operation + "): " + reason(e), null, e);
    }

    static String reason(IOException e) {
        if (e instanceof FileSystemException fse && fse.getReason() != null) {
            return fse.getReason();
        }
        return e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
    }
}
