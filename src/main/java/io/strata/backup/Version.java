package io.strata.backup;

/** The tool's version, written into every manifest. */
public final class Version {
    private Version() {}

    public static final String VALUE = "0.1.0";
}
