package io.strata.backup;

import io.strata.repo.FileEntry;
import io.strata.repo.FileStat;
import io.strata.repo.Manifest;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * What the parent backup's manifest says of its InnoDB files, for the facts of page 0 that an
 * incremental or differential need not read again from a file unchanged since
 * (docs/repository-format.md, "Changes" NN): space id and flags (the scans), and whether its page
 * 0 carried crypt data (the key-management probe). A file is unchanged when the parent's entry of
 * the same {@code home} and {@code path} has a {@code stat} and the file's size and attributes now
 * match it by the rule of {@link PlainFileReuse#unchanged} (same size, inode, device and change
 * time, that time older than the parent's look by the margin): any write to the file, and any
 * rebuild, truncate or re-creation of its table, breaks the match. DATA DIRECTORY tablespaces
 * ({@code location} set) are never matched. Read-only once built, thread-safe.
 */
final class ParentInnodbFiles {
    /** No parent (a full backup): every page 0 is read. */
    static final ParentInnodbFiles NONE = new ParentInnodbFiles(Map.of(), Map.of(), Set.of());

    /**
     * The entries of files of the data directory ({@code home} null) by {@code path}: the key is
     * the entry's own path, no second string per file (at 50,000 tables, 3 MB less).
     */
    private final Map<String, FileEntry> byPath;
    /** The entries of files of another home ({@link io.strata.repo.InnodbLayout}), by {@link #key}. */
    private final Map<String, FileEntry> byKey;
    /** The paths the parent recorded as encrypted ({@code keyManagement.encrypted}). */
    private final Set<String> encrypted;

    private ParentInnodbFiles(Map<String, FileEntry> byPath, Map<String, FileEntry> byKey, Set<String> encrypted) {
        this.byPath = byPath;
        this.byKey = byKey;
        this.encrypted = encrypted;
    }

    /** The facts of {@code parent}'s InnoDB entries that have a {@code stat}; {@link #NONE} for a null parent. */
    static ParentInnodbFiles of(Manifest parent) {
        if (parent == null) {
            return NONE;
        }
        Map<String, FileEntry> byPath = new HashMap<>();
        Map<String, FileEntry> m = new HashMap<>();
        for (FileEntry f : parent.files()) {
            if ("innodb".equals(f.kind()) && f.stat() != null && f.location() == null && f.spaceId() != null && f.spaceId() > 0 && f.flags() != null) {
                if (f.home() == null) {
                    byPath.put(f.path(), f);
                } else {
                    m.put(key(f.home(), f.path()), f);
                }
            }
        }
        Set<String> enc = parent.keyManagement() == null || parent.keyManagement().encrypted() == null ? Set.of()
                : new HashSet<>(parent.keyManagement().encrypted());
        return new ParentInnodbFiles(byPath, m, enc);
    }

    boolean isEmpty() {
        return byPath.isEmpty() && byKey.isEmpty();
    }

    private static String key(String home, String path) {
        return (home == null ? "" : home) + "\0" + path;
    }

    /**
     * The parent's entry of the file at {@code path} ({@code home} as in the manifest) when the
     * file, now {@code size} bytes with attributes {@code now}, is unchanged since; else null.
     */
    FileEntry unchanged(String home, String path, long size, FileStat now) {
        FileEntry was = home == null ? byPath.get(path) : byKey.get(key(home, path));
        return was != null && now != null && PlainFileReuse.unchanged(was, size, now) ? was : null;
    }

    /**
     * Whether the file {@code file} of this backup's entry {@code f} is, as its attributes read now
     * say, unchanged since the parent, which found no crypt data on its page 0 (nor otherwise
     * counted it encrypted): page 0 need not be read again for that.
     */
    boolean knownUnencrypted(FileEntry f, java.nio.file.Path file) {
        if (isEmpty() || f.location() != null || encrypted.contains(f.path())) {
            return false;
        }
        PlainFileReuse.Seen seen;
        try {
            seen = PlainFileReuse.look(file);
        } catch (java.io.IOException e) {
            return false; // read page 0, which says what is wrong
        }
        FileEntry was = seen == null ? null : unchanged(f.home(), f.path(), seen.size(), seen.stat());
        return was != null && was.spaceId().equals(f.spaceId()) && was.flags().equals(f.flags());
    }
}
