package io.strata.repo;

/**
 * The object keys of a repository's backups, history and locks (docs/repository-format.md,
 * "Layout"). No class outside {@code repo} builds a key: backups, restores and commands name
 * backups by id and stored files by their manifest's {@code object} field, and the repository
 * turns them into keys here. The binlog archive and the change sets keep their own key layouts in
 * their format owners ({@link BinlogArchive}, {@link Tracking}).
 */
final class Keys {
    private Keys() {}

    /** The repository marker, {@code strata.repo}. */
    static final String MARKER = "strata.repo";
    /** Every attempt's records, {@code history/<id>/<record>}. */
    static final String HISTORY = "history/";
    /** Every backup's objects, {@code backups/<id>/…}. */
    static final String BACKUPS = "backups/";
    /** Lease locks of an object-storage repository, {@code locks/<token>}. */
    static final String LOCKS = "locks/";
    /**
     * Named leases of an object-storage repository (the binlog archiver's and the tracker's), {@code leases/<lock name>/<token>}:
     * apart from {@code locks/}, so that a named lease never counts as the writer's.
     */
    static final String LEASES = "leases/";
    /** Claims of processes creating a repository in object storage (lease objects, plain; see RepoConfig). */
    static final String CREATING = "creating/";
    /** The history record a prune writes before it removes a backup. */
    static final String PRUNED = "pruned";
    static final String MERGED = "merged";
    static final String BEGIN = "begin";
    static final String END = "end";
    static final String PROGRESS = "progress";

    /** The grammar of a backup id: {@code yyyyMMddTHHmmssZ-xxxx} (UTC start time, 16 random bits in hex). */
    private static final java.util.regex.Pattern BACKUP_ID = java.util.regex.Pattern.compile("\\d{8}T\\d{6}Z-[0-9a-f]{4}");

    /** Whether {@code id} is a backup id strata writes; nothing else is ever part of a key. */
    static boolean isBackupId(String id) {
        return id != null && BACKUP_ID.matcher(id).matches();
    }

    /** {@code backups/<id>/}: everything a backup stored. */
    static String backupPrefix(String id) { return BACKUPS + id + "/"; }

    /** {@code backups/<id>/<object>}: one stored file or the redo log of a backup. */
    static String backupObject(String id, String object) { return backupPrefix(id) + object; }

    /**
     * {@code data/NN/NNNNNN}: the manifest's name of a backup's {@code seq}-th data object (at least
     * six digits, from 1), in the sub-folder named by its last two digits (format change 46): the
     * objects a backup's threads create one after another land in different directories of a local
     * repository, which do not wait for each other's directory lock. Readers take any name the
     * manifest gives; backups before change 46 named {@code data/NNNNNN}.
     */
    static String dataObject(int seq) {
        // what String.format("data/%02d/%06d", seq % 100, seq) gives for seq >= 0, without its parsing
        // of the pattern: a manifest entry builds its name again each time it is read (FileEntry)
        String digits = Integer.toString(seq);
        StringBuilder b = new StringBuilder(14 + Math.max(0, digits.length() - 6)).append("data/");
        int last = seq % 100;
        b.append((char) ('0' + last / 10)).append((char) ('0' + last % 10)).append('/');
        for (int i = digits.length(); i < 6; i++) {
            b.append('0');
        }
        return b.append(digits).toString();
    }

    /**
     * {@code pack/NNNNNN}: the object name of a backup's {@code seq}-th pack (at least six digits,
     * from 1): objects of small files written one after another into one stored object (format
     * change 52; docs/repository-format.md, "Packs").
     */
    static String packObject(int seq) {
        String digits = Integer.toString(seq);
        StringBuilder b = new StringBuilder(11 + Math.max(0, digits.length() - 6)).append(PACK_DIR);
        for (int i = digits.length(); i < 6; i++) {
            b.append('0');
        }
        return b.append(digits).toString();
    }

    /** The folder of a backup's packs, {@code pack/}. */
    static final String PACK_DIR = "pack/";

    /**
     * One object stored inside a pack: the pack's object name ({@code pack/NNNNNN}), and the
     * member's first byte and length in bytes within it.
     */
    record Member(String pack, long offset, long length) {
        /** The manifest's name of the member: {@code pack/NNNNNN@OFFSET+LENGTH}, decimal. */
        String name() {
            return pack + "@" + offset + "+" + length;
        }
    }

    /**
     * The member an object name names ({@code pack/NNNNNN@OFFSET+LENGTH}, every number decimal
     * without sign), or null for the name of an object of its own ({@code data/NN/NNNNNN},
     * {@code redo}, ...). A name that starts with {@code pack/} but is not of this shape (an offset
     * or length with a leading zero included) is null too: it names no stored object, and reading
     * it fails as a missing object.
     */
    static Member member(String object) {
        if (object == null || !object.startsWith(PACK_DIR)) {
            return null;
        }
        int at = object.indexOf('@');
        int plus = object.indexOf('+', at + 1);
        if (at < PACK_DIR.length() + 1 || plus < 0 || !digits(object, PACK_DIR.length(), at) || !digits(object, at + 1, plus)
                || !digits(object, plus + 1, object.length()) || padded(object, at + 1, plus) || padded(object, plus + 1, object.length())) {
            return null;
        }
        try {
            return new Member(object.substring(0, at), Long.parseLong(object, at + 1, plus, 10), Long.parseLong(object, plus + 1, object.length(), 10));
        } catch (NumberFormatException e) {
            return null; // beyond a long: names nothing
        }
    }

    /**
     * The name an object of a backup has in the target of a copy between repositories
     * ({@link RepoCopy}) when it is stored as an object of its own there (a larger file's, or one
     * no pack of the target took): a pack member {@code pack/NNNNNN@OFFSET+LENGTH} becomes
     * {@code unpacked/NNNNNN-OFFSET} (the copy decodes and encodes every object again, so it
     * cannot keep the source's offsets); any other name stays. A small file's object normally
     * goes into one of the target's packs instead, and is named by its place there.
     */
    static String copyName(String object) {
        Member m = member(object);
        return m == null ? object : "unpacked/" + m.pack().substring(PACK_DIR.length()) + "-" + m.offset();
    }

    /** Whether the number in [from, to) of {@code s} has a leading zero (a member's offset and length are written without). */
    private static boolean padded(String s, int from, int to) {
        return to - from > 1 && s.charAt(from) == '0';
    }

    private static boolean digits(String s, int from, int to) {
        if (from >= to || to - from > 18) {
            return false;
        }
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return false;
            }
        }
        return true;
    }

    /** {@code backups/<id>/manifest}, written last. */
    static String manifest(String id) { return backupPrefix(id) + "manifest"; }

    /** {@code history/<id>/<record>}: begin, end, progress, merged or pruned. */
    static String history(String id, String record) { return HISTORY + id + "/" + record; }
}
