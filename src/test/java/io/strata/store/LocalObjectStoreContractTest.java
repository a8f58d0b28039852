package io.strata.store;

import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

class LocalObjectStoreContractTest extends ObjectStoreContract {
    @TempDir
    Path dir;

    @Override
    protected ObjectStore newStore() {
        return new LocalObjectStore(dir.resolve("repo"));
    }

    @Override
    protected int largeSize() {
        return 3 * (1 << 20) + 12345;
    }

    @Override
    protected int unfinishedCount(String prefix) throws Exception {
        Path d = dir.resolve("repo").resolve(prefix);
        if (!Files.isDirectory(d)) {
            return 0;
        }
        try (var s = Files.walk(d)) {
            return (int) s.filter(p -> p.getFileName().toString().startsWith(LocalObjectStore.TEMP_PREFIX)).count();
        }
    }
}
