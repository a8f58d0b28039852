package io.strata.server;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A MariaDB release as major.minor.patch, read from the two places strata meets it: the
 * {@code @@version} a backup records (e.g. {@code 11.8.9-MariaDB-0+deb13u1-log}) and the first
 * line {@code mariadbd --version} prints (e.g. {@code /usr/sbin/mariadbd  Ver 10.11.19-MariaDB-0+deb12u1
 * for debian-linux-gnu on x86_64 (Debian 12)}).
 *
 * <p>Only major.minor decides whether one server may open another's data directory: on-disk
 * formats change between minor releases (the change buffer went in 11.0), never within one.
 */
public record ServerVersion(int major, int minor, int patch) {

    /** {@code @@version}: the release comes first. */
    private static final Pattern LEADING = Pattern.compile("^(\\d+)\\.(\\d+)(?:\\.(\\d+))?");

    /** {@code mariadbd --version}: the release follows "Ver", and "-MariaDB" follows it. */
    private static final Pattern VER = Pattern.compile("\\bVer\\s+(\\d+)\\.(\\d+)(?:\\.(\\d+))?-MariaDB");

    /** The release at the start of a {@code @@version} string; empty for anything else. */
    public static Optional<ServerVersion> ofVersionVariable(String version) {
        return version == null ? Optional.empty() : match(LEADING.matcher(version.strip()));
    }

    /** The MariaDB release that {@code mariadbd --version} printed; empty when it names none (not MariaDB, no version). */
    public static Optional<ServerVersion> ofVersionOutput(String output) {
        return output == null ? Optional.empty() : match(VER.matcher(output));
    }

    private static Optional<ServerVersion> match(Matcher m) {
        if (!m.find()) {
            return Optional.empty();
        }
        return Optional.of(new ServerVersion(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)),
                m.group(3) == null ? 0 : Integer.parseInt(m.group(3))));
    }

    /** Whether this release's major.minor is before {@code other}'s (the patch level does not count). */
    public boolean olderSeriesThan(ServerVersion other) {
        return major != other.major ? major < other.major : minor < other.minor;
    }

    /** major.minor, e.g. "11.8". */
    public String series() {
        return major + "." + minor;
    }

    @Override
    public String toString() {
        return major + "." + minor + "." + patch;
    }
}
