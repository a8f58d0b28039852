package io.strata.codec;

import java.util.Locale;

/**
 * A compressor and its level, as given to {@code --compress}: {@code zstd[:LEVEL]} (levels 1 to
 * 19, default {@link #ZSTD_DEFAULT_LEVEL}), {@code lz4} or {@code none}.
 *
 * @param algorithm what compresses
 * @param level     zstd's level; 0 for the others
 */
public record Compression(Algorithm algorithm, int level) {
    /**
     * Level 1: on InnoDB pages of sysbench tables in 1 MiB chunks it is both the fastest level
     * and stores less than levels 2 to 12 (10.26 MB against 11.13 MB at level 3 for a 30.4 MB
     * tablespace); only level 19 stores less (9.96 MB), at a small fraction of the speed.
     */
    public static final int ZSTD_DEFAULT_LEVEL = 1;
    public static final int ZSTD_MAX_LEVEL = 19;
    public static final Compression NONE = new Compression(Algorithm.NONE, 0);

    /** The compressor ids stored in the low nibble of a chunk's codec byte. */
    public enum Algorithm {
        NONE(0, "none"), ZSTD(1, "zstd"), LZ4(2, "lz4");

        private final int id;
        private final String label;

        Algorithm(int id, String label) {
            this.id = id;
            this.label = label;
        }

        public int id() { return id; }

        public String label() { return label; }

        public static Algorithm byId(int id) {
            for (Algorithm a : values()) {
                if (a.id == id) {
                    return a;
                }
            }
            throw new CodecException("unknown compressor id " + id);
        }
    }

    public static Compression zstd(int level) {
        if (level < 1 || level > ZSTD_MAX_LEVEL) {
            throw new IllegalArgumentException("zstd level must be 1 to " + ZSTD_MAX_LEVEL + ", not " + level);
        }
        return new Compression(Algorithm.ZSTD, level);
    }

    public static final Compression LZ4 = new Compression(Algorithm.LZ4, 0);

    /** Parses {@code zstd}, {@code zstd:N}, {@code lz4} or {@code none}; IllegalArgumentException otherwise. */
    public static Compression parse(String s) {
        String v = s.trim().toLowerCase(Locale.ROOT);
        if (v.equals("none")) {
            return NONE;
        }
        if (v.equals("lz4")) {
            return LZ4;
        }
        if (v.equals("zstd")) {
            return zstd(ZSTD_DEFAULT_LEVEL);
        }
        if (v.startsWith("zstd:")) {
            int level;
            try {
                level = Integer.parseInt(v.substring(5));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("zstd level must be a number from 1 to " + ZSTD_MAX_LEVEL + ", not \"" + s.substring(5) + "\"");
            }
            return zstd(level);
        }
        throw new IllegalArgumentException("unknown compression \"" + s + "\": use zstd[:LEVEL] (1-" + ZSTD_MAX_LEVEL + "), lz4 or none");
    }

    public boolean isNone() { return algorithm == Algorithm.NONE; }

    @Override
    public String toString() {
        return algorithm == Algorithm.ZSTD ? "zstd:" + level : algorithm.label();
    }
}
