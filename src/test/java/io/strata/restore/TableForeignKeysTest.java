package io.strata.restore;

import org.junit.jupiter.api.Test;

import java.util.List;
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
}
