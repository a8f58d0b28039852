package io.strata.repo;

import io.strata.error.CorruptDataException;
import io.strata.error.ErrorCode;
import io.strata.error.StrataException;

/**
 * The version check every reader of a stored format makes before it trusts the rest. Each format
 * owner knows the range [min, max] it reads; this class turns a version outside it into the
 * right error:
 * <ul>
 *   <li>above max: {@link ErrorCode#FORMAT_TOO_NEW} (exit 29). The object is most likely sound;
 *       a newer strata wrote it, and upgrading strata reads it.</li>
 *   <li>below min, or not a number: {@link CorruptDataException} (exit 12). No strata ever wrote
 *       that, so the object is damaged.</li>
 * </ul>
 */
public final class FormatVersion {
    private FormatVersion() {}

    /** Hint of the too-new error. */
    public static final String UPGRADE_HINT = "upgrade strata to read this repository";
    private static final String DAMAGED_HINT = "no strata writes that version: the object is damaged";

    /**
     * Checks a version read from a stored object.
     *
     * @param what     the kind of object, for messages: "object", "manifest", "change set", ...
     * @param resource the object (store path or s3:// key)
     * @param found    the version the object carries
     * @param min      the oldest version this build reads
     * @param max      the newest version this build reads (the one it writes)
     * @return {@code found}, when it lies in [min, max]
     * @throws StrataException with {@link ErrorCode#FORMAT_TOO_NEW} above max:
     *         "&lt;what&gt; &lt;resource&gt; was written by a newer strata, version N; this one reads up to M"
     * @throws CorruptDataException below min:
     *         "&lt;what&gt; format version N is outside the supported range [min,max] (resource=R)"
     */
    public static int check(String what, String resource, int found, int min, int max) {
        return check(what, resource, found, min, max, DAMAGED_HINT);
    }

    /** As {@link #check(String, String, int, int, int)}, with the hint of the damaged case given by the format. */
    public static int check(String what, String resource, int found, int min, int max, String damagedHint) {
        if (found > max) {
            throw new StrataException(ErrorCode.FORMAT_TOO_NEW, what + " " + resource + " was written by a newer strata, version " + found
                    + "; this one reads up to " + max, UPGRADE_HINT);
        }
        if (found < min) {
            throw outside(what, resource, found, min, max, damagedHint);
        }
        return found;
    }

    /**
     * As {@link #check(String, String, int, int, int)}, for a version taken from a JSON document
     * read without a schema (a {@code Map}): anything but an integer, absence (null) included, is
     * damage, named with the value found.
     */
    public static int checkJson(String what, String resource, Object found, int min, int max) {
        if (found instanceof Integer v) {
            return check(what, resource, v, min, max);
        }
        throw outside(what, resource, found, min, max, DAMAGED_HINT);
    }

    private static CorruptDataException outside(String what, String resource, Object found, int min, int max, String hint) {
        return new CorruptDataException(what + " format version " + found + " is outside the supported range [" + min + "," + max
                + "] (resource=" + resource + ")", hint);
    }
}
