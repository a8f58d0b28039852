package io.strata.restore;

import io.strata.binlog.Gtid;
import io.strata.error.ErrorCode;
import io.strata.error.StrataException;

import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The point a point-in-time restore stops at. TIME, GTID and POSITION are inclusive:
 * <ul>
 * <li>TIME: every transaction whose GTID event is stamped at or before the time (whole seconds, the
 * server's clock) is restored, in binlog order, up to the first transaction stamped later;</li>
 * <li>GTID: the transaction with that GTID and every transaction before it in the binlog;</li>
 * <li>POSITION: everything before {@code FILE:POS}, a transaction boundary such as SHOW MASTER
 * STATUS reports (the state the server had when it reported that position).</li>
 * </ul>
 * BEFORE_TIME and BEFORE_GTID are exclusive ({@code --until-before}, {@code --until-before-gtid}):
 * <ul>
 * <li>BEFORE_TIME: every transaction stamped strictly before the time (as TIME one second earlier:
 * binlog timestamps are whole seconds), up to the first transaction stamped at or after it;</li>
 * <li>BEFORE_GTID: every transaction before the one with that GTID, which is left out: the replay
 * stops at the start of its GTID event (the usual target after an accidental DROP).</li>
 * </ul>
 */
public record PitrTarget(Kind kind, long time, Gtid gtid, String file, long position) {
    public enum Kind { TIME, GTID, POSITION, BEFORE_TIME, BEFORE_GTID }

    private static final DateTimeFormatter WALL = DateTimeFormatter.ofPattern("yyyy-MM-dd[ ]['T']HH:mm:ss");
    /** A wall-clock time and a zone after a space: {@code 2024-05-01 10:00:03 UTC}, as {@code strata list} prints, or {@code ... Europe/Berlin}. */
    private static final Pattern WITH_ZONE = Pattern.compile("(\\S+[ T]\\S+) +([A-Za-z][\\w/+-]*)");

    /**
     * TIME: {@code 2024-05-01 10:00:03} in UTC, the zone every time strata prints is in (whatever
     * this machine's zone: a time copied from {@code strata list} means the same point on every
     * host), the same followed by a zone ({@code UTC}, {@code Europe/Berlin}), ISO-8601 with Z or
     * an offset, or {@code @epochSeconds}.
     */
    public static PitrTarget time(String text) {
        return time(text, "--until", Kind.TIME);
    }

    /** BEFORE_TIME ({@code --until-before}): the forms of {@link #time(String)}; exclusive. */
    public static PitrTarget beforeTime(String text) {
        return time(text, "--until-before", Kind.BEFORE_TIME);
    }

    /** BEFORE_GTID ({@code --until-before-gtid D-S-N}): everything before that transaction. */
    public static PitrTarget beforeGtid(String text) {
        return new PitrTarget(Kind.BEFORE_GTID, 0, Gtid.parse(text), null, 0);
    }

    private static PitrTarget time(String text, String option, Kind kind) {
        String t = text.trim();
        try {
            if (t.startsWith("@")) {
                return new PitrTarget(kind, Long.parseLong(t.substring(1)), null, null, 0);
            }
            if (t.endsWith("Z") || t.matches(".*[+-]\\d\\d:\\d\\d$")) {
                OffsetDateTime o = OffsetDateTime.parse(t.replace(' ', 'T'));
                if (o.getNano() != 0) {
                    throw fraction(text, option);
                }
                return new PitrTarget(kind, o.toEpochSecond(), null, null, 0);
            }
            ZoneId zone = ZoneOffset.UTC;
            Matcher m = WITH_ZONE.matcher(t);
            if (m.matches()) {
                t = m.group(1);
                zone = ZoneId.of(m.group(2));
            }
            LocalDateTime l = LocalDateTime.parse(t, WALL);
            return new PitrTarget(kind, l.atZone(zone).toEpochSecond(), null, null, 0);
        } catch (DateTimeException | NumberFormatException e) {
            throw new StrataException(ErrorCode.USAGE, option + " " + text + " is not a time: use \"YYYY-MM-DD HH:MM:SS\" (UTC, as strata list prints), "
                    + "the same followed by a zone (e.g. Europe/Berlin), ISO-8601 with Z or an offset, or @SECONDS", null);
        }
    }

    private static StrataException fraction(String text, String option) {
        return new StrataException(ErrorCode.USAGE, option + " " + text + " has a fraction of a second; binlog timestamps are whole seconds", null);
    }

    public static PitrTarget gtid(String text) {
        return new PitrTarget(Kind.GTID, 0, Gtid.parse(text), null, 0);
    }

    /** {@code FILE:POS}, e.g. {@code binlog.000042:1234}. */
    public static PitrTarget position(String text) {
        int colon = text.lastIndexOf(':');
        try {
            if (colon > 0 && !text.substring(0, colon).contains("/")) {
                long pos = Long.parseLong(text.substring(colon + 1));
                if (pos >= 0) {
                    return new PitrTarget(Kind.POSITION, 0, null, text.substring(0, colon), pos);
                }
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new StrataException(ErrorCode.USAGE, "--until-position " + text + " is not FILE:POS (e.g. binlog.000042:1234, the file name without a directory)", null);
    }

    @Override
    public String toString() {
        return switch (kind) {
            case TIME -> "time " + Instant.ofEpochSecond(time);
            case GTID -> "GTID " + gtid;
            case POSITION -> "position " + file + ":" + position;
            case BEFORE_TIME -> "before time " + Instant.ofEpochSecond(time);
            case BEFORE_GTID -> "before GTID " + gtid;
        };
    }

    /** A time target (TIME or BEFORE_TIME). */
    public boolean isTime() {
        return kind == Kind.TIME || kind == Kind.BEFORE_TIME;
    }

    /** For a time target: the last second whose transactions are restored (epoch seconds). */
    public long lastSecond() {
        return kind == Kind.BEFORE_TIME ? time - 1 : time;
    }
}
