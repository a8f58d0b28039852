package io.strata.backup;

/**
 * How an incremental or differential finds its changed pages ({@code --method}; design.md
 * "Finding the changed pages"). A manifest stores the method used as its {@link #userName()};
 * {@link #AUTO} is only ever asked for. {@link ChangeDetection} says when each can be used.
 */
public enum ChangeMethod {
    /** The cheapest method that can be used, never {@link #OPTIMISTIC}. */
    AUTO,
    FULL_SCAN,
    REDO,
    TRACKED,
    OPTIMISTIC;

    /** The name on the command line and in the manifest's {@code method}: "auto", "full-scan", "redo", "tracked", "optimistic". */
    public String userName() {
        return OptionValues.userName(this);
    }

    /** The {@link #userName()}, for messages. */
    @Override
    public String toString() {
        return userName();
    }

    /**
     * The method named {@code s}.
     *
     * @throws io.strata.error.StrataException usage, "--method must be auto, full-scan, redo, tracked or optimistic, not X"
     */
    public static ChangeMethod parse(String s) {
        return OptionValues.parse("--method", values(), s);
    }

    /** The method a manifest names ({@code method}), or null for none or a name this strata does not know. */
    static ChangeMethod ofStored(String s) {
        for (ChangeMethod m : values()) {
            if (m.userName().equals(s)) {
                return m;
            }
        }
        return null;
    }
}
