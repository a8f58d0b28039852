package io.strata.backup;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;

import java.util.Locale;

/** Options whose value is one of an enum's constants, named in lower case with '-' for '_' (FULL_SCAN is "full-scan"). */
final class OptionValues {
    private OptionValues() {}

    /** The constant's name as the user writes it and as manifests store it. */
    static String userName(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /**
     * The constant whose {@link #userName} is {@code given}.
     *
     * @throws StrataException usage: "OPTION must be a, b or c, not GIVEN"
     */
    static <E extends Enum<E>> E parse(String option, E[] values, String given) {
        StringBuilder names = new StringBuilder();
        for (int i = 0; i < values.length; i++) {
            if (userName(values[i]).equals(given)) {
                return values[i];
            }
            names.append(i == 0 ? "" : i == values.length - 1 ? " or " : ", ").append(userName(values[i]));
        }
        throw new StrataException(ErrorCode.USAGE, option + " must be " + names + ", not " + given, null);
    }
}
