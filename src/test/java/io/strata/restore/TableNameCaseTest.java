package io.strata.restore;

import io.strata.repo.FileEntry;
import io.strata.repo.Manifest;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** {@code restore --table} names resolved by the source's lower_case_table_names (manifest lowerCaseTableNames). */
class TableNameCaseTest {

    private static Manifest backup(Integer lowerCaseTableNames, String... frms) {
        List<FileEntry> files = new ArrayList<>();
        for (String f : frms) {
            files.add(new FileEntry(f, "file", null, null, 100, 0, FileEntry.WHOLE, 0, "data/000001", 120, "0a0b0c0d"));
        }
        files.add(new FileEntry("Shop/Orders.ibd", "innodb", 7L, 21, 65536, 4, FileEntry.WHOLE, 0, "data/000002", 123, "0a0b0c0e"));
        return Manifest.builder().id("20260101T000000Z-0001").files(files).lowerCaseTableNames(lowerCaseTableNames).build();
    }

    private static TableRestore.TableName name(String s) {
        return TableRestore.TableName.parse(s, "--table");
    }

    @Test
    void zeroAndAnOldManifestMatchAsWritten() {
        for (Manifest m : List.of(backup(0, "shop/orders.frm"), backup(null, "shop/orders.frm"))) {
            assertEquals(0, TableNameCase.of(m));
            assertEquals(name("Shop.Orders"), TableNameCase.stored(name("Shop.Orders"), m));
            assertEquals(name("shop.orders"), TableNameCase.stored(name("shop.orders"), m));
        }
    }

    @Test
    void oneLowerCasesBothParts() {
        Manifest m = backup(1, "shop/orders.frm");
        assertEquals(name("shop.orders"), TableNameCase.stored(name("Shop.ORDERS"), m));
        assertEquals(name("shop.t$1_x"), TableNameCase.stored(name("SHOP.T$1_X"), m));
        List<String> said = new ArrayList<>();
        assertEquals(List.of(name("shop.orders"), name("crm.users")),
                TableNameCase.stored(List.of(name("Shop.Orders"), name("crm.users")), m, said::add));
        assertEquals(List.of("table restore: Shop.Orders is shop.orders in backup 20260101T000000Z-0001 (its server ran with lower_case_table_names=1)"), said);
    }

    @Test
    void twoFindsTheStoredCaseOfTheDefinition() {
        Manifest m = backup(2, "Shop/Orders.frm", "Shop/items.frm");
        assertEquals(name("Shop.Orders"), TableNameCase.stored(name("shop.orders"), m));
        assertEquals(name("Shop.items"), TableNameCase.stored(name("SHOP.Items"), m));
        // the .ibd alone is no definition; a table no .frm matches (created by a replay) stays as written
        assertEquals(name("shop.Absent"), TableNameCase.stored(name("shop.Absent"), m));
        assertEquals(name("Shop.Orders"), TableNameCase.stored(name("Shop.Orders"), m));
    }
}
