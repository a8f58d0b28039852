package io.strata.backup;

/**
 * What {@code --type} asks for. A manifest stores the type a backup turned out to be (full,
 * incremental or differential, see {@link BaseSelector}) as its {@link #userName()}; {@link #AUTO}
 * is only ever asked for.
 */
public enum BackupType {
    FULL,
    INCREMENTAL,
    DIFFERENTIAL,
    /** A full backup when this server has none yet, else an incremental. */
    AUTO;

    /** The name on the command line, in the manifest and in the history: "full", "incremental", "differential", "auto". */
    public String userName() {
        return OptionValues.userName(this);
    }

    /** The {@link #userName()}, for messages. */
    @Override
    public String toString() {
        return userName();
    }

    /**
     * The type named {@code s}.
     *
     * @throws io.strata.error.StrataException usage, "--type must be full, incremental, differential or auto, not X"
     */
    public static BackupType parse(String s) {
        return OptionValues.parse("--type", values(), s);
    }
}
