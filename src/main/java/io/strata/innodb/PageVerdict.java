package io.strata.innodb;

import java.util.Objects;

/**
 * Result of {@link PageChecker#verify}: a kind and, unless the page is fine, the reason with the
 * concrete values (checksums and LSN fragments in hex, stored vs computed).
 */
public record PageVerdict(Kind kind, String reason) {
    public enum Kind {
        /** Checksums, LSN fragments and page number agree. */
        VALID,
        /** Never written: an all-zero page, which the server accepts. */
        ZERO,
        /** Fails a check; during a hot copy usually a torn read, so re-read before believing it. */
        CORRUPT,
        /** A format this tool cannot check (legacy page_compressed). */
        UNVERIFIABLE
    }

    private static final PageVerdict VALID = new PageVerdict(Kind.VALID, null);
    private static final PageVerdict ZERO = new PageVerdict(Kind.ZERO, null);

    public PageVerdict {
        Objects.requireNonNull(kind, "kind");
        if ((kind == Kind.CORRUPT || kind == Kind.UNVERIFIABLE) && reason == null) {
            throw new IllegalArgumentException(kind + " needs a reason");
        }
    }

    public static PageVerdict valid() { return VALID; }

    public static PageVerdict zero() { return ZERO; }

    public static PageVerdict corrupt(String reason) { return new PageVerdict(Kind.CORRUPT, reason); }

    public static PageVerdict unverifiable(String reason) { return new PageVerdict(Kind.UNVERIFIABLE, reason); }

    /** VALID or ZERO: the page may be copied as it is. */
    public boolean ok() { return kind == Kind.VALID || kind == Kind.ZERO; }

    @Override
    public String toString() { return reason == null ? kind.name() : kind + ": " + reason; }
}
