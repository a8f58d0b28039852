package io.strata.repo;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ScopeTest {

    @Test
    void noFilterIsTheWholeServer() {
        assertNull(Scope.parse(null, null, null, null));
        assertEquals("the whole server", Scope.describe(null));
        assertTrue(Scope.same(null, null));
        assertFalse(Scope.same(null, Scope.parse("a", null, null, null)));
        // the same filters in another order are the same scope; another entry is not
        assertTrue(Scope.same(Scope.parse("shop crm.users", null, "^a\\.,^b\\.", null), Scope.parse("crm.users  shop", null, "^b\\., ^a\\.", null)));
        assertFalse(Scope.same(Scope.parse("shop crm.users", null, null, null), Scope.parse("shop", null, null, null)));
        assertFalse(Scope.same(Scope.parse("shop", null, null, null), Scope.parse(null, "shop", null, null)));
    }

    @Test
    void databasesNameDatabasesOrTables() {
        Scope s = Scope.parse("  shop crm.users ", null, null, null);
        assertEquals(List.of("shop", "crm.users"), s.databases());
        assertTrue(s.includes("shop", "orders"));
        assertTrue(s.includes("crm", "users"));
        assertFalse(s.includes("crm", "leads"));
        assertFalse(s.includes("hr", "people"));
        assertTrue(s.includes("mysql", "user"), "mysql is always in scope");
        assertTrue(s.includesDatabase("crm"));
        assertFalse(s.includesDatabase("hr"));
        assertEquals("--databases='shop crm.users'", s.describe());
    }

    @Test
    void anExclusionWinsAndIncludeFiltersMustAllHold() {
        Scope s = Scope.parse("shop", "shop.tmp", "orders", "_old$");
        assertTrue(s.includes("shop", "orders"));
        assertFalse(s.includes("shop", "orders_old"), "--tables-exclude wins");
        assertFalse(s.includes("shop", "tmp"), "--databases-exclude wins");
        assertFalse(s.includes("shop", "items"), "--tables must match too");
        assertFalse(s.includes("crm", "orders"), "--databases must name it too");
        assertFalse(Scope.parse(null, "mysql", null, null) == null);
        assertTrue(Scope.parse(null, "mysql", null, null).includes("mysql", "db"), "mysql cannot be excluded");
        assertEquals("--databases='shop' --databases-exclude='shop.tmp' --tables='orders' --tables-exclude='_old$'", s.describe());
    }

    @Test
    void tableRegexesAreSearchedInDbDotTable() {
        Scope s = Scope.parse(null, null, "^shop\\.o, ^crm\\.", null);
        assertEquals(List.of("^shop\\.o", "^crm\\."), s.tables());
        assertTrue(s.includes("shop", "orders"));
        assertFalse(s.includes("shop", "items"));
        assertTrue(s.includes("crm", "x"));
        assertTrue(s.includesDatabase("hr"), "without --databases every database directory is kept");
    }

    @Test
    void pathsAreJudgedByTheirTable() {
        Scope s = Scope.parse("shop my-db", null, null, null);
        assertTrue(s.includesPath("shop/orders.ibd"));
        assertTrue(s.includesPath("shop/orders#P#p0.ibd"));
        assertTrue(s.includesPath("shop/db.opt"));
        assertFalse(s.includesPath("crm/users.frm"));
        assertFalse(s.includesPath("crm/db.opt"));
        assertTrue(s.includesPath("my@002ddb/t.ibd"), "file names are decoded");
        assertTrue(s.includesPath("ibdata1"));
        assertTrue(s.includesPath("mysql/user.MAI"));
        assertTrue(s.includesPath("shop/FTS_000000000000002a_CONFIG.ibd"));
        assertFalse(s.includesPath("crm/FTS_000000000000002a_CONFIG.ibd"));
        assertEquals("a-b@c", Scope.decode("a@002db@c"));
        Scope t = Scope.parse(null, null, "^shop\\.orders$", null);
        assertTrue(t.includesPath("shop/orders.TRG"));
        assertTrue(t.includesPath("shop/orders_audit.TRN"), "a trigger name file goes with its database");
        assertFalse(t.includesPath("shop/items.frm"));
    }

    @Test
    void badFiltersAreUsageErrors() {
        StrataException e = assertThrows(StrataException.class, () -> Scope.parse(null, null, "shop(", null));
        assertEquals(ErrorCode.USAGE, e.code());
        assertTrue(e.getMessage().startsWith("\"shop(\" is no regular expression: "), e.getMessage());
        assertEquals("--databases names no database", assertThrows(StrataException.class, () -> Scope.parse(" ", null, null, null)).getMessage());
    }
}
