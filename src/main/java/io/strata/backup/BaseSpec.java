package io.strata.backup;

/**
 * What {@code --base} names: the newest backup of this server ({@code last}), its newest full
 * backup ({@code last-full}), or a backup by id.
 *
 * @param kind which of the three
 * @param id   the backup id for {@link Kind#ID}, else null
 */
public record BaseSpec(Kind kind, String id) {
    public enum Kind { LAST, LAST_FULL, ID }

    /** {@code --base} as given: "last", "last-full" or any other text as a backup id; null for null (no --base). */
    public static BaseSpec parse(String s) {
        if (s == null) {
            return null;
        }
        return switch (s) {
            case "last" -> new BaseSpec(Kind.LAST, null);
            case "last-full" -> new BaseSpec(Kind.LAST_FULL, null);
            default -> new BaseSpec(Kind.ID, s);
        };
    }

    /** As the user wrote it, for messages. */
    @Override
    public String toString() {
        return switch (kind) {
            case LAST -> "last";
            case LAST_FULL -> "last-full";
            case ID -> id;
        };
    }
}
