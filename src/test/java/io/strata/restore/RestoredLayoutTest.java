package io.strata.restore;

import io.strata.error.CorruptDataException;
import io.strata.repo.FileEntry;
import io.strata.repo.InnodbLayout;
import io.strata.repo.Manifest;
import io.strata.repo.SourceInfo;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Where {@link RestoredLayout} puts InnoDB's own files, and the options it gives the server. */
class RestoredLayoutTest {
    private static final Path T = Path.of("/restore/t");

    private static Manifest manifest(InnodbLayout l, String dataFilePath, int undo) {
        return Manifest.builder().id("B").type(Manifest.TYPE_FULL)
                .source(new SourceInfo("h:0:/var/lib/mysql", "h", 1, "10.11.19-MariaDB", "/var/lib/mysql", 16384, 8 << 20, undo, dataFilePath, "full_crc32"))
                .innodbLayout(l).build();
    }

    @Test
    void subFoldersAreKeptAndOutsideDirectoriesBecomeTheTarget() {
        Manifest m = manifest(new InnodbLayout("./ibdata/", "/srv/redo", "undo", "/var/lib/mysql/ibdata", "/srv/redo", "/var/lib/mysql/undo"),
                "ibdata1:12M;ibdata2:12M:autoextend", 3);
        RestoredLayout l = RestoredLayout.of(m, T, null);
        assertEquals(T.resolve("ibdata"), l.dataHome());
        assertEquals(T, l.logHome());
        assertEquals(T.resolve("undo"), l.undoHome());
        assertEquals(List.of(), l.outside());
        assertEquals(List.of("--innodb-data-home-dir=/restore/t/ibdata", "--innodb-undo-directory=/restore/t/undo"), l.directoryArgs());
        assertEquals(List.of("--datadir=/restore/t", "--innodb-data-home-dir=/restore/t/ibdata", "--innodb-undo-directory=/restore/t/undo",
                "--innodb-data-file-path=ibdata1:12M;ibdata2:12M:autoextend", "--innodb-undo-tablespaces=3"), l.startArgs(m));
        FileEntry undo = new FileEntry("undo002", "innodb", 2L, 21, 16384, 1, FileEntry.WHOLE, 0, "data/000001", 1, "00000000").withHome(InnodbLayout.UNDO_HOME);
        assertEquals(T.resolve("undo"), l.dirOf(undo, m));
        assertEquals(T, l.dirOf(new FileEntry("db/t.ibd", "innodb", 5L, 21, 16384, 1, FileEntry.WHOLE, 0, "data/000002", 1, "00000000"), m));
        assertThrows(CorruptDataException.class, () -> l.dirOf(undo.withHome("innodb_temp_data_file_path"), m));
    }

    @Test
    void directoriesTheUserNamesWin() {
        Manifest m = manifest(new InnodbLayout("", "./", "./", "/var/lib/mysql", "/var/lib/mysql", "/var/lib/mysql"), "ibdata1:12M:autoextend", 0);
        RestoredLayout plain = RestoredLayout.of(m, T, RestoredLayout.Dirs.NONE);
        assertTrue(plain.isDefault());
        assertFalse(plain.needsOptions(m), "a default server needs only --datadir");
        RestoredLayout moved = RestoredLayout.of(m, T, new RestoredLayout.Dirs(Path.of("/fast/ibdata"), null, T.resolve("u")));
        assertEquals(List.of(Path.of("/fast/ibdata")), moved.outside());
        assertTrue(moved.needsOptions(m));
        assertEquals(List.of("--innodb-data-home-dir=/fast/ibdata", "--innodb-undo-directory=/restore/t/u"), moved.directoryArgs());
    }

    /** A manifest written before layouts were recorded restores every file into the target, as before. */
    @Test
    void aManifestWithoutALayoutIsTheDefault() {
        Manifest m = manifest(null, "ibdata1:12M:autoextend", 0);
        assertTrue(RestoredLayout.of(m, T, null).isDefault());
        assertEquals(List.of("--innodb-page-size=16384", "--innodb-log-file-size=8388608", "--innodb-data-file-path=ibdata1:12M:autoextend",
                "--innodb-undo-tablespaces=0", "--innodb-buffer-pool-size=256M", "--innodb-flush-method=fsync", "--skip-slave-start", "--skip-log-bin"),
                RestoreRun.recoveryArgs(m, RestoredLayout.of(m, T, null)));
    }
}
