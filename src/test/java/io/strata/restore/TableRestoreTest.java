package io.strata.restore;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class TableRestoreTest {

    @Test
    void tableNamesArePlainDbDotTable() {
        assertEquals(new TableRestore.TableName("shop", "orders$1"), TableRestore.TableName.parse("shop.orders$1", "--table"));
        for (String bad : List.of("orders", "shop.", ".orders", "a.b.c", "shop.or-ders", "shop.`x`", "shop.заказы", "café.orders", "shop.my orders")) {
            StrataException e = assertThrows(StrataException.class, () -> TableRestore.TableName.parse(bad, "--as"));
            assertEquals(ErrorCode.USAGE, e.code());
            assertEquals("--as " + bad + " is not DB.TABLE with plain names (letters, digits, _ and $; other characters are not supported yet)", e.getMessage());
            assertEquals("--table and --as take ASCII letters, digits, _ and $ only (no accented or other non-ASCII letters, spaces or punctuation);"
                    + " for a table named otherwise, restore the whole backup with --target, start mariadbd on it and copy the table with mariadb-dump", e.hint());
        }
    }

    /**
     * INNODB_SYS_TABLES.NAME compares ignoring case: with lower_case_table_names=0, db.Sx (a file of
     * its own) must not match db.sx in the system tablespace (checked by hand on 10.11.19: the plain
     * comparison found db/sx for 'db/Sx'; the BINARY one found nothing).
     */
    @Test
    void theSystemTablespaceLookupIsExactCaseWhenNamesAreCaseSensitive() {
        TableRestore.TableName t = new TableRestore.TableName("Db", "Sx_1");
        assertEquals("SELECT SPACE FROM information_schema.INNODB_SYS_TABLES WHERE SPACE = 0 AND (NAME = BINARY 'Db/Sx_1' OR NAME LIKE BINARY 'Db/Sx\\_1#P#%')",
                TableRestore.systemTablespaceQuery(t, 0));
        for (int lower : new int[] {1, 2}) {
            assertEquals("SELECT SPACE FROM information_schema.INNODB_SYS_TABLES WHERE SPACE = 0 AND (NAME = 'Db/Sx_1' OR NAME LIKE 'Db/Sx\\_1#P#%')",
                    TableRestore.systemTablespaceQuery(t, lower));
        }
    }

    @Test
    void theServersDataDirectoryMustBeHere(@TempDir Path dir) throws Exception {
        StrataException e = assertThrows(StrataException.class, () -> TableRestore.checkDatadir(dir.resolve("elsewhere"), "db1:3306"));
        assertEquals(ErrorCode.DATADIR_UNREADABLE, e.code());
        assertEquals("the data directory of the server at db1:3306, " + dir.resolve("elsewhere") + ", is not a data directory on this host; nothing was restored",
                e.getMessage());
        assertEquals("run strata on the server's host as a user that may write its data directory (the server's user, or root)", e.hint());
        Files.createDirectories(dir.resolve("mysql"));
        assertEquals(dir, TableRestore.checkDatadir(dir, "db1:3306"));
    }

    @Test
    void dataFilesAreTheTablesAndItsPartitionsOnly(@TempDir Path db) throws Exception {
        for (String f : List.of("t.frm", "t.ibd", "t.cfg", "t#P#p0.ibd", "t#P#p1#SP#s0.ibd", "t2.ibd", "t_x.MAI", "a.MAD", "t.MAI", "t.MAD", "t.par", "tt#P#p0.ibd")) {
            Files.createFile(db.resolve(f));
        }
        assertEquals(List.of("t#P#p0.ibd", "t#P#p1#SP#s0.ibd", "t.MAD", "t.MAI", "t.cfg", "t.ibd"),
                TableRestore.dataFiles(db, "t").stream().map(p -> p.getFileName().toString()).toList());
    }
}
