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

    /**
     * The out-of-memory error for {@code e}, or null when neither it nor a cause of it (a worker
     * thread's error arrives wrapped) is an {@link OutOfMemoryError}. The message names the heap's
     * maximum in MiB ({@link Runtime#maxMemory()}).
     */
    public static StrataException outOfMemory(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof OutOfMemoryError) {
                long mib = Runtime.getRuntime().maxMemory() >> 20;
                return new StrataException(ErrorCode.OUT_OF_MEMORY, "strata ran out of its Java heap of " + mib + " MiB (" + t.getMessage() + ")",
                        "run again with a lower --parallel, or give it more heap with STRATA_JAVA_OPTS=\"-Xmx" + Math.max(256, 2 * mib) + "m\"", t);
            }
        }
        return null;
    }

    /**
     * {@code e} itself, or the out-of-memory error when {@code e} is a bug report whose cause is an
     * {@link OutOfMemoryError} (worker threads' failures arrive as bug reports wrapping their cause).
     */
    public static StrataException orOutOfMemory(StrataException e) {
        StrataException oom = e.code() == ErrorCode.BUG ? outOfMemory(e) : null;
        return oom != null ? oom : e;
    }

    public ErrorCode code() { return code; }

    public String hint() { return hint; }

    /** One line for the error, and a second for the hint when there is one. */
    public String render() {
        String s = "ERROR [" + code.id() + "]: " + getMessage();
        return hint == null ? s : s + System.lineSeparator() + "HINT: " + hint;
    }
}
