package io.strata.error;

/**
 * An error with a known cause that the user can act on. Anything else that escapes is a bug.
 * The message says what failed with the concrete values and the resource; the hint, if any,
 * says what to do.
 */
public class StrataException extends RuntimeException {
    private final ErrorCode code;
    private final String hint;

    public StrataException(ErrorCode code, String message) {
        this(code, message, null, null);
    }

    public StrataException(ErrorCode code, String message, String hint) {
        this(code, message, hint, null);
    }

    public StrataException(ErrorCode code, String message, String hint, Throwable cause) {
        super(message, cause);
        this.code = code;
        this.hint = hint;
    }

    public ErrorCode code() { return code; }

    public String hint() { return hint; }

    /** One line for the error, and a second for the hint when there is one. */
    public String render() {
        String s = "ERROR [" + code.id() + "]: " + getMessage();
        return hint == null ? s : s + System.lineSeparator() + "HINT: " + hint;
    }
}
