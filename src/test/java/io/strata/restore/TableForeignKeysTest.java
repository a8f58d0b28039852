package io.strata.restore;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TableForeignKeysTest {
    /** SHOW CREATE TABLE of MariaDB 10.11.19 for a table with a named and an unnamed foreign key and a CHECK constraint. */
    private static final String CREATE = String.join("\n",
            "CREATE TABLE `plain` (",
            "  `id` int(11) NOT NULL,",
            "  `p` int(11) DEFAULT NULL,",
            "  `q` int(11) DEFAULT NULL,",
            "  PRIMARY KEY (`id`),",
            "  KEY `p` (`p`),",
            "  KEY `fk_custom` (`q`),",
            "  CONSTRAINT `fk_custom` FOREIGN KEY (`q`) REFERENCES `parent` (`id`) ON DELETE CASCADE,",
            "  CONSTRAINT `plain_ibfk_1` FOREIGN KEY (`p`) REFERENCES `parent` (`id`)",
            ") ENGINE=InnoDB DEFAULT CHARSET=latin1 COLLATE=latin1_swedish_ci");

    @Test
    void theWorkTableIsCreatedWithEveryIndexAndNoForeignKey() {
        TableForeignKeys f = TableForeignKeys.of(CREATE);
        assertEquals(String.join("\n",
                "CREATE TABLE `plain` (",
                "  `id` int(11) NOT NULL,",
                "  `p` int(11) DEFAULT NULL,",
                "  `q` int(11) DEFAULT NULL,",
                "  PRIMARY KEY (`id`),",
                "  KEY `p` (`p`),",
                "  KEY `fk_custom` (`q`)",
                ") ENGINE=InnoDB DEFAULT CHARSET=latin1 COLLATE=latin1_swedish_ci"), f.createWithout());
        assertEquals(List.of("fk_custom", "plain_ibfk_1"), f.names());
        assertEquals(List.of("FOREIGN KEY (`q`) REFERENCES `parent` (`id`) ON DELETE CASCADE", "FOREIGN KEY (`p`) REFERENCES `parent` (`id`)"), f.clauses());
    }

    @Test
    void aCheckConstraintAfterTheForeignKeysStays() {
        String create = CREATE.replace("REFERENCES `parent` (`id`)\n)", "REFERENCES `parent` (`id`),\n  CONSTRAINT `CONSTRAINT_1` CHECK (`q` > 0)\n)");
        TableForeignKeys f = TableForeignKeys.of(create);
        assertTrue(f.createWithout().endsWith("  KEY `fk_custom` (`q`),\n  CONSTRAINT `CONSTRAINT_1` CHECK (`q` > 0)\n) ENGINE=InnoDB DEFAULT CHARSET=latin1 COLLATE=latin1_swedish_ci"),
                f.createWithout());
        assertEquals(2, f.names().size());
    }

    @Test
    void aTableWithoutForeignKeysIsUnchanged() {
        String create = "CREATE TABLE `t` (\n  `id` int(11) NOT NULL,\n  PRIMARY KEY (`id`)\n) ENGINE=InnoDB";
        TableForeignKeys f = TableForeignKeys.of(create);
        assertEquals(create, f.createWithout());
        assertTrue(f.isEmpty());
    }

    @Test
    void namesWithBackticksAreUnquotedAndQuotedAgain() {
        TableForeignKeys f = TableForeignKeys.of("CREATE TABLE `t` (\n  `p` int(11),\n  CONSTRAINT `a``b` FOREIGN KEY (`p`) REFERENCES `x` (`id`)\n) ENGINE=InnoDB");
        assertEquals(List.of("a`b"), f.names());
        assertEquals("DROP FOREIGN KEY `w_fk1`, ADD CONSTRAINT `a``b` FOREIGN KEY (`p`) REFERENCES `x` (`id`)", f.finalNames("w", "t", Set.of()));
    }

    @Test
    void temporaryNamesFirstThenTheBackupsWhereFree() {
        TableForeignKeys f = TableForeignKeys.of(CREATE);
        assertEquals("ADD CONSTRAINT `w_fk1` FOREIGN KEY (`q`) REFERENCES `parent` (`id`) ON DELETE CASCADE, "
                + "ADD CONSTRAINT `w_fk2` FOREIGN KEY (`p`) REFERENCES `parent` (`id`)", f.addTemporary("w"));
        // --replace: the replaced table is gone, its names are free; the server's own name is made again by the server
        assertEquals("DROP FOREIGN KEY `w_fk1`, DROP FOREIGN KEY `w_fk2`, ADD CONSTRAINT `fk_custom` FOREIGN KEY (`q`) REFERENCES `parent` (`id`) ON DELETE CASCADE, "
                + "ADD FOREIGN KEY (`p`) REFERENCES `parent` (`id`)", f.finalNames("w", "plain", Set.of("w_fk1", "w_fk2")));
        // --as in the same database: the original holds fk_custom (compared in lower case)
        assertEquals("DROP FOREIGN KEY `w_fk1`, DROP FOREIGN KEY `w_fk2`, ADD FOREIGN KEY (`q`) REFERENCES `parent` (`id`) ON DELETE CASCADE, "
                + "ADD FOREIGN KEY (`p`) REFERENCES `parent` (`id`)", f.finalNames("w", "plain", Set.of("fk_custom", "plain_ibfk_1")));
        assertEquals(f.finalNames("w", "plain", Set.of("fk_custom")), f.finalNames("w", "PLAIN", Set.of("fk_custom")));
    }

    @Test
    void aSelfReferenceNamesTheImportedTableNotTheOriginal() {
        String c = "FOREIGN KEY (`mgr`) REFERENCES `selfgen` (`id`) ON DELETE SET NULL";
        assertEquals("FOREIGN KEY (`mgr`) REFERENCES `strata_new_1` (`id`) ON DELETE SET NULL",
                TableForeignKeys.retargetClause(c, "f", "selfgen", "f", "strata_new_1"));
        assertEquals("FOREIGN KEY (`mgr`) REFERENCES `selfgen2` (`id`) ON DELETE SET NULL",
                TableForeignKeys.retargetClause(c, "f", "selfgen", "f", "selfgen2"));
        assertEquals("FOREIGN KEY (`mgr`) REFERENCES `selfgen2` (`id`) ON DELETE SET NULL",
                TableForeignKeys.retargetClause("FOREIGN KEY (`mgr`) REFERENCES `f`.`selfgen` (`id`) ON DELETE SET NULL", "f", "selfgen", "h", "selfgen2"));
    }

    @Test
    void anUnqualifiedParentKeepsItsDatabaseWhenTheTableMovesToAnother() {
        assertEquals("FOREIGN KEY (`pid`) REFERENCES `f`.`parent` (`id`)",
                TableForeignKeys.retargetClause("FOREIGN KEY (`pid`) REFERENCES `parent` (`id`)", "f", "child", "h", "child"));
        assertEquals("FOREIGN KEY (`pid`) REFERENCES `parent` (`id`)",
                TableForeignKeys.retargetClause("FOREIGN KEY (`pid`) REFERENCES `parent` (`id`)", "f", "child", "f", "child2"), "same database: as it is");
        assertEquals("FOREIGN KEY (`pid`) REFERENCES `g`.`gp` (`id`)",
                TableForeignKeys.retargetClause("FOREIGN KEY (`pid`) REFERENCES `g`.`gp` (`id`)", "f", "child", "h", "child"), "qualified: as it is");
        // odd names: a column list holding ") REFERENCES `x", a backquote in the table name
        assertEquals("FOREIGN KEY (`a`, `b) REFERENCES ``x`) REFERENCES `f`.`p``q` (`id`, `id2`)",
                TableForeignKeys.retargetClause("FOREIGN KEY (`a`, `b) REFERENCES ``x`) REFERENCES `p``q` (`id`, `id2`)", "f", "child", "h", "child"));
    }

    @Test
    void aParentRestoredInTheSameRunIsReferencedWhereItGoes() {
        Map<TableRestore.TableName, TableRestore.TableName> moved = Map.of(new TableRestore.TableName("f", "parent"), new TableRestore.TableName("h", "parent_old"),
                new TableRestore.TableName("g", "gp"), new TableRestore.TableName("g", "gp2"));
        assertEquals("FOREIGN KEY (`pid`) REFERENCES `h`.`parent_old` (`id`) ON DELETE CASCADE",
                TableForeignKeys.retargetClause("FOREIGN KEY (`pid`) REFERENCES `parent` (`id`) ON DELETE CASCADE", "f", "child", "h", "child", moved));
        assertEquals("FOREIGN KEY (`pid`) REFERENCES `h`.`parent_old` (`id`)",
                TableForeignKeys.retargetClause("FOREIGN KEY (`pid`) REFERENCES `f`.`parent` (`id`)", "f", "child", "f", "child", moved), "qualified");
        assertEquals("FOREIGN KEY (`pid`) REFERENCES `g`.`gp2` (`id`)",
                TableForeignKeys.retargetClause("FOREIGN KEY (`pid`) REFERENCES `g`.`gp` (`id`)", "f", "child", "f", "child", moved));
        assertEquals("FOREIGN KEY (`pid`) REFERENCES `f`.`other` (`id`)",
                TableForeignKeys.retargetClause("FOREIGN KEY (`pid`) REFERENCES `other` (`id`)", "f", "child", "h", "child", moved), "not moved: as before");
        assertEquals("FOREIGN KEY (`mgr`) REFERENCES `w` (`id`)",
                TableForeignKeys.retargetClause("FOREIGN KEY (`mgr`) REFERENCES `parent` (`id`)", "f", "parent", "h", "w", moved), "itself: the work table");
    }

    @Test
    void retargetKeepsNamesAndOrder() {
        TableForeignKeys f = TableForeignKeys.of("CREATE TABLE `t` (\n  `id` int(11) NOT NULL,\n  `p` int(11) DEFAULT NULL,\n  PRIMARY KEY (`id`),\n"
                + "  KEY `p` (`p`),\n  CONSTRAINT `t_ibfk_1` FOREIGN KEY (`p`) REFERENCES `t` (`id`)\n) ENGINE=InnoDB");
        TableForeignKeys r = f.retarget("d", "t", "d", "w");
        assertEquals(f.names(), r.names());
        assertEquals(f.createWithout(), r.createWithout());
        assertEquals("ADD CONSTRAINT `w_fk1` FOREIGN KEY (`p`) REFERENCES `w` (`id`)", r.addTemporary("w"));
    }

    @Test
    void aClauseNamesWhatItJoins() {
        assertEquals(new TableForeignKeys.Reference(List.of("a", "b`c"), null, "p", List.of("x", "y")),
                TableForeignKeys.reference("FOREIGN KEY (`a`, `b``c`) REFERENCES `p` (`x`, `y`) ON DELETE CASCADE"));
        assertEquals(new TableForeignKeys.Reference(List.of("p"), "g", "gp", List.of("id")),
                TableForeignKeys.reference("FOREIGN KEY (`p`) REFERENCES `g`.`gp` (`id`)"));
        assertEquals(null, TableForeignKeys.reference("CHECK (`a` > 0)"));
    }
}
