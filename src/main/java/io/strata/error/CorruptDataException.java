package io.strata.error;

/** Stored or source data that fails a check: names the resource, and expected vs actual. */
public class CorruptDataException extends StrataException {
    public CorruptDataException(String message, String hint) {
        super(ErrorCode.CORRUPT_DATA, message, hint);
    }

    public CorruptDataException(String message, String hint, Throwable cause) {
        super(ErrorCode.CORRUPT_DATA, message, hint, cause);
    }
}
