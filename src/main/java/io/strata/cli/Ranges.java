package io.strata.cli;

import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Converters that hold numeric options to their valid range at parse time, so that a wrong value
 * is a usage error (exit 2) naming the option and the range, never an exception from deep inside.
 * picocli prefixes the message with "Invalid value for option '--x': ".
 */
final class Ranges {
    private Ranges() {}

    /** A TCP port, 1 to 65535 (0 would mean "any port", which cannot name a server). */
    static final int PORT_MIN = 1;
    static final int PORT_MAX = 65535;
    /** Threads of --parallel: more than 256 only multiplies buffers (1 MiB chunks each) without speeding a copy that disks bound. */
    static final int THREADS_MIN = 1;
    static final int THREADS_MAX = 256;

    public static final class Port implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            return intIn(value, PORT_MIN, PORT_MAX, "a TCP port");
        }
    }

    public static final class Threads implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            return intIn(value, THREADS_MIN, THREADS_MAX, "a number of threads");
        }
    }

    /** A rate or an interval: a number above zero (zero would stop the work or spin). */
    public static final class Positive implements ITypeConverter<Double> {
        @Override
        public Double convert(String value) {
            double d;
            try {
                d = Double.parseDouble(value.trim());
            } catch (NumberFormatException e) {
                throw new TypeConversionException("'" + value + "' is not a number (it must be above 0)");
            }
            if (!(d > 0) || Double.isInfinite(d)) {
                throw new TypeConversionException(value + " is out of range: it must be above 0");
            }
            return d;
        }
    }

    /** A span of time above zero: a number of seconds, or a number with s, m, h or d ("600", "90m", "26h", "8d"). */
    public static final class Span implements ITypeConverter<java.time.Duration> {
        @Override
        public java.time.Duration convert(String value) {
            return span(value);
        }
    }

    static java.time.Duration span(String value) {
        String v = value.trim().toLowerCase(java.util.Locale.ROOT);
        long unit = 1;
        if (!v.isEmpty() && "smhd".indexOf(v.charAt(v.length() - 1)) >= 0) {
            unit = switch (v.charAt(v.length() - 1)) {
                case 'm' -> 60;
                case 'h' -> 3600;
                case 'd' -> 86400;
                default -> 1;
            };
            v = v.substring(0, v.length() - 1);
        }
        long n;
        try {
            n = Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new TypeConversionException("'" + value + "' is not a span of time (a number of seconds, or with s, m, h or d: 600, 90m, 26h, 8d)");
        }
        if (n <= 0 || n > Long.MAX_VALUE / 86400) {
            throw new TypeConversionException(value + " is out of range: it must be above 0");
        }
        return java.time.Duration.ofSeconds(n * unit);
    }

    static int intIn(String value, int min, int max, String what) {
        long n;
        try {
            n = Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            throw new TypeConversionException("'" + value + "' is not " + what + " (" + min + " to " + max + ")");
        }
        if (n < min || n > max) {
            throw new TypeConversionException(value + " is out of range: " + what + " is " + min + " to " + max);
        }
        return (int) n;
    }
}
